#!/usr/bin/env bash
# Top-N (ROW_NUMBER() … WHERE rn <= N): the materialized changelog on random data compared with
# sqlite3's ROW_NUMBER() (topn.py); then window Top-N and window deduplication, whose results must
# be insert-only and equal sqlite3's ROW_NUMBER() per window.
#
# Usage: bash topn.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
section "Top-N and window Top-N vs sqlite3 on random data"
if ! "$PY" "$ROOT/tests/integration/topn.py" "$EDDY" "$WORK"; then
  bad "Top-N differs from sqlite3"
fi
finish
