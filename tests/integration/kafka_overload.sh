#!/usr/bin/env bash
# Overload (issue 15): four acks=all producers flood the broker faster than it can append and
# fsync; with small request budgets the broker pushes back instead of queueing without limit,
# its RSS stays bounded, nothing acknowledged is lost, and a produce after the flood is answered
# promptly. The checks are in kafka_overload.py.
#
# Usage: bash kafka_overload.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$LIB/kafka.sh"
SYSPY=/usr/bin/python3
if ! "$SYSPY" -c 'import confluent_kafka' 2>/dev/null; then
  skip "python3-confluent-kafka is not installed (scripts/install-deps installs it)"
fi

section "4 producers flooding a broker with 4 MiB of request budget (1 MiB per connection)"
start_server "$WORK/data" --socket-request-max-bytes 2097152 --queued-max-request-bytes 4194304 \
  --connection-max-queued-bytes 1048576
if ! timeout 240 "$SYSPY" "$ROOT/tests/integration/kafka_overload.py" "127.0.0.1:$PORT" \
  "$SERVER_PID" "$WORK/server.err"; then
  bad "overload checks failed"
  tail -15 "$WORK/server.err" | sed 's/^/    | /'
fi
stop_server
finish
