# shellcheck shell=bash disable=SC2034  # variables are used by the tests that source this
# A real PostgreSQL 15 server for tests (Debian's postgresql-15), sourced after lib/common.sh.
#
# start_postgres: initdb + pg_ctl start of a throw-away cluster in $WORK/pg on a free loopback
# port, as a non-root user (PostgreSQL refuses to run as root: the 'postgres' user the Debian
# package creates, or the caller when it is not root). Sets PG_PORT, PG_URL (a JDBC URL of database
# 'eddy'), PG_USER/PG_PASSWORD (a password-authenticated role 'eddy'), and stops the server on exit.
# pg: runs psql on database 'eddy' as that role (-X -q -A -t -v ON_ERROR_STOP=1), args passed on.

PG_BIN=""
for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
  if [[ -x "$d/pg_ctl" ]]; then
    PG_BIN=$d
    break
  fi
done

PG_USER=eddy
PG_PASSWORD=eddy-secret
PG_RUNAS=()

pg_stop() {
  if [[ -n "${PG_DATA:-}" && -f "$PG_DATA/postmaster.pid" ]]; then
    "${PG_RUNAS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
  fi
}

start_postgres() {
  [[ -n "$PG_BIN" ]] || skip "PostgreSQL server binaries (Debian postgresql-15) are not installed"
  need_cmd psql
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || skip "running as root and there is no 'postgres' user to run PostgreSQL as"
    command -v runuser >/dev/null 2>&1 || skip "'runuser' is not installed"
    PG_RUNAS=(runuser -u postgres --)
  fi
  PG_DATA="$WORK/pg/data"
  mkdir -p "$WORK/pg"
  chmod 755 "$WORK"
  [[ $(id -u) -eq 0 ]] && chown postgres "$WORK/pg"
  printf '%s\n' "$PG_PASSWORD" >"$WORK/pg/pw"
  [[ $(id -u) -eq 0 ]] && chown postgres "$WORK/pg/pw"
  if ! "${PG_RUNAS[@]}" "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth-local=trust \
    --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$WORK/pg/initdb.log" 2>&1; then
    echo "FAIL: initdb failed:"
    sed 's/^/    | /' "$WORK/pg/initdb.log"
    exit 1
  fi
  PG_PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  trap 'pg_stop; cleanup' EXIT
  if ! "${PG_RUNAS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -w -t 30 -l "$WORK/pg/server.log" \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $WORK/pg -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null 2>&1; then
    echo "FAIL: PostgreSQL did not start:"
    sed 's/^/    | /' "$WORK/pg/server.log"
    exit 1
  fi
  "${PG_RUNAS[@]}" psql -X -q -h "$WORK/pg" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE $PG_USER LOGIN SUPERUSER PASSWORD '$PG_PASSWORD'" -c "CREATE DATABASE eddy OWNER $PG_USER" >/dev/null
  PG_URL="jdbc:postgresql://127.0.0.1:$PG_PORT/eddy"
}

pg() {
  PGPASSWORD=$PG_PASSWORD PGOPTIONS="-c client_min_messages=warning" psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" \
    -U "$PG_USER" -d eddy "$@"
}

# jdbc_with TABLE [EXTRA] : the WITH options of a jdbc table on the test server.
jdbc_with() {
  echo "'connector' = 'jdbc', 'url' = '$PG_URL', 'table-name' = '$1', 'username' = '$PG_USER', 'password' = '$PG_PASSWORD'${2:+, $2}"
}
