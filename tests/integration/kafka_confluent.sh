#!/usr/bin/env bash
# The broker against confluent-kafka-python (Debian python3-confluent-kafka, librdkafka):
# AdminClient topic creation, an idempotent producer with acks=all, a consumer group of 3 over 6
# partitions with one member leaving and one joining (every message consumed exactly once), and
# committed offsets resuming after a server restart. The checks are in kafka_confluent.py.
#
# Usage: bash kafka_confluent.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$LIB/kafka.sh"
# Debian's client lives in the system Python, not in a virtualenv or pyenv one.
SYSPY=/usr/bin/python3
if ! "$SYSPY" -c 'import confluent_kafka' 2>/dev/null; then
  skip "python3-confluent-kafka is not installed (scripts/install-deps installs it)"
fi

section "eddy server + confluent-kafka-python $("$SYSPY" -c 'import confluent_kafka as c; print(c.version()[0], "/ librdkafka", c.libversion()[0])')"
start_server "$WORK/data"
if ! timeout 300 "$SYSPY" "$ROOT/tests/integration/kafka_confluent.py" "127.0.0.1:$PORT" group; then
  bad "consumer group phase failed"
  tail -20 "$WORK/server.err" | sed 's/^/    | /'
fi
stop_server
start_server "$WORK/data"
if ! timeout 120 "$SYSPY" "$ROOT/tests/integration/kafka_confluent.py" "127.0.0.1:$PORT" resume; then
  bad "resume phase failed"
  tail -20 "$WORK/server.err" | sed 's/^/    | /'
fi
stop_server
finish
