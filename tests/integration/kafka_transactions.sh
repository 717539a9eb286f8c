#!/usr/bin/env bash
# Kafka transactions of eddy server with confluent-kafka-python's transactional producer and
# read_committed consumers, and kcat with -X isolation.level=read_committed: commit, abort, the
# last stable offset, zombie fencing, consume-transform-produce with send_offsets_to_transaction,
# transaction timeouts, and 5 SIGKILLs under a transactional producer (every transaction visible
# whole or not at all). The checks are in kafka_transactions.py.
#
# Usage: bash kafka_transactions.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
need_cmd kcat
SYSPY=/usr/bin/python3
if ! "$SYSPY" -c 'import confluent_kafka' 2>/dev/null; then
  skip "python3-confluent-kafka is not installed (scripts/install-deps installs it)"
fi
section "eddy server: transactions (confluent-kafka-python, kcat)"
if out=$(timeout 400 "$SYSPY" "$ROOT/tests/integration/kafka_transactions.py" "$EDDY" "$WORK" 2>&1); then
  echo "$out" | grep -E '^(ok|FAIL)' | sed 's/^ok: /  ok: /'
else
  bad "transactions:"
  echo "$out" | grep -v '^%' | tail -20 | sed 's/^/    | /'
  tail -20 "$WORK/server.err" | sed 's/^/    | /'
fi
pkill -KILL -f "$WORK/data" 2>/dev/null || true
finish
