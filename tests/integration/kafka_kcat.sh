#!/usr/bin/env bash
# The broker against a real Kafka client, kcat (librdkafka): metadata listing; produce and consume
# of 100,000 messages with keys and headers under each of gzip, snappy, lz4 and zstd; consume from
# an offset and from a timestamp; acks=all; everything still there after a restart.
#
# Usage: bash kafka_kcat.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
need_cmd kcat timeout
source "$LIB/kafka.sh"

N=100000
section "eddy server + kcat ($(kcat -V 2>&1 | head -1))"
start_server "$WORK/data" --num-partitions 3
B="127.0.0.1:$PORT"

# --- metadata ----------------------------------------------------------------------------------
if kcat -b "$B" -L -m 10 >"$WORK/meta.txt" 2>&1 && grep -q "1 brokers:" "$WORK/meta.txt" &&
  grep -q "broker 0 at 127.0.0.1:$PORT" "$WORK/meta.txt"; then
  ok "kcat -L lists the broker (127.0.0.1:$PORT)"
else
  bad "kcat -L: no broker listed"
  sed 's/^/    | /' "$WORK/meta.txt" | head -20
fi

# --- produce + consume, per compression codec ---------------------------------------------------
$PY - "$N" >"$WORK/input.txt" <<'EOF'
import random, sys
n = int(sys.argv[1])
rng = random.Random(42)
for i in range(n):
    payload = "".join(rng.choice("abcdefghij0123456789 ,;") for _ in range(rng.randint(0, 60)))
    print(f"key-{i % 97}\tvalue {i} {payload}")
EOF
for codec in gzip snappy lz4 zstd; do
  topic="t-$codec"
  if ! timeout 120 kcat -b "$B" -P -t "$topic" -K $'\t' -z "$codec" -X acks=all \
    -H "source=kcat" -H "codec=$codec" -l "$WORK/input.txt" 2>"$WORK/produce-$codec.err"; then
    bad "$codec: kcat -P failed"
    sed 's/^/    | /' "$WORK/produce-$codec.err" | head -10
    continue
  fi
  timeout 120 kcat -b "$B" -C -t "$topic" -o beginning -e -q \
    -f '%p\t%o\t%k\t%s\t%h\n' >"$WORK/out-$codec.txt" 2>"$WORK/consume-$codec.err" || true
  if msg=$($PY - "$WORK/input.txt" "$WORK/out-$codec.txt" "$codec" <<'EOF'
import collections, sys
want = [l.rstrip("\n") for l in open(sys.argv[1], encoding="utf-8")]
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[2], encoding="utf-8")]
codec = sys.argv[3]
problems = []
got = ["\t".join(r[2:4]) for r in rows]
if collections.Counter(got) != collections.Counter(want):
    problems.append(f"{len(got)} messages consumed, {len(want)} produced, or contents differ")
hdr = f"source=kcat,codec={codec}"
bad_h = [r for r in rows if r[4] != hdr]
if bad_h:
    problems.append(f"{len(bad_h)} messages without the headers '{hdr}', e.g. {bad_h[0][4]!r}")
by_p = collections.defaultdict(list)
for r in rows:
    by_p[r[0]].append(int(r[1]))
for p, offs in by_p.items():
    if offs != list(range(len(offs))):
        problems.append(f"partition {p}: offsets are not 0..{len(offs) - 1} in order")
# The same key always lands in the same partition (librdkafka's consistent_random partitioner).
kp = collections.defaultdict(set)
for r in rows:
    kp[r[2]].add(r[0])
split = [k for k, ps in kp.items() if len(ps) > 1]
if split:
    problems.append(f"keys in several partitions: {split[:3]}")
if len(by_p) != 3:
    problems.append(f"{len(by_p)} partitions used, expected 3")
if problems:
    print("; ".join(problems))
    sys.exit(1)
print(f"{len(rows)} messages, keys and headers equal, offsets dense in {len(by_p)} partitions")
EOF
  ); then
    ok "$codec: $msg"
  else
    bad "$codec: $msg"
    sed 's/^/    | /' "$WORK/consume-$codec.err" | head -10
  fi
done

# --- consume from an offset and from a timestamp ------------------------------------------------
got=$(timeout 60 kcat -b "$B" -C -t t-zstd -p 1 -o 1000 -c 3 -e -q -f '%o ' 2>&1 || true)
if [[ "$got" == "1000 1001 1002 " ]]; then
  ok "consume from offset 1000 of partition 1: offsets $got"
else
  bad "consume from offset 1000: got '$got'"
fi
seq 1 50 | sed 's/^/early /' | timeout 60 kcat -b "$B" -P -t t-time -p 0 2>/dev/null
sleep 1.2
mid=$($PY -c 'import time; print(int(time.time() * 1000))')
sleep 0.2
seq 1 50 | sed 's/^/late /' | timeout 60 kcat -b "$B" -P -t t-time -p 0 2>/dev/null
got=$(timeout 60 kcat -b "$B" -C -t t-time -p 0 -o "s@$mid" -c 1 -e -q -f '%o %s' 2>&1 || true)
if [[ "$got" == "50 late 1" ]]; then
  ok "consume from a timestamp: starts at offset 50 ('late 1')"
else
  bad "consume from timestamp $mid: got '$got', expected '50 late 1'"
fi

# --- restart: the data is still there -----------------------------------------------------------
stop_server
if grep -q "stopped cleanly" "$WORK/server.err"; then
  ok "SIGTERM: the server flushed and closed the log"
else
  bad "SIGTERM: no clean shutdown in the server log"
  tail -5 "$WORK/server.err" | sed 's/^/    | /'
fi
start_server "$WORK/data" --num-partitions 3
B="127.0.0.1:$PORT"
count=$(timeout 120 kcat -b "$B" -C -t t-gzip -o beginning -e -q -f '.' 2>/dev/null | wc -c)
if [[ "$count" == "$N" ]]; then
  ok "after a restart: $count messages of t-gzip consumed again"
else
  bad "after a restart: $count messages of t-gzip, expected $N"
fi
stop_server

finish
