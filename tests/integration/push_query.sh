#!/usr/bin/env bash
# Push queries of the REST API (POST /v1/query, docs/rest-api.md):
#   * over a topic of the server (a live tail): rows arrive as newline-delimited JSON while the
#     query runs, records produced later follow, each row with its changelog kind;
#   * the query is cancelled when the client disconnects: no push query runs any more and the
#     log says its job and state were freed;
#   * with Accept: text/event-stream the rows come as Server-Sent Events; an updating query over a
#     file gives its changelog, whose final value matches an independent count in Python;
#   * a bad query is a 400 naming line:column before anything streams;
#   * SIGTERM with a push query open stops the server cleanly.
#
# Usage: bash push_query.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$LIB/kafka.sh"
need_cmd curl "$PY"

start_server "$WORK/data" --http-listen 127.0.0.1:0 --http-port-file "$WORK/http-port"
for _ in $(seq 1 100); do [[ -s "$WORK/http-port" ]] && break; sleep 0.1; done
H="http://127.0.0.1:$(cat "$WORK/http-port")"
BS="127.0.0.1:$PORT"
"$EDDY" topic create ev --bootstrap-server "$BS" >/dev/null
produce() { printf "$1" | "$EDDY" produce ev --bootstrap-server "$BS" >/dev/null 2>&1; }
produce 'a,1\nb,2\n'
wait_for() {  # wait_for FILE PATTERN SECONDS
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
health() { curl -s "$H/v1/health" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["push_queries_running"])'; }

section "a live tail over a topic, as NDJSON; cancelled when the client goes away"
cat >"$WORK/q.json" <<JSON
{"sql": "CREATE TABLE t (k STRING, v INT) WITH ('connector' = 'kafka', 'topic' = 'ev', 'properties.bootstrap.servers' = '$BS', 'scan.startup.mode' = 'earliest-offset', 'format' = 'csv'); SELECT k, v * 10 AS v10 FROM t"}
JSON
curl -sN -D "$WORK/h.txt" -X POST -H 'Content-Type: application/json' "$H/v1/query" -d @"$WORK/q.json" >"$WORK/push.out" &
CURL=$!
wait_for "$WORK/push.out" '"k":"b"' 30 && ok "the first rows stream while the query runs" || bad "no rows: $(cat "$WORK/push.out")"
grep -qi "content-type: application/x-ndjson" "$WORK/h.txt" && grep -qi "transfer-encoding: chunked" "$WORK/h.txt" &&
  ok "application/x-ndjson over chunked transfer" || bad "headers: $(tr '\r\n' '  ' <"$WORK/h.txt")"
produce 'c,3\n'
wait_for "$WORK/push.out" '"k":"c"' 30 && ok "a record produced later follows" || bad "c never came"
lines=$(cat "$WORK/push.out")
want=$'{"op":"+I","k":"a","v10":10}\n{"op":"+I","k":"b","v10":20}\n{"op":"+I","k":"c","v10":30}'
[[ $lines == "$want" ]] && ok "rows with their kind: $(echo "$lines" | tr '\n' ' ')" || bad "rows: $lines"
[[ $(health) == 1 ]] && ok "one push query running" || bad "push queries running: $(health)"
kill $CURL
wait $CURL 2>/dev/null || true
for _ in $(seq 1 50); do [[ $(health) == 0 ]] && break; sleep 0.1; done
[[ $(health) == 0 ]] && ok "after the client disconnected, no push query runs" || bad "still running: $(health)"
wait_for "$WORK/server.err" "cancelled (the client went away); its job and state are freed" 10 &&
  ok "the log says: $(grep -o "push query [0-9]*: cancelled.*" "$WORK/server.err" | head -1)" || bad "no cancel line in the log"

section "Server-Sent Events; an updating query over a file gives its changelog"
cat >"$WORK/q2.json" <<JSON
{"sql": "CREATE TABLE f (d TIMESTAMP(3), delay INT, distance INT, origin STRING, destination STRING) WITH ('connector' = 'filesystem', 'path' = '$FLIGHTS', 'format' = 'csv', 'csv.ignore-first-line' = 'true'); SELECT origin, COUNT(*) AS n FROM f WHERE origin IN ('ABE', 'ACT') GROUP BY origin"}
JSON
curl -sN -D "$WORK/h2.txt" -X POST -H 'Content-Type: application/json' -H 'Accept: text/event-stream' "$H/v1/query" -d @"$WORK/q2.json" >"$WORK/sse.out"
grep -qi "content-type: text/event-stream" "$WORK/h2.txt" && ok "text/event-stream" || bad "headers: $(tr '\r\n' '  ' <"$WORK/h2.txt")"
res=$("$PY" - "$WORK/sse.out" "$FLIGHTS" <<'PY'
import csv, gzip, json, sys
table = {}
events = [l[len("data: "):] for l in open(sys.argv[1]).read().split("\n\n") if l.startswith("data: ")]
for e in map(json.loads, events):
    key = (e["origin"], e["n"])
    if e["op"] in ("+I", "+U"):
        table[key] = table.get(key, 0) + 1
    else:
        table[key] -= 1
final = sorted(k for k, c in table.items() if c > 0)
want = {}
with gzip.open(sys.argv[2], "rt") as f:
    r = csv.reader(f); next(r)
    for row in r:
        if row[3] in ("ABE", "ACT"):
            want[row[3]] = want.get(row[3], 0) + 1
print("same" if final == sorted(want.items()) else "differ: %s vs %s" % (final, sorted(want.items())), len(events))
PY
)
[[ $res == same* ]] && ok "the changelog of ${res#same } events ends at the independent counts" || bad "$res"

section "a result far larger than the 1 MiB queue streams whole (backpressure, no stall)"
cat >"$WORK/q3.json" <<JSON
{"sql": "CREATE TABLE f (d TIMESTAMP(3), delay INT, distance INT, origin STRING, destination STRING) WITH ('connector' = 'filesystem', 'path' = '$FLIGHTS', 'format' = 'csv', 'csv.ignore-first-line' = 'true'); SELECT origin, destination, delay FROM f"}
JSON
n=$(timeout 120 curl -sN -X POST -H 'Content-Type: application/json' "$H/v1/query" -d @"$WORK/q3.json" | wc -l)
[[ $n == "$FLIGHTS_ROWS" ]] && ok "all $n rows arrived" || bad "$n rows arrived of $FLIGHTS_ROWS"

section "a bad query is refused before anything streams"
code=$(curl -s -o "$WORK/bad.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' "$H/v1/query" -d '{"sql": "SELECT x FROM nope"}')
[[ $code == 400 ]] && grep -q "line 1, column 15" "$WORK/bad.json" && ok "400: unknown table, at line 1, column 15" ||
  bad "bad query: $code $(cat "$WORK/bad.json")"

section "SIGTERM with a push query open"
curl -sN -X POST -H 'Content-Type: application/json' "$H/v1/query" -d @"$WORK/q.json" >"$WORK/push3.out" &
CURL=$!
wait_for "$WORK/push3.out" '"k":"c"' 30 || bad "the third push query printed nothing"
t0=$(date +%s%N)
kill -TERM "$SERVER_PID"
rc=0
wait "$SERVER_PID" || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
SERVER_PID=""
[[ $rc == 0 ]] && ((ms < 10000)) && ok "the server stopped cleanly in $ms ms" || bad "server: exit $rc after $ms ms"
wait $CURL 2>/dev/null || true
finish
