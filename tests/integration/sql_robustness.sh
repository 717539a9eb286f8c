#!/usr/bin/env bash
# The process never crashes on SQL input: 80 deterministic mutations of valid queries (tokens
# inserted, deleted, replaced) each end with exit code 0 or 1, at parallelism 1 and 2.
#
# Usage: bash sql_robustness.sh <path-to-eddy> <repo-root>
set -euo pipefail
EDDY=$(realpath "$1")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/eddy-sqlfuzz.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
python3 "$(dirname "${BASH_SOURCE[0]}")/lib/sql_fuzz.py" "$EDDY" "$WORK" 11 80
