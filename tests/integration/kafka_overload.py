"""Overload of eddy server by producers (confluent-kafka-python, acks=all), run by
kafka_overload.sh, which starts the server with small request budgets
(--queued-max-request-bytes 4 MiB, --connection-max-queued-bytes 1 MiB). Prints "ok: ..." or
"FAIL: ..."; the exit code is the number of failed checks.

usage: kafka_overload.py BOOTSTRAP SERVER_PID SERVER_LOG

Four producer processes send 10 KB messages as fast as they can for 8 s, each with up to
1 MB batches and a 64 MB client queue, faster than the broker can append and fsync them. The
broker must push back (it stops reading a connection over its budget, so the producers' queues
fill: BufferError) instead of queueing without limit: its peak RSS stays under 200 MB, it logs
that it applied backpressure, every acknowledged message is in the log, and once the flood stops
a single acks=all produce is acknowledged within 5 s.
"""
import multiprocessing
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

BOOTSTRAP, PID, LOG = sys.argv[1:4]
RSS_BOUND_KB = 200 * 1024
FLOOD_SECONDS = 8
FAILS = []


def ok(msg):
    print(f"ok: {msg}", flush=True)


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    FAILS.append(msg)


def status_kb(field):
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def flood(index, results):
    p = Producer({"bootstrap.servers": BOOTSTRAP, "acks": "all", "linger.ms": 5,
                  "batch.size": 1_000_000, "queue.buffering.max.kbytes": 65536,
                  "compression.type": "none", "client.id": f"flood-{index}"})
    delivered = [0]

    def on_delivery(err, msg):
        if err is None:
            delivered[0] += 1

    value = b"x" * 10_000
    full = sent = 0
    end = time.time() + FLOOD_SECONDS
    while time.time() < end:
        try:
            p.produce("flood", value=value, partition=index % 2, on_delivery=on_delivery)
            sent += 1
        except BufferError:
            full += 1  # the client's queue is full: the broker is not keeping up
            p.poll(0.01)
        if sent % 100 == 0:
            p.poll(0)
    left = p.flush(120)
    results.put((index, sent, delivered[0], full, left))


def main():
    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
    admin.create_topics([NewTopic("flood", 2, 1)])["flood"].result(15)
    rss0 = status_kb("VmRSS")
    results = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=flood, args=(i, results)) for i in range(4)]
    for pr in procs:
        pr.start()
    peak = 0
    while any(pr.is_alive() for pr in procs):
        peak = max(peak, status_kb("VmRSS"))
        time.sleep(0.1)
    for pr in procs:
        pr.join()
    stats = [results.get() for _ in procs]
    sent = sum(s[1] for s in stats)
    delivered = sum(s[2] for s in stats)
    full = sum(s[3] for s in stats)
    undelivered = sum(s[4] for s in stats)
    mb = delivered * 10_000 / 1e6
    print(f"   producers: {sent} messages sent, {delivered} acknowledged ({mb:.0f} MB), "
          f"{full} produce calls found the client queue full", flush=True)
    if undelivered == 0 and delivered == sent:
        ok("every message of the flood was acknowledged once the producers flushed")
    else:
        fail(f"{sent - delivered} messages not acknowledged, {undelivered} left in the queues")
    with open(LOG, encoding="utf-8", errors="replace") as f:
        log = f.read()
    if "(backpressure)" in log:
        ok("the broker applied backpressure (it logged that a request budget was used up)")
    else:
        fail("the broker never reported backpressure: its request budgets were not reached")
    if full > 0:
        ok(f"the producers felt it: {full} produce calls found their queue full")
    else:
        fail("the producers never found their queue full: nothing pushed back")
    hwm = status_kb("VmHWM")
    if hwm < RSS_BOUND_KB:
        ok(f"server RSS {rss0 // 1024} MB before, peak {peak // 1024} MB during the flood; "
           f"VmHWM {hwm // 1024} MB < {RSS_BOUND_KB // 1024} MB")
    else:
        fail(f"server peak RSS (VmHWM) {hwm // 1024} MB >= {RSS_BOUND_KB // 1024} MB")
    # Every acknowledged message is in the log: the high watermarks add up.
    c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": "overload-check"})
    total = sum(c.get_watermark_offsets(TopicPartition("flood", p), timeout=10)[1]
                for p in range(2))
    c.close()
    if total == delivered:
        ok(f"the log holds exactly the {delivered} acknowledged messages")
    else:
        fail(f"the log holds {total} messages, {delivered} were acknowledged")
    # Latency recovers: one produce after the flood is acknowledged promptly.
    p = Producer({"bootstrap.servers": BOOTSTRAP, "acks": "all", "linger.ms": 0})
    done = []
    start = time.time()
    p.produce("flood", value=b"after", on_delivery=lambda err, msg: done.append(err))
    p.flush(30)
    took = time.time() - start
    if done == [None] and took < 5:
        ok(f"a produce after the flood was acknowledged in {took * 1000:.0f} ms")
    else:
        fail(f"a produce after the flood: {done} after {took:.1f} s")


main()
sys.exit(len(FAILS))
