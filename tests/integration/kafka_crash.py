"""Crash safety of eddy server, run by kafka_crash.sh: a confluent-kafka producer writes with
acks=all (no retries, so an acknowledged message was written by exactly one request) while the
server is SIGKILLed 10 times at random moments and restarted. Afterwards every acknowledged message
must be in the log exactly once, in production order per partition. Then the test appends garbage
to the active segment of a partition (a torn write) and checks the restarted server truncates it
and still serves every acknowledged message.

Usage: kafka_crash.py EDDY DATA_DIR WORK_DIR
"""
import glob
import os
import random
import signal
import subprocess
import sys
import threading
import time

from confluent_kafka import Consumer, Producer, TopicPartition

EDDY, DATA, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
TOPIC = "crash"
rng = random.Random(11)


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


class Server:
    def __init__(self):
        self.proc = None
        self.port = None

    def start(self):
        port_file = os.path.join(WORK, "port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        args = [EDDY, "server", "--data-dir", DATA, "--kafka-listen",
                f"127.0.0.1:{self.port or 0}", "--port-file", port_file, "--num-partitions", "3", "--log-level", "debug"]
        with open(os.path.join(WORK, "server.err"), "ab") as err:
            self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err)
        for _ in range(200):
            if os.path.exists(port_file) and open(port_file).read().strip():
                self.port = int(open(port_file).read())
                return
            if self.proc.poll() is not None:
                fail(f"the server exited with {self.proc.returncode} at start")
            time.sleep(0.05)
        fail("the server did not start listening")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=20)


server = Server()
server.start()
bootstrap = f"127.0.0.1:{server.port}"  # the port stays the same across restarts

acked = []  # (partition, value) in acknowledgement order
lock = threading.Lock()
stop = threading.Event()


failed = []  # delivery errors the phase does not expect


def produce(extra, prefix, limit, flush_s, errors_fail):
    """Produces "<prefix><i>" until `stop` (or `limit` messages), recording acknowledgements."""
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 2,
                  "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 200, **extra})

    def on_delivery(err, msg):
        with lock:
            if err is None:
                acked.append((msg.partition(), msg.value().decode()))
            elif errors_fail:
                failed.append(str(err))

    i = 0
    while not stop.is_set() and i < limit:
        try:
            p.produce(TOPIC, key=f"k{i % 7}", value=f"{prefix}{i}", on_delivery=on_delivery)
            i += 1
        except BufferError:
            pass
        p.poll(0.001)
    left = p.flush(flush_s)
    if left and errors_fail:
        with lock:
            failed.append(f"{left} messages still queued")


# No retries, so an acknowledged message was written by exactly one request; unacknowledged
# messages (killed mid-request) may or may not be there.
t = threading.Thread(target=produce, args=(
    {"retries": 0, "enable.idempotence": False, "max.in.flight.requests.per.connection": 1,
     "message.timeout.ms": 5000}, "m", float("inf"), 10, False))
t.start()
for k in range(10):
    time.sleep(rng.uniform(0.2, 0.8))
    server.kill()
    time.sleep(rng.uniform(0.0, 0.3))
    server.start()
time.sleep(1.0)
stop.set()
t.join()
with lock:
    n_acked = len(acked)
if n_acked < 100:
    fail(f"only {n_acked} messages were acknowledged around 10 crashes")
print(f"ok: {n_acked} messages acknowledged while the server was SIGKILLed and restarted 10 times")


def read_all():
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"check-{time.time()}",
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    parts = [TopicPartition(TOPIC, p, 0) for p in range(3)]
    c.assign(parts)
    ends = {p: c.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=10)[1] for p in range(3)}
    got = {p: [] for p in range(3)}
    deadline = time.time() + 60
    while time.time() < deadline and any(len(got[p]) < ends[p] for p in range(3)):
        for m in c.consume(500, timeout=0.5):
            if m.error() is None:
                got[m.partition()].append(m.value().decode())
    c.close()
    return got


def check(got, what):
    for p in range(3):
        stored = got[p]
        mine = [v for (pp, v) in acked if pp == p]
        pos = {}
        for i, v in enumerate(stored):
            if v in pos:
                fail(f"{what}: partition {p}: '{v}' stored twice")
            pos[v] = i
        missing = [v for v in mine if v not in pos]
        if missing:
            fail(f"{what}: partition {p}: {len(missing)} acknowledged messages lost, "
                 f"e.g. {missing[:3]}")
        order = [pos[v] for v in mine]
        if order != sorted(order):
            fail(f"{what}: partition {p}: acknowledged messages out of production order")


got = read_all()
check(got, "after 10 crashes")
print(f"ok: every acknowledged message is stored exactly once, in order per partition "
      f"({sum(len(v) for v in got.values())} stored in all)")

# A torn write: garbage after the last batch of partition 0's active segment.
server.stop()
segs = sorted(glob.glob(os.path.join(DATA, f"{TOPIC}-0", "*.log")))
if not segs:
    fail("no segment files for partition 0")
size = os.path.getsize(segs[-1])
with open(segs[-1], "ab") as f:
    f.write(b"\x00\x00\x00\x00\x00\x00\x00\x09\x00\x00\x01\x00garbage-tail" * 3)
server.start()
got = read_all()
check(got, "after a torn tail")
if os.path.getsize(segs[-1]) != size:
    fail(f"the torn tail was not truncated: {os.path.getsize(segs[-1])} bytes, expected {size}")
log = open(os.path.join(WORK, "server.err"), errors="replace").read()
if "truncat" not in log:
    fail("the server did not log the truncation")
print("ok: a torn segment tail was truncated at the last valid batch (logged) and every "
      "acknowledged message is still served")

# Idempotent producer with retries across crashes: a batch written just before a SIGKILL but not
# acknowledged is retried after the restart; the broker must recognise it (producer state rebuilt
# from the log) instead of writing it twice.
TOPIC = "crash-idem"
acked.clear()
stop.clear()


t = threading.Thread(target=produce, args=(
    {"enable.idempotence": True, "message.timeout.ms": 60000}, "i", 40000, 60, True))
t.start()
for k in range(5):
    time.sleep(rng.uniform(0.2, 0.6))
    server.kill()
    time.sleep(rng.uniform(0.0, 0.2))
    server.start()
stop.set()
t.join()
if failed:
    fail(f"idempotent producer: {len(failed)} failures, e.g. {failed[:3]}")
got = read_all()
stored = sum(len(v) for v in got.values())
check(got, "idempotent producer across 5 crashes")
log = open(os.path.join(WORK, "server.err"), errors="replace").read()
retries = log.count("already at offset")
print(f"ok: idempotent producer across 5 SIGKILLs: {len(acked)} acknowledged, {stored} stored, "
      f"none twice, in order per partition ({retries} retried batches recognised as already "
      f"written)")
server.stop()
