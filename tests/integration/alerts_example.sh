#!/usr/bin/env bash
# examples/alerts end to end: the MATCH_RECOGNIZE delay rule POSTs its alerts to a local endpoint
# (examples/alerts/receiver.py) through the 'http' sink; the endpoint receives exactly the rows
# the same query writes to a CSV file (every alert once, same values).
#
# Usage: bash alerts_example.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
need_cmd "$PY"

RC=0
bash "$ROOT/examples/alerts/run.sh" "$EDDY" "$WORK/received.jsonl" >"$WORK/run.out" 2>"$WORK/run.err" || RC=$?
[[ $RC == 0 ]] && ok "examples/alerts/run.sh: exit 0 ($(grep -o "sink incidents: [0-9]* rows written" "$WORK/run.err"))" ||
  bad "examples/alerts/run.sh: exit $RC: $(tail -3 "$WORK/run.err")"

# The same rule into a CSV file (the http table's WITH clause swapped for a filesystem one).
"$PY" - "$ROOT/examples/alerts/delay-alerts.sql" "$WORK/expected.csv" >"$WORK/expected.sql" <<'PY'
import re, sys
sql = open(sys.argv[1]).read()
sql, n = re.subn(r"WITH \(\s*'connector' = 'http'.*?\);",
                 "WITH ('connector' = 'filesystem', 'path' = '%s', 'format' = 'csv');" % sys.argv[2],
                 sql, flags=re.S)
assert n == 1, "the incidents table's WITH clause was not found"
print(sql)
PY
run_eddy "$WORK/exp" run "$WORK/expected.sql"
[[ $RC == 0 ]] || { bad "the CSV form of the rule: exit $RC"; show_err "$WORK/exp"; }
cmp=$("$PY" - "$WORK/received.jsonl" "$WORK/expected.csv" <<'PY'
import csv, json, sys
got = sorted((a["airport"], a["rise_start"], a["alert_hour"], float(a["start_delay"]), float(a["alert_delay"]))
             for a in map(json.loads, open(sys.argv[1])))
want = sorted((r[0], r[1].strip('"'), r[2].strip('"'), float(r[3]), float(r[4]))
              for r in csv.reader(open(sys.argv[2])))
print("same %d" % len(got) if got == want and got else "differ: %d received, %d expected" % (len(got), len(want)))
PY
)
[[ $cmp == same* ]] && ok "the endpoint received exactly the rule's alerts (${cmp#same } alerts)" || bad "$cmp"
finish
