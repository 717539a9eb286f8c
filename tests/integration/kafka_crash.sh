#!/usr/bin/env bash
# Crash safety of the broker: SIGKILL during acks=all produce, 10 times, then a torn segment tail.
# The checks are in kafka_crash.py (confluent-kafka-python from Debian).
#
# Usage: bash kafka_crash.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
SYSPY=/usr/bin/python3
if ! "$SYSPY" -c 'import confluent_kafka' 2>/dev/null; then
  skip "python3-confluent-kafka is not installed (scripts/install-deps installs it)"
fi
section "eddy server: crash safety"
if out=$(timeout 300 "$SYSPY" "$ROOT/tests/integration/kafka_crash.py" "$EDDY" "$WORK/data" "$WORK" 2>&1); then
  echo "$out" | grep -E '^(ok|FAIL)' | sed 's/^ok: /  ok: /'
else
  bad "crash safety:"
  echo "$out" | grep -v '^%' | tail -20 | sed 's/^/    | /'
  tail -20 "$WORK/server.err" | sed 's/^/    | /'
fi
pkill -KILL -f "$WORK/data" 2>/dev/null || true
finish
