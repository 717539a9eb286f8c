#!/usr/bin/env bash
# Pipelines inside `eddy server --sql FILE`, reading and writing the server's own topics through
# the local log (no Kafka client in between), checked against the same SQL run by `eddy run`
# over librdkafka (an independent transport):
# - input produced by kcat with each of -z gzip/snappy/lz4/zstd (the stored batches really are
#   compressed with each codec); every row, metadata column (topic, partition, offset, timestamp,
#   timestamp-type, headers) and the partition chosen for each keyed result record is the same
#   through both transports;
# - the log says which transport each table uses;
# - group-offsets: offsets committed by a local pipeline are seen by a librdkafka consumer of the
#   same group, and resumed from by the next local pipeline;
# - an unbounded pipeline follows records as they arrive (a kcat consumer long-polling its output
#   topic sees them), and SIGTERM cancels it before the broker shuts down cleanly;
# - a failing pipeline does not stop the broker;
# - the flights delays query (examples/flights/delays-kafka.sql) over the replayed topic, run via
#   --sql, gives exactly the rows of the same query over the CSV file.
#
# Usage: bash kafka_local_sql.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$LIB/kafka.sh"
need_cmd kcat

check() {  # check WHAT EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then ok "$1"; else
    bad "$1: expected [$2], got [$3]"
  fi
}
contains() {  # contains WHAT FILE TEXT : FILE has a line with TEXT
  if grep -qF -- "$3" "$2"; then ok "$1"; else
    bad "$1: no line with [$3] in $(basename "$2")"
    sed 's/^/    | /' "$2" | tail -15
  fi
}

# The SQL names the server's address, so the port is chosen before the server starts.
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BS="127.0.0.1:$PORT"
B=(--bootstrap-server "$BS")
DATA="$WORK/data"

# start_local_server ARGS... : eddy server on $PORT (logs in $WORK/server.err, appended).
start_local_server() {
  rm -f "$WORK/port"
  (cd "$ROOT" && exec "$EDDY" server --data-dir "$DATA" --kafka-listen "$BS" \
    --port-file "$WORK/port" "$@") >>"$WORK/server.out" 2>>"$WORK/server.err" &
  SERVER_PID=$!
  local i
  for ((i = 0; i < 200; i++)); do
    [[ -s "$WORK/port" ]] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "  FAIL: eddy server did not start listening"
  tail -20 "$WORK/server.err" | sed 's/^/    | /'
  exit 1
}

# wait_log TEXT [SECONDS] : waits until the server log has a line with TEXT.
wait_log() {
  local i
  for ((i = 0; i < ${2:-120} * 10; i++)); do
    grep -qF -- "$1" "$WORK/server.err" && return 0
    sleep 0.1
  done
  bad "no log line with [$1] within ${2:-120} s"
  tail -20 "$WORK/server.err" | sed 's/^/    | /'
  return 1
}

# wait_pipeline NAME [SECONDS] : waits until pipeline NAME ends; a failure fails the check.
wait_pipeline() {
  local i
  for ((i = 0; i < ${2:-120} * 10; i++)); do
    if grep -qF -- "pipeline '$1': ended" "$WORK/server.err"; then
      ok "pipeline $1 ended"
      return 0
    fi
    if grep -qF -- "pipeline '$1': failed" "$WORK/server.err"; then
      bad "pipeline $1 failed"
      grep -F -- "pipeline '$1'" "$WORK/server.err" | sed 's/^/    | /'
      return 1
    fi
    sleep 0.1
  done
  bad "pipeline $1 did not end within ${2:-120} s"
  return 1
}

# --- 0. Topics and compressed input. ----------------------------------------------------------
section "input: kcat with each codec"
start_local_server
for t in events:2 out_local:3 out_rdk:3 mirror:2 counts:1 ts_local:1 ts_rdk:1 so_local:1 \
  so_rdk:1 bt_local:1 bt_rdk:1; do
  "$EDDY" topic create "${t%%:*}" --partitions "${t##*:}" "${B[@]}" >/dev/null
done
N=0
for z in gzip snappy lz4 zstd; do
  : >"$WORK/in_$z"
  for i in $(seq 1 40); do
    N=$((N + 1))
    printf 'user%d|{"id":%d,"codec":"%s","amount":%d}\n' $((N % 9)) "$N" "$z" $((N * 7 % 100)) \
      >>"$WORK/in_$z"
  done
  kcat -b "$BS" -P -t events -z "$z" -K '|' -H "codec=$z" -H "n=x" -X linger.ms=50 <"$WORK/in_$z"
done
check "kcat produced $N records" "$N" \
  "$(kcat -b "$BS" -C -t events -o beginning -e -q -f '%o\n' | wc -l | tr -d ' ')"
# A timestamp for the timestamp modes: the one of record 30 of partition 0.
TS=$(kcat -b "$BS" -C -t events -p 0 -o 30 -c 1 -e -q -f '%T\n')
kcat -b "$BS" -C -t events -o beginning -e -q -f '%p %o\n' >"$WORK/offsets"
stop_server
# The codecs of the stored batches (attributes & 7 of each record batch in the segment files).
codecs=$("$PY" - "$DATA" <<'PY'
import glob, struct, sys
seen = set()
for path in glob.glob(sys.argv[1] + "/events-*/*.log"):
    data = open(path, "rb").read()
    pos = 0
    while pos + 61 <= len(data):
        length = struct.unpack(">i", data[pos + 8:pos + 12])[0]
        attributes = struct.unpack(">h", data[pos + 21:pos + 23])[0]
        seen.add(attributes & 7)
        pos += 12 + length
# librdkafka sends a batch uncompressed (0) when compressing would not make it smaller.
print(" ".join(str(c) for c in sorted(seen - {0})))
PY
)
check "the stored batches are compressed with gzip (1), snappy (2), lz4 (3) and zstd (4)" "1 2 3 4" "$codecs"

# --- 1. The same SQL through the local log and through librdkafka. ---------------------------
section "pipelines on the local log = eddy run over librdkafka"
codecs_sql() {  # codecs_sql BOOTSTRAP OUT_TOPIC
  cat <<EOF
CREATE TABLE events (
  k STRING, id INT, codec STRING, amount INT,
  p INT METADATA FROM 'partition' VIRTUAL, o BIGINT METADATA FROM 'offset' VIRTUAL,
  ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
  tt STRING METADATA FROM 'timestamp-type' VIRTUAL, hs STRING METADATA FROM 'headers' VIRTUAL,
  t STRING METADATA FROM 'topic' VIRTUAL
) WITH ('connector' = 'kafka', 'topic' = 'events', 'properties.bootstrap.servers' = '$1',
  'key.format' = 'raw', 'key.fields' = 'k', 'value.format' = 'json',
  'value.fields-include' = 'EXCEPT_KEY',
  'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset');
CREATE TABLE res (k STRING, id INT, codec STRING, amount INT, p INT, o BIGINT,
  ts TIMESTAMP_LTZ(3), tt STRING, hs STRING, t STRING)
WITH ('connector' = 'kafka', 'topic' = '$2', 'properties.bootstrap.servers' = '$1',
  'key.format' = 'raw', 'key.fields' = 'k', 'format' = 'json');
INSERT INTO res SELECT k, id, codec, amount * 2, p, o, ts, tt, hs, t FROM events WHERE amount >= 0;
EOF
}
# group-offsets: the first local run reads everything and commits.
group_sql() {  # group_sql BOOTSTRAP GROUP OUT_TOPIC EXTRA_OPTIONS
  cat <<EOF
CREATE TABLE events (id INT, codec STRING) WITH ('connector' = 'kafka', 'topic' = 'events',
  'properties.bootstrap.servers' = '$1', 'format' = 'json', 'properties.group.id' = '$2',
  'scan.startup.mode' = 'group-offsets', 'scan.bounded.mode' = 'latest-offset' $4);
CREATE TABLE seen (codec STRING, id INT) WITH ('connector' = 'kafka', 'topic' = '$3',
  'properties.bootstrap.servers' = '$1', 'format' = 'json');
INSERT INTO seen SELECT codec, id FROM events;
EOF
}
codecs_sql "localhost:$PORT" out_local >"$WORK/codecs.sql"
group_sql "localhost:$PORT" g1 counts ", 'properties.auto.offset.reset' = 'earliest'" >"$WORK/group.sql"
# Startup and bounded modes: a timestamp inside a compressed batch, specific offsets.
modes_sql() {  # modes_sql BOOTSTRAP SUFFIX
  local t
  for t in "ts:'scan.startup.mode' = 'timestamp', 'scan.startup.timestamp-millis' = '$TS', 'scan.bounded.mode' = 'latest-offset'" \
    "so:'scan.startup.mode' = 'specific-offsets', 'scan.startup.specific-offsets' = 'partition:0,offset:3;partition:1,offset:7', 'scan.bounded.mode' = 'specific-offsets', 'scan.bounded.specific-offsets' = 'partition:0,offset:50;partition:1,offset:12'" \
    "bt:'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'timestamp', 'scan.bounded.timestamp-millis' = '$TS'"; do
    cat <<EOF
CREATE TABLE ${t%%:*}_in (id INT, p INT METADATA FROM 'partition' VIRTUAL,
  o BIGINT METADATA FROM 'offset' VIRTUAL) WITH ('connector' = 'kafka', 'topic' = 'events',
  'properties.bootstrap.servers' = '$1', 'format' = 'json', ${t#*:});
CREATE TABLE ${t%%:*}_out (id INT, p INT, o BIGINT) WITH ('connector' = 'kafka',
  'topic' = '${t%%:*}_$2', 'properties.bootstrap.servers' = '$1', 'format' = 'json');
INSERT INTO ${t%%:*}_out SELECT * FROM ${t%%:*}_in;
EOF
  done
}
modes_sql "localhost:$PORT" local >"$WORK/modes.sql"
# Unbounded: mirrors the records of codec 'live' as they arrive, until SIGTERM.
cat >"$WORK/live.sql" <<EOF
CREATE TABLE events (k STRING, id INT, codec STRING) WITH ('connector' = 'kafka',
  'topic' = 'events', 'properties.bootstrap.servers' = '$BS', 'key.format' = 'raw',
  'key.fields' = 'k', 'value.format' = 'json', 'value.fields-include' = 'EXCEPT_KEY',
  'scan.startup.mode' = 'earliest-offset');
CREATE TABLE mirror (k STRING, id INT, codec STRING) WITH ('connector' = 'kafka',
  'topic' = 'mirror', 'properties.bootstrap.servers' = '$BS', 'key.format' = 'raw',
  'key.fields' = 'k', 'format' = 'json');
INSERT INTO mirror SELECT * FROM events WHERE codec = 'live';
EOF
# A pipeline that fails: its topic does not exist.
cat >"$WORK/bad.sql" <<EOF
CREATE TABLE nope (v INT) WITH ('connector' = 'kafka', 'topic' = 'nope',
  'properties.bootstrap.servers' = '$BS', 'format' = 'json', 'scan.startup.mode' = 'earliest-offset');
SELECT * FROM nope;
EOF
: >"$WORK/server.err"
start_local_server --sql "$WORK/codecs.sql" --sql "$WORK/group.sql" --sql "$WORK/live.sql" \
  --sql "$WORK/bad.sql" --sql "$WORK/modes.sql"
wait_pipeline codecs.sql || true
wait_pipeline modes.sql || true
wait_pipeline group.sql || true
contains "the codecs pipeline reads from the local log" "$WORK/server.err" \
  "table 'events': reading topic 'events' at localhost:$PORT (2 partitions) from the local log"
contains "the codecs pipeline writes to the local log" "$WORK/server.err" \
  "table 'res': writing topic 'out_local' at localhost:$PORT (3 partitions) to the local log"
contains "its summary is logged" "$WORK/server.err" "pipeline 'codecs.sql':   source events: $N rows read"
contains "a failing pipeline is logged" "$WORK/server.err" \
  "pipeline 'bad.sql': failed: SQL error at line 3, column 15: table 'nope': topic 'nope' at $BS does not exist"
check "the broker still serves after a pipeline failed" "events" \
  "$(kcat -b "$BS" -L -t events 2>/dev/null | grep -o 'topic "events"' | tr -d '"' | cut -d' ' -f2)"

codecs_sql "$BS" out_rdk >"$WORK/codecs_rdk.sql"
run_eddy "$WORK/rdk" run "$WORK/codecs_rdk.sql"
expect_rc "$WORK/rdk" 0 "the same SQL through librdkafka (eddy run)" || true
contains "eddy run reads through librdkafka" "$WORK/rdk.err" \
  "table 'events': reading topic 'events' at $BS (2 partitions) through librdkafka"
check "eddy run does not use the local log" "0" "$(grep -c "local log" "$WORK/rdk.err" || true)"
fmt='%p|%k|%s|%h\n'
kcat -b "$BS" -C -t out_local -o beginning -e -q -f "$fmt" | sort >"$WORK/local.rows"
kcat -b "$BS" -C -t out_rdk -o beginning -e -q -f "$fmt" | sort >"$WORK/rdk.rows"
check "local pipeline wrote one result per input record" "$N" "$(wc -l <"$WORK/local.rows" | tr -d ' ')"
check "local log = librdkafka: rows, metadata columns and partitions of keyed results" "" \
  "$(diff "$WORK/rdk.rows" "$WORK/local.rows" | head -5)"
check "key, value and metadata of the first gzip record" "1" \
  "$(grep -c '|user1|{"k":"user1","id":1,"codec":"gzip","amount":14,"p":[01],"o":[0-9]*,"ts":"20' \
    "$WORK/local.rows")"
check "headers metadata as a JSON object" '"hs":"{\"codec\":\"gzip\",\"n\":\"x\"}"' \
  "$(grep '"id":1,' "$WORK/local.rows" | grep -o '"hs":"[^}]*}"')"
check "timestamp-type and topic metadata" '"tt":"CreateTime","hs"' \
  "$(grep '"id":1,' "$WORK/local.rows" | grep -o '"tt":"[A-Za-z]*","hs"')"
count_codecs() { grep -o '"codec":"[a-z0-9]*"' | cut -d'"' -f4 | sort | uniq -c | awk '{print $2, $1}' | paste -sd' '; }
check "every codec's records came through" "gzip 40 lz4 40 snappy 40 zstd 40" \
  "$(count_codecs <"$WORK/local.rows")"

modes_sql "$BS" rdk >"$WORK/modes_rdk.sql"
run_eddy "$WORK/modes_rdk" run "$WORK/modes_rdk.sql"
expect_rc "$WORK/modes_rdk" 0 "startup/bounded modes through librdkafka" || true
for m in ts so bt; do
  kcat -b "$BS" -C -t "${m}_local" -o beginning -e -q -f '%s\n' | sort >"$WORK/$m.local"
  kcat -b "$BS" -C -t "${m}_rdk" -o beginning -e -q -f '%s\n' | sort >"$WORK/$m.rdk"
  n=$(wc -l <"$WORK/$m.local" | tr -d ' ')
  if [[ $n -gt 0 && $n -lt $N ]]; then ok "mode $m: $n of $N records"; else
    bad "mode $m: $n records (expected some, not all)"
  fi
  check "mode $m: local log = librdkafka" "" "$(diff "$WORK/$m.rdk" "$WORK/$m.local" | head -5)"
done
check "specific offsets: partition 0 from 3 to 50, partition 1 from 7 to 12" \
  "$(awk '($1 == 0 && $2 >= 3 && $2 < 50) || ($1 == 1 && $2 >= 7 && $2 < 12)' "$WORK/offsets" | wc -l)" \
  "$(wc -l <"$WORK/so.local")"

# group-offsets: committed by the local pipeline, visible to a librdkafka consumer of the group.
check "group-offsets pipeline (auto.offset.reset = earliest) read every record" \
  "gzip 40 lz4 40 snappy 40 zstd 40" \
  "$(kcat -b "$BS" -C -t counts -o beginning -e -q -f '%s\n' | count_codecs)"
run_eddy "$WORK/g_rdk" run --format csv -e "
CREATE TABLE events (id INT, codec STRING) WITH ('connector' = 'kafka', 'topic' = 'events',
  'properties.bootstrap.servers' = '$BS', 'format' = 'json', 'properties.group.id' = 'g1',
  'scan.startup.mode' = 'group-offsets', 'scan.bounded.mode' = 'latest-offset');
SELECT id FROM events;"
expect_rc "$WORK/g_rdk" 0 "librdkafka consumer of group g1 (no auto.offset.reset: needs commits)" || true
check "the local pipeline committed every partition's offset (nothing left to read)" "id" \
  "$(paste -sd' ' "$WORK/g_rdk.out")"

# --- 2. An unbounded pipeline follows new records; kcat sees them in its output at once. ------
section "unbounded pipeline, SIGTERM"
wait_log "table 'mirror': writing topic 'mirror'" 30 || true
printf 'live1|{"id":1001,"codec":"live"}\nlive2|{"id":1002,"codec":"live"}\n' |
  kcat -b "$BS" -P -t events -z zstd -K '|'
got=""
for _ in $(seq 1 50); do
  got=$(kcat -b "$BS" -C -t mirror -o beginning -c 2 -e -q -f '%k %s\n' 2>/dev/null | sort || true)
  [[ $(printf '%s' "$got" | grep -c live) == 2 ]] && break
  sleep 0.2
done
check "the live pipeline mirrored the new records" \
  'live1 {"k":"live1","id":1001,"codec":"live"}
live2 {"k":"live2","id":1002,"codec":"live"}' "$got"
check "the live pipeline is still running" "0" \
  "$(grep -c "pipeline 'live.sql': \(ended\|failed\)" "$WORK/server.err" || true)"
start_ns=$(date +%s%N)
stop_server
stop_ms=$((($(date +%s%N) - start_ns) / 1000000))
contains "SIGTERM cancels the running pipeline" "$WORK/server.err" "pipeline 'live.sql': cancelled"
contains "then the broker stops cleanly" "$WORK/server.err" "eddy server: stopped cleanly"
if ((stop_ms < 10000)); then ok "shutdown took $stop_ms ms"; else bad "shutdown took $stop_ms ms"; fi
# Cancel comes before the listener stops.
check "pipelines are cancelled before the broker stops" "cancelled stopped" \
  "$(grep -o "pipeline 'live.sql': cancelled\|eddy server: stopped" "$WORK/server.err" |
    sed 's/.*cancelled/cancelled/; s/.*stopped/stopped/' | paste -sd' ')"

# --- 3. Committed offsets survive a restart: the next local run reads only what is new. --------
section "group-offsets resume on the local path"
printf '{"id":2001,"codec":"late"}\n{"id":2002,"codec":"late"}\n' >"$WORK/late.in"
group_sql "localhost:$PORT" g1 counts2 "" >"$WORK/group2.sql"
start_local_server
"$EDDY" topic create counts2 --partitions 1 "${B[@]}" >/dev/null
kcat -b "$BS" -P -t events -z lz4 <"$WORK/late.in"
stop_server
: >"$WORK/server.err"
start_local_server --sql "$WORK/group2.sql"
wait_pipeline group2.sql || true
check "the second local run of group g1 read only the records after its commits" \
  "late 2 live 2" "$(kcat -b "$BS" -C -t counts2 -o beginning -e -q -f '%s\n' | count_codecs)"
stop_server

# --- 4. The flights delays query via --sql equals the file result. ----------------------------
section "flights: delays-kafka.sql via --sql = delays.sql over the file"
: >"$WORK/server.err"
start_local_server
EDDY="$EDDY" "$ROOT/examples/flights/replay.sh" --topic flights "${B[@]}" >"$WORK/replay.out" 2>&1
"$EDDY" topic create hourly_delays --partitions 2 "${B[@]}" >/dev/null
stop_server
{
  echo "SET 'parallelism.default' = '2';"
  sed -e "s/127.0.0.1:9092/localhost:$PORT/" "$ROOT/examples/flights/delays-kafka.sql"
} >"$WORK/delays.sql"
start_local_server --sql "$WORK/delays.sql"
wait_pipeline delays.sql 300 || true
contains "the delays pipeline read every replayed flight from the local log" "$WORK/server.err" \
  "pipeline 'delays.sql':   source flights: $FLIGHTS_ROWS rows read"
contains "... through the local log" "$WORK/server.err" \
  "table 'flights': reading topic 'flights' at localhost:$PORT (4 partitions) from the local log"
run_eddy "$WORK/file" run examples/flights/delays.sql -q --set parallelism.default=2
expect_rc "$WORK/file" 0 "delays.sql over the file" || true
sort "$ROOT/out/hourly_delays.jsonl" >"$WORK/file.sorted"
kcat -b "$BS" -C -t hourly_delays -o beginning -e -q -f '%s\n' | sort >"$WORK/local.sorted"
check "hourly delays from the local pipeline = from the file ($(wc -l <"$WORK/file.sorted") rows)" \
  "" "$(diff "$WORK/file.sorted" "$WORK/local.sorted" | head -5)"
stop_server
finish
