#!/usr/bin/env bash
# The 'mqtt' connector (src/connectors/mqtt/) against a real Eclipse Mosquitto broker on a free
# loopback port, with paho-mqtt (Python) publishing and mosquitto_sub reading:
#   * thousands of simulated sensors publish JSON readings (QoS 1); eddy computes a 10 s TUMBLE
#     average per sensor on event time (two source subtasks on a shared subscription), checked
#     against an independent computation in Python, window by window;
#   * readings over a threshold go back to MQTT through the sink, to 'alerts/{sensor}', and
#     mosquitto_sub receives exactly the expected alerts;
#   * the broker restarts in the middle of a run: the source reconnects (logged in words) and,
#     with QoS 1, a persistent session and a fixed client id, loses no message;
#   * bad payloads: 'error.policy' skip counts them, dead-letter writes them with their position
#     ('mqtt topic <t> message <n>'), fail stops the job naming it;
#   * a broker that is down at the start, or that goes away under a sink, fails the job in
#     bounded time with a clear error; bad options are refused when the table is created.
# The runs end by themselves through 'scan.bounded.idle-timeout'.
#
# Usage: bash mqtt.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
need_cmd mosquitto mosquitto_sub

# paho-mqtt (python3-paho-mqtt) may live only in the system's Python.
MPY=""
for p in "$PY" /usr/bin/python3; do
  if "$p" -c 'import paho.mqtt.client' 2>/dev/null; then
    MPY=$p
    break
  fi
done
[[ -n $MPY ]] || skip "python3-paho-mqtt is not installed (scripts/install-deps)"
H="$ROOT/tests/integration/mqtt_helper.py"
cd "$WORK"

PORT=$("$MPY" "$H" free-port)
BROKER=""
PIDS=()
write_conf() {  # write_conf FILE PORT DIR
  mkdir -p "$3"
  cat >"$1" <<EOF
listener $2 127.0.0.1
allow_anonymous true
persistence true
persistence_location $3/
user $(id -un)
max_queued_messages 100000
EOF
}
write_conf "$WORK/mosquitto.conf" "$PORT" "$WORK/mosq"
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
start_broker() {
  mosquitto -c "$WORK/mosquitto.conf" >>"$WORK/mosquitto.log" 2>&1 &
  BROKER=$!
  local i
  for ((i = 0; i < 100; i++)); do
    port_open "$PORT" && return 0
    sleep 0.1
  done
  echo "FAIL: mosquitto did not start on port $PORT"
  tail -5 "$WORK/mosquitto.log"
  exit 1
}
stop_broker() {  # SIGTERM: mosquitto saves its persistence file and exits
  [[ -n $BROKER ]] || return 0
  kill -TERM "$BROKER" 2>/dev/null || true
  wait "$BROKER" 2>/dev/null || true
  BROKER=""
}
on_exit() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  stop_broker
  [[ -n ${BROKER2:-} ]] && kill "$BROKER2" 2>/dev/null
  cleanup
}
trap on_exit EXIT
start_broker

# wait_for FILE PATTERN COUNT SECONDS : waits until FILE has COUNT lines matching PATTERN.
wait_for() {
  local i
  for ((i = 0; i < $4 * 10; i++)); do
    if (($(grep -c -- "$2" "$1" 2>/dev/null || true) >= $3)); then return 0; fi
    sleep 0.1
  done
  return 1
}
# start_eddy NAME SQL : runs eddy in the background (NAME.out, NAME.err); pid in $EPID.
start_eddy() {
  timeout 300 "$EDDY" run -e "$2" >"$WORK/$1.out" 2>"$WORK/$1.err" &
  EPID=$!
  PIDS+=("$EPID")
}
# ready NAME CLIENTS : waits until NAME's eddy has connected (and subscribed) CLIENTS clients.
ready() {
  if ! wait_for "$WORK/$1.err" "connected to the MQTT broker" "$2" 30; then
    bad "$1: eddy did not connect to the broker within 30 s"
    sed 's/^/    | /' "$WORK/$1.err" | tail -5
    return 1
  fi
}
# finished PID NAME : waits for an eddy run; its exit code in $RC.
finished() {
  RC=0
  wait "$1" || RC=$?
}
mqtt_with() {  # the connection options of a table on the test broker
  echo "'connector'='mqtt','hostname'='127.0.0.1','port'='$PORT'"
}

section "sensors → windowed average per sensor (event time) and alerts back to MQTT"
SENSORS=2000
READINGS=10
READINGS_DDL="CREATE TABLE readings (sensor STRING, seq BIGINT, v DOUBLE, ts TIMESTAMP(3),
  tp STRING METADATA FROM 'topic' VIRTUAL, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND)
  WITH ($(mqtt_with), 'topic'='sensors/+/reading', 'qos'='1', 'format'='json',
  'scan.bounded.idle-timeout'='3 s');"
# The alert subscriber's persistent session exists before the alerts are published.
mosquitto_sub -p "$PORT" -h 127.0.0.1 -i alert-reader -c -q 1 -t 'alerts/#' -E
start_eddy avg "SET 'parallelism.default' = '2'; $READINGS_DDL
CREATE TABLE avg_out (sensor STRING, window_start TIMESTAMP(3), a DOUBLE, n BIGINT)
  WITH ('connector'='filesystem', 'path'='$WORK/avg.csv', 'format'='csv');
INSERT INTO avg_out SELECT sensor, window_start, AVG(v), COUNT(*)
  FROM TABLE(TUMBLE(TABLE readings, DESCRIPTOR(ts), INTERVAL '10' SECOND))
  WHERE tp = 'sensors/' || sensor || '/reading'
  GROUP BY sensor, window_start, window_end;"
AVG_PID=$EPID
start_eddy alerts "SET 'parallelism.default' = '1'; $READINGS_DDL
CREATE TABLE alerts (sensor STRING, seq BIGINT, v DOUBLE)
  WITH ($(mqtt_with), 'topic'='alerts/{sensor}', 'qos'='1', 'format'='json');
INSERT INTO alerts SELECT sensor, seq, v FROM readings WHERE v > 99;"
ALERTS_PID=$EPID
ready avg 2 && ready alerts 2
t0=$(date +%s%N)
"$MPY" "$H" sensors "$PORT" "$SENSORS" "$READINGS" 42 "$WORK" >pub.out
finished "$AVG_PID"
t1=$(date +%s%N)
expect_rc avg 0 "windowed average job" || true
finished "$ALERTS_PID"
expect_rc alerts 0 "alert job" || true
n=$((SENSORS * READINGS))
echo "  ($(cat pub.out); the averaging job ended $(((t1 - t0) / 1000000)) ms after the first" \
  "publish, 3000 ms of it the idle timeout)"
if grep -q "source readings: $n rows read" avg.err; then ok "the average job read all $n readings"; else
  bad "rows read: $(grep 'source readings' avg.err)"
fi
verdict=$("$MPY" "$H" check-avg expected_avg.csv avg.csv)
if [[ $verdict == OK* ]]; then ok "averages equal the independent computation: $verdict"; else
  bad "averages: $verdict"
fi
want=$(wc -l <expected_alerts.txt)
timeout 30 mosquitto_sub -p "$PORT" -h 127.0.0.1 -i alert-reader -c -q 1 -t 'alerts/#' -v \
  -C "$want" -W 20 >alerts.txt || true
verdict=$("$MPY" "$H" check-alerts expected_alerts.txt alerts.txt)
if [[ $verdict == OK* ]]; then ok "mosquitto_sub received exactly the expected alerts: $verdict"; else
  bad "alerts: $verdict"
fi
more=$(timeout 5 mosquitto_sub -p "$PORT" -h 127.0.0.1 -i alert-reader -c -q 1 -t 'alerts/#' -v \
  -W 2 2>/dev/null | wc -l || true)
[[ $more == 0 ]] && ok "no further alert is queued" || bad "$more alerts more than expected"

section "the broker restarts in the middle of a run: the source reconnects and loses nothing"
start_eddy restart "SET 'parallelism.default' = '1';
CREATE TABLE r (seq BIGINT) WITH ($(mqtt_with), 'topic'='restart/#', 'qos'='1', 'format'='json',
  'client-id'='eddy-restart-test', 'clean-session'='false', 'reconnect.max-delay'='2 s',
  'scan.bounded.idle-timeout'='8 s');
CREATE TABLE rout (seq BIGINT) WITH ('connector'='filesystem', 'path'='$WORK/restart.csv',
  'format'='csv');
INSERT INTO rout SELECT seq FROM r;"
R_PID=$EPID
ready restart 1
"$MPY" "$H" seq "$PORT" restart/a 1 3000
stop_broker
start_broker
# Published right after the restart, while eddy's client is still away: the broker queues them
# for its persistent session.
"$MPY" "$H" seq "$PORT" restart/b 3001 6000
finished "$R_PID"
expect_rc restart 0 "restart job" || true
verdict=$("$MPY" "$H" check-seq restart.csv 1 6000)
if [[ $verdict == *"distinct=6000 missing=0 extra=0"* ]]; then
  ok "all 6000 messages arrived across the restart ($verdict)"
else
  bad "across the restart: $verdict"
fi
if grep -q "lost the connection to the MQTT broker tcp://127.0.0.1:$PORT (client 'eddy-restart-test')" restart.err &&
  grep -q "reconnected to the MQTT broker .* (the broker kept the session)" restart.err; then
  ok "the lost connection and the reconnect are logged in words"
else
  bad "no reconnect lines in the log:"
  grep -i mqtt restart.err | sed 's/^/    | /' | head -5
fi

section "bad payloads: skip, dead-letter, fail"
cat >bad.txt <<'EOF'
{"id":1,"name":"a"}
not json
{"id":2,"name":"b"}
{"id":"x","name":"c"}
{"id":3,"name":"d"}
EOF
bad_run() {  # bad_run NAME POLICY_OPTIONS
  start_eddy "$1" "SET 'parallelism.default' = '1';
CREATE TABLE b (id INT, name STRING, t STRING METADATA FROM 'topic' VIRTUAL)
  WITH ($(mqtt_with), 'topic'='bad/$1', 'format'='json', 'scan.bounded.idle-timeout'='2 s' $2);
CREATE TABLE bout (id INT, name STRING, t STRING) WITH ('connector'='filesystem',
  'path'='$WORK/$1.csv', 'format'='csv');
INSERT INTO bout SELECT id, name, t FROM b;"
  local pid=$EPID
  ready "$1" 1
  "$MPY" "$H" raw "$PORT" "bad/$1" bad.txt
  finished "$pid"
}
bad_run skip ",'error.policy'='skip'"
expect_rc skip 0 "skip" || true
if [[ "$(cat skip.csv 2>/dev/null)" == $'1,a,bad/skip\n2,b,bad/skip\n3,d,bad/skip' ]]; then
  ok "skip: the 3 good rows, with their topic"
else bad "skip: rows $(tr '\n' ' ' <skip.csv)"; fi
grep -q "2 bad rows skipped" skip.err && ok "skip: 2 bad rows counted" ||
  bad "skip summary: $(grep -i 'bad' skip.err | head -2)"
bad_run dead ",'error.policy'='dead-letter','error.dead-letter.path'='$WORK/dead.jsonl'"
expect_rc dead 0 "dead-letter" || true
dl=$("$MPY" -c '
import json
print(" | ".join("%s: %s" % (d["source"], d["row"]) for d in map(json.loads, open("dead.jsonl"))))')
if [[ $dl == "mqtt topic bad/dead message 2: not json | mqtt topic bad/dead message 4: {\"id\":\"x\",\"name\":\"c\"}" ]]; then
  ok "dead-letter: both bad payloads with their position"
else bad "dead-letter file: $dl"; fi
[[ $(wc -l <dead.csv) == 3 ]] && ok "dead-letter: the 3 good rows" || bad "dead-letter: $(wc -l <dead.csv) rows"
bad_run fail ""
if [[ $RC == 1 ]] && grep -q "mqtt topic bad/fail message 2: bad row in table 'b'" fail.err; then
  ok "fail: exit code 1 naming the position ($(grep -o "mqtt topic bad/fail message 2: bad row[^(]*" fail.err | head -1))"
else
  bad "fail: exit code $RC: $(head -3 fail.err)"
fi

PORT2=$("$MPY" "$H" free-port)
write_conf "$WORK/mosquitto2.conf" "$PORT2" "$WORK/mosq2"
mosquitto -c "$WORK/mosquitto2.conf" >>"$WORK/mosquitto2.log" 2>&1 &
BROKER2=$!
for ((i = 0; i < 100; i++)); do port_open "$PORT2" && break; sleep 0.1; done

section "the sink's broker restarts in the middle of a run: every message arrives (at least once)"
mosquitto_sub -p "$PORT" -h 127.0.0.1 -i sink-reader -c -q 1 -t 'sinkr/out' -E
start_eddy sinkr "SET 'parallelism.default' = '1';
CREATE TABLE sin (seq BIGINT) WITH ('connector'='mqtt', 'server-uri'='tcp://127.0.0.1:$PORT2',
  'topic'='sinkr/in', 'qos'='1', 'format'='json', 'scan.bounded.idle-timeout'='6 s');
CREATE TABLE sout (seq BIGINT) WITH ($(mqtt_with), 'topic'='sinkr/out', 'qos'='1',
  'format'='json', 'reconnect.max-delay'='2 s', 'sink.flush-timeout'='20 s');
INSERT INTO sout SELECT seq FROM sin;"
S_PID=$EPID
ready sinkr 2
"$MPY" "$H" seq "$PORT2" sinkr/in 1 1500
stop_broker
start_broker
"$MPY" "$H" seq "$PORT2" sinkr/in 1501 3000
finished "$S_PID"
expect_rc sinkr 0 "sink restart job" || true
timeout 40 mosquitto_sub -p "$PORT" -h 127.0.0.1 -i sink-reader -c -q 1 -t 'sinkr/out' \
  -W 8 2>/dev/null | "$MPY" -c 'import json, sys; print("\n".join(str(json.loads(l)["seq"]) for l in sys.stdin))' \
  >sinkr.csv || true
verdict=$("$MPY" "$H" check-seq sinkr.csv 1 3000)
if [[ $verdict == *"distinct=3000 missing=0 extra=0"* ]]; then
  ok "all 3000 messages published across the restart ($verdict)"
else
  bad "sink across the restart: $verdict"
fi
grep -q "reconnected to the MQTT broker tcp://127.0.0.1:$PORT as 'eddy-sink-sout" sinkr.err &&
  ok "the sink reconnected" || bad "no sink reconnect in the log: $(grep -i 'mqtt' sinkr.err | tail -2)"

section "errors: broker down, broker gone under a sink, bad options"
DOWN=$("$MPY" "$H" free-port)
t0=$(date +%s)
run_eddy down run -e "CREATE TABLE d (x STRING) WITH ('connector'='mqtt','server-uri'='tcp://127.0.0.1:$DOWN',
  'topic'='x','format'='raw'); SELECT * FROM d;"
if [[ $RC == 1 ]] && grep -q "cannot connect to the MQTT broker tcp://127.0.0.1:$DOWN .*Connection refused" down.err; then
  ok "a broker that is down at the start: exit code 1, clear error, $(($(date +%s) - t0)) s"
else bad "broker down: exit code $RC: $(head -2 down.err)"; fi

start_eddy gone "SET 'parallelism.default' = '1';
CREATE TABLE gin (seq BIGINT) WITH ($(mqtt_with), 'topic'='gone/in', 'format'='json',
  'scan.bounded.idle-timeout'='2 s');
CREATE TABLE gout (seq BIGINT) WITH ('connector'='mqtt', 'server-uri'='tcp://127.0.0.1:$PORT2',
  'topic'='gone/out', 'qos'='1', 'format'='json', 'sink.flush-timeout'='2 s');
INSERT INTO gout SELECT seq FROM gin;"
G_PID=$EPID
ready gone 2
kill -KILL "$BROKER2"
wait "$BROKER2" 2>/dev/null || true
BROKER2=""
t0=$(date +%s)
"$MPY" "$H" seq "$PORT" gone/in 1 5
finished "$G_PID"
took=$(($(date +%s) - t0))
if [[ $RC == 1 ]] && grep -Eq "(5 MQTT messages were not acknowledged by the broker|the MQTT broker) tcp://127.0.0.1:$PORT2 .*'sink.flush-timeout' \(2000 ms\)" gone.err; then
  ok "a sink whose broker went away fails in ${took} s: $(grep -Eo "table 'gout': [0-9]+ MQTT messages.*|table 'gout': the MQTT broker.*" gone.err | head -1 | cut -c1-200)"
else
  bad "sink broker gone: exit code $RC after ${took} s: $(grep -v ' info ' gone.err | head -3)"
fi

refused() {  # refused WHAT OPTIONS PATTERN
  run_eddy refused run -e "CREATE TABLE t (x STRING) WITH ($(mqtt_with), 'format'='raw' $2);"
  if [[ $RC == 1 ]] && grep -q -- "$3" refused.err; then ok "$1: refused"; else
    bad "$1: exit code $RC: $(head -2 refused.err)"
  fi
}
refused "a persistent session without a client id" ",'topic'='a','clean-session'='false'" \
  "'clean-session' = 'false' needs 'client-id'"
refused "a bad wildcard" ",'topic'='a/b#'" "'+' must be a whole level"
refused "qos 3" ",'topic'='a','qos'='3'" "'qos' must be"
echo v >one.csv
run_eddy tmpl run -e "CREATE TABLE t (x STRING) WITH ($(mqtt_with), 'format'='raw', 'topic'='a/{nope}');
  CREATE TABLE one (x STRING) WITH ('connector'='filesystem', 'path'='$WORK/one.csv', 'format'='csv');
  INSERT INTO t SELECT x FROM one;"
if [[ $RC == 1 ]] && grep -q "'topic' refers to '{nope}', which is not a column" tmpl.err; then
  ok "a topic template naming an unknown column: refused"
else bad "template: exit code $RC: $(head -2 tmpl.err)"; fi

finish
