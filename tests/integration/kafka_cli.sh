#!/usr/bin/env bash
# eddy's own Kafka commands against eddy server, cross-checked with kcat: topic create/list/
# describe/delete, produce with keys, consume from the beginning, as a group (committed offsets:
# a second run gets only new messages), and errors for a missing topic.
#
# Usage: bash kafka_cli.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$LIB/kafka.sh"
need_cmd kcat
section "eddy topic / produce / consume"
start_server "$WORK/data"
B=(--bootstrap-server "127.0.0.1:$PORT")

check() {  # check WHAT EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then ok "$1"; else
    bad "$1: expected [$2], got [$3]"
  fi
}

out=$("$EDDY" topic create events --partitions 3 --config retention.ms=3600000 "${B[@]}" 2>&1)
check "topic create" "created topic 'events' with 3 partition(s)" "$out"
check "topic list" "events" "$("$EDDY" topic list "${B[@]}" 2>&1)"
parts=$(kcat -b "127.0.0.1:$PORT" -L -t events 2>/dev/null | grep -c "partition [0-9]*, leader" || true)
check "kcat sees 3 partitions" "3" "$parts"

seq 1 300 | sed 's/^\(.*\)$/key\1:value \1/' >"$WORK/lines.txt"
"$EDDY" produce events --key-separator : "${B[@]}" <"$WORK/lines.txt" 2>"$WORK/produce.err"
check "produce reports" "eddy produce: 300 message(s) written to 'events'" "$(cat "$WORK/produce.err")"
kcat -b "127.0.0.1:$PORT" -C -t events -o beginning -e -q -f '%k:%s\n' | sort >"$WORK/kcat.txt"
check "kcat reads back the 300 keyed messages" "" "$(sort "$WORK/lines.txt" | diff - "$WORK/kcat.txt")"
"$EDDY" consume events --from-beginning -e --print-keys --key-separator : "${B[@]}" | sort \
  >"$WORK/eddy.txt"
check "eddy consume --from-beginning -e prints the 300 messages with keys" "" \
  "$(sort "$WORK/lines.txt" | diff - "$WORK/eddy.txt")"
describe=$("$EDDY" topic describe events "${B[@]}")
total=$(echo "$describe" | sed -n 's/.*(\([0-9]*\) messages)/\1/p' | awk '{ s += $1 } END { print s }')
check "topic describe counts 300 messages over its partitions" "300" "$total"

n=$("$EDDY" consume events --group cli-group --from-beginning -e "${B[@]}" | wc -l)
check "group consume reads all 300" "300" "$n"
printf 'late:one\nlate:two\n' | "$EDDY" produce events --key-separator : "${B[@]}" 2>/dev/null
got=$("$EDDY" consume events --group cli-group -e "${B[@]}" | sort | paste -sd,)
check "the group resumes at its committed offsets" "one,two" "$got"

if "$EDDY" consume missing -e "${B[@]}" >/dev/null 2>"$WORK/missing.err"; then
  bad "consuming a missing topic succeeded"
else
  check "a missing topic is an error" "eddy consume: no topic 'missing' on 127.0.0.1:$PORT" \
    "$(cat "$WORK/missing.err")"
fi
check "topic delete" "deleted topic 'events'" "$("$EDDY" topic delete events "${B[@]}" 2>&1)"
check "topic list is empty" "" "$("$EDDY" topic list "${B[@]}" 2>&1)"
# The flights replay example: the whole shipped month into a topic, then a paced run.
EDDY="$EDDY" "$ROOT/examples/flights/replay.sh" --topic flights \
  --bootstrap-server "127.0.0.1:$PORT" >"$WORK/replay.out" 2>&1 || true
total=$("$EDDY" topic describe flights "${B[@]}" | sed -n 's/.*(\([0-9]*\) messages)/\1/p' |
  awk '{ s += $1 } END { print s }')
check "examples/flights/replay.sh writes all $FLIGHTS_ROWS flights" "$FLIGHTS_ROWS" "$total"
check "replayed messages are JSON keyed by origin" \
  $'ATL\t{"date":"2001-01-01T00:01:00","delay":19,"distance":215,"origin":"ATL","destination":"SAV"}' \
  "$("$EDDY" consume flights --from-beginning -e --print-keys "${B[@]}" | grep -m1 '"delay":19,"distance":215,')"
start=$(date +%s.%N)
seq 1 300 | "$EDDY" produce paced --rate 200 "${B[@]}" 2>/dev/null
secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
if awk -v s="$secs" 'BEGIN { exit !(s >= 1.4) }'; then
  ok "--rate 200 paced 300 messages over $(printf "%.2f" "$secs") s (at least 1.5 s)"
else
  bad "--rate 200 sent 300 messages in ${secs} s: not paced"
fi
stop_server
finish
