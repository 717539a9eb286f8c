#!/usr/bin/env bash
# The metrics of `eddy server` (docs/rest-api.md "Health and metrics", issue 12), checked against
# facts computed outside eddy:
#   * broker: after kcat produced N records (acks=all) to a topic, its records-in counter is N and
#     the Produce latency histogram counts every Produce request; the fsync histogram counts the
#     fsyncs; kcat reading the topic back makes records-out N; connections held open by a client
#     are counted;
#   * a pipeline over that topic: its sink's subtasks received N rows in all, each kafka partition's
#     position is the topic's end offset (lag 0), and each source subtask's watermark is the
#     largest event time produced minus the WATERMARK delay;
#   * a pipeline into a slow sink (an HTTP endpoint at 20 requests/s): its source subtask is
#     backpressured most of the time (ratio > 0.5, never above 1) and its kafka lag is the topic's
#     end offset minus the position it reports, with rows still to read;
#   * promtool accepts the whole /metrics output.
#
# Usage: bash metrics.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$LIB/kafka.sh"
need_cmd curl kcat promtool

cd "$ROOT"
start_server "$WORK/data" --http-listen 127.0.0.1:0 --http-port-file "$WORK/http-port"
for _ in $(seq 1 100); do [[ -s "$WORK/http-port" ]] && break; sleep 0.1; done
H="http://127.0.0.1:$(cat "$WORK/http-port")"
BS="127.0.0.1:$PORT"

json_field() { "$PY" -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
# metric NAME_WITH_LABELS: its value in a fresh scrape ("" when absent).
metric() { curl -s "$H/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }

section "broker: records in and out per topic, request latency, fsyncs, connections"
"$EDDY" topic create m --bootstrap-server "$BS" --partitions 2 >/dev/null
N=300
T_US=1614834367000000  # 2021-03-04 05:06:07 UTC: every record's event time
for p in 0 1; do
  for i in $(seq 1 $((N / 2))); do
    echo "{\"v\": \"p$p-$i\", \"ts\": \"2021-03-04 05:06:07\"}"
  done | kcat -P -b "$BS" -t m -p $p -X acks=all 2>"$WORK/kcat.err" || bad "kcat produce: $(cat "$WORK/kcat.err")"
done
got=$(metric 'eddy_kafka_topic_records_in_total{topic="m"}')
[[ $got == "$N" ]] && ok "eddy_kafka_topic_records_in_total{topic=\"m\"} = $N (kcat produced $N)" ||
  bad "records in: '$got', want $N"
req=$(metric 'eddy_kafka_requests_total{api="Produce"}')
cnt=$(metric 'eddy_kafka_request_duration_seconds_count{api="Produce"}')
inf=$(metric 'eddy_kafka_request_duration_seconds_bucket{api="Produce",le="+Inf"}')
[[ -n $req && $req -ge 2 && $cnt == "$req" && $inf == "$req" ]] &&
  ok "Produce: $req requests (2 kcat runs, one partition each), all in the latency histogram" ||
  bad "Produce requests '$req', histogram count '$cnt', +Inf bucket '$inf'"
fs=$(metric 'eddy_log_fsync_duration_seconds_count')
[[ -n $fs && $fs -ge 2 ]] && ok "eddy_log_fsync_duration_seconds_count = $fs (acks=all: each batch fsynced)" ||
  bad "fsync count '$fs'"
read_n=$(kcat -C -b "$BS" -t m -o beginning -e -q 2>/dev/null | wc -l)
out=$(metric 'eddy_kafka_topic_records_out_total{topic="m"}')
[[ $read_n == "$N" && $out == "$N" ]] && ok "kcat read $read_n records; eddy_kafka_topic_records_out_total = $out" ||
  bad "kcat read $read_n, records out '$out'"
bytes_in=$(metric 'eddy_kafka_topic_bytes_in_total{topic="m"}')
log_bytes=$(curl -s "$H/v1/topics/m" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["bytes"])')
[[ $bytes_in == "$log_bytes" ]] && ok "bytes in ($bytes_in) = the topic's bytes on disk" ||
  bad "bytes in '$bytes_in', topic bytes '$log_bytes'"
# Three client connections held open (plain TCP connects to the Kafka port).
for _ in $(seq 1 50); do [[ $(metric eddy_kafka_connections) == 0 ]] && break; sleep 0.1; done
"$PY" - "$PORT" "$WORK/conns-ready" <<'PY' &
import socket, sys, time
socks = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(3)]
open(sys.argv[2], "w").write("ok")
time.sleep(3)
PY
HOLD=$!
for _ in $(seq 1 50); do [[ -s "$WORK/conns-ready" ]] && break; sleep 0.1; done
conns=""
for _ in $(seq 1 20); do conns=$(metric eddy_kafka_connections); [[ $conns == 3 ]] && break; sleep 0.1; done
[[ $conns == 3 ]] && ok "eddy_kafka_connections = 3 while a client holds 3 open" || bad "connections '$conns', want 3"
kill $HOLD 2>/dev/null || true
wait $HOLD 2>/dev/null || true

create() {  # create NAME SQL PROPS_JSON
  local body
  body=$("$PY" -c 'import json, sys; print(json.dumps({"name": sys.argv[1], "sql": sys.argv[2], "properties": json.loads(sys.argv[3])}))' "$1" "$2" "$3")
  code=$(curl -s -o "$WORK/c.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' "$H/v1/pipelines" -d "$body")
  [[ $code == 201 ]] && ok "pipeline $1 created" || bad "create $1: $code $(cat "$WORK/c.json")"
}
SRC="CREATE TABLE src (v STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH (
  'connector' = 'kafka', 'topic' = 'm', 'properties.bootstrap.servers' = '$BS',
  'scan.startup.mode' = 'earliest-offset', 'format' = 'json');"

section "a pipeline over the topic: rows in, kafka lag 0 at the end offsets, watermarks"
create all "$SRC CREATE TABLE o (v STRING) WITH ('connector' = 'blackhole'); INSERT INTO o SELECT v FROM src;" \
  '{"parallelism.default": "2"}'
for _ in $(seq 1 100); do
  curl -s "$H/v1/pipelines/all" >"$WORK/all.json"
  [[ $(json_field "$WORK/all.json" 'sum(s["rows_in"] for s in j["job"]["vertices"][-1]["subtasks"]) if j["job"]["vertices"] else 0') == "$N" &&
    $(json_field "$WORK/all.json" 'sum(l["lag"] == 0 for l in j["job"]["vertices"][0]["source_lag"])') == 2 ]] && break
  sleep 0.1
done
got=$(json_field "$WORK/all.json" '[s["rows_in"] for s in j["job"]["vertices"][-1]["subtasks"]]')
json_field "$WORK/all.json" 'sum(s["rows_in"] for s in j["job"]["vertices"][-1]["subtasks"])' | grep -qx "$N" &&
  ok "the sink's subtasks received $got rows: $N in all" || bad "sink subtasks rows in: $got"
ends=$(curl -s "$H/v1/topics/m" | "$PY" -c 'import json, sys; print(sorted((p["partition"], p["end_offset"]) for p in json.load(sys.stdin)["partitions"]))')
lag=$(json_field "$WORK/all.json" 'sorted((l["partition"], l["position"], l["end_offset"], l["lag"]) for l in j["job"]["vertices"][0]["source_lag"])')
[[ $lag == "[(0, 150, 150, 0), (1, 150, 150, 0)]" && $ends == "[(0, 150), (1, 150)]" ]] &&
  ok "source lag per partition (partition, position, end, lag): $lag; topic end offsets $ends" ||
  bad "source lag $lag, topic ends $ends"
want_wm=$((T_US - 2000000))
wms=$(json_field "$WORK/all.json" '[s["watermark"] for s in j["job"]["vertices"][0]["subtasks"]]')
[[ $wms == "[$want_wm, $want_wm]" ]] && ok "source subtasks' watermarks: $wms (event time - 2 s)" ||
  bad "source watermarks $wms, want $want_wm each"
wlag=$(json_field "$WORK/all.json" 'j["job"]["vertices"][0]["subtasks"][0]["watermark_lag_ms"]')
now_ms=$(($(date +%s%N) / 1000000))
expect=$((now_ms - want_wm / 1000))
((wlag <= expect && wlag > expect - 10000)) && ok "watermark lag $wlag ms (now - watermark = $expect ms)" ||
  bad "watermark lag $wlag, expected about $expect"
curl -s "$H/metrics" >"$WORK/m1.txt"
grep -c '^eddy_source_kafka_lag_records{pipeline="all",.*} 0$' "$WORK/m1.txt" | grep -qx 2 &&
  ok "/metrics: eddy_source_kafka_lag_records 0 for both partitions" ||
  bad "/metrics lag: $(grep eddy_source_kafka_lag "$WORK/m1.txt")"
last=$(json_field "$WORK/all.json" 'len(j["job"]["vertices"]) - 1')
sum=$(grep -F "eddy_subtask_rows_in_total{pipeline=\"all\",vertex_id=\"$last\"," "$WORK/m1.txt" | awk '{ s += $NF } END { print s }')
[[ $sum == "$N" ]] && ok "/metrics: eddy_subtask_rows_in_total of the sink's subtasks sums to $N" ||
  bad "/metrics subtask rows in: '$sum'"

section "a pipeline into a slow sink: backpressure and kafka lag"
"$PY" - "$WORK/http-sink-port" <<'PY' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(s.server_port))
s.serve_forever()
PY
SINK=$!
for _ in $(seq 1 50); do [[ -s "$WORK/http-sink-port" ]] && break; sleep 0.1; done
URL="http://127.0.0.1:$(cat "$WORK/http-sink-port")/rows"
create slow "$SRC CREATE TABLE h (v STRING) WITH ('connector' = 'http', 'url' = '$URL', 'format' = 'json',
  'sink.rate-limit' = '20'); INSERT INTO h SELECT v FROM src;" \
  '{"parallelism.default": "1", "eddy.batch-size": "1"}'
sleep 4
curl -s "$H/v1/pipelines/slow" >"$WORK/slow.json"
bp=$(json_field "$WORK/slow.json" 'j["job"]["vertices"][0]["subtasks"][0]["backpressure_ratio"]')
"$PY" -c 'import sys; b = float(sys.argv[1]); sys.exit(0 if 0.5 < b <= 1 else 1)' "$bp" &&
  ok "the source subtask feeding the slow sink is backpressured: ratio $bp" || bad "backpressure ratio $bp"
sink_bp=$(json_field "$WORK/slow.json" 'j["job"]["vertices"][-1]["subtasks"][0]["backpressure_ratio"]')
[[ $sink_bp == 0.0 ]] && ok "the sink itself (nothing downstream) is not backpressured: $sink_bp" ||
  bad "sink backpressure $sink_bp"
got=$(json_field "$WORK/slow.json" '[(l["partition"], l["end_offset"], l["end_offset"] - l["position"] == l["lag"], l["lag"] > 0) for l in sorted(j["job"]["vertices"][0]["source_lag"], key=lambda l: l["partition"])]')
read_pos=$(json_field "$WORK/slow.json" 'sum(l["position"] for l in j["job"]["vertices"][0]["source_lag"])')
sink_in=$(json_field "$WORK/slow.json" 'j["job"]["vertices"][-1]["rows_in"]')
total_lag=$(json_field "$WORK/slow.json" 'sum(l["lag"] for l in j["job"]["vertices"][0]["source_lag"])')
[[ $got == "[(0, 150, True, True), (1, 150, True, True)]" ]] && ((read_pos >= sink_in && read_pos + total_lag == N)) &&
  ok "kafka lag $total_lag = end offsets (150 + 150) - positions ($read_pos, >= the $sink_in rows the sink received)" ||
  bad "slow lag: $got, positions $read_pos, sink rows in $sink_in, lag $total_lag"
curl -s -o /dev/null -X DELETE "$H/v1/pipelines/slow"
kill $SINK 2>/dev/null || true
wait $SINK 2>/dev/null || true

section "promtool accepts /metrics"
curl -s "$H/metrics" >"$WORK/m2.txt"
if promtool check metrics <"$WORK/m2.txt" >"$WORK/promtool.txt" 2>&1; then
  ok "promtool check metrics: no problem ($(grep -c '^eddy_' "$WORK/m2.txt") eddy samples)"
else
  bad "promtool check metrics: $(head -5 "$WORK/promtool.txt")"
fi

stop_server
finish
