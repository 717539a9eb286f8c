#!/usr/bin/env bash
# The web dashboard of `eddy server` (docs/dashboard.md):
#   * served at / from the binary: index.html, the modules and the style sheet with their
#     Content-Type, an ETag that a conditional GET answers with 304, and no reference to another
#     origin;
#   * in a real browser (headless Debian chromium driven by playwright-core, npm): while
#     examples/flights/replay.sh feeds the topic 'flights', tests/browser/dashboard.test.mjs runs
#     a push query and creates a pipeline from the SQL editor, waits for a non-zero rows/s chart
#     and the job graph's vertices, checks the pipeline list, cancels the pipeline from the UI,
#     tails the topic and reads a consumer group's lag (its header lists every check).
# Screenshots are saved in dashboard-screenshots/ next to the eddy binary. Skips (exit 77) when
# chromium, node or npm is missing or `npm ci` cannot reach the registry; fails then under CI=true.
#
# Usage: bash dashboard.sh <path-to-eddy> <repo-root>
# Environment: CHROMIUM (default: chromium on the PATH).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$LIB/kafka.sh"
need_cmd curl node npm
CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
[[ -n $CHROMIUM && -x $CHROMIUM ]] || skip "chromium is not installed (Debian: apt-get install chromium, see scripts/install-deps)"
export CHROMIUM
BROWSER_DIR="$ROOT/tests/browser"
if [[ ! -d $BROWSER_DIR/node_modules/playwright-core ]]; then
  if ! (cd "$BROWSER_DIR" && timeout 300 npm ci --no-audit --no-fund --loglevel=error) >"$WORK/npm.log" 2>&1; then
    skip "npm ci in tests/browser failed (no access to the npm registry?): $(tail -1 "$WORK/npm.log")"
  fi
fi
SHOTS="$(dirname "$EDDY")/dashboard-screenshots"
rm -rf "$SHOTS"

REPLAY_PID=""
cleanup_all() {
  if [[ -n $REPLAY_PID ]]; then kill -- "-$REPLAY_PID" 2>/dev/null || true; fi
  kafka_cleanup
}
trap cleanup_all EXIT

start_server "$WORK/data" --http-listen 127.0.0.1:0 --http-port-file "$WORK/http-port"
for _ in $(seq 1 100); do [[ -s "$WORK/http-port" ]] && break; sleep 0.1; done
H="http://127.0.0.1:$(cat "$WORK/http-port")"
BS="127.0.0.1:$PORT"

section "the dashboard is served from the binary"
curl -s -D "$WORK/index.h" -o "$WORK/index.html" "$H/"
grep -qi '^content-type: text/html; charset=utf-8' "$WORK/index.h" && cmp -s "$WORK/index.html" "$ROOT/ui/index.html" &&
  ok "GET / is ui/index.html as text/html" || bad "GET /: $(tr '\r\n' '  ' <"$WORK/index.h")"
for f in app.js api.js style.css pages/sql.js; do
  want=$(case $f in *.js) echo text/javascript ;; *.css) echo text/css ;; esac)
  code=$(curl -s -D "$WORK/f.h" -o "$WORK/f.body" -w '%{http_code}' "$H/ui/$f")
  [[ $code == 200 ]] && grep -qi "^content-type: $want" "$WORK/f.h" && cmp -s "$WORK/f.body" "$ROOT/ui/$f" &&
    ok "/ui/$f: 200, $want, the file's bytes" || bad "/ui/$f: $code $(tr '\r\n' '  ' <"$WORK/f.h")"
done
etag=$(awk 'tolower($1) == "etag:" { print $2 }' "$WORK/index.h" | tr -d '\r')
code=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$H/")
[[ -n $etag && $code == 304 ]] && ok "a conditional GET with ETag $etag answers 304" || bad "If-None-Match $etag: $code"
grep -qi '^cache-control: no-cache' "$WORK/index.h" && ok "Cache-Control: no-cache (revalidated with the ETag)" ||
  bad "no Cache-Control: $(tr '\r\n' '  ' <"$WORK/index.h")"
code=$(curl -s -o /dev/null -w '%{http_code}' "$H/ui/nope.js")
[[ $code == 404 ]] && ok "an unknown file is 404" || bad "/ui/nope.js: $code"
# (www.w3.org is the SVG namespace's name, which no browser fetches.)
if grep -rhoE "(https?:)?//[a-zA-Z0-9.-]+\.[a-z]{2,}" "$ROOT/ui" | grep -vx 'http://www.w3.org' >"$WORK/urls.txt"; then
  bad "ui/ names other origins: $(sort -u "$WORK/urls.txt" | tr '\n' ' ')"
else
  ok "ui/ names no other origin (no CDN)"
fi

section "the dashboard in headless chromium ($("$CHROMIUM" --version 2>/dev/null | head -1))"
"$EDDY" topic create flights --partitions 2 --bootstrap-server "$BS" >/dev/null
"$EDDY" topic create hourly_delays --partitions 1 --bootstrap-server "$BS" >/dev/null
# The flights as a live stream, 4,000 records/s, for longer than the test runs.
# Its own process group (setsid), so that the whole pipeline of replay.sh is stopped at the end.
EDDY="$EDDY" setsid bash "$ROOT/examples/flights/replay.sh" --rate 4000 --topic flights --partitions 2 \
  --bootstrap-server "$BS" >"$WORK/replay.log" 2>&1 &
REPLAY_PID=$!
for _ in $(seq 1 100); do
  [[ $(curl -s "$H/v1/topics/flights" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["records"])') -gt 0 ]] && break
  sleep 0.1
done
# GET /v1/topics: records/s in, over the last 10 s, sampled by the server once a second.
rate=0
for _ in $(seq 1 50); do
  rate=$(curl -s "$H/v1/topics/flights" | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["records_per_second"] or 0)')
  "$PY" -c "import sys; sys.exit(0 if $rate > 0 else 1)" && break
  sleep 0.1
done
"$PY" -c "import sys; sys.exit(0 if 0 < $rate < 8000 else 1)" &&
  ok "GET /v1/topics/flights: $rate records/s in while the replay sends 4,000/s" || bad "records_per_second: $rate"
# A consumer group that read a little and stopped: its lag grows with the replay.
"$EDDY" consume flights --group dash-readers --max-messages 10 --bootstrap-server "$BS" >/dev/null 2>&1 ||
  bad "eddy consume --group dash-readers failed"
if out=$(cd "$BROWSER_DIR" && timeout 150 node dashboard.test.mjs "$H" "$BS" 2 dash-readers "$SHOTS" 2>&1); then
  echo "$out"
else
  echo "$out"
  bad "the browser checks failed"
  tail -20 "$WORK/server.err" | sed 's/^/    | /'
fi
ls "$SHOTS"/*.png >/dev/null 2>&1 && ok "screenshots: $(cd "$SHOTS" && ls *.png | tr '\n' ' ')in $SHOTS" ||
  bad "no screenshots in $SHOTS"
kill -- "-$REPLAY_PID" 2>/dev/null || true
wait "$REPLAY_PID" 2>/dev/null || true
REPLAY_PID=""
stop_server
finish
