#!/usr/bin/env bash
# The 'mqtt' connector's TLS ('ssl.*' options) and 'username'/'password' against a real Eclipse
# Mosquitto with a TLS listener and a password file (mosquitto_passwd) on a free loopback port.
# The CA and the broker's certificate are made here with openssl; mosquitto_pub/mosquitto_sub
# (the broker project's own clients) publish the input and read the output over TLS:
#   * a source and a sink over TLS, verified with the CA, with a user and password: every message
#     goes through and comes back unchanged;
#   * a CA that did not sign the broker's certificate: the job fails with a clear TLS error;
#   * a wrong password: the job fails naming the authentication problem and the options;
#   * the password never appears in eddy's output (stdout, stderr, EXPLAIN, errors).
#
# Usage: bash mqtt_tls.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
need_cmd mosquitto mosquitto_sub mosquitto_pub mosquitto_passwd openssl
cd "$WORK"

SECRET="Pw-$RANDOM-tls-$(date +%N)"
USER_NAME=sensor-gw

# A CA, the broker's certificate for 127.0.0.1 signed by it, and a second CA that signed nothing.
openssl_quiet() { openssl "$@" >>openssl.log 2>&1 || { echo "FAIL: openssl $1"; cat openssl.log; exit 1; }; }
openssl_quiet req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=eddy test CA" \
  -keyout ca.key -out ca.crt
openssl_quiet req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=another CA" \
  -keyout other.key -out other.crt
openssl_quiet req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr
printf 'subjectAltName = IP:127.0.0.1, DNS:localhost\n' >san.ext
openssl_quiet x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
  -extfile san.ext -out server.crt
mosquitto_passwd -c -b passwd "$USER_NAME" "$SECRET" >/dev/null 2>&1

PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >mosquitto.conf <<EOF
listener $PORT 127.0.0.1
cafile $WORK/ca.crt
certfile $WORK/server.crt
keyfile $WORK/server.key
allow_anonymous false
password_file $WORK/passwd
user $(id -un)
EOF
mosquitto -c mosquitto.conf >mosquitto.log 2>&1 &
BROKER=$!
PIDS=()
on_exit() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  kill "$BROKER" 2>/dev/null || true
  wait "$BROKER" 2>/dev/null || true
  [[ -n ${KEEP:-} ]] || cleanup
}
trap on_exit EXIT
for ((i = 0; i < 100; i++)); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.1
done
TLS_CLIENT=(-h 127.0.0.1 -p "$PORT" --cafile "$WORK/ca.crt" -u "$USER_NAME" -P "$SECRET")

# mqtt_with EXTRA : the WITH options of a table on the TLS broker.
mqtt_with() {
  echo "'connector' = 'mqtt', 'server-uri' = 'ssl://127.0.0.1:$PORT', 'ssl.ca-file' = '$WORK/ca.crt',
  'username' = '$USER_NAME', 'password' = '$SECRET', 'format' = 'json'$1"
}
wait_for() {  # wait_for FILE PATTERN COUNT SECONDS
  local i
  for ((i = 0; i < $4 * 10; i++)); do
    if (($(grep -c -- "$2" "$1" 2>/dev/null || true) >= $3)); then return 0; fi
    sleep 0.1
  done
  return 1
}

section "source and sink over TLS with a user and password"
N=500
# The reader's persistent session exists before eddy publishes.
mosquitto_sub "${TLS_CLIENT[@]}" -i tls-reader -c -q 1 -t 'tls/out' -E
timeout 120 "$EDDY" run -e "SET 'parallelism.default' = '1';
CREATE TABLE src (id BIGINT, name STRING) WITH ($(mqtt_with ", 'topic' = 'tls/in', 'qos' = '1',
  'scan.bounded.idle-timeout' = '3 s'"));
CREATE TABLE dst (id BIGINT, name STRING, doubled BIGINT) WITH ($(mqtt_with ", 'topic' = 'tls/out',
  'qos' = '1'"));
INSERT INTO dst SELECT id, name, id * 2 FROM src;" >pipe.out 2>pipe.err &
EPID=$!
PIDS+=("$EPID")
if wait_for pipe.err "connected to the MQTT broker ssl://127.0.0.1:$PORT" 2 30; then
  ok "source and sink connected over TLS ($(grep -c 'connected to the MQTT broker ssl://' pipe.err) connections)"
else
  bad "eddy did not connect over TLS within 30 s: $(grep -v ' info ' pipe.err | head -3)"
fi
# Input made here, expected output computed here (id*2), independently of eddy.
for ((i = 1; i <= N; i++)); do printf '{"id":%d,"name":"n%d"}\n' "$i" "$i"; done >in.jsonl
for ((i = 1; i <= N; i++)); do printf '%d n%d %d\n' "$i" "$i" $((2 * i)); done >want.txt
mosquitto_pub "${TLS_CLIENT[@]}" -q 1 -t 'tls/in' -l <in.jsonl
RC=0
wait "$EPID" || RC=$?
[[ $RC == 0 ]] && ok "the TLS job ended by itself: exit code 0" || bad "the TLS job: exit code $RC: $(tail -3 pipe.err)"
timeout 30 mosquitto_sub "${TLS_CLIENT[@]}" -i tls-reader -c -q 1 -t 'tls/out' -C "$N" -W 20 \
  >got.jsonl 2>sub.err || true
"$PY" -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(r["id"], r["name"], r["doubled"])' got.jsonl | sort -n >got.txt
if diff -q want.txt got.txt >/dev/null; then
  ok "mosquitto_sub read all $N rows back over TLS, each as computed"
else
  bad "rows read back over TLS ($(wc -l <got.txt) of $N):"
  diff want.txt got.txt | head -5 | sed 's/^/    | /'
fi
grep -q "source src: $N rows read" pipe.err && ok "the source read $N rows" ||
  bad "source summary: $(grep 'source src' pipe.err)"

section "EXPLAIN of a TLS table with a password"
run_eddy "$WORK/explain" run -e "CREATE TABLE src (id BIGINT, name STRING) WITH ($(mqtt_with ",
  'topic' = 'tls/in'"));
CREATE TABLE dst (id BIGINT) WITH ($(mqtt_with ", 'topic' = 'tls/x'"));
EXPLAIN INSERT INTO dst SELECT id FROM src;"
if [[ $RC == 0 ]] && grep -q "connector=\[mqtt\]" explain.out &&
  grep -q "Sink: dst (mqtt ssl://127.0.0.1:$PORT topic 'tls/x'" explain.out; then
  ok "EXPLAIN names the mqtt source and sink and the TLS broker"
else
  bad "EXPLAIN: exit code $RC: $(head -8 explain.out explain.err)"
fi

section "a CA that did not sign the broker's certificate"
t0=$(date +%s)
run_eddy "$WORK/wrongca" run -e "CREATE TABLE src (x STRING) WITH ('connector' = 'mqtt',
  'server-uri' = 'ssl://127.0.0.1:$PORT', 'ssl.ca-file' = '$WORK/other.crt',
  'username' = '$USER_NAME', 'password' = '$SECRET', 'topic' = 'tls/in', 'format' = 'raw');
SELECT * FROM src;"
msg=$(grep -o "cannot connect to the MQTT broker ssl://.*" wrongca.err | head -1)
if [[ $RC == 1 ]] && [[ $msg == *"certificate verify failed"* ]]; then
  ok "wrong CA: exit code 1 in $(($(date +%s) - t0)) s: $(cut -c1-200 <<<"$msg")"
else
  bad "wrong CA: exit code $RC: $(grep -v ' info ' wrongca.err | head -3)"
fi

section "a wrong password"
run_eddy "$WORK/wrongpw" run -e "CREATE TABLE src (x STRING) WITH ('connector' = 'mqtt',
  'server-uri' = 'ssl://127.0.0.1:$PORT', 'ssl.ca-file' = '$WORK/ca.crt',
  'username' = '$USER_NAME', 'password' = 'not-$SECRET', 'topic' = 'tls/in', 'format' = 'raw');
SELECT * FROM src;"
msg=$(grep -o "cannot connect to the MQTT broker ssl://.*" wrongpw.err | head -1)
if [[ $RC == 1 ]] && [[ $msg == *"authentication failed for user '$USER_NAME'"*"'password'"* ]]; then
  ok "wrong password: exit code 1: $(cut -c1-220 <<<"$msg")"
else
  bad "wrong password: exit code $RC: $(grep -v ' info ' wrongpw.err | head -3)"
fi
run_eddy "$WORK/nouser" run -e "CREATE TABLE src (x STRING) WITH ('connector' = 'mqtt',
  'server-uri' = 'ssl://127.0.0.1:$PORT', 'ssl.ca-file' = '$WORK/ca.crt', 'topic' = 'tls/in',
  'format' = 'raw'); SELECT * FROM src;"
if [[ $RC == 1 ]] && grep -q "not authorised\|authentication failed" nouser.err; then
  ok "no credentials on a broker that wants them: exit code 1, 'not authorised'"
else
  bad "no credentials: exit code $RC: $(grep -v ' info ' nouser.err | head -3)"
fi
run_eddy "$WORK/badopt" run -e "CREATE TABLE src (x STRING) WITH ($(mqtt_with ", 'topic' = 'a',
  'qos' = '7'")); SELECT * FROM src;"
[[ $RC == 1 ]] && ok "a bad option next to the password: exit code 1" || bad "bad option: exit code $RC"

section "the password is never shown"
leaks=$(grep -l -F -- "$SECRET" ./*.out ./*.err 2>/dev/null || true)
if [[ -z $leaks ]]; then
  ok "the password appears in none of eddy's $(ls ./*.out ./*.err | wc -l) output files (incl. failures and EXPLAIN)"
else
  bad "the password leaked into: $leaks"
  grep -h -F -- "$SECRET" $leaks | head -3 | sed 's/^/    | /'
fi
finish
