#!/usr/bin/env bash
# Connection abuse against the broker (issue 15): 1,000 connections announcing 100 MiB requests,
# slowloris clients, idle connections, junk traffic (the log stays small: repeated warnings are
# rate-limited), and max.connections / max.connections.per.ip. The server must stay under a
# stated RSS and keep serving kcat. The checks are in kafka_abuse.py.
#
# Usage: bash kafka_abuse.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$LIB/kafka.sh"
need_cmd kcat
# 1,000 client sockets plus the server's: both processes need more than the usual 1,024 files.
ulimit -n 4096 2>/dev/null || skip "cannot raise the open file limit to 4096 (ulimit -n)"

run_phase() {
  if ! timeout 120 "$PY" "$ROOT/tests/integration/kafka_abuse.py" "$1" 127.0.0.1 "$PORT" \
    "$SERVER_PID" "$WORK/server.err" "$(command -v kcat)"; then
    bad "phase $1 failed"
    tail -15 "$WORK/server.err" | sed 's/^/    | /'
  fi
}

section "1,000 connections announcing 100 MiB, slowloris, idle connections"
start_server "$WORK/data" --connections-max-idle-ms 3000
run_phase flood
section "junk traffic: the log stays small"
run_phase junk
stop_server
section "max.connections and max.connections.per.ip"
start_server "$WORK/data" --max-connections 20 --max-connections-per-ip 10
run_phase limits
stop_server
finish
