#!/usr/bin/env bash
# HTTP ingest as Confluent's REST Proxy v2 takes it (POST /topics/{topic}), so existing scripts
# and tools work unchanged (docs/rest-api.md "Producing records"):
#   * JSON records (curl) and binary records (Python urllib) land in the topic with their keys,
#     values and partitions, read back by kcat; offsets in the answer are the records' offsets;
#   * a keyed record without a partition goes where a Kafka producer puts it (murmur2 of the key);
#   * unknown topic 40401, partition out of range 40402, bad base64 42205, wrong content type 415.
#
# Usage: bash rest_proxy.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$LIB/kafka.sh"
need_cmd curl kcat "$PY"

start_server "$WORK/data" --http-listen 127.0.0.1:0 --http-port-file "$WORK/http-port"
for _ in $(seq 1 100); do [[ -s "$WORK/http-port" ]] && break; sleep 0.1; done
H="http://127.0.0.1:$(cat "$WORK/http-port")"
BS="127.0.0.1:$PORT"
"$EDDY" topic create sensors --bootstrap-server "$BS" --partitions 3 >/dev/null
JSON='Content-Type: application/vnd.kafka.json.v2+json'

section "JSON records with curl"
code=$(curl -s -o "$WORK/p1.json" -w '%{http_code}' -X POST -H "$JSON" "$H/topics/sensors" \
  -d '{"records": [{"key": "s1", "value": {"temp": 21.5}}, {"value": {"temp": 19}, "partition": 2}, {"key": "s1", "value": [1, 2]}]}')
offsets=$("$PY" -c 'import json, sys; print([(o["partition"], o["offset"]) for o in json.load(open(sys.argv[1]))["offsets"]])' "$WORK/p1.json")
# murmur2("\"s1\"") % 3: the key is stored as its JSON text, "s1" with the quotes.
want_p=$("$PY" - <<'PY'
def murmur2(data):
    m, r = 0x5bd1e995, 24
    h = (0x9747b28c ^ len(data)) & 0xffffffff
    n = len(data) // 4
    for i in range(n):
        k = int.from_bytes(data[4 * i:4 * i + 4], "little")
        k = (k * m) & 0xffffffff; k ^= k >> r; k = (k * m) & 0xffffffff
        h = (h * m) & 0xffffffff; h ^= k
    rest = len(data) % 4
    if rest >= 3: h ^= data[n * 4 + 2] << 16
    if rest >= 2: h ^= data[n * 4 + 1] << 8
    if rest >= 1:
        h ^= data[n * 4]; h = (h * m) & 0xffffffff
    h ^= h >> 13; h = (h * m) & 0xffffffff; h ^= h >> 15
    return h
print((murmur2(b'"s1"') & 0x7fffffff) % 3)
PY
)
if [[ $code == 200 && $offsets == "[($want_p, 0), (2, 0), ($want_p, 1)]" ]] ||
   [[ $code == 200 && $want_p == 2 && $offsets == "[(2, 0), (2, 1), (2, 2)]" ]]; then
  ok "200, offsets $offsets (key \"s1\" → partition $want_p by murmur2)"
else
  bad "produce: $code $offsets (murmur2 partition $want_p): $(cat "$WORK/p1.json")"
fi
kcat -b "$BS" -C -t sensors -o beginning -e -q -f '%p %o %k %s\n' 2>/dev/null | sort >"$WORK/read1.txt"
if grep -q '"s1" {"temp":21.5}' "$WORK/read1.txt" && grep -q ' {"temp":19}$' "$WORK/read1.txt" &&
   grep -q '"s1" \[1,2\]' "$WORK/read1.txt"; then
  ok "kcat reads them back: $(tr '\n' ';' <"$WORK/read1.txt")"
else
  bad "kcat read: $(cat "$WORK/read1.txt")"
fi

section "binary records with Python urllib"
"$PY" - "$H" >"$WORK/p2.txt" <<'PY'
import base64, json, sys, urllib.request
b64 = lambda b: base64.b64encode(b).decode()
body = {"records": [{"key": b64(b"k\x00bin"), "value": b64(b"\xff\xfe raw bytes"), "partition": 1}]}
req = urllib.request.Request(sys.argv[1] + "/topics/sensors", data=json.dumps(body).encode(),
                             headers={"Content-Type": "application/vnd.kafka.binary.v2+json"})
with urllib.request.urlopen(req) as r:
    print(r.status, json.load(r)["offsets"][0]["partition"])
PY
[[ $(cat "$WORK/p2.txt") == "200 1" ]] && ok "urllib: 200, partition 1" || bad "urllib: $(cat "$WORK/p2.txt")"
got=$(kcat -b "$BS" -C -t sensors -p 1 -o beginning -e -q -f '%k|%s' 2>/dev/null | od -An -c | tr -s ' ' | tr -d '\n')
[[ $got == *"k \\0 b i n | 377 376 r a w"* ]] && ok "the binary key and value are stored byte for byte" ||
  bad "binary record read back as: $got"

section "errors"
expect() {  # expect WHAT HTTP_CODE ERROR_CODE CURL_ARGS...
  local what=$1 want=$2 code=$3
  shift 3
  local got
  got=$(curl -s -o "$WORK/e.json" -w '%{http_code}' "$@")
  local ec
  ec=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["error_code"])' "$WORK/e.json" 2>/dev/null || echo "?")
  [[ $got == "$want" && $ec == "$code" ]] && ok "$what: $got, error_code $ec" || bad "$what: $got $(cat "$WORK/e.json")"
}
expect "unknown topic" 404 40401 -X POST -H "$JSON" "$H/topics/nope" -d '{"records": [{"value": 1}]}'
expect "partition out of range" 404 40402 -X POST -H "$JSON" "$H/topics/sensors" -d '{"records": [{"value": 1, "partition": 7}]}'
expect "bad base64" 422 42205 -X POST -H 'Content-Type: application/vnd.kafka.binary.v2+json' "$H/topics/sensors" -d '{"records": [{"value": "***"}]}'
expect "wrong content type" 415 415 -X POST -H 'Content-Type: application/json' "$H/topics/sensors" -d '{"records": [{"value": 1}]}'
expect "not a records body" 400 400 -X POST -H "$JSON" "$H/topics/sensors" -d '[1, 2]'
n=$(kcat -b "$BS" -C -t sensors -o beginning -e -q -f 'x\n' 2>/dev/null | wc -l)
[[ $n == 4 ]] && ok "nothing was appended by the refused requests (4 records in all)" || bad "$n records in the topic"
stop_server
finish
