"""Independent expectations for tests/integration/jdbc.sh, computed in Python over the shipped
CSV files (never from eddy's output). Each command prints CSV rows, sorted, in the form
`psql -A -F, -t` prints the table it is compared with.

Usage:
  python3 jdbc_helper.py delays FLIGHTS              origin,flights,total_delay,max_delay,min_delay
  python3 jdbc_helper.py buckets FLIGHTS             flights,airports (airports with that count)
  python3 jdbc_helper.py enrich FLIGHTS AIRPORTS     origin,state,rows (LEFT JOIN on iata; '' = NULL)
  python3 jdbc_helper.py routes FLIGHTS              origin,destination,flights,total_delay
"""
import collections
import csv
import gzip
import sys


def flights(path):
    with gzip.open(path, "rt", newline="") as f:
        r = csv.reader(f)
        next(r)
        for date, delay, distance, origin, destination in r:
            yield date, int(delay), int(distance), origin, destination


def main():
    cmd = sys.argv[1]
    out = []
    if cmd == "delays":
        agg = {}
        for _, delay, _, origin, _ in flights(sys.argv[2]):
            n, s, mx, mn = agg.get(origin, (0, 0, None, None))
            agg[origin] = (n + 1, s + delay, delay if mx is None else max(mx, delay),
                           delay if mn is None else min(mn, delay))
        out = [f"{o},{n},{s},{mx},{mn}" for o, (n, s, mx, mn) in sorted(agg.items())]
    elif cmd == "buckets":
        per_origin = collections.Counter(origin for _, _, _, origin, _ in flights(sys.argv[2]))
        buckets = collections.Counter(per_origin.values())
        out = [f"{c},{n}" for c, n in sorted(buckets.items())]
    elif cmd == "enrich":
        with open(sys.argv[3], newline="") as f:
            r = csv.reader(f)
            next(r)
            state = {row[0]: row[3] for row in r}
        cnt = collections.Counter((origin, state.get(origin, ""))
                                  for _, _, _, origin, _ in flights(sys.argv[2]))
        out = [f"{o},{s},{n}" for (o, s), n in sorted(cnt.items())]
    elif cmd == "routes":
        agg = collections.defaultdict(lambda: [0, 0])
        for _, delay, _, origin, dest in flights(sys.argv[2]):
            a = agg[(origin, dest)]
            a[0] += 1
            a[1] += delay
        out = [f"{o},{d},{n},{s}" for (o, d), (n, s) in sorted(agg.items())]
    else:
        sys.exit(f"unknown command {cmd}")
    print("\n".join(out))


if __name__ == "__main__":
    main()
