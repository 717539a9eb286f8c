#!/usr/bin/env bash
# SQL on Kafka topics ('connector' = 'kafka') against eddy server, with records written by a real
# client (confluent-kafka-python) and results read back by kcat:
# - the flights delays query over the replayed topic (examples/flights/delays-kafka.sql) gives
#   exactly the rows of the same query over the CSV file, at parallelism 1 and 2;
# - metadata columns (partition, offset, timestamp, headers, topic) match what was produced;
# - scan.startup.mode earliest/latest/timestamp/specific-offsets/group-offsets (committed offsets
#   resume), scan.bounded.mode latest-offset/timestamp/specific-offsets;
# - formats: json, csv, raw values, a json key from key.fields; sink partitioners;
# - per-partition watermarks (rows behind in one partition are not late while another is ahead),
#   and table.exec.source.idle-timeout letting windows fire while a partition is empty, on an
#   unbounded scan;
# - a bad record names topic/partition/offset, and 'skip' counts it.
#
# Usage: bash kafka_sql.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$LIB/kafka.sh"
need_cmd kcat
SYSPY=/usr/bin/python3
if ! "$SYSPY" -c 'import confluent_kafka' 2>/dev/null; then
  skip "python3-confluent-kafka is not installed (scripts/install-deps installs it)"
fi
section "SQL on topics: eddy run with 'connector' = 'kafka'"
start_server "$WORK/data"
BS="127.0.0.1:$PORT"
B=(--bootstrap-server "$BS")

check() {  # check WHAT EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then ok "$1"; else
    bad "$1: expected [$2], got [$3]"
  fi
}
produce() {  # produce SPEC_FILE : lines "topic|partition|key|value|timestamp_ms|h1=v1,h2=v2"
  "$SYSPY" - "$BS" "$1" <<'PY'
import sys
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": sys.argv[1], "acks": "all"})
for line in open(sys.argv[2]):
    topic, part, key, value, ts, hdrs = line.rstrip("\n").split("|")
    kw = {"partition": int(part)}
    if key: kw["key"] = key
    if ts: kw["timestamp"] = int(ts)
    if hdrs: kw["headers"] = [tuple(h.split("=", 1)) for h in hdrs.split(",")]
    p.produce(topic, value=value if value != "<null>" else None, **kw)
assert p.flush(30) == 0
PY
}

# --- 1. The delays query over the replayed flights equals the same query over the file. -------
EDDY="$EDDY" "$ROOT/examples/flights/replay.sh" --topic flights "${B[@]}" >"$WORK/replay.out" 2>&1
run_eddy "$WORK/file" run examples/flights/delays.sql -q --set parallelism.default=2
sort "$ROOT/out/hourly_delays.jsonl" >"$WORK/file.sorted"
for p in 1 2; do
  "$EDDY" topic create "hourly_p$p" --partitions 2 "${B[@]}" >/dev/null
  sed -e "s/127.0.0.1:9092/$BS/" -e "s/'topic' = 'hourly_delays'/'topic' = 'hourly_p$p'/" \
    "$ROOT/examples/flights/delays-kafka.sql" >"$WORK/delays-kafka.sql"
  run_eddy "$WORK/delays$p" run "$WORK/delays-kafka.sql" --set "parallelism.default=$p"
  expect_rc "$WORK/delays$p" 0 "delays-kafka.sql at parallelism $p" || true
  check "parallelism $p: source read every replayed flight" "1" \
    "$(grep -c "source flights: $FLIGHTS_ROWS rows read" "$WORK/delays$p.err" || true)"
  kcat -b "$BS" -C -t "hourly_p$p" -o beginning -e -q -f '%s\n' | sort >"$WORK/kafka$p.sorted"
  check "parallelism $p: hourly delays from the topic = from the file ($(wc -l <"$WORK/file.sorted") rows)" \
    "" "$(diff "$WORK/file.sorted" "$WORK/kafka$p.sorted" | head -5)"
done
# The results are keyed by origin (raw key format).
check "result records are keyed by origin" "ABE" \
  "$(kcat -b "$BS" -C -t hourly_p1 -o beginning -e -q -f '%k\n' | sort | head -1)"

# --- 2. Metadata columns and startup/bounded modes. ------------------------------------------
"$EDDY" topic create meta --partitions 2 "${B[@]}" >/dev/null
cat >"$WORK/meta.spec" <<EOF
meta|0|k1|{"v":1}|1000000000000|h=a
meta|0|k2|{"v":2}|1000000001000|
meta|1|k3|{"v":3}|1000000002000|x=1,y=2
meta|1|k4|{"v":4}|1000000003000|
meta|1|k5|{"v":5}|1000000004000|
EOF
produce "$WORK/meta.spec"
meta_sql() {  # meta_sql EXTRA_OPTIONS
  cat <<EOF
CREATE TABLE m (
  v INT,
  p INT METADATA FROM 'partition' VIRTUAL,
  o BIGINT METADATA FROM 'offset' VIRTUAL,
  ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp',
  hs STRING METADATA FROM 'headers',
  t STRING METADATA FROM 'topic' VIRTUAL
) WITH ('connector' = 'kafka', 'topic' = 'meta', 'properties.bootstrap.servers' = '$BS',
        'format' = 'json' $1);
SELECT v, p, o, ts, hs, t FROM m ORDER BY v;
EOF
}
run_eddy "$WORK/meta" run -e "$(meta_sql ", 'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset'")" --format csv -q
expect_rc "$WORK/meta" 0 "metadata query" || true
check "metadata columns: partition, offset, timestamp, headers, topic" \
  'v,p,o,ts,hs,t
1,0,0,2001-09-09 01:46:40.000,"{""h"":""a""}",meta
2,0,1,2001-09-09 01:46:41.000,{},meta
3,1,0,2001-09-09 01:46:42.000,"{""x"":""1"",""y"":""2""}",meta
4,1,1,2001-09-09 01:46:43.000,{},meta
5,1,2,2001-09-09 01:46:44.000,{},meta' "$(cat "$WORK/meta.out")"
vals() { sed 1d "$1.out" | cut -d, -f1 | paste -sd' '; }
run_eddy "$WORK/ts" run -e "$(meta_sql ", 'scan.startup.mode' = 'timestamp', 'scan.startup.timestamp-millis' = '1000000001500', 'scan.bounded.mode' = 'latest-offset'")" --format csv -q
check "scan.startup.mode = timestamp starts at the first record at or after it" "3 4 5" "$(vals "$WORK/ts")"
run_eddy "$WORK/so" run -e "$(meta_sql ", 'scan.startup.mode' = 'specific-offsets', 'scan.startup.specific-offsets' = 'partition:0,offset:1;partition:1,offset:2', 'scan.bounded.mode' = 'latest-offset'")" --format csv -q
check "scan.startup.mode = specific-offsets" "2 5" "$(vals "$WORK/so")"
run_eddy "$WORK/bt" run -e "$(meta_sql ", 'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'timestamp', 'scan.bounded.timestamp-millis' = '1000000003000'")" --format csv -q
check "scan.bounded.mode = timestamp ends before the first record at or after it" "1 2 3" "$(vals "$WORK/bt")"
run_eddy "$WORK/bs" run -e "$(meta_sql ", 'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'specific-offsets', 'scan.bounded.specific-offsets' = 'partition:0,offset:1;partition:1,offset:1'")" --format csv -q
check "scan.bounded.mode = specific-offsets" "1 3" "$(vals "$WORK/bs")"
run_eddy "$WORK/lt" run -e "$(meta_sql ", 'scan.startup.mode' = 'latest-offset', 'scan.bounded.mode' = 'latest-offset'")" --format csv -q
check "scan.startup.mode = latest-offset reads nothing already there" "" "$(vals "$WORK/lt")"
# group-offsets: a first run commits, a second run reads only what came after.
G=", 'properties.group.id' = 'sqlgroup', 'scan.startup.mode' = 'group-offsets', 'properties.auto.offset.reset' = 'earliest', 'scan.bounded.mode' = 'latest-offset'"
run_eddy "$WORK/g1" run -e "$(meta_sql "$G")" --format csv -q
check "group-offsets, first run (auto.offset.reset = earliest)" "1 2 3 4 5" "$(vals "$WORK/g1")"
echo 'meta|1|k6|{"v":6}||' >"$WORK/more.spec"
produce "$WORK/more.spec"
run_eddy "$WORK/g2" run -e "$(meta_sql "$G")" --format csv -q
check "group-offsets, second run resumes at the committed offsets" "6" "$(vals "$WORK/g2")"
run_eddy "$WORK/g3" run -e "$(meta_sql ", 'properties.group.id' = 'nogroup', 'scan.startup.mode' = 'group-offsets', 'scan.bounded.mode' = 'latest-offset'")" -q
# (Whichever subtask fails first names its partition: 0 or 1.)
check "group-offsets without a committed offset or reset policy is an error" "1 named" \
  "$RC $(grep -q "partition [01] has no committed offset for group 'nogroup'" "$WORK/g3.err" && echo named)"

# --- 3. Formats, keys and partitioners. -------------------------------------------------------
"$EDDY" topic create src_csv --partitions 1 "${B[@]}" >/dev/null
printf 'src_csv|0||a,1||\nsrc_csv|0||b,2||\nsrc_csv|0||c,3||\n' >"$WORK/csv.spec"
produce "$WORK/csv.spec"
for t in out_fixed out_rr; do "$EDDY" topic create $t --partitions 3 "${B[@]}" >/dev/null; done
run_eddy "$WORK/fmt" run --set parallelism.default=1 -e "
CREATE TABLE s (name STRING, n INT) WITH ('connector' = 'kafka', 'topic' = 'src_csv',
  'properties.bootstrap.servers' = '$BS', 'format' = 'csv', 'scan.startup.mode' = 'earliest-offset',
  'scan.bounded.mode' = 'latest-offset');
CREATE TABLE fixed (name STRING, n INT) WITH ('connector' = 'kafka', 'topic' = 'out_fixed',
  'properties.bootstrap.servers' = '$BS', 'value.format' = 'json', 'key.format' = 'json',
  'key.fields' = 'name;n', 'value.fields-include' = 'EXCEPT_KEY', 'sink.partitioner' = 'fixed');
CREATE TABLE rr (line STRING) WITH ('connector' = 'kafka', 'topic' = 'out_rr',
  'properties.bootstrap.servers' = '$BS', 'format' = 'raw', 'sink.partitioner' = 'round-robin');
INSERT INTO fixed SELECT name, n * 10 FROM s;
INSERT INTO rr SELECT name || '=' || CAST(n AS STRING) FROM s;"
expect_rc "$WORK/fmt" 0 "csv source into json-keyed and raw sinks" || true
check "json key from key.fields, EXCEPT_KEY value (all in partition 0 with 'fixed')" \
  '0 {"name":"a","n":10} {}
0 {"name":"b","n":20} {}
0 {"name":"c","n":30} {}' \
  "$(kcat -b "$BS" -C -t out_fixed -o beginning -e -q -f '%p %k %s\n' | sort)"
check "raw values, round-robin over 3 partitions" "0 a=1
1 b=2
2 c=3" "$(kcat -b "$BS" -C -t out_rr -o beginning -e -q -f '%p %s\n' | sort)"

# --- 4. Per-partition watermarks. -------------------------------------------------------------
# Partition 0 is two hours ahead of partition 1; read together, partition 1's rows are not late
# because the watermark is the minimum over partitions.
"$EDDY" topic create skew --partitions 2 "${B[@]}" >/dev/null
: >"$WORK/skew.spec"
for m in 0 10 20 30 40 50; do
  echo "skew|0||{\"ts\":\"2001-01-01 12:$(printf %02d $m):00\",\"k\":\"a\"}||" >>"$WORK/skew.spec"
  echo "skew|1||{\"ts\":\"2001-01-01 10:$(printf %02d $m):00\",\"k\":\"b\"}||" >>"$WORK/skew.spec"
done
produce "$WORK/skew.spec"
skew_sql() {
  cat <<EOF
CREATE TABLE skew (ts TIMESTAMP(3), k STRING, WATERMARK FOR ts AS ts - INTERVAL '1' MINUTE)
WITH ('connector' = 'kafka', 'topic' = 'skew', 'properties.bootstrap.servers' = '$BS',
      'format' = 'json', 'scan.startup.mode' = 'earliest-offset' $1);
EOF
}
run_eddy "$WORK/skew" run --format csv --set parallelism.default=1 -e "$(skew_sql ", 'scan.bounded.mode' = 'latest-offset'")
SELECT k, window_start, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE skew, DESCRIPTOR(ts), INTERVAL '1' HOUR))
GROUP BY k, window_start, window_end ORDER BY k;"
check "windows of both partitions complete, no late rows" "k,window_start,n
a,2001-01-01 12:00:00.000,6
b,2001-01-01 10:00:00.000,6" "$(cat "$WORK/skew.out")"
check "summary reports 0 late rows" "1" "$(grep -c "late rows: 0 in" "$WORK/skew.err" || true)"

# --- 5. Unbounded scan: idle partitions and windows firing on the watermark. -----------------
# Only partition 0 gets rows; with an idle timeout, partition 1 stops holding the watermark back
# and the 10:00 window fires while the job still runs. Without it, nothing fires.
"$EDDY" topic create live --partitions 2 "${B[@]}" >/dev/null
for idle in "" "500 ms"; do
  name=$([[ -n "$idle" ]] && echo idle || echo noidle)
  "$EDDY" topic create "win_$name" --partitions 1 "${B[@]}" >/dev/null
  (cd "$ROOT" && exec timeout 60 "$EDDY" run -q ${idle:+--set "table.exec.source.idle-timeout=$idle"} -e "
CREATE TABLE live (ts TIMESTAMP(3), k STRING, WATERMARK FOR ts AS ts)
WITH ('connector' = 'kafka', 'topic' = 'live', 'properties.bootstrap.servers' = '$BS',
      'format' = 'json', 'scan.startup.mode' = 'earliest-offset');
CREATE TABLE win (k STRING, window_start TIMESTAMP(3), n BIGINT)
WITH ('connector' = 'kafka', 'topic' = 'win_$name', 'properties.bootstrap.servers' = '$BS', 'format' = 'json');
INSERT INTO win SELECT k, window_start, COUNT(*) FROM TABLE(TUMBLE(TABLE live, DESCRIPTOR(ts), INTERVAL '1' HOUR))
GROUP BY k, window_start, window_end;") >"$WORK/live_$name.out" 2>"$WORK/live_$name.err" &
  pid=$!
  sleep 1
  printf 'live|0||{"ts":"2001-01-01 10:05:00","k":"x"}||\nlive|0||{"ts":"2001-01-01 10:35:00","k":"x"}||\nlive|0||{"ts":"2001-01-01 11:10:00","k":"x"}||\n' >"$WORK/live.spec"
  produce "$WORK/live.spec"
  got=""
  for _ in $(seq 1 30); do
    got=$(kcat -b "$BS" -C -t "win_$name" -o beginning -e -q -f '%s\n' 2>/dev/null || true)
    [[ -n "$got" ]] && break
    sleep 0.2
  done
  kill -INT "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [[ -n "$idle" ]]; then
    check "idle-timeout $idle: the 10:00 window fires while partition 1 is empty" \
      '{"k":"x","window_start":"2001-01-01 10:00:00","n":2}' "$got"
  else
    check "no idle timeout: the empty partition holds the watermark back (nothing fires)" "" "$got"
  fi
  : >"$WORK/live.spec"
  "$EDDY" topic delete live "${B[@]}" >/dev/null
  "$EDDY" topic create live --partitions 2 "${B[@]}" >/dev/null
done

# --- 6. Bad records. --------------------------------------------------------------------------
"$EDDY" topic create bad --partitions 1 "${B[@]}" >/dev/null
printf 'bad|0||{"v":1}||\nbad|0||{"v":oops}||\nbad|0||{"v":3}||\n' >"$WORK/bad.spec"
produce "$WORK/bad.spec"
bad_sql="CREATE TABLE b (v INT) WITH ('connector' = 'kafka', 'topic' = 'bad',
  'properties.bootstrap.servers' = '$BS', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset',
  'scan.bounded.mode' = 'latest-offset'); SELECT v FROM b;"
run_eddy "$WORK/bad1" run -e "$bad_sql"
check "a bad record fails the job naming topic, partition and offset" "1" \
  "$(grep -c "topic 'bad' partition 0 offset 1: bad row in table 'b'" "$WORK/bad1.err" || true)"
run_eddy "$WORK/bad2" run --format csv --set error.policy=skip -e "$bad_sql"
check "'skip' keeps the good records" "v 1 3" "$(paste -sd' ' "$WORK/bad2.out")"
check "'skip' counts the bad one" "1" "$(grep -c "1 bad row skipped\|1 bad rows skipped\|skipped 1" "$WORK/bad2.err" || true)"

# --- 7. Option errors. ------------------------------------------------------------------------
run_eddy "$WORK/opt" run -e "CREATE TABLE x (v INT) WITH ('connector' = 'kafka', 'topic' = 'nope',
  'properties.bootstrap.servers' = '$BS', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset'); SELECT * FROM x;"
check "a missing topic is named" "1" "$(grep -c "topic 'nope' at $BS does not exist" "$WORK/opt.err" || true)"
run_eddy "$WORK/opt2" run -e "CREATE TABLE x (v INT, o BIGINT METADATA FROM 'offset') WITH ('connector' = 'kafka', 'topic' = 'meta',
  'properties.bootstrap.servers' = '$BS', 'format' = 'json');
  CREATE TABLE src (v INT) WITH ('connector' = 'kafka', 'topic' = 'meta',
  'properties.bootstrap.servers' = '$BS', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset',
  'scan.bounded.mode' = 'latest-offset');
  INSERT INTO x SELECT v, CAST(v AS BIGINT) FROM src;"
check "writing a read-only metadata column is refused" "1" \
  "$(grep -c "metadata key 'offset' of column 'o' is read-only" "$WORK/opt2.err" || true)"
stop_server
finish
