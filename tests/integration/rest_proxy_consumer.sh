#!/usr/bin/env bash
# Consumer instances of the Confluent REST Proxy v2 API (docs/rest-api.md "Consuming records"):
#   * curl: create an instance, subscribe, fetch records as JSON (the docs' flow);
#   * Python urllib (rest_proxy_consumer.py): records written by librdkafka are read back with
#     their partitions, offsets, keys and values (json and binary formats); commits are the
#     consumer group's offsets as a librdkafka consumer of the group sees them, and the other way
#     round; seek; two instances share the partitions; auto commit; Confluent's error codes;
#     DELETE and expiry after --consumer-instance-timeout-ms.
#
# Usage: bash rest_proxy_consumer.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$LIB/kafka.sh"
need_cmd curl
SYSPY=/usr/bin/python3
if ! "$SYSPY" -c 'import confluent_kafka' 2>/dev/null; then
  skip "python3-confluent-kafka is not installed (scripts/install-deps installs it)"
fi

start_server "$WORK/data" --http-listen 127.0.0.1:0 --http-port-file "$WORK/http-port" \
  --consumer-instance-timeout-ms 2000
for _ in $(seq 1 100); do [[ -s "$WORK/http-port" ]] && break; sleep 0.1; done
H="http://127.0.0.1:$(cat "$WORK/http-port")"
BS="127.0.0.1:$PORT"
"$EDDY" topic create events --bootstrap-server "$BS" --partitions 2 >/dev/null
"$EDDY" topic create docs --bootstrap-server "$BS" --partitions 1 >/dev/null

section "curl: create, subscribe, fetch"
V2='Content-Type: application/vnd.kafka.v2+json'
curl -s -X POST -H 'Content-Type: application/vnd.kafka.json.v2+json' "$H/topics/docs" \
  -d '{"records": [{"value": {"temp": 21.5}, "partition": 0}]}' >/dev/null
curl -s -X POST -H "$V2" "$H/consumers/cg" -d '{"name": "one", "format": "json"}' >"$WORK/c.json"
"$PY" -c 'import json, sys; j = json.load(open(sys.argv[1])); assert j["instance_id"] == "one", j' "$WORK/c.json" &&
  ok "POST /consumers/cg: $(cat "$WORK/c.json")" || bad "create: $(cat "$WORK/c.json")"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "$V2" "$H/consumers/cg/instances/one/subscription" -d '{"topics": ["docs"]}')
[[ $code == 204 ]] && ok "subscribe: 204" || bad "subscribe: $code"
curl -s -H 'Accept: application/vnd.kafka.json.v2+json' "$H/consumers/cg/instances/one/records?timeout=1000" >"$WORK/r.json"
[[ $(cat "$WORK/r.json") == '[{"topic":"docs","key":null,"value":{"temp":21.5},"partition":0,"offset":0}]' ]] &&
  ok "records: $(cat "$WORK/r.json")" || bad "records: $(cat "$WORK/r.json")"
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$H/consumers/cg/instances/one")
[[ $code == 204 ]] && ok "DELETE: 204" || bad "DELETE: $code"

section "Python urllib against a librdkafka client of the same group"
if timeout 120 "$SYSPY" "$ROOT/tests/integration/rest_proxy_consumer.py" "$H" "$BS" >"$WORK/py.out" 2>&1; then
  cat "$WORK/py.out"
else
  cat "$WORK/py.out"
  bad "rest_proxy_consumer.py failed"
fi
stop_server
finish
