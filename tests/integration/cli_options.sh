#!/usr/bin/env bash
# Options and usage of the command line (issue 15 "Validation everywhere"): every flag and SET key
# is checked against the option registry. `eddy server --log-level` takes only real levels (and
# the level is applied), `eddy run DIRECTORY` is an error, `eddy run -` reads the script from
# stdin, unknown commands get a "did you mean", every command has --help, bad --set keys and
# values are errors, and SHOW CONNECTORS lists the connectors with what they can do.
#
# Usage: bash cli_options.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

# has FILE PATTERN WHAT : grep -E in an output file
has() {
  if grep -qE -- "$2" "$1"; then
    ok "$3"
  else
    bad "$3 (no match for /$2/ in $(basename "$1"))"
    sed -n '1,20p' "$1" | sed 's/^/    | /'
  fi
}
# fails NAME WHAT ARGS... : eddy ARGS exits 1 with a message on stderr
fails() {
  local name=$1 what=$2
  shift 2
  run_eddy "$WORK/$name" "$@"
  expect_rc "$WORK/$name" 1 "$what" || true
}

section "eddy server --log-level: only real levels, and the level is applied"
fails loglevel "--log-level bogus is refused" server --data-dir "$WORK/data" --log-level bogus
for level in trace debug info warn error critical off; do
  has "$WORK/loglevel.err" "'$level'" "the message lists the level '$level'"
done
has "$WORK/loglevel.err" "--log-level" "the message names the flag"
has "$WORK/loglevel.err" "'bogus'" "the message names the value"
if [[ -e "$WORK/data" ]]; then bad "the server started anyway (it created its data dir)"; else ok "no server started"; fi

# start_server NAME LEVEL : runs eddy server on a free port with --log-level LEVEL until the port
# file appears, then stops it with SIGTERM; its stderr is in $WORK/NAME.err.
start_server() {
  local name=$1 level=$2
  (cd "$ROOT" && exec "$EDDY" server --data-dir "$WORK/$name.data" --kafka-listen 127.0.0.1:0 \
    --port-file "$WORK/$name.port" --log-level "$level") >"$WORK/$name.out" 2>"$WORK/$name.err" &
  local pid=$!
  for _ in $(seq 1 200); do
    [[ -s "$WORK/$name.port" ]] && break
    sleep 0.05
  done
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" || true
}
start_server srv_info info
has "$WORK/srv_info.err" "serving Kafka clients" "--log-level info: the info line 'serving Kafka clients' is logged"
start_server srv_warn warn
if [[ -s "$WORK/srv_warn.port" ]] && ! grep -q "serving Kafka clients" "$WORK/srv_warn.err"; then
  ok "--log-level warn: the server ran and logged no info line"
else
  bad "--log-level warn: port file $(cat "$WORK/srv_warn.port" 2>/dev/null || echo missing); stderr:"
  sed 's/^/    | /' "$WORK/srv_warn.err"
fi
fails partitions "--num-partitions 0 is refused" server --data-dir "$WORK/data" --num-partitions 0
has "$WORK/partitions.err" "from 1 to 100000" "the message gives the range"

section "eddy run DIRECTORY, eddy run -"
mkdir -p "$WORK/scripts"
fails dir "eddy run DIRECTORY is an error" run "$WORK/scripts"
has "$WORK/dir.err" "is a directory" "the message says it is a directory"
fails missing "eddy run with a missing file is an error" run "$WORK/no-such.sql"
has "$WORK/missing.err" "cannot read" "the message says the file cannot be read"
cat >"$WORK/nums.csv" <<'EOF'
3
4
5
EOF
echo "CREATE TABLE nums (n INT) WITH ('connector' = 'filesystem', 'path' = '$WORK/nums.csv',
  'format' = 'csv'); SELECT SUM(n) AS s, COUNT(*) AS c FROM nums WHERE n > 3;" >"$WORK/stdin.sql"
RC=0
(cd "$ROOT" && timeout 60 "$EDDY" run -q --format csv -) <"$WORK/stdin.sql" >"$WORK/stdin.out" \
  2>"$WORK/stdin.err" || RC=$?
expect_rc "$WORK/stdin" 0 "eddy run - reads the script from stdin" || true
# The rows above 3 are 4 and 5: sum 9, count 2 (an updating result: the last row is the final one).
if [[ "$(tail -1 "$WORK/stdin.out")" == "+U,9,2" || "$(tail -1 "$WORK/stdin.out")" == "+I,9,2" ]]; then
  ok "eddy run -: the script from stdin ran (SUM 9, COUNT 2)"
else
  bad "eddy run -: output"
  sed 's/^/    | /' "$WORK/stdin.out"
fi
fails nofile "eddy run without FILE, - or -e is an error" run

section "unknown commands and --help on every command"
fails cmd "an unknown command is an error" rn x
has "$WORK/cmd.err" "unknown command 'rn'" "the message names the command"
has "$WORK/cmd.err" "did you mean 'run'" "the message suggests 'run'"
fails subcmd "an unknown topic command is an error" topic creat t
has "$WORK/subcmd.err" "did you mean 'create'" "the message suggests 'create'"
for cmd in run test-sql server topic "topic create" "topic list" "topic describe" "topic delete" \
  produce consume options; do
  # shellcheck disable=SC2086  # split "topic create" into two words
  run_eddy "$WORK/help" $cmd --help
  if [[ $RC == 0 ]] && grep -q "^Usage:" "$WORK/help.out"; then
    ok "eddy $cmd --help"
  else
    bad "eddy $cmd --help: exit code $RC"
  fi
done

section "--set and SET: unknown keys and bad values"
fails set1 "--set with a misspelled key is an error" run --set paralelism.default=2 -e "SET;"
has "$WORK/set1.err" "unknown configuration key 'paralelism.default'" "--set: the message names the key"
has "$WORK/set1.err" "did you mean 'parallelism.default'" "--set: the message suggests the key"
fails set2 "--set with a bad duration is an error" run --set table.exec.state.ttl=soon -e "SET;"
has "$WORK/set2.err" "'table.exec.state.ttl' must be a duration" "--set: the message says what the key takes"
fails set3 "SET with a misspelled key is an error" run -e "SET 'paralelism.default' = '2';"
has "$WORK/set3.err" "line 1, column 1" "SET: the error has a position"
has "$WORK/set3.err" "did you mean 'parallelism.default'" "SET: the message suggests the key"
run_eddy "$WORK/set4" run -q --set table.exec.state.ttl=90s --set ERROR.POLICY=skip -e "SET;"
if [[ $RC == 1 ]] && grep -q "unknown configuration key 'ERROR.POLICY'" "$WORK/set4.err"; then
  ok "keys are case-sensitive (as in Flink): 'ERROR.POLICY' is unknown"
else
  bad "--set ERROR.POLICY=skip: exit code $RC"
fi
run_eddy "$WORK/set5" run -q --set table.exec.state.ttl=90s --set error.policy=SKIP -e "SET;"
expect_rc "$WORK/set5" 0 "--set with a valid duration and an enum in any case" || true
has "$WORK/set5.out" "'table.exec.state.ttl' = '90s'" "SET; lists the value as set"

section "SHOW CONNECTORS"
run_eddy "$WORK/conn" run -q --format csv -e "SHOW CONNECTORS;"
expect_rc "$WORK/conn" 0 "SHOW CONNECTORS" || true
if msg=$("$PY" - "$WORK/conn.out" <<'PYEOF' 2>&1
import csv, sys
rows = {r["connector"]: r for r in csv.DictReader(open(sys.argv[1]))}
# What each connector can do, from docs/sql-reference.md "Connectors and formats".
want = {
    "filesystem": ("bounded", "+I", "TRUE", ""),
    "kafka": ("unbounded (bounded by 'scan.bounded.mode')", "+I", "FALSE",
              "topic, partition, offset, timestamp, timestamp-type, headers, leader-epoch"),
    "print": ("no", "+I, -U, +U, -D", "FALSE", ""),
    "blackhole": ("no", "+I, -U, +U, -D", "FALSE", ""),
    "http": ("no", "+I", "FALSE", ""),
    "jdbc": ("bounded", "+I, -U, +U, -D", "TRUE", ""),
    "datagen": ("unbounded (bounded by 'number-of-rows' or a 'sequence' column)", "no", "FALSE", ""),
    "mqtt": ("unbounded (bounded by 'scan.bounded.idle-timeout')", "+I", "FALSE",
             "topic, qos, retained, message-id, timestamp"),
}
problems = []
if sorted(rows) != sorted(want):
    problems.append(f"connectors {sorted(rows)} != {sorted(want)}")
for name, (source, sink, lookup, meta) in want.items():
    r = rows.get(name)
    if r and (r["source"], r["sink"], r["lookup"], r["metadata columns"]) != (source, sink, lookup, meta):
        problems.append(f"{name}: {r}")
if problems:
    print("; ".join(problems))
    sys.exit(1)
print(f"{len(rows)} connectors with their source, sink, lookup and metadata columns")
PYEOF
); then
  ok "SHOW CONNECTORS: $msg"
else
  bad "SHOW CONNECTORS: $msg"
fi

section "eddy options"
run_eddy "$WORK/options" options
expect_rc "$WORK/options" 0 "eddy options" || true
for k in parallelism.default table.exec.state.ttl csv.field-delimiter scan.startup.mode --log-level; do
  has "$WORK/options.out" "\`$k\`" "eddy options lists $k"
done

finish
