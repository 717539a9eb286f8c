#!/usr/bin/env bash
# `make demo`: runs examples/flights/run-demo.sh with the binary under test and checks the JSON
# Lines file it writes (the path is read from the script): one line per (origin, hour) present in
# the data, counted independently here, with the right flight counts and statistics.
#
# Usage: bash demo.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

DEMO="$ROOT/examples/flights/run-demo.sh"
[[ -f "$DEMO" ]] || skip "examples/flights/run-demo.sh does not exist yet"

# The JSON Lines output: the first *.jsonl path named by the script (relative to the repository
# root, where the script runs).
rel=$(grep -oE "[A-Za-z0-9_./-]+\.jsonl" "$DEMO" | head -1 || true)
[[ -n "$rel" ]] || skip "run-demo.sh names no .jsonl output file"
case "$rel" in
  /*) OUT=$rel ;;
  *) OUT="$ROOT/$rel" ;;
esac
section "bash examples/flights/run-demo.sh $EDDY (output $rel)"

touch "$WORK/start"
RC=0
(cd "$WORK" && timeout 300 bash "$DEMO" "$EDDY") >"$WORK/demo.out" 2>"$WORK/demo.err" || RC=$?
if [[ $RC == 0 ]]; then
  ok "run-demo.sh: exit code 0"
else
  bad "run-demo.sh: exit code $RC"
  tail -n 15 "$WORK/demo.err" | sed 's/^/    | /'
fi
if [[ ! -f "$OUT" ]]; then
  bad "no output file $OUT"
  finish
fi
if [[ "$OUT" -nt "$WORK/start" ]]; then
  ok "$rel was written by this run"
else
  bad "$rel is older than this run (not written)"
fi
if [[ -s "$WORK/demo.out" ]]; then
  ok "the demo prints to the terminal ($(wc -l <"$WORK/demo.out") lines)"
else
  bad "the demo printed nothing on stdout"
fi

if msg=$("$PY" - "$LIB" "$FLIGHTS" "$OUT" <<'PYEOF' 2>&1
import collections
import json
import sys

sys.path.insert(0, sys.argv[1])
import util

# Independent per-(origin, hour) statistics of the data.
want = {}
rows = util.read_csv(sys.argv[2])[1:]
for d, delay, _dist, origin, _dest in rows:
    hour = util.norm_ts(d[:13] + ":00:00")
    s = want.setdefault((origin, hour), [0, 0, None, 0])
    delay = int(delay)
    s[0] += 1
    s[1] += delay
    s[2] = delay if s[2] is None else max(s[2], delay)
    s[3] += delay > 15

problems = []
got = {}
dups = 0
with open(sys.argv[3]) as f:
    for n, line in enumerate(f, 1):
        try:
            o = json.loads(line)
        except ValueError as e:
            problems.append(f"line {n} is not JSON: {e}")
            continue
        if "origin" not in o or "window_start" not in o:
            problems.append(f"line {n} lacks origin/window_start: {line[:100]!r}")
            continue
        k = (o["origin"], util.norm_ts(o["window_start"]))
        if k in got:
            dups += 1
        got[k] = o
if dups:
    problems.append(f"{dups} duplicate (origin, window_start) lines")
missing = sorted(set(want) - set(got))
extra = sorted(set(got) - set(want))
if missing:
    problems.append(f"{len(missing)} (origin, hour) of the data have no line, e.g. {missing[:3]}")
if extra:
    problems.append(f"{len(extra)} lines for (origin, hour) not in the data, e.g. {extra[:3]}")

# Statistics, where the demo writes them.
bad_stats = collections.Counter()
examples = []
for k in set(want) & set(got):
    o, (cnt, total, mx, delayed) = got[k], want[k]
    checks = []
    if "window_end" in o:
        checks.append(("window_end", util.ts_micros(o["window_end"]) ==
                       util.ts_micros(k[1]) + util.HOUR_US))
    if "flights" in o:
        checks.append(("flights", o["flights"] == cnt))
    if "max_delay" in o:
        checks.append(("max_delay", o["max_delay"] == mx))
    if "avg_delay" in o:  # ROUND(..., 2)
        checks.append(("avg_delay", abs(o["avg_delay"] - total / cnt) <= 0.005 + 1e-9))
    if "delayed_share" in o:  # ROUND(..., 3)
        checks.append(("delayed_share", abs(o["delayed_share"] - delayed / cnt) <= 0.0005 + 1e-9))
    for name, good in checks:
        if not good:
            bad_stats[name] += 1
            if len(examples) < 3:
                examples.append((k, name, o, (cnt, total / cnt, mx, delayed / cnt)))
for name, n in bad_stats.items():
    problems.append(f"{n} lines with a wrong {name}")
if examples:
    problems.append(f"e.g. {examples}")
if problems:
    print("\n".join(problems))
    sys.exit(1)
fields = sorted(next(iter(got.values())).keys()) if got else []
print(f"{len(got)} lines = the {len(want)} (origin, hour) of the data; fields {fields} checked")
PYEOF
); then
  ok "$rel: $msg"
else
  bad "$rel is wrong:"
  echo "$msg" | sed 's/^/    | /'
fi

finish
