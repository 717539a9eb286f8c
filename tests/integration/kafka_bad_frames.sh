#!/usr/bin/env bash
# Bad input on the Kafka port: oversized, negative and truncated frames, unknown API keys and
# versions, and a few thousand random mutations of valid requests. Each bad frame must close only
# its own connection with a log line; the server must keep answering well-formed requests on
# other connections and never crash.
#
# Usage: bash kafka_bad_frames.sh <path-to-eddy> <repo-root>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
source "$LIB/kafka.sh"

section "eddy server: bad frames"
start_server "$WORK/data"
if out=$($PY - "$PORT" <<'EOF'
import random, socket, struct, sys

port = int(sys.argv[1])

def header(api_key, version, corr=1, client=b"fuzz"):
    return struct.pack(">hhih", api_key, version, corr, len(client)) + client

def frame(payload):
    return struct.pack(">i", len(payload)) + payload

API_VERSIONS_V0 = header(18, 0)
METADATA_V1 = header(3, 1) + struct.pack(">i", 1) + struct.pack(">h", 5) + b"topic"
CREATE_TOPICS_V2 = (header(19, 2) + struct.pack(">i", 1) + struct.pack(">h", 3) + b"new" +
                    struct.pack(">ihii", 2, -1, 0, 0) + struct.pack(">ib", 1000, 0))
FETCH_V4 = (header(1, 4) + struct.pack(">iiiib", -1, 100, 1, 1 << 20, 0) + struct.pack(">i", 1) +
            struct.pack(">h", 5) + b"topic" + struct.pack(">i", 1) + struct.pack(">iqi", 0, 0, 1 << 20))
VALID = [API_VERSIONS_V0, METADATA_V1, CREATE_TOPICS_V2, FETCH_V4]

def exchange(data, timeout=3.0):
    """Sends raw bytes; returns ('closed'|'answered'|'timeout', bytes received)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        got = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                return "timeout", got
            except ConnectionResetError:
                return "closed", got
            if not chunk:
                return "closed", got
            got += chunk
            if len(got) >= 4 and len(got) >= 4 + struct.unpack(">i", got[:4])[0]:
                return "answered", got
    finally:
        s.close()

def healthy():
    state, got = exchange(frame(API_VERSIONS_V0))
    return state == "answered" and struct.unpack(">i", got[4:8])[0] == 1

problems = []
def expect_closed(name, data):
    state, _ = exchange(data)
    if state != "closed":
        problems.append(f"{name}: connection {state}, expected it closed")
    if not healthy():
        problems.append(f"after {name}: the server no longer answers ApiVersions")

expect_closed("oversized frame (2 GiB)", struct.pack(">i", 0x7fffffff) + b"x" * 10)
expect_closed("negative size", struct.pack(">i", -5) + b"x" * 10)
expect_closed("frame shorter than a header", frame(b"\x00\x12"))
expect_closed("unknown API key 999", frame(header(999, 0)))
# Produce v0-v2 are advertised (librdkafka only compresses when v0 is listed) and answered with
# UNSUPPORTED_FOR_MESSAGE_FORMAT (unit test); a version beyond the range or a cut body closes.
expect_closed("Produce v10 (newer than the broker's v9)", frame(header(0, 10) + b"\x00" * 20))
expect_closed("truncated Produce v0 body", frame(header(0, 0) + b"\x00" * 3))
expect_closed("Metadata v99", frame(header(3, 99)))
expect_closed("truncated Metadata body", frame(METADATA_V1[:-3]))
expect_closed("HTTP request", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")

rng = random.Random(7)
counts = {"answered": 0, "closed": 0, "timeout": 0}
for i in range(1500):
    base = bytearray(rng.choice(VALID))
    for _ in range(rng.randint(1, 4)):
        op = rng.random()
        pos = rng.randrange(len(base))
        if op < 0.5:
            base[pos] = rng.randrange(256)
        elif op < 0.7:
            del base[pos:pos + rng.randint(1, 8)]
        elif op < 0.85:
            base[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        else:
            base[pos:pos + 4] = struct.pack(">i", rng.choice([-1, -2, 0x7fffffff, 1 << 20]))
        if not base:
            base = bytearray(b"\x00")
    state, _ = exchange(frame(bytes(base)), timeout=0.5)
    counts[state] += 1
    if i % 250 == 0 and not healthy():
        problems.append(f"mutation {i}: the server stopped answering")
        break
if not healthy():
    problems.append("after the mutations: the server no longer answers")
if problems:
    print("\n".join(problems))
    sys.exit(1)
print(f"8 malformed frames each closed their connection; 1500 mutated requests: "
      f"{counts['answered']} answered, {counts['closed']} closed, {counts['timeout']} waited "
      f"(a long-poll fetch); the server answered throughout")
EOF
); then
  ok "$out"
else
  bad "bad frames:"
  echo "$out" | sed 's/^/    | /'
fi
if kill -0 "$SERVER_PID" 2>/dev/null; then
  ok "the server is still running"
else
  bad "the server died"
fi
n=$(grep -ac "closing the connection" "$WORK/server.err" || true)
if ((n >= 8)); then
  ok "$n connections closed with a log line, e.g. '$(grep -a -m1 "unsupported API key" "$WORK/server.err" | sed 's/.*kafka: //')'"
else
  bad "only $n 'closing the connection' log lines"
fi
stop_server
finish
