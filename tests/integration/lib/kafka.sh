# shellcheck shell=bash disable=SC2034  # variables are used by the tests that source this
# Starting and stopping `eddy server` for the Kafka client tests, sourced after common.sh.
#   start_server DATA_DIR [ARGS...] : starts the broker on 127.0.0.1 with a free port (in $PORT),
#     logs in $WORK/server.err; fails the test if it does not listen within 20 s.
#   stop_server : SIGTERM, then waits up to 20 s for a clean exit.

SERVER_PID=""

start_server() {
  local dir=$1
  shift
  rm -f "$WORK/port"
  "$EDDY" server --data-dir "$dir" --kafka-listen 127.0.0.1:0 --port-file "$WORK/port" "$@" \
    >>"$WORK/server.out" 2>>"$WORK/server.err" &
  SERVER_PID=$!
  local i
  for ((i = 0; i < 200; i++)); do
    if [[ -s "$WORK/port" ]]; then
      PORT=$(cat "$WORK/port")
      return 0
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "  FAIL: eddy server did not start listening"
  sed 's/^/    | /' "$WORK/server.err" | tail -20
  exit 1
}

stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  local i
  for ((i = 0; i < 200; i++)); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    bad "eddy server did not exit within 20 s of SIGTERM"
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# Never leave a server behind, whatever happens to the test.
kafka_cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill -KILL "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap kafka_cleanup EXIT
