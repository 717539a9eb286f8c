#!/usr/bin/env bash
# Every connector, against the real server it talks to (PostgreSQL 15, Eclipse Mosquitto with a
# password file, eddy server's Kafka broker, a closed local port for the http sink):
#   * EXPLAIN names the connector of each source and sink (filesystem, kafka, mqtt, http, jdbc,
#     datagen, print, blackhole);
#   * secrets are never shown: jobs with passwords ('password' of jdbc and mqtt, the Kafka
#     client's 'properties.sasl.password' and 'properties.sasl.jaas.config', an http URL with a
#     user-info password and an Authorization header) that succeed, fail to connect, fail on a
#     bad option written on the same line as the password, dead-letter rows, and EXPLAIN; the
#     same jobs as pipelines of `eddy server`. Each secret is grepped for in stdout, stderr, the
#     dead-letter file and the server's log and REST answers about jobs.
#
# Usage: bash connector_secrets.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$LIB/postgres.sh"
need_cmd mosquitto mosquitto_passwd curl
start_postgres
source "$LIB/kafka.sh"  # its EXIT trap replaces postgres.sh's: chain both
MQ_PID=""
all_cleanup() {
  [[ -n $MQ_PID ]] && kill "$MQ_PID" 2>/dev/null
  pg_stop
  kafka_cleanup
}
trap all_cleanup EXIT
cd "$WORK"

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
tag() { echo "$1-$RANDOM$RANDOM"; }
# The secrets: each unique, so a hit names its source.
PG_BAD=$(tag pgwrong)
MQ_PW=$(tag mqttpw)
MQ_BAD=$(tag mqttwrong)
SASL_PW=$(tag saslpw)
JAAS_PW=$(tag jaaspw)
HTTP_PW=$(tag urlpw)
HTTP_TOKEN=$(tag token)
SECRETS=("$PG_PASSWORD" "$PG_BAD" "$MQ_PW" "$MQ_BAD" "$SASL_PW" "$JAAS_PW" "$HTTP_PW" "$HTTP_TOKEN")

MQ_PORT=$(free_port)
mosquitto_passwd -c -b mq.passwd gw "$MQ_PW" >/dev/null 2>&1
printf 'listener %s 127.0.0.1\nallow_anonymous false\npassword_file %s\nuser %s\n' \
  "$MQ_PORT" "$WORK/mq.passwd" "$(id -un)" >mq.conf
mosquitto -c mq.conf >mq.log 2>&1 &
MQ_PID=$!
start_server "$WORK/data" --http-listen 127.0.0.1:0 --http-port-file "$WORK/http"
for _ in $(seq 100); do [[ -s http && -s mq.log ]] && break; sleep 0.1; done
BS="127.0.0.1:$PORT"
H="http://127.0.0.1:$(cat http)"
"$EDDY" topic create events --partitions 1 --bootstrap-server "$BS" >/dev/null
printf 'a\nb\n' | "$EDDY" produce events --bootstrap-server "$BS" >/dev/null 2>&1 || true
CLOSED=$(free_port)
pg -c "CREATE TABLE out_rows (id BIGINT, v TEXT)"
printf '1,x\n2,y\n' >in.csv

# One DDL per connector; every table with a password writes it on the same line as its connector.
DDL="CREATE TABLE gen (id BIGINT, v STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '3', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '3');
CREATE TABLE files (id BIGINT, v STRING) WITH ('connector' = 'filesystem', 'path' = '$WORK/in.csv', 'format' = 'csv');
CREATE TABLE pg_rows (id BIGINT, v STRING) WITH ($(jdbc_with out_rows));
CREATE TABLE mq (id BIGINT, v STRING) WITH ('connector' = 'mqtt', 'hostname' = '127.0.0.1', 'port' = '$MQ_PORT', 'username' = 'gw', 'password' = '$MQ_PW', 'topic' = 'sec/t', 'format' = 'json', 'scan.bounded.idle-timeout' = '1 s');
CREATE TABLE kf (v STRING) WITH ('connector' = 'kafka', 'topic' = 'events', 'properties.bootstrap.servers' = '$BS', 'properties.sasl.username' = 'u', 'properties.sasl.password' = '$SASL_PW', 'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset', 'format' = 'raw');
CREATE TABLE hook (id BIGINT, v STRING) WITH ('connector' = 'http', 'url' = 'http://bot:$HTTP_PW@127.0.0.1:$CLOSED/hook', 'headers' = 'Authorization: Bearer $HTTP_TOKEN', 'sink.max-retries' = '0', 'sink.error.policy' = 'dead-letter', 'sink.dead-letter.path' = '$WORK/hook.dead.jsonl');
CREATE TABLE shown (id BIGINT, v STRING) WITH ('connector' = 'print');
CREATE TABLE gone (id BIGINT, v STRING) WITH ('connector' = 'blackhole');
CREATE TABLE kout (v STRING) WITH ('connector' = 'kafka', 'topic' = 'events', 'properties.bootstrap.servers' = '$BS', 'format' = 'raw');"

section "EXPLAIN names the connector of every source and sink"
explain() {  # explain NAME INSERT PATTERN_SOURCE PATTERN_SINK
  run_eddy "$WORK/ex_$1" run -e "$DDL EXPLAIN $2;"
  if [[ $RC == 0 ]] && grep -q -- "$3" "ex_$1.out" && grep -q -- "$4" "ex_$1.out"; then
    ok "$1: $(grep -o "TableSourceScan.*" "ex_$1.out" | grep -o 'connector=\[[a-z]*\]'), $(grep -o "Sink: .*\[" "ex_$1.out" | sed 's/ \[$//')"
  else
    bad "$1: exit code $RC: $(cat "ex_$1.out" "ex_$1.err" | head -12)"
  fi
}
explain datagen_print "INSERT INTO shown SELECT * FROM gen" "connector=\[datagen\]" "Sink: shown (print)"
explain filesystem_blackhole "INSERT INTO gone SELECT * FROM files" "connector=\[filesystem\]" "Sink: gone (blackhole)"
explain jdbc_http "INSERT INTO hook SELECT * FROM pg_rows" "connector=\[jdbc\]" \
  "Sink: hook (http POST http://bot:\*\*\*\*\*\*@127.0.0.1:$CLOSED/hook)"
explain mqtt_jdbc "INSERT INTO pg_rows SELECT * FROM mq" "connector=\[mqtt\]" "Sink: pg_rows (jdbc"
explain kafka_mqtt "INSERT INTO mq SELECT 1, v FROM kf" "connector=\[kafka\]" \
  "Sink: mq (mqtt tcp://127.0.0.1:$MQ_PORT"
explain filesystem_kafka "INSERT INTO kout SELECT v FROM files" "connector=\[filesystem\]" "Sink: kout (kafka"

section "jobs with secrets: succeed, fail, dead-letter"
run_eddy "$WORK/run_ok" run -e "$DDL INSERT INTO pg_rows SELECT * FROM gen;"
expect_rc "$WORK/run_ok" 0 "datagen → jdbc with the password" || true
[[ $(pg -c "SELECT count(*) FROM out_rows") == 3 ]] && ok "3 rows in PostgreSQL" || bad "rows: $(pg -c 'SELECT count(*) FROM out_rows')"
run_eddy "$WORK/run_mq" run -e "$DDL INSERT INTO mq SELECT * FROM gen;"
expect_rc "$WORK/run_mq" 0 "datagen → mqtt with the password" || true
run_eddy "$WORK/run_kafka" run -e "$DDL INSERT INTO shown SELECT 0, v FROM kf;"
expect_rc "$WORK/run_kafka" 0 "kafka with 'properties.sasl.password' (ignored over PLAINTEXT)" || true
run_eddy "$WORK/run_hook" run -e "$DDL INSERT INTO hook SELECT * FROM gen;"
if [[ $RC == 0 && $(wc -l <hook.dead.jsonl) == 3 ]]; then
  ok "http to a closed port: 3 rows dead-lettered ($(head -c 120 hook.dead.jsonl))"
else
  bad "http dead-letter: exit code $RC, $(wc -l <hook.dead.jsonl 2>/dev/null) lines: $(head -3 run_hook.err)"
fi
DDL_BAD_PG="${DDL//$PG_PASSWORD/$PG_BAD}"
run_eddy "$WORK/fail_pg" run -e "$DDL_BAD_PG INSERT INTO pg_rows SELECT * FROM gen;"
[[ $RC == 1 ]] && grep -q "password authentication failed" fail_pg.err &&
  ok "jdbc, wrong password: exit code 1, 'password authentication failed'" ||
  bad "jdbc wrong password: exit code $RC: $(head -3 fail_pg.err)"
DDL_BAD_MQ="${DDL//$MQ_PW/$MQ_BAD}"
run_eddy "$WORK/fail_mq" run -e "$DDL_BAD_MQ INSERT INTO mq SELECT * FROM gen;"
[[ $RC == 1 ]] && grep -q "authentication failed for user 'gw'" fail_mq.err &&
  ok "mqtt, wrong password: exit code 1, 'authentication failed for user 'gw''" ||
  bad "mqtt wrong password: exit code $RC: $(head -3 fail_mq.err)"
# A bad option on the line of each password: the SQL error quotes that line.
for t in pg_rows mq kf hook; do
  line=$(grep "CREATE TABLE $t " <<<"$DDL")
  run_eddy "$WORK/badopt_$t" run -e "${line%);}, 'no.such.option' = '1'); SELECT * FROM $t;"
  [[ $RC == 1 ]] && grep -q "no.such.option" "badopt_$t.err" && grep -q "'\*\*\*\*\*\*'" "badopt_$t.err" &&
    ok "$t: a bad option is refused quoting the line with the secret as '******'" ||
    bad "$t bad option: exit code $RC: $(head -3 "badopt_$t.err")"
done
run_eddy "$WORK/jaas" run -e "CREATE TABLE kj (v STRING) WITH ('connector' = 'kafka', 'topic' = 'events', 'properties.bootstrap.servers' = '$BS', 'properties.sasl.jaas.config' = 'org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"$JAAS_PW\";', 'format' = 'raw'); SELECT * FROM kj;"
[[ $RC == 1 ]] && grep -q "sasl.jaas.config" jaas.err &&
  ok "Flink's Java-only 'properties.sasl.jaas.config': refused naming the property, value hidden" ||
  bad "jaas: exit code $RC: $(head -3 jaas.err)"

section "the same jobs as pipelines of eddy server"
pipeline() {  # pipeline NAME SQL
  local body
  body=$("$PY" -c 'import json, sys; print(json.dumps({"name": sys.argv[1], "sql": sys.argv[2]}))' "$1" "$2")
  curl -s -o "$WORK/p_$1.json" -X POST -H 'Content-Type: application/json' "$H/v1/pipelines" -d "$body" || true
}
pipeline ok_pg "$DDL INSERT INTO pg_rows SELECT * FROM gen;"
pipeline bad_pg "$DDL_BAD_PG INSERT INTO pg_rows SELECT * FROM gen;"
pipeline bad_mq "$DDL_BAD_MQ INSERT INTO mq SELECT * FROM gen;"
pipeline hook "$DDL INSERT INTO hook SELECT * FROM gen;"
pipeline badopt "${DDL/\'format\' = \'json\'/\'format\' = \'json\', \'bogus\' = \'1\'} INSERT INTO mq SELECT * FROM gen;"
for _ in $(seq 100); do
  curl -s "$H/v1/pipelines" >pipelines.json
  grep -q RUNNING pipelines.json || break
  sleep 0.2
done
for p in ok_pg bad_pg bad_mq hook badopt; do
  curl -s "$H/v1/pipelines/$p" >"state_$p.json" || true
done
grep -q "password authentication failed" p_bad_pg.json &&
  ok "pipeline bad_pg (wrong jdbc password) refused: 'password authentication failed'" ||
  bad "bad_pg: $(head -c 300 p_bad_pg.json)"
grep -q "unsupported option 'bogus'" p_badopt.json && grep -q "'password' = '\*\*\*\*\*\*'" p_badopt.json &&
  ok "pipeline badopt refused quoting its line with the password as '******'" ||
  bad "badopt: $(head -c 300 p_badopt.json)"
grep -q "authentication failed for user 'gw'" state_bad_mq.json &&
  grep -q "pipeline 'bad_mq': failed: .*authentication failed" server.err &&
  ok "pipeline bad_mq (wrong mqtt password) failed; its state and the server log say why" ||
  bad "bad_mq: $(head -c 300 state_bad_mq.json)"
grep -q "pipeline 'ok_pg':   sink pg_rows: 3 rows written" server.err &&
  grep -q "pipeline 'hook': ended" server.err && ok "pipelines ok_pg and hook ran to their end" ||
  bad "ok_pg/hook: $(grep -E "ok_pg|'hook'" server.err | head -3)"

section "no secret anywhere"
# The REST answers about a pipeline: its state, errors and its SQL (shown with secret values
# hidden, as every SQL text eddy shows).
"$PY" - state_*.json >rest_errors.txt <<'EOF'
import json, sys
for f in sys.argv[1:]:
    try:
        j = json.load(open(f))
    except ValueError:
        continue
    print(json.dumps(j))
EOF
files=(./*.out ./*.err hook.dead.jsonl server.err server.out rest_errors.txt p_*.json)
leaked=0
for s in "${SECRETS[@]}"; do
  hits=$(grep -l -F -- "$s" "${files[@]}" 2>/dev/null || true)
  if [[ -n $hits ]]; then
    bad "secret ${s%%-*}… leaked into: $(tr '\n' ' ' <<<"$hits")"
    grep -h -F -- "$s" $hits | head -2 | cut -c1-200 | sed 's/^/    | /'
    leaked=1
  fi
done
[[ $leaked == 0 ]] && ok "none of the ${#SECRETS[@]} secrets is in any of ${#files[@]} outputs (stdout, stderr, dead-letter, server log, REST job states and errors)"
stop_server
finish
