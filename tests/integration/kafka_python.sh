#!/usr/bin/env bash
# The broker against kafka-python (Debian python3-kafka 2.0.2, a pure-Python client that guesses
# the broker's version from ApiVersions v0). The checks are in kafka_python.py.
#
# Usage: bash kafka_python.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$LIB/kafka.sh"
SYSPY=/usr/bin/python3
if ! "$SYSPY" -c 'import kafka' 2>/dev/null; then
  skip "python3-kafka is not installed (scripts/install-deps installs it)"
fi
section "eddy server + kafka-python $("$SYSPY" -c 'import kafka; print(kafka.__version__)')"
start_server "$WORK/data"
if out=$(timeout 120 "$SYSPY" "$ROOT/tests/integration/kafka_python.py" "127.0.0.1:$PORT" 2>&1); then
  echo "$out" | sed 's/^ok: /  ok: /'
else
  bad "kafka-python:"
  echo "$out" | tail -20 | sed 's/^/    | /'
  tail -10 "$WORK/server.err" | sed 's/^/    | /'
fi
stop_server
finish
