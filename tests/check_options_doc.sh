#!/usr/bin/env bash
# docs/options.md must be exactly what `eddy options --markdown` prints from the option registry:
# an option registered but missing from the page, or documented but no longer registered (or a
# changed type, default or doc line), fails this test with the difference.
#
# Usage: bash check_options_doc.sh <path-to-eddy> <repo-root>
set -euo pipefail
EDDY=$1
ROOT=$2
if diff -u "$ROOT/docs/options.md" <("$EDDY" options --markdown) >/tmp/options-md.$$.diff; then
  echo "docs/options.md matches the option registry"
  rm -f /tmp/options-md.$$.diff
  exit 0
fi
echo "FAIL: docs/options.md differs from the option registry ('-' the page, '+' the registry):"
cat /tmp/options-md.$$.diff
rm -f /tmp/options-md.$$.diff
echo "Regenerate it: $EDDY options --markdown > docs/options.md"
exit 1
