#!/usr/bin/env bash
# Lookup joins (JOIN t FOR SYSTEM_TIME AS OF l.proc_time): random inputs compared with sqlite3's
# batch join (lookup_join.py), and the airports enrichment of the shipped flights.
#
# Usage: bash lookup_join.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
section "lookup join vs sqlite3 on random data"
if ! "$PY" "$ROOT/tests/integration/lookup_join.py" "$EDDY" "$WORK"; then
  bad "the lookup join differs from sqlite3"
fi
finish
