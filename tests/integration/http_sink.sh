#!/usr/bin/env bash
# The 'http' sink connector (src/connectors/http/http_sink.cc) against a local endpoint that
# misbehaves on purpose (http_sink_server.py):
#   * every row arrives, in requests of at most 'sink.batch.max-rows' rows, as a JSON array,
#     ndjson or one object per request, with the configured method and headers;
#   * a URL template sends each row to the path of its column value;
#   * 503 answers are retried with backoff and nothing is lost or duplicated;
#   * a request that stalls past 'sink.request-timeout' is retried: every row arrives at least
#     once, so an endpoint that deduplicates by row id sees each row exactly once;
#   * 4xx is not retried: the rejected rows go to the dead-letter file with the status and the
#     response body, the others arrive;
#   * an endpoint that stays down fails the job after the retries, naming the status and body, in
#     bounded time; Ctrl-C during the backoff ends the job at once;
#   * 'sink.rate-limit' spaces the requests;
#   * https verifies the endpoint's certificate by default (a self-signed one fails the job at
#     once, not after retries) and trusts 'sink.tls.ca-file';
#   * an updating query and a URL naming an unknown column are refused with clear errors.
#
# Usage: bash http_sink.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
need_cmd "$PY"

cd "$WORK"
"$PY" - <<'PY'
with open("rows.csv", "w") as f:
    for i in range(1, 51):
        f.write("%d,%s,%d\n" % (i, "abc"[i % 3], i * 10))
PY
"$PY" "$LIB/../http_sink_server.py" port log.jsonl &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 1 100); do [[ -f port ]] && break; sleep 0.1; done
[[ -f port ]] || { echo "FAIL: the test endpoint did not start"; exit 1; }
PORT=$(cat port)
URL="http://127.0.0.1:$PORT"

SRC="CREATE TABLE src (id INT, k STRING, v INT) WITH ('connector'='filesystem','path'='$WORK/rows.csv','format'='csv');"
sink() {  # sink NAME OPTIONS → DDL of an http table
  echo "CREATE TABLE $1 (id INT, k STRING, v INT) WITH ('connector'='http', $2);"
}
# ids PATH_PREFIX: the ids received under that path, sorted numerically, one line each.
ids() { "$PY" -c '
import json, sys
ids = [json.loads(l)["row"]["id"] for l in open("log.jsonl") if json.loads(l)["path"].startswith(sys.argv[1])]
print("\n".join(str(i) for i in sorted(ids)))' "$1"; }
expect_ids() {  # expect_ids WHAT PATH EXPECTED_SEQ_ARGS...
  local what=$1 path=$2
  shift 2
  if [[ "$(ids "$path")" == "$(seq "$@")" ]]; then
    ok "$what"
  else
    bad "$what: received $(ids "$path" | tr '\n' ' ')"
  fi
}

section "every row arrives once, batched, with the method and headers"
run_eddy a run -e "$SRC $(sink s "'url'='$URL/ok/array','sink.batch.max-rows'='7','headers'='Authorization: Bearer t0k3n; X-Extra: 1'")
INSERT INTO s SELECT * FROM src"
[[ $RC == 0 ]] || { bad "json-array job: exit $RC"; cat a.err; }
expect_ids "json-array: ids 1..50 once each" /ok/array 1 50
sizes=$("$PY" -c '
import collections, json
c = collections.Counter(l["req"] for l in map(json.loads, open("log.jsonl")) if l["path"] == "/ok/array")
print(sorted(c.values(), reverse=True))')
[[ $sizes == "[7, 7, 7, 7, 7, 7, 7, 1]" ]] && ok "8 requests of at most 7 rows: $sizes" ||
  bad "request sizes: $sizes"
auth=$("$PY" -c 'import json; print({json.loads(l)["auth"] for l in open("log.jsonl")})')
[[ $auth == "{'Bearer t0k3n'}" ]] && ok "the 'headers' option is sent" || bad "headers seen: $auth"
run_eddy b run -e "$SRC $(sink s "'url'='$URL/ok/nd','format'='ndjson','method'='PUT'")
INSERT INTO s SELECT * FROM src WHERE id <= 20"
expect_ids "ndjson over PUT: ids 1..20" /ok/nd 1 20
method=$("$PY" -c 'import json; print({json.loads(l)["method"] for l in open("log.jsonl") if "/ok/nd" in json.loads(l)["path"]})')
[[ $method == "{'PUT'}" ]] && ok "'method' = 'PUT' is used" || bad "methods seen: $method"

section "a URL template sends each row to its column's path"
run_eddy c run -e "$SRC $(sink s "'url'='$URL/ok/key/{k}','format'='json'")
INSERT INTO s SELECT * FROM src"
routed=$("$PY" -c '
import json
bad = [l for l in map(json.loads, open("log.jsonl")) if l["path"].startswith("/ok/key/") and l["path"] != "/ok/key/" + l["row"]["k"]]
print(len(bad))')
expect_ids "one request per row: ids 1..50" /ok/key/ 1 50
[[ $routed == 0 ]] && ok "each row went to /ok/key/<its k>" || bad "$routed rows at the wrong path"

section "503 is retried with backoff; nothing lost, nothing duplicated"
run_eddy d run -e "$SRC $(sink s "'url'='$URL/flaky','sink.batch.max-rows'='10','sink.retry.initial-backoff'='10 ms','sink.max-retries'='3'")
INSERT INTO s SELECT * FROM src"
[[ $RC == 0 ]] || { bad "flaky job: exit $RC"; cat d.err; }
expect_ids "flaky endpoint: ids 1..50 exactly once" /flaky 1 50
grep -q "HTTP 503: try again; retrying in" d.err && ok "retries are logged with the status and body" ||
  bad "no retry line in the log: $(head -3 d.err)"

section "a stalled request times out and is retried (at least once; exactly once by id)"
start=$(date +%s)
run_eddy e run -e "$SRC $(sink s "'url'='$URL/stall','sink.batch.max-rows'='25','sink.request-timeout'='500 ms','sink.retry.initial-backoff'='10 ms'")
INSERT INTO s SELECT * FROM src"
took=$(($(date +%s) - start))
[[ $RC == 0 ]] || { bad "stall job: exit $RC"; cat e.err; }
sleep 3  # the stalled request's late delivery
if [[ "$(ids /stall | sort -un)" == "$(seq 1 50)" ]]; then
  ok "every row arrived at least once ($(ids /stall | wc -l) deliveries for 50 ids, the job took ${took}s)"
else
  bad "stall: ids received $(ids /stall | sort -un | tr '\n' ' ')"
fi
grep -q "timed out" e.err && ok "the timeout is logged" || bad "no timeout in the log: $(head -3 e.err)"

section "4xx is not retried: the rejected rows are dead-lettered with status and body"
run_eddy f run -e "$SRC $(sink s "'url'='$URL/reject','format'='json','sink.error.policy'='dead-letter','sink.dead-letter.path'='$WORK/dead.jsonl'")
INSERT INTO s SELECT * FROM src"
[[ $RC == 0 ]] || { bad "reject job: exit $RC"; cat f.err; }
if [[ "$(ids /reject | tr '\n' ' ')" == "$(seq 1 50 | awk '$1 % 5 != 0' | tr '\n' ' ')" ]]; then
  ok "the 40 ids that are not multiples of 5 arrived"
else
  bad "reject: received $(ids /reject | tr '\n' ' ')"
fi
dead=$("$PY" -c '
import json
ls = [json.loads(l) for l in open("dead.jsonl")]
ok = all(l["reason"] == "HTTP 400: bad id %d" % json.loads(l["row"])["id"] for l in ls)
print(" ".join(str(json.loads(l["row"])["id"]) for l in ls), ok)')
[[ $dead == "5 10 15 20 25 30 35 40 45 50 True" ]] && ok "dead-letter: ids 5..50 step 5, each with 'HTTP 400: bad id N'" ||
  bad "dead-letter file: $dead"
grep -q "retrying" f.err && bad "a 4xx was retried" || ok "no retry of a 4xx"

section "an endpoint that stays down fails the job after the retries"
start=$(date +%s)
run_eddy g run -e "$SRC $(sink s "'url'='$URL/down','sink.max-retries'='2','sink.retry.initial-backoff'='50 ms'")
INSERT INTO s SELECT * FROM src"
took=$(($(date +%s) - start))
if [[ $RC == 1 ]] && grep -q "HTTP 503: down for maintenance (after 2 retries)" g.err; then
  ok "failed in ${took}s: $(grep -o "POST [^ ]*: HTTP 503: down for maintenance (after[^)]*)" g.err | head -1)"
else
  bad "down: exit $RC, $(tail -3 g.err)"
fi

section "Ctrl-C during the backoff ends the job at once"
"$EDDY" run -e "$SRC $(sink s "'url'='$URL/down','sink.max-retries'='100','sink.retry.initial-backoff'='30 s'")
INSERT INTO s SELECT * FROM src" >h.out 2>h.err &
PID=$!
for _ in $(seq 1 100); do grep -q "retrying in" h.err && break; sleep 0.1; done
start=$(date +%s%N)
kill -INT $PID
RC=0
wait $PID || RC=$?
ms=$((($(date +%s%N) - start) / 1000000))
if ((ms < 3000)); then ok "stopped ${ms} ms after Ctrl-C (exit $RC)"; else bad "took ${ms} ms to stop"; fi

section "'sink.rate-limit' spaces the requests"
start=$(date +%s%N)
run_eddy k run -e "$SRC $(sink s "'url'='$URL/ok/rate','format'='json','sink.rate-limit'='10'")
INSERT INTO s SELECT * FROM src WHERE id <= 11"
ms=$((($(date +%s%N) - start) / 1000000))
expect_ids "rate-limited: ids 1..11" /ok/rate 1 11
# 11 requests at 10 per second: the last one leaves at least 1 s after the first.
((ms >= 1000)) && ok "11 requests at 10/s took ${ms} ms (at least 1000)" || bad "took only ${ms} ms"

section "https: the certificate is verified by default; 'sink.tls.ca-file' trusts a CA"
need_cmd openssl
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
  -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" >openssl.log 2>&1
"$PY" "$LIB/../http_sink_server.py" tls-port tls-log.jsonl cert.pem key.pem &
TLS_SERVER=$!
trap 'kill $SERVER $TLS_SERVER 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 1 100); do [[ -f tls-port ]] && break; sleep 0.1; done
TLS_URL="https://127.0.0.1:$(cat tls-port)"
run_eddy t1 run -e "$SRC $(sink s "'url'='$TLS_URL/ok/tls','sink.error.policy'='skip'")
INSERT INTO s SELECT * FROM src"
if [[ $RC == 1 ]] && grep -q "SSL certificate problem" t1.err && ! grep -q "retrying" t1.err; then
  ok "a self-signed endpoint is refused at once, whatever the error policy: $(grep -o "SSL certificate problem[^\"]*" t1.err | head -1)"
else
  bad "self-signed endpoint: exit $RC, $(tail -2 t1.err)"
fi
run_eddy t2 run -e "$SRC $(sink s "'url'='$TLS_URL/ok/tls','sink.tls.ca-file'='$WORK/cert.pem'")
INSERT INTO s SELECT * FROM src"
got=$("$PY" -c 'import json; print(sorted(json.loads(l)["row"]["id"] for l in open("tls-log.jsonl")) == list(range(1, 51)))' 2>&1)
[[ $RC == 0 && $got == True ]] && ok "with 'sink.tls.ca-file' the 50 rows arrive over https" ||
  bad "https with the CA file: exit $RC, rows ok: $got, $(tail -2 t2.err)"

section "refused: an updating query, a URL naming an unknown column"
run_eddy i run -e "$SRC CREATE TABLE agg (k STRING, n BIGINT) WITH ('connector'='http','url'='$URL/ok/agg');
INSERT INTO agg SELECT k, COUNT(*) FROM src GROUP BY k"
[[ $RC == 1 ]] && grep -q "doesn't support consuming update changes" i.err &&
  ok "updating query: $(grep -o "[^:]*doesn't support consuming update changes" i.err | head -1)" ||
  bad "updating query: exit $RC $(tail -2 i.err)"
run_eddy j run -e "$(sink s "'url'='$URL/ok/{nope}'")"
[[ $RC == 1 ]] && grep -q "'{nope}', which is not a column" j.err && ok "unknown column in 'url': refused" ||
  bad "url template: exit $RC $(tail -2 j.err)"

finish
