#!/usr/bin/env bash
# Consumer group conformance with librdkafka (confluent-kafka-python): consumers started together
# join one generation (group.initial.rebalance.delay.ms), static membership (KIP-345: fencing a
# second client with the same group.instance.id, restarts without a rebalance, session expiry on
# time). The checks are in kafka_groups.py, which reads the server's log for generations.
#
# Usage: bash kafka_groups.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$LIB/kafka.sh"
SYSPY=/usr/bin/python3
if ! "$SYSPY" -c 'import confluent_kafka' 2>/dev/null; then
  skip "python3-confluent-kafka is not installed (scripts/install-deps installs it)"
fi

section "eddy server + librdkafka $("$SYSPY" -c 'import confluent_kafka as c; print(c.libversion()[0])')"
start_server "$WORK/data"
if ! timeout 240 "$SYSPY" "$ROOT/tests/integration/kafka_groups.py" "127.0.0.1:$PORT" \
  "$WORK/server.err"; then
  bad "consumer group checks failed"
  grep -E "group|member" "$WORK/server.err" | tail -30 | sed 's/^/    | /'
fi
stop_server
finish
