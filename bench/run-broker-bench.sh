#!/usr/bin/env bash
# `make bench-broker`: eddy server under a librdkafka load (bench/kafka_load.cc): 100-byte and
# 1 KiB records, acks=all and acks=1, to 1 and to 8 partitions, then a consumer draining them;
# MB/s, records/s and produce latency p50/p99/p999. Next to it the physical limits of this box:
# sequential write bandwidth of the data disk with fsync (dd) and loopback TCP throughput. Then
# acks=all 1 KiB at half the measured fsync'd disk bandwidth, for the latency target.
# Prints a markdown section for docs/benchmarks.md on stdout.
#
# Usage: bash bench/run-broker-bench.sh [path/to/eddy] [path/to/kafka_load]
# Environment: EDDY_BENCH_MB (default 200: MB produced per run), TMPDIR (where the log lives).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EDDY=$(realpath "${1:-$ROOT/build/eddy}")
LOAD=$(realpath "${2:-$ROOT/build/bench/kafka_load}")
MB=${EDDY_BENCH_MB:-200}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/eddy-broker-bench.XXXXXX")
SERVER_PID=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
log() { echo "$*" >&2; }

# --- physical limits ---------------------------------------------------------------------------
log "bench-broker: disk and loopback limits ..."
dd_rate() {  # dd_rate ARGS... : MB/s that dd reports
  dd if=/dev/zero of="$WORK/dd.bin" "$@" 2>&1 | tail -1 |
    awk '{ for (i = 1; i <= NF; i++) if ($i ~ /B\/s$/) { v = $(i-1); u = $i } }
         END { if (u ~ /^GB/) v *= 1000; else if (u ~ /^kB/) v /= 1000; print v }'
  rm -f "$WORK/dd.bin"
}
DISK_FDATASYNC=$(dd_rate bs=1M count=512 conv=fdatasync)
DISK_DSYNC=$(dd_rate bs=1M count=128 oflag=dsync)
LOOPBACK=$(python3 - <<'PYEOF'
import socket, threading, time
N = 2 << 30
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
def sink():
    c, _ = srv.accept(); got = 0
    while got < N:
        b = c.recv(1 << 20)
        if not b: break
        got += len(b)
t = threading.Thread(target=sink); t.start()
s = socket.create_connection(srv.getsockname()); buf = b"x" * (1 << 20); t0 = time.time()
for _ in range(N >> 20): s.sendall(buf)
s.close(); t.join(); print(f"{N / (time.time() - t0) / 1e6:.0f}")
PYEOF
)
log "bench-broker: disk ${DISK_FDATASYNC} MB/s (one fdatasync), ${DISK_DSYNC} MB/s (O_DSYNC 1 MiB writes); loopback ${LOOPBACK} MB/s"

# --- the broker --------------------------------------------------------------------------------
"$EDDY" server --data-dir "$WORK/data" --kafka-listen 127.0.0.1:0 --port-file "$WORK/port" \
  >/dev/null 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 100); do [[ -s "$WORK/port" ]] && break; sleep 0.1; done
B="127.0.0.1:$(cat "$WORK/port")"
RESULTS="$WORK/results.jsonl"
run() {  # run LABEL PARTITIONS BYTES ACKS [RATE]
  local label=$1 parts=$2 bytes=$3 acks=$4 rate=${5:-0}
  local topic="t-$label" count=$((MB * 1000000 / bytes))
  "$EDDY" topic create "$topic" --partitions "$parts" --bootstrap-server "$B" >/dev/null
  log "bench-broker: $label: $count records of $bytes B, acks=$acks, $parts partition(s)${5:+, $rate/s} ..."
  if ! "$LOAD" "$B" "$topic" "$bytes" "$count" "$acks" "$rate" |
    sed "s/^{/{\"label\":\"$label\",\"partitions\":$parts,/" >>"$RESULTS"; then
    log "bench-broker: $label failed"
  fi
  "$EDDY" topic delete "$topic" --bootstrap-server "$B" >/dev/null
}
for parts in 1 8; do
  for bytes in 100 1024; do
    for acks in all 1; do run "p${parts}-${bytes}B-acks${acks}" "$parts" "$bytes" "$acks"; done
  done
done
# Half of the fsync'd disk bandwidth (one fdatasync at the end is the group-commit limit).
HALF_RATE=$(awk -v d="$DISK_FDATASYNC" 'BEGIN { printf "%d", d * 1e6 / 2 / 1024 }')
run "p8-1024B-acksall-half-disk" 8 1024 all "$HALF_RATE"
# Half of the throughput target (50 % of the disk): a quarter of the disk bandwidth. This is how
# the latency target reads when "that load" is the target load.
QUARTER_RATE=$(awk -v d="$DISK_FDATASYNC" 'BEGIN { printf "%d", d * 1e6 / 4 / 1024 }')
run "p8-1024B-acksall-quarter-disk" 8 1024 all "$QUARTER_RATE"

# --- report ------------------------------------------------------------------------------------
CPU=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -1)
cat <<MDEOF

## Broker: produce and consume through eddy server (issue 3)

$(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores, ${CPU:-unknown CPU}; load average $(cut -d' ' -f1-3 /proc/loadavg).
Command: \`make bench-broker\` (\`bench/run-broker-bench.sh\`, $MB MB per run; librdkafka
$(pkg-config --modversion rdkafka 2>/dev/null || echo '?') load generator \`bench/kafka_load.cc\`: linger.ms=1, no
compression; latency = enqueue to delivery report of every record). The log lives in
\`${TMPDIR:-/tmp}\`.

Physical limits of this box: sequential write to the same file system **${DISK_FDATASYNC} MB/s** with one
\`fdatasync\` at the end (\`dd bs=1M count=512 conv=fdatasync\`), ${DISK_DSYNC} MB/s when every 1 MiB
write is synchronous (\`oflag=dsync\`); loopback TCP ${LOOPBACK} MB/s (Python, 1 MiB sends).

| run | partitions | record | acks | produce MB/s | records/s | p50 ms | p99 ms | p99.9 ms | consume MB/s |
|---|---:|---:|---|---:|---:|---:|---:|---:|---:|
MDEOF
python3 - "$RESULTS" <<'PYEOF'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    rate = f" at {r['rate']:.0f}/s" if r["rate"] else ""
    print(f"| {r['label']}{rate} | {r['partitions']} | {r['bytes']} B | {r['acks']} | "
          f"{r['produce_mb_s']:.1f} | {r['produce_rec_s']:.0f} | {r['p50_ms']:.2f} | "
          f"{r['p99_ms']:.2f} | {r['p999_ms']:.2f} | {r['consume_mb_s']:.1f} |")
PYEOF
python3 - "$RESULTS" "$DISK_FDATASYNC" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
disk = float(sys.argv[2])
best = max((r for r in rows if r["bytes"] == 1024 and r["acks"] == "all" and not r["rate"]),
           key=lambda r: r["produce_mb_s"], default=None)
paced = [r for r in rows if r["rate"]]
print()
if best:
    print(f"- acks=all, 1 KiB: best {best['produce_mb_s']:.1f} MB/s = "
          f"{100 * best['produce_mb_s'] / disk:.0f} % of the fsync'd disk bandwidth "
          f"(target ≥ 50 %).")
for r, what in zip(paced, ("half the disk bandwidth", "a quarter of the disk bandwidth (half the target load)")):
    print(f"- At {what} ({r['rate']:.0f} records/s of 1 KiB, acks=all, 8 partitions): p99 "
          f"{r['p99_ms']:.2f} ms (target < 5 ms), achieved {r['produce_mb_s']:.1f} MB/s.")
PYEOF
