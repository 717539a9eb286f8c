#!/usr/bin/env bash
# The REST API of `eddy server` (docs/rest-api.md):
#   * every curl example of docs/rest-api.md runs against a fresh server and answers the status
#     the document gives;
#   * a created pipeline runs: a bounded one FINISHES with its job summary (rows read per source),
#     an unbounded one over a topic of the server is RUNNING and reads what is produced;
#   * /metrics is Prometheus text with the pipelines by state and the topics' end offsets, which
#     promtool accepts and a real Prometheus server scrapes;
#   * consumer groups are listed with their committed offsets and lag (also in /metrics);
#   * pipelines created through the API are restarted with the server, a DELETEd one is not (its
#     definition and checkpoints are gone);
#   * the default HTTP port being taken does not stop a server; an explicit one does, clearly.
#
# Usage: bash rest_api.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$LIB/kafka.sh"
need_cmd curl "$PY"

cd "$ROOT"  # the pipelines' relative paths (examples/data/...) resolve from the server's cwd
start_server "$WORK/data" --http-listen 127.0.0.1:0 --http-port-file "$WORK/http-port"
for _ in $(seq 1 100); do [[ -s "$WORK/http-port" ]] && break; sleep 0.1; done
H="http://127.0.0.1:$(cat "$WORK/http-port")"
BS="127.0.0.1:$PORT"
"$EDDY" topic create events --bootstrap-server "$BS" --partitions 1 >/dev/null
printf 'a\nb\nc\n' | "$EDDY" produce events --bootstrap-server "$BS" >/dev/null 2>&1

# json_field FILE EXPR: a Python expression over the JSON document `j` of FILE.
json_field() { "$PY" -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
wait_state() {  # wait_state NAME STATE SECONDS
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    curl -s "$H/v1/pipelines/$1" >"$WORK/state.json" || true
    [[ $(json_field "$WORK/state.json" 'j.get("state")' 2>/dev/null) == "$2" ]] && return 0
    sleep 0.1
  done
  return 1
}

section "the examples of docs/rest-api.md answer the documented statuses"
"$PY" - "$ROOT/docs/rest-api.md" >"$WORK/examples.txt" <<'PY'
import re, sys
in_sh = False
for line in open(sys.argv[1]):
    if line.startswith("```"):
        in_sh = line.strip() == "```sh"
        continue
    if in_sh and line.startswith("curl "):
        m = re.match(r"(.*)  # (\d{3})$", line.rstrip("\n"))
        assert m, line
        print(m.group(2) + "\t" + m.group(1))
PY
n=0
status_only="curl -s -o /dev/null -w %{http_code} "
while IFS=$'\t' read -r want cmd; do
  n=$((n + 1))
  got=$(H="$H" bash -c "${cmd/curl -s /$status_only}" 2>&1 || true)
  if [[ $got == "$want" ]]; then ok "$want: ${cmd:0:90}"; else bad "got $got, want $want: $cmd"; fi
done < <(sed "s/\$BS/$BS/g" "$WORK/examples.txt")
[[ $n -ge 15 ]] && ok "$n examples ran" || bad "only $n examples found in docs/rest-api.md"

section "pipelines run: a bounded one finishes with its summary"
if wait_state airports FINISHED 30; then
  rows=$(json_field "$WORK/state.json" 'j["last_finished_job"]["sources"][0]["rows"]')
  [[ $rows == "$FLIGHTS_ROWS" ]] && ok "airports: FINISHED, $rows rows read" || bad "airports read $rows rows"
else
  bad "airports did not finish: $(cat "$WORK/state.json")"
fi

section "an unbounded pipeline over a topic of the server is RUNNING; persisted; restarted"
body=$("$PY" -c '
import json, sys
bs = sys.argv[1]
sql = ("CREATE TABLE t (v STRING) WITH (\x27connector\x27 = \x27kafka\x27, \x27topic\x27 = \x27events\x27, "
       "\x27properties.bootstrap.servers\x27 = \x27%s\x27, \x27scan.startup.mode\x27 = \x27earliest-offset\x27, "
       "\x27format\x27 = \x27raw\x27); CREATE TABLE o (v STRING) WITH (\x27connector\x27 = \x27blackhole\x27); "
       "INSERT INTO o SELECT v FROM t;" % bs)
print(json.dumps({"name": "tail2", "sql": sql, "properties": {"parallelism.default": "1"}}))' "$BS")
code=$(curl -s -o "$WORK/c.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' "$H/v1/pipelines" -d "$body")
[[ $code == 201 ]] && ok "tail2 created (201)" || bad "create tail2: $code $(cat "$WORK/c.json")"
wait_state tail2 RUNNING 30 && ok "tail2 is RUNNING" || bad "tail2: $(cat "$WORK/state.json")"
# Its job graph with counters: every record of 'events' (6) reaches the last vertex (the sink).
for _ in $(seq 1 100); do
  curl -s "$H/v1/pipelines/tail2" >"$WORK/t2.json"
  [[ $(json_field "$WORK/t2.json" 'j["job"]["vertices"][-1]["rows_in"] if j["job"]["vertices"] else 0') == 6 ]] && break
  sleep 0.1
done
graph=$(json_field "$WORK/t2.json" '[(v["id"], v["name"].split("(")[0], v["inputs"], v["rows_in"], v["rows_out"]) for v in j["job"]["vertices"]]')
[[ $(json_field "$WORK/t2.json" 'j["job"]["vertices"][-1]["rows_in"]') == 6 &&
  $(json_field "$WORK/t2.json" 'j["job"]["vertices"][0]["rows_out"]') == 6 ]] &&
  ok "GET /v1/pipelines/tail2: vertices with edges and counters: $graph" || bad "vertices: $graph"
[[ -f "$WORK/data/pipelines/tail2.json" ]] && ok "its definition is kept in data/pipelines/tail2.json" ||
  bad "no data/pipelines/tail2.json"
[[ ! -f "$WORK/data/pipelines/airports.json" ]] && ok "the finished pipeline's definition is gone" ||
  bad "data/pipelines/airports.json is still there"
curl -s "$H/metrics" >"$WORK/metrics.txt"
grep -q '^eddy_pipelines{state="RUNNING"} 1$' "$WORK/metrics.txt" && ok "/metrics: 1 pipeline RUNNING" ||
  bad "/metrics: $(grep eddy_pipelines "$WORK/metrics.txt" | tr '\n' ' ')"
grep -q '^eddy_topic_partition_end_offset{topic="events",partition="0"} 6$' "$WORK/metrics.txt" &&
  ok "/metrics: events partition 0 ends at offset 6 (3 produced by kcat, 3 over HTTP)" || bad "/metrics: no end offset 6 for events"

section "/metrics passes promtool and is scraped by a real Prometheus"
need_cmd promtool prometheus
curl -s "$H/metrics" >"$WORK/metrics2.txt"
rss=$(awk '/^process_resident_memory_bytes / { print $2 }' "$WORK/metrics2.txt")
fds=$(awk '/^process_open_fds / { print $2 }' "$WORK/metrics2.txt")
real_rss=$(awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$SERVER_PID/status")
# The server's own RSS from /proc, read just after: the same order of magnitude (within 2x).
if [[ -n $rss && -n $fds ]] && ((fds > 3)) && ((rss * 2 > real_rss && rss < real_rss * 2)); then
  ok "process metrics: resident memory $rss bytes (/proc says $real_rss), $fds open fds"
else
  bad "process metrics: rss '$rss' (/proc $real_rss), fds '$fds'"
fi
if promtool check metrics <"$WORK/metrics2.txt" >"$WORK/promtool.txt" 2>&1; then
  ok "promtool check metrics: no problem ($(grep -c '^eddy_' "$WORK/metrics2.txt") samples)"
else
  bad "promtool check metrics: $(cat "$WORK/promtool.txt")"
fi
PROM_PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$WORK/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: eddy
    static_configs:
      - targets: ['${H#http://}']
YML
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom" \
  --web.listen-address="127.0.0.1:$PROM_PORT" >"$WORK/prom.log" 2>&1 &
PROM=$!
scraped=""
for _ in $(seq 1 150); do
  scraped=$(curl -s "http://127.0.0.1:$PROM_PORT/api/v1/query?query=eddy_pipelines%7Bstate%3D%22RUNNING%22%7D" |
    "$PY" -c 'import json, sys; r = json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null || true)
  [[ -n $scraped ]] && break
  sleep 0.2
done
kill $PROM 2>/dev/null || true
wait $PROM 2>/dev/null || true
[[ $scraped == 1 ]] && ok "Prometheus scraped eddy_pipelines{state=\"RUNNING\"} = 1" ||
  bad "Prometheus did not scrape the value (got '$scraped'): $(tail -3 "$WORK/prom.log")"

section "pipeline names are file names: '..' and '.' are refused"
for n in .. . .hidden; do
  code=$(curl -s -o "$WORK/n.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' "$H/v1/pipelines" \
    -d "{\"name\": \"$n\", \"sql\": \"SET 'parallelism.default' = '1'\"}")
  [[ $code == 400 ]] && ok "name '$n': 400" || bad "name '$n': $code $(cat "$WORK/n.json")"
done
[[ -d "$WORK/data/pipelines" && -d "$WORK/data" ]] && ok "the data directory is intact" || bad "data directory damaged"

section "consumer groups with their lag"
"$EDDY" consume events --bootstrap-server "$BS" --group readers --from-beginning --max-messages 4 \
  >/dev/null 2>"$WORK/consume.err" || bad "eddy consume --group readers failed: $(tail -2 "$WORK/consume.err")"
curl -s "$H/v1/groups/readers" >"$WORK/g.json"
got=$(json_field "$WORK/g.json" '(j["group"], j["lag"], [(p["partition"], p["committed_offset"], p["end_offset"], p["lag"]) for p in j["partitions"]])')
[[ $got == "('readers', 2, [(0, 4, 6, 2)])" ]] && ok "GET /v1/groups/readers: committed 4 of 6, lag 2" ||
  bad "group readers: $got $(cat "$WORK/g.json")"
curl -s "$H/v1/groups" >"$WORK/gs.json"
# ('docs': the group the REST Proxy consumer examples of docs/rest-api.md commit to.)
[[ $(json_field "$WORK/gs.json" 'sorted(g["group"] for g in j["groups"])') == "['docs', 'readers']" ]] &&
  ok "GET /v1/groups lists it (and docs, the docs' REST consumer group)" || bad "groups: $(cat "$WORK/gs.json")"
curl -s "$H/metrics" | grep -q '^eddy_consumer_group_lag{group="readers",topic="events",partition="0"} 2$' &&
  ok "/metrics: eddy_consumer_group_lag 2" || bad "/metrics has no group lag 2"
code=$(curl -s -o /dev/null -w '%{http_code}' "$H/v1/groups/nope")
[[ $code == 404 ]] && ok "an unknown group: 404" || bad "unknown group: $code"

stop_server
start_server "$WORK/data" --http-listen 127.0.0.1:0 --http-port-file "$WORK/http-port2"
for _ in $(seq 1 100); do [[ -s "$WORK/http-port2" ]] && break; sleep 0.1; done
H="http://127.0.0.1:$(cat "$WORK/http-port2")"
wait_state tail2 RUNNING 30 && ok "after a server restart, tail2 runs again" ||
  bad "tail2 after restart: $(cat "$WORK/state.json")"
curl -s "$H/v1/pipelines" >"$WORK/list.json"
names=$(json_field "$WORK/list.json" 'sorted(p["name"] for p in j["pipelines"])')
[[ $names == "['tail2']" ]] && ok "only tail2 came back (airports had finished)" || bad "pipelines after restart: $names"
code=$(curl -s -o "$WORK/d.json" -w '%{http_code}' -X DELETE "$H/v1/pipelines/tail2")
state=$(json_field "$WORK/d.json" 'j.get("state")')
[[ $code == 200 && $state == CANCELED ]] && ok "DELETE tail2: 200, CANCELED" || bad "DELETE: $code $state"
[[ ! -e "$WORK/data/pipelines/tail2.json" && ! -e "$WORK/data/checkpoints/tail2" ]] &&
  ok "its definition and checkpoints are gone" || bad "tail2's files remain: $(ls "$WORK/data/pipelines" "$WORK/data/checkpoints")"

section "live updates over Server-Sent Events: GET /v1/watch"
curl -sN --max-time 3 "$H/v1/watch?path=%2Fv1%2Fhealth&path=/v1/topics&interval_ms=500" >"$WORK/watch.txt" || true
curl -s "$H/v1/topics" >"$WORK/topics-now.json"
"$PY" - "$WORK/watch.txt" "$WORK/topics-now.json" <<'PY' && ok "$(tail -1 "$WORK/watch.py.out" 2>/dev/null)" || bad "watch stream: $(head -c 300 "$WORK/watch.txt")"
import json, sys
events = [json.loads(l[6:]) for l in open(sys.argv[1]) if l.startswith("data: ")]
topics = sorted(t["name"] for t in json.load(open(sys.argv[2]))["topics"])
# At least the first event and one pushed 500 ms later (fewer than 6 on a loaded machine).
assert 2 <= len(events) <= 7, f"{len(events)} events in 3 s at 500 ms"
ups = []
for e in events:
    assert set(e) == {"/v1/health", "/v1/topics"}, e.keys()
    assert e["/v1/health"]["status"] == 200 and e["/v1/topics"]["status"] == 200
    assert sorted(t["name"] for t in e["/v1/topics"]["body"]["topics"]) == topics
    ups.append(e["/v1/health"]["body"]["uptime_seconds"])
assert ups == sorted(ups), ups
open(sys.argv[1].replace("watch.txt", "watch.py.out"), "w").write(
    f"{len(events)} events in 3 s, each with both routes (the topics as GET /v1/topics lists them), uptime non-decreasing\n")
PY
for q in "path=/v1/query" "path=/v1/watch" "path=/metrics" "interval_ms=5&path=/v1/health" "x=1&path=/v1/health" ""; do
  code=$(curl -s -o "$WORK/w.json" -w '%{http_code}' "$H/v1/watch?$q")
  [[ $code == 400 ]] && ok "/v1/watch?$q: 400 $(json_field "$WORK/w.json" 'j["message"]' | cut -c1-70)" || bad "/v1/watch?$q: $code"
done

stop_server


section "HTTP port in use: the default is skipped with a warning, an explicit one is an error"
"$PY" -c 'import socket, time, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); open(sys.argv[1], "w").write(str(s.getsockname()[1])); time.sleep(60)' "$WORK/busy" &
BUSY=$!
for _ in $(seq 1 50); do [[ -s "$WORK/busy" ]] && break; sleep 0.1; done
run_eddy "$WORK/busy-run" server --data-dir "$WORK/data2" --kafka-listen 127.0.0.1:0 --http-listen "127.0.0.1:$(cat "$WORK/busy")"
[[ $RC == 1 ]] && grep -q "cannot listen for HTTP on 127.0.0.1:$(cat "$WORK/busy")" "$WORK/busy-run.err" &&
  ok "explicit busy port: exit 1, $(grep -o "cannot listen for HTTP.*" "$WORK/busy-run.err")" ||
  bad "explicit busy port: exit $RC $(tail -2 "$WORK/busy-run.err")"
kill $BUSY 2>/dev/null || true
# The default 127.0.0.1:8080: held here when free (else something else holds it, as good).
"$PY" -c 'import socket, sys, time
s = socket.socket()
try:
    s.bind(("127.0.0.1", 8080)); s.listen()
except OSError:
    pass
open(sys.argv[1], "w").write("held")
time.sleep(30)' "$WORK/held8080" &
BUSY=$!
for _ in $(seq 1 100); do [[ -s "$WORK/held8080" ]] && break; sleep 0.1; done
start_server "$WORK/data3"
# The warning is logged while the server starts: wait for it (a loaded machine is slow).
for _ in $(seq 1 100); do
  grep -q "no REST API: cannot listen for HTTP" "$WORK/server.err" && break
  sleep 0.1
done
kill -0 "$SERVER_PID" 2>/dev/null && grep -q "no REST API: cannot listen for HTTP on 127.0.0.1:8080" "$WORK/server.err" &&
  ok "default port busy: the server runs and says '$(grep -o "no REST API: [^(]*" "$WORK/server.err" | head -1)'" ||
  bad "default port busy: $(tail -3 "$WORK/server.err")"
stop_server
kill $BUSY 2>/dev/null || true
finish
