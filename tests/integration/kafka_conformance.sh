#!/usr/bin/env bash
# Kafka conformance of the broker with librdkafka (confluent-kafka-python, and librdkafka's admin
# API): OffsetCommit and AlterConsumerGroupOffsets for missing topics, CreateTopics configs, and
# the Fetch response size limit (KIP-74). The checks are in kafka_conformance.py.
#
# Usage: bash kafka_conformance.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$LIB/kafka.sh"
SYSPY=/usr/bin/python3
if ! "$SYSPY" -c 'import confluent_kafka' 2>/dev/null; then
  skip "python3-confluent-kafka is not installed (scripts/install-deps installs it)"
fi

section "eddy server + librdkafka $("$SYSPY" -c 'import confluent_kafka as c; print(c.libversion()[0])')"
start_server "$WORK/data"
if ! timeout 180 "$SYSPY" "$ROOT/tests/integration/kafka_conformance.py" "127.0.0.1:$PORT"; then
  bad "conformance checks failed"
  tail -20 "$WORK/server.err" | sed 's/^/    | /'
fi
stop_server
finish
