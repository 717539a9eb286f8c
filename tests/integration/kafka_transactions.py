"""Kafka transactions of eddy server with real clients, run by kafka_transactions.sh.

confluent-kafka-python's transactional producer (librdkafka) and read_committed consumers:
commit, abort, a consumer held at the last stable offset by an open transaction, zombie fencing,
consume-transform-produce with send_offsets_to_transaction, a transaction aborted by its timeout,
kcat with -X isolation.level=read_committed, and a crash test: the server is SIGKILLed at random
moments under a producer committing numbered transactions, restarted each time; afterwards every
transaction is visible to read_committed readers with all of its records or none, and every
transaction whose commit was acknowledged is there. Expected results are what the test itself
produced and committed. Prints "ok: ..." lines; exits 1 on the first failed check.

Usage: kafka_transactions.py EDDY WORK_DIR
"""
import collections
import os
import random
import signal
import subprocess
import sys
import threading
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

EDDY, WORK = sys.argv[1], sys.argv[2]
DATA = os.path.join(WORK, "data")
rng = random.Random(23)


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def ok(msg):
    print(f"ok: {msg}", flush=True)


class Server:
    def __init__(self):
        self.proc = None
        self.port = None

    def start(self):
        port_file = os.path.join(WORK, "port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        args = [EDDY, "server", "--data-dir", DATA, "--kafka-listen", f"127.0.0.1:{self.port or 0}",
                "--port-file", port_file, "--num-partitions", "3"]
        with open(os.path.join(WORK, "server.err"), "ab") as err:
            self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err)
        for _ in range(400):
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
        self.proc.wait(timeout=30)


server = Server()
server.start()
BOOTSTRAP = f"127.0.0.1:{server.port}"  # the port stays the same across restarts


def txn_producer(txn_id, **extra):
    p = Producer({"bootstrap.servers": BOOTSTRAP, "transactional.id": txn_id,
                  "linger.ms": 5, **extra})
    p.init_transactions(30)
    return p


def read_all(topic, isolation, partitions=3, timeout=20, group=None):
    """Every value of `topic` (all partitions, from the start) a consumer with `isolation` reads
    up to the end it reports (the LSO for read_committed)."""
    c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": group or f"reader-{time.time()}",
                  "isolation.level": isolation, "enable.partition.eof": True,
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    values, eof = [], set()
    deadline = time.time() + timeout
    while len(eof) < partitions:
        if time.time() > deadline:
            fail(f"reading {topic} ({isolation}): no end reached within {timeout} s "
                 f"(ends seen: {sorted(eof)})")
        for m in c.consume(500, 0.2):
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    eof.add(m.partition())
                    continue
                fail(f"reading {topic}: {m.error()}")
            eof.discard(m.partition())
            values.append(m.value().decode())
    c.close()
    return values


def watermarks(topic, isolation, partitions=3):
    c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": "wm", "isolation.level": isolation})
    out = [c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
           for p in range(partitions)]
    c.close()
    return out


# --- commit and abort -------------------------------------------------------------------------
p = txn_producer("basic")
p.begin_transaction()
for i in range(300):
    p.produce("basic", key=f"k{i}", value=f"c{i}")
p.commit_transaction(30)
p.begin_transaction()
for i in range(200):
    p.produce("basic", key=f"k{i}", value=f"a{i}")
p.flush(30)
p.abort_transaction(30)
committed = read_all("basic", "read_committed")
if sorted(committed) != sorted(f"c{i}" for i in range(300)):
    fail(f"read_committed saw {len(committed)} records, not the 300 committed ones")
uncommitted = read_all("basic", "read_uncommitted")
if len(uncommitted) != 500:
    fail(f"read_uncommitted saw {len(uncommitted)} records, not 500 (the aborted ones are stored)")
ok("commit of 300 records and abort of 200: read_committed sees exactly the committed ones")

# kcat with read_committed: the same 300 records (control records are not shown).
kcat = subprocess.run(["kcat", "-b", BOOTSTRAP, "-C", "-t", "basic", "-o", "beginning", "-e",
                       "-q", "-X", "isolation.level=read_committed", "-f", "%s\\n"],
                      capture_output=True, text=True, timeout=60)
kcat_values = [v for v in kcat.stdout.split("\n") if v]
if sorted(kcat_values) != sorted(committed):
    fail(f"kcat read_committed saw {len(kcat_values)} records: {kcat.stderr[-300:]}")
ok("kcat -X isolation.level=read_committed sees the same 300 records")

# --- an open transaction holds read_committed readers at the last stable offset ----------------
p.begin_transaction()
for i in range(50):
    p.produce("held", key="k", value=f"t{i}", partition=0)
p.flush(30)
plain = Producer({"bootstrap.servers": BOOTSTRAP})
plain.produce("held", value="after", partition=0)
plain.flush(30)
if read_all("held", "read_committed"):
    fail("read_committed read past an open transaction")
if read_all("held", "read_uncommitted").count("after") != 1:
    fail("the record after the open transaction is missing")
lso, hw = watermarks("held", "read_committed"), watermarks("held", "read_uncommitted")
if lso[0] != 0 or hw[0] != 51:
    fail(f"partition 0: last stable offset {lso[0]} (want 0), high watermark {hw[0]} (want 51)")
p.commit_transaction(30)
held = read_all("held", "read_committed")
if held != [f"t{i}" for i in range(50)] + ["after"]:
    fail(f"after the commit read_committed saw {held[:5]}... ({len(held)})")
ok("an open transaction holds read_committed readers at the last stable offset until it commits")

# --- zombie fencing ---------------------------------------------------------------------------
zombie = txn_producer("fenced")
zombie.begin_transaction()
for i in range(20):
    zombie.produce("fencing", value=f"zombie{i}")
zombie.flush(30)
successor = txn_producer("fenced")  # same transactional.id: fences the zombie
try:
    zombie.commit_transaction(30)
    fail("the fenced producer's commit succeeded")
except KafkaException as e:
    err = e.args[0]
    if not err.fatal() and "FENCED" not in err.name() and "EPOCH" not in err.name():
        fail(f"the fenced producer's commit failed with {err}, not as fenced")
successor.begin_transaction()
successor.produce("fencing", value="successor")
successor.commit_transaction(30)
fencing = read_all("fencing", "read_committed")
if fencing != ["successor"]:
    fail(f"read_committed saw {fencing} after fencing")
ok("a second producer with the same transactional.id fences the first: its open transaction is "
   "aborted and its commit fails")

# --- consume-transform-produce ----------------------------------------------------------------
src = Producer({"bootstrap.servers": BOOTSTRAP})
N = 1000
for i in range(N):
    src.produce("ctp-in", key=f"k{i % 7}", value=str(i))
src.flush(30)
consumer = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": "ctp",
                     "isolation.level": "read_committed", "enable.auto.commit": False,
                     "auto.offset.reset": "earliest"})
consumer.subscribe(["ctp-in"])
tp_producer = txn_producer("ctp")
done, rounds, aborted_once = 0, 0, False
deadline = time.time() + 60
while done < N and time.time() < deadline:
    msgs = [m for m in consumer.consume(100, 1.0) if m.error() is None]
    if not msgs:
        continue
    tp_producer.begin_transaction()
    for m in msgs:
        tp_producer.produce("ctp-out", key=m.key(), value=str(int(m.value()) * 2))
    tp_producer.send_offsets_to_transaction(consumer.position(consumer.assignment()),
                                            consumer.consumer_group_metadata(), 30)
    rounds += 1
    if rounds == 3 and not aborted_once:
        # Abort one round: its output disappears and its input is read again.
        aborted_once = True
        tp_producer.abort_transaction(30)
        committed_offsets = consumer.committed(consumer.assignment(), 10)
        for tp in committed_offsets:
            consumer.seek(TopicPartition(tp.topic, tp.partition,
                                         tp.offset if tp.offset >= 0 else 0))
        continue
    tp_producer.commit_transaction(30)
    done += len(msgs)
consumer.close()
out = read_all("ctp-out", "read_committed")
want = collections.Counter(str(2 * i) for i in range(N))
got = collections.Counter(out)
if got != want:
    missing = sum((want - got).values())
    extra = sum((got - want).values())
    fail(f"consume-transform-produce output: {missing} missing, {extra} extra of {N}")
check = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": "ctp",
                  "isolation.level": "read_committed"})
offsets = check.committed([TopicPartition("ctp-in", p) for p in range(3)], 10)
check.close()
ends = watermarks("ctp-in", "read_uncommitted")
if [o.offset for o in offsets] != ends:
    fail(f"group 'ctp' committed {[o.offset for o in offsets]}, not the ends {ends}")
ok(f"consume-transform-produce of {N} records in {rounds} transactions (one aborted and redone): "
   "every output exactly once, the group's offsets committed with the transactions")

# --- a transaction open longer than its timeout is aborted by the coordinator ------------------
slow = txn_producer("slow", **{"transaction.timeout.ms": 1000})
slow.begin_transaction()
for i in range(10):
    slow.produce("timeout", value=f"late{i}", partition=1)
slow.flush(30)
time.sleep(2.5)
if read_all("timeout", "read_committed"):
    fail("records of a timed-out transaction are visible")
if watermarks("timeout", "read_committed")[1] != watermarks("timeout", "read_uncommitted")[1]:
    fail("the last stable offset did not move past the timed-out transaction")
try:
    slow.commit_transaction(10)
    fail("a transaction aborted by its timeout was committed")
except KafkaException:
    pass
ok("a transaction open longer than transaction.timeout.ms is aborted by the coordinator")

# --- SIGKILL of the server under a transactional producer --------------------------------------
RECORDS = 40  # per transaction
acked = set()  # transactions whose commit returned
lock = threading.Lock()
stop = threading.Event()


def crash_producer():
    producer, number = None, 0
    while not stop.is_set():
        try:
            if producer is None:
                producer = Producer({"bootstrap.servers": BOOTSTRAP, "transactional.id": "crash",
                                     "linger.ms": 2, "reconnect.backoff.ms": 50,
                                     "reconnect.backoff.max.ms": 200,
                                     "transaction.timeout.ms": 60000})
                producer.init_transactions(30)
            number += 1
            producer.begin_transaction()
            for i in range(RECORDS):
                producer.produce("crash", key=f"{number}", value=f"{number}:{i}")
            producer.commit_transaction(30)
            with lock:
                acked.add(number)
        except KafkaException as e:
            err = e.args[0]
            if err.txn_requires_abort():
                try:
                    producer.abort_transaction(30)
                    continue
                except KafkaException:
                    pass
            producer = None  # a fatal or unclear error: a new producer fences this one
        except Exception:  # noqa: BLE001 - e.g. BufferError: start over with a new producer
            producer = None


thread = threading.Thread(target=crash_producer)
thread.start()
for k in range(5):
    time.sleep(rng.uniform(0.5, 1.5))
    server.kill()
    time.sleep(rng.uniform(0.0, 0.3))
    server.start()
time.sleep(3)
stop.set()
thread.join(120)
if thread.is_alive():
    fail("the producer did not stop")
# A producer abandoned after an error may have left its transaction open: the next producer of
# the transactional.id aborts it, as an application restarting would.
txn_producer("crash")
records = read_all("crash", "read_committed", timeout=60)
by_txn = collections.defaultdict(list)
for v in records:
    n, i = v.split(":")
    by_txn[int(n)].append(int(i))
partial = {n: len(v) for n, v in by_txn.items() if sorted(v) != list(range(RECORDS))}
if partial:
    fail(f"transactions visible in part or twice: {dict(list(partial.items())[:5])}")
missing = acked - set(by_txn)
if missing:
    fail(f"acknowledged transactions missing after the crashes: {sorted(missing)[:10]}")
if not acked:
    fail("no transaction was committed during the crash test")
lso, hw = watermarks("crash", "read_committed"), watermarks("crash", "read_uncommitted")
if lso != hw:
    fail(f"a transaction is left open after the crashes: LSO {lso}, high watermark {hw}")
ok(f"5 SIGKILLs under a transactional producer: {len(by_txn)} transactions visible whole "
   f"({len(acked)} acknowledged, all present), none in part")
server.stop()
