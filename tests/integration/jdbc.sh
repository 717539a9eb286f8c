#!/usr/bin/env bash
# The 'jdbc' connector against a real PostgreSQL 15 started here (initdb + pg_ctl on a free
# loopback port, as the 'postgres' user when run as root). Every expectation is computed
# independently: in Python over the shipped CSV files (jdbc_helper.py) or by PostgreSQL itself.
#  1. upsert: the flights' per-airport GROUP BY (an updating result) lands as its final state;
#  2. retractions: a GROUP BY over a GROUP BY deletes the rows of buckets that empty;
#  3. lookup join: flights enriched from an 'airports' table in PostgreSQL (LEFT JOIN, with and
#     without the lookup cache), written with the append sink (COPY); lookups are batched;
#  4. connections killed with pg_terminate_backend during writes: the job completes, table right;
#  5. bad credentials and an unknown table: clear errors, the password never printed;
#  6. partitioned scan at parallelism 2: every row read exactly once;
#  7. types written and read back.
#
# Usage: bash jdbc.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$LIB/postgres.sh"
H="$ROOT/tests/integration/jdbc_helper.py"
AIRPORTS="$ROOT/examples/data/airports.csv"

start_postgres
echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"

FLIGHTS_DDL="CREATE TABLE flights (\`date\` TIMESTAMP(3), delay INT, distance INT, origin STRING,
  destination STRING, proc_time AS PROCTIME()) WITH ('connector' = 'filesystem',
  'path' = '$FLIGHTS', 'format' = 'csv', 'csv.ignore-first-line' = 'true');"

# same WHAT WANT_FILE GOT_FILE : compares two sorted row files.
same() {
  if diff -q "$2" "$3" >/dev/null; then
    ok "$1 ($(wc -l <"$2") rows)"
  else
    bad "$1 differs ('<' expected, '>' PostgreSQL):"
    diff "$2" "$3" | head -10 | sed 's/^/    | /'
  fi
}

section "1. upsert: flights per airport (updating GROUP BY) into PostgreSQL"
pg -c "CREATE TABLE delays (origin TEXT PRIMARY KEY, flights BIGINT, total_delay BIGINT,
  max_delay INT, min_delay INT)"
run_eddy "$WORK/up" run -q --set parallelism.default=2 -e "$FLIGHTS_DDL
CREATE TABLE delays (origin STRING, flights BIGINT, total_delay BIGINT, max_delay INT,
  min_delay INT, PRIMARY KEY (origin) NOT ENFORCED)
  WITH ($(jdbc_with delays "'sink.buffer-flush.max-rows' = '300'"));
INSERT INTO delays SELECT origin, COUNT(*), SUM(CAST(delay AS BIGINT)), MAX(delay), MIN(delay)
FROM flights GROUP BY origin;"
expect_rc "$WORK/up" 0 "the upsert job" || true
"$PY" "$H" delays "$FLIGHTS" >"$WORK/up.want"
pg -F, -c "SELECT * FROM delays ORDER BY origin" >"$WORK/up.got"
same "the table equals Python's GROUP BY over the CSV" "$WORK/up.want" "$WORK/up.got"

section "2. retractions: airports per flight count (GROUP BY over GROUP BY) deletes emptied rows"
pg -c "CREATE TABLE buckets (flights BIGINT PRIMARY KEY, airports BIGINT)"
run_eddy "$WORK/ret" run -q -e "$FLIGHTS_DDL
CREATE TABLE buckets (flights BIGINT, airports BIGINT, PRIMARY KEY (flights) NOT ENFORCED)
  WITH ($(jdbc_with buckets "'sink.buffer-flush.max-rows' = '1000'"));
INSERT INTO buckets SELECT cnt, COUNT(*) FROM
  (SELECT origin, COUNT(*) AS cnt FROM flights GROUP BY origin) GROUP BY cnt;"
expect_rc "$WORK/ret" 0 "the retracting job" || true
"$PY" "$H" buckets "$FLIGHTS" >"$WORK/ret.want"
pg -F, -c "SELECT * FROM buckets ORDER BY flights" >"$WORK/ret.got"
same "the table equals Python's final buckets" "$WORK/ret.want" "$WORK/ret.got"
sleep 1  # PostgreSQL publishes table statistics at most once a second
deleted=$(pg -c "SELECT n_tup_del FROM pg_stat_user_tables WHERE relname = 'buckets'")
if [[ "$deleted" -gt 0 ]]; then
  ok "PostgreSQL counted $deleted deleted rows (retractions reached the table as DELETEs)"
else
  bad "no row was ever deleted from buckets (n_tup_del = '$deleted')"
fi

section "3. lookup join: flights enriched from PostgreSQL's airports table"
pg -c "CREATE TABLE airports (iata TEXT PRIMARY KEY, name TEXT, city TEXT, state TEXT,
  country TEXT, latitude DOUBLE PRECISION, longitude DOUBLE PRECISION)"
pg -c "\\copy airports FROM '$AIRPORTS' WITH (FORMAT csv, HEADER true)"
# Remove two busy airports so that LEFT JOIN rows without a match are part of the check.
pg -c "DELETE FROM airports WHERE iata IN ('ORD', 'LAX')"
grep -v -E '^(ORD|LAX),' "$AIRPORTS" >"$WORK/airports.csv"
"$PY" "$H" enrich "$FLIGHTS" "$WORK/airports.csv" >"$WORK/enrich.want"
pg -c "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" >/dev/null
for cache in none cached; do
  pg -c "DROP TABLE IF EXISTS enriched" -c "CREATE TABLE enriched (origin TEXT, state TEXT)"
  extra=""
  [[ $cache == cached ]] && extra="'lookup.cache.max-rows' = '1000', 'lookup.cache.ttl' = '10 min'"
  log_before=$(wc -l <"$WORK/pg/server.log")
  run_eddy "$WORK/lk-$cache" run -q --set parallelism.default=2 -e "$FLIGHTS_DDL
CREATE TABLE airports (iata STRING, name STRING, city STRING, state STRING, country STRING,
  latitude DOUBLE, longitude DOUBLE) WITH ($(jdbc_with airports "$extra"));
CREATE TABLE enriched (origin STRING, state STRING)
  WITH ($(jdbc_with enriched "'sink.buffer-flush.max-rows' = '5000'"));
INSERT INTO enriched SELECT f.origin, a.state FROM flights AS f
  LEFT JOIN airports FOR SYSTEM_TIME AS OF f.proc_time AS a ON f.origin = a.iata;"
  expect_rc "$WORK/lk-$cache" 0 "the lookup join job ($cache)" || true
  pg -F, -c "SELECT origin, coalesce(state, ''), count(*) FROM enriched GROUP BY 1, 2 ORDER BY 1, 2" \
    >"$WORK/enrich.got"
  same "lookup join ($cache): rows per (origin, state) equal Python's LEFT JOIN" \
    "$WORK/enrich.want" "$WORK/enrich.got"
  lookups=$(tail -n +"$((log_before + 1))" "$WORK/pg/server.log" | grep -c '= ANY(\$1)' || true)
  # 508,239 flights in batches of up to 1024 rows: one query per batch at most.
  if [[ "$lookups" -ge 1 && "$lookups" -le 1100 ]]; then
    ok "lookup join ($cache): $lookups lookup queries for $FLIGHTS_ROWS rows (batched)"
  else
    bad "lookup join ($cache): $lookups lookup queries for $FLIGHTS_ROWS rows"
  fi
  [[ $cache == cached ]] && cached_lookups=$lookups || uncached_lookups=$lookups
done
# 223 origins (2 of them missing, cached too) fit the cache: after the first batches every key is
# a hit.
if [[ "$cached_lookups" -lt 50 && "$cached_lookups" -lt "$uncached_lookups" ]]; then
  ok "the lookup cache saves queries ($cached_lookups with it, $uncached_lookups without)"
else
  bad "the lookup cache saves no query ($cached_lookups with it, $uncached_lookups without)"
fi
pg -c "ALTER SYSTEM RESET log_statement" -c "SELECT pg_reload_conf()" >/dev/null

section "4. connections killed (pg_terminate_backend) during writes"
pg -c "CREATE TABLE routes (origin TEXT, destination TEXT, flights BIGINT, total_delay BIGINT,
  PRIMARY KEY (origin, destination))"
run_eddy_bg() {
  (cd "$ROOT" && timeout 300 "$EDDY" "$@") >"$WORK/kill.out" 2>"$WORK/kill.err" &
  EDDY_PID=$!
}
run_eddy_bg run -q -e "$FLIGHTS_DDL
CREATE TABLE routes (origin STRING, destination STRING, flights BIGINT, total_delay BIGINT,
  PRIMARY KEY (origin, destination) NOT ENFORCED)
  WITH ($(jdbc_with routes "'sink.buffer-flush.max-rows' = '100', 'sink.max-retries' = '10'"));
INSERT INTO routes SELECT origin, destination, COUNT(*), SUM(CAST(delay AS BIGINT))
FROM flights GROUP BY origin, destination;"
killed=0
while kill -0 "$EDDY_PID" 2>/dev/null; do
  sleep 0.3
  n=$(pg -c "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
    WHERE application_name = 'eddy' AND usename = '$PG_USER') t" 2>/dev/null || echo 0)
  killed=$((killed + n))
done
RC=0
wait "$EDDY_PID" || RC=$?
expect_rc "$WORK/kill" 0 "the job whose connections were killed $killed times" || true
if [[ $killed -ge 2 ]]; then
  ok "$killed connections terminated while the job wrote"
else
  bad "only $killed connections were terminated: the job ended too soon to test reconnects"
fi
if grep -q "retry" "$WORK/kill.err"; then
  ok "eddy logged the retries: $(grep -m1 retry "$WORK/kill.err" | cut -c1-160)"
else
  bad "no retry logged"
fi
"$PY" "$H" routes "$FLIGHTS" >"$WORK/routes.want"
pg -F, -c "SELECT * FROM routes ORDER BY origin, destination" >"$WORK/routes.got"
same "the table equals Python's GROUP BY despite the killed connections" \
  "$WORK/routes.want" "$WORK/routes.got"

section "5. bad credentials and an unknown table"
run_eddy "$WORK/cred" run -q -e "$FLIGHTS_DDL
CREATE TABLE d2 (origin STRING, n BIGINT, PRIMARY KEY (origin) NOT ENFORCED) WITH (
  'connector' = 'jdbc', 'url' = '$PG_URL', 'table-name' = 'delays', 'username' = '$PG_USER',
  'password' = 'wrong-Pa55word');
INSERT INTO d2 SELECT origin, COUNT(*) FROM flights GROUP BY origin;"
if [[ $RC -ne 0 ]] && grep -q "password authentication failed for user \"$PG_USER\"" "$WORK/cred.err" &&
  grep -q "check 'username' and 'password'" "$WORK/cred.err"; then
  ok "bad password: exit $RC, $(grep -m1 -o "cannot connect.*" "$WORK/cred.err" | cut -c1-150)"
else
  bad "bad password: exit $RC, no clear error"
  show_err "$WORK/cred"
fi
if grep -q "wrong-Pa55word" "$WORK/cred.out" "$WORK/cred.err"; then
  bad "the password appears in eddy's output"
else
  ok "the password is not printed"
fi
run_eddy "$WORK/notab" run -q -e "$FLIGHTS_DDL
CREATE TABLE d3 (origin STRING, n BIGINT) WITH ($(jdbc_with no_such_table));
INSERT INTO d3 SELECT origin, 1 FROM flights;"
if [[ $RC -ne 0 ]] && grep -q "'table-name' = 'no_such_table': no such table" "$WORK/notab.err"; then
  ok "unknown table: exit $RC, $(grep -m1 -o "'table-name'.*" "$WORK/notab.err" | cut -c1-120)"
else
  bad "unknown table: exit $RC, no clear error"
  show_err "$WORK/notab"
fi
run_eddy "$WORK/nokey" run -q -e "$FLIGHTS_DDL
CREATE TABLE d4 (origin STRING, n BIGINT) WITH ($(jdbc_with delays));
INSERT INTO d4 SELECT origin, COUNT(*) FROM flights GROUP BY origin;"
if [[ $RC -ne 0 ]] && grep -q "declare a PRIMARY KEY" "$WORK/nokey.err"; then
  ok "an updating result into a table without PRIMARY KEY is refused"
else
  bad "updating result without PRIMARY KEY: exit $RC"
  show_err "$WORK/nokey"
fi

section "6. partitioned scan at parallelism 2"
pg -c "CREATE TABLE nums AS SELECT i AS id, md5(i::text) AS v FROM generate_series(1, 20000) i"
pg -c "CREATE TABLE nums_copy (id BIGINT, v TEXT)"
run_eddy "$WORK/scan" run -q --set parallelism.default=2 -e "
CREATE TABLE nums (id BIGINT, v STRING) WITH ($(jdbc_with nums "'scan.partition.column' = 'id',
  'scan.partition.num' = '7', 'scan.partition.lower-bound' = '1',
  'scan.partition.upper-bound' = '20000', 'scan.fetch-size' = '500'"));
CREATE TABLE nums_copy (id BIGINT, v STRING) WITH ($(jdbc_with nums_copy));
INSERT INTO nums_copy SELECT id, v FROM nums;"
expect_rc "$WORK/scan" 0 "the partitioned scan" || true
res=$(pg -F, -c "SELECT count(*), count(DISTINCT id),
  (SELECT count(*) FROM (SELECT * FROM nums EXCEPT ALL SELECT * FROM nums_copy) x),
  (SELECT count(*) FROM (SELECT * FROM nums_copy EXCEPT ALL SELECT * FROM nums) y) FROM nums_copy")
if [[ "$res" == "20000,20000,0,0" ]]; then
  ok "20000 rows read once each, equal to the source table"
else
  bad "partitioned scan: count, distinct ids, missing, extra = $res (want 20000,20000,0,0)"
fi

section "7. types written and read back"
pg -c "CREATE TABLE typed (b BOOLEAN, i INT, l BIGINT, d DOUBLE PRECISION, m NUMERIC(10, 2),
  s TEXT, ts TIMESTAMP(3), tz TIMESTAMPTZ, dt DATE)"
pg -c "INSERT INTO typed VALUES (true, -7, 9007199254740993, 0.1, 12345678.91,
  'tab	and \"quote\" and \\\\ and é', '2001-01-02 03:04:05.678', '2001-01-02 03:04:05.5+00',
  '1999-12-31'), (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
pg -c "CREATE TABLE typed_copy (LIKE typed)"
run_eddy "$WORK/types" run -q -e "
CREATE TABLE typed (b BOOLEAN, i INT, l BIGINT, d DOUBLE, m DECIMAL(10, 2), s STRING,
  ts TIMESTAMP(3), tz TIMESTAMP_LTZ(3), dt DATE) WITH ($(jdbc_with typed));
CREATE TABLE typed_copy (b BOOLEAN, i INT, l BIGINT, d DOUBLE, m DECIMAL(10, 2), s STRING,
  ts TIMESTAMP(3), tz TIMESTAMP_LTZ(3), dt DATE) WITH ($(jdbc_with typed_copy));
INSERT INTO typed_copy SELECT * FROM typed;"
expect_rc "$WORK/types" 0 "the typed copy" || true
res=$(pg -c "SELECT count(*) FROM typed_copy" \
  -c "SELECT count(*) FROM (SELECT * FROM typed EXCEPT ALL SELECT * FROM typed_copy) x" | tr '\n' ' ')
if [[ "$res" == "2 0 " ]]; then
  ok "every value of every type is the same after a read and a write through eddy"
else
  bad "typed copy: rows, differing rows = $res"
  pg -c "SELECT * FROM typed_copy" | sed 's/^/    | /'
fi

finish
