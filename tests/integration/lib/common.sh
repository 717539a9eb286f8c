# shellcheck shell=bash disable=SC2034  # variables are used by the tests that source this
# Shared set-up for tests/integration/*.sh, sourced after `set -euo pipefail`.
#
# Each test is run by ctest as `bash FILE <path-to-eddy> <repo-root>`; exit code 0 = pass,
# 77 = skipped, anything else = fail. With CI=true (set by .ci/run) a test never skips: a missing
# tool or package fails it, since scripts/install-deps installs everything the tests need.
# This file provides:
#   EDDY, ROOT, WORK (a mktemp -d folder removed on exit), FLIGHTS (the shipped data file),
#   PY (python3), LIB (this folder),
#   ok/bad/skip/finish (report helpers), need_cmd,
#   run_eddy OUT_PREFIX ARGS... (runs eddy with stdout/stderr in OUT_PREFIX.{out,err},
#     exit code in $RC; never aborts the test).

if [[ $# -lt 2 ]]; then
  echo "usage: bash $0 <path-to-eddy> <repo-root>" >&2
  exit 2
fi

EDDY=$(realpath "$1")
ROOT=$(realpath "$2")
LIB="$ROOT/tests/integration/lib"
FLIGHTS="$ROOT/examples/data/flights-2001-01.csv.gz"
FLIGHTS_ROWS=508239
TEST_NAME=$(basename "$0" .sh)
FAILS=0
RC=0

if [[ ! -x "$EDDY" ]]; then
  echo "FAIL: eddy binary '$EDDY' is missing or not executable"
  exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/eddy-${TEST_NAME}.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

ok() { echo "  ok: $*"; }
bad() {
  echo "  FAIL: $*"
  FAILS=$((FAILS + 1))
}
skip() {
  if [[ "${CI:-}" == "true" ]]; then
    echo "FAIL: $* (CI=true: no test may be skipped in CI)"
    exit 1
  fi
  echo "SKIP: $*"
  exit 77
}
section() { echo "== $*"; }

need_cmd() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || skip "'$c' is not installed"
  done
}

PY=python3
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in the source tree
need_cmd python3

# run_eddy PREFIX ARGS... : runs `eddy ARGS...` from $ROOT, stdout to PREFIX.out, stderr to
# PREFIX.err, exit code in $RC. A run is stopped after 300 s (timeout exit code 124).
run_eddy() {
  local prefix=$1
  shift
  RC=0
  (cd "$ROOT" && timeout 300 "$EDDY" "$@") >"$prefix.out" 2>"$prefix.err" || RC=$?
}

# show_err PREFIX : prints the first lines of an eddy run's stderr (for failure reports).
show_err() {
  sed -n '1,15p' "$1.err" | sed 's/^/    | /'
}

# expect_rc PREFIX WANT WHAT : checks the exit code of the last run_eddy.
expect_rc() {
  local prefix=$1 want=$2 what=$3
  if [[ "$RC" == "$want" ]]; then
    ok "$what: exit code $RC"
    return 0
  fi
  bad "$what: exit code $RC, expected $want"
  show_err "$prefix"
  return 1
}

finish() {
  if [[ $FAILS -gt 0 ]]; then
    echo "$TEST_NAME: $FAILS check(s) FAILED"
    exit 1
  fi
  echo "$TEST_NAME: all checks passed"
  exit 0
}
