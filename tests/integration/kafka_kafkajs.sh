#!/usr/bin/env bash
# The broker against kafkajs 2.2 (npm; installed on first use from the npm registry into the
# build folder, next to the eddy binary, and reused while package.json is unchanged; kafkajs has
# no dependencies). The checks are in kafkajs/test.mjs. node and npm come from
# scripts/install-deps; without them, or without the npm registry, the test skips (fails in CI).
#
# Usage: bash kafka_kafkajs.sh <path-to-eddy> <repo-root>
# Environment: EDDY_TEST_CACHE (default: test-cache/ in the folder of the eddy binary).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$LIB/kafka.sh"
need_cmd node npm
CACHE=${EDDY_TEST_CACHE:-$(dirname "$EDDY")/test-cache}/kafkajs
PKG="$ROOT/tests/integration/kafkajs"
mkdir -p "$CACHE"
if [[ ! -d "$CACHE/node_modules/kafkajs" ]] || ! cmp -s "$PKG/package.json" "$CACHE/package.json"; then
  cp "$PKG/package.json" "$CACHE/package.json"
  if ! timeout 300 npm install --prefix "$CACHE" --no-audit --no-fund --loglevel=error \
    >"$WORK/npm.log" 2>&1; then
    rm -f "$CACHE/package.json"
    skip "npm install kafkajs failed (no access to the npm registry?): $(tail -1 "$WORK/npm.log")"
  fi
fi
section "eddy server + kafkajs $(node -p "require('$CACHE/node_modules/kafkajs/package.json').version")"
start_server "$WORK/data"
if out=$(timeout 180 node "$PKG/test.mjs" "$CACHE/node_modules" "127.0.0.1:$PORT" 2>&1); then
  echo "$out" | grep -E '^(ok|FAIL)' | sed 's/^ok: /  ok: /'
else
  bad "kafkajs:"
  echo "$out" | tail -20 | sed 's/^/    | /'
  tail -10 "$WORK/server.err" | sed 's/^/    | /'
fi
stop_server
finish
