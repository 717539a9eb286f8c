"""confluent-kafka-python (librdkafka) against eddy server, run by kafka_confluent.sh.

phase "group": an idempotent producer (enable.idempotence, acks=all) writes N messages to a
6-partition topic created with the AdminClient; a consumer group of 3 members consumes them while
one member leaves and another joins; every message must be consumed exactly once across the group.
phase "resume" (after a server restart): a new member of the same group gets nothing old (the
committed offsets survived), then exactly the 10 messages produced after the restart.
Prints "ok: ..." lines; exits 1 on the first failed check.
"""
import collections
import sys
import threading
import time

from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

BOOTSTRAP, PHASE = sys.argv[1], sys.argv[2]
TOPIC, GROUP, N = "orders", "billing", 30000


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def produce(values):
    errors = []
    p = Producer({"bootstrap.servers": BOOTSTRAP, "enable.idempotence": True, "acks": "all",
                  "linger.ms": 5, "client.id": "idempotent-producer"})
    for i, v in enumerate(values):
        while True:
            try:
                p.produce(TOPIC, key=f"k{v % 50}", value=str(v),
                          on_delivery=lambda err, msg: err and errors.append(err))
                break
            except BufferError:
                p.poll(0.1)
        if i % 1000 == 0:
            p.poll(0)
    left = p.flush(60)
    if left or errors:
        fail(f"producer: {left} undelivered, errors: {errors[:3]}")


def member(name, stop, seen, lock, stats):
    c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": GROUP, "client.id": name,
                  "enable.auto.commit": False, "auto.offset.reset": "earliest",
                  "session.timeout.ms": 6000, "heartbeat.interval.ms": 300})
    c.subscribe([TOPIC])
    while not stop.is_set():
        msgs = c.consume(num_messages=200, timeout=0.2)
        got = [m for m in msgs if m.error() is None]
        if not got:
            continue
        with lock:
            for m in got:
                seen[int(m.value())] += 1
            stats[name] += len(got)
        try:
            c.commit(asynchronous=False)
        except KafkaException as e:
            with lock:
                stats["commit errors"] += 1
                stats["last commit error"] = str(e)
        time.sleep(0.05)  # slow enough that membership changes happen mid-stream
    c.close()  # LeaveGroup


def phase_group():
    admin = AdminClient({"bootstrap.servers": BOOTSTRAP})
    admin.create_topics([NewTopic(TOPIC, num_partitions=6, replication_factor=1)])[TOPIC].result(10)
    md = admin.list_topics(TOPIC, timeout=10)
    if len(md.topics[TOPIC].partitions) != 6:
        fail(f"topic has {len(md.topics[TOPIC].partitions)} partitions, expected 6")
    print(f"ok: AdminClient created '{TOPIC}' with 6 partitions")
    admin.create_topics([NewTopic("extra", num_partitions=2, replication_factor=1,
                                  config={"retention.ms": "3600000"})])["extra"].result(10)
    admin.create_partitions([NewPartitions("extra", 5)])["extra"].result(10)
    n = len(admin.list_topics("extra", timeout=10).topics["extra"].partitions)
    if n != 5:
        fail(f"create_partitions: 'extra' has {n} partitions, expected 5")
    res = ConfigResource(ConfigResource.Type.TOPIC, "extra")
    configs = admin.describe_configs([res])[res].result(10)
    if configs["retention.ms"].value != "3600000" or configs["retention.ms"].is_default:
        fail(f"describe_configs: retention.ms = {configs['retention.ms']}")
    if configs["cleanup.policy"].value != "delete" or not configs["cleanup.policy"].is_default:
        fail(f"describe_configs: cleanup.policy = {configs['cleanup.policy']}")
    print("ok: create_partitions raised 'extra' from 2 to 5 partitions; describe_configs shows "
          "its retention.ms override and the defaults")
    produce(range(N))
    print(f"ok: idempotent producer (acks=all) delivered {N} messages")

    seen, lock, stats = collections.Counter(), threading.Lock(), collections.Counter()
    stops = {n: threading.Event() for n in ["m1", "m2", "m3", "m4"]}
    threads = {}

    def start(n):
        threads[n] = threading.Thread(target=member, args=(n, stops[n], seen, lock, stats))
        threads[n].start()

    def consumed():
        with lock:
            return sum(seen.values())

    def wait_for(pred, seconds):
        deadline = time.time() + seconds
        while time.time() < deadline and not pred():
            time.sleep(0.1)
        return pred()

    for n in ["m1", "m2", "m3"]:
        start(n)
    if not wait_for(lambda: consumed() >= N // 4, 60):
        fail(f"the group consumed only {consumed()} of {N} messages in 60 s")
    stops["m2"].set()  # m2 leaves the group
    threads["m2"].join()
    start("m4")  # m4 joins
    if not wait_for(lambda: consumed() >= N, 120):
        fail(f"the group consumed {consumed()} of {N} messages in 120 s ({dict(stats)})")
    time.sleep(1)  # anything consumed twice would show up now
    for n in ["m1", "m3", "m4"]:
        stops[n].set()
    for n in ["m1", "m3", "m4"]:
        threads[n].join()
    dups = [v for v, c in seen.items() if c > 1]
    missing = [v for v in range(N) if seen[v] == 0]
    if dups or missing:
        fail(f"{len(dups)} messages consumed more than once (e.g. {dups[:5]}), {len(missing)} "
             f"never (e.g. {missing[:5]}); {dict(stats)}")
    for n in ["m1", "m3", "m4"]:
        if stats[n] == 0:
            fail(f"member {n} consumed nothing ({dict(stats)})")
    print(f"ok: group of 3 (m2 left, m4 joined) consumed all {N} messages exactly once "
          f"({', '.join(f'{n}: {stats[n]}' for n in ['m1', 'm2', 'm3', 'm4'])}; "
          f"{stats['commit errors']} commits refused during rebalances)")


def phase_resume():
    seen, lock, stats = collections.Counter(), threading.Lock(), collections.Counter()
    stop = threading.Event()
    t = threading.Thread(target=member, args=("m5", stop, seen, lock, stats))
    t.start()
    time.sleep(6)  # joins, fetches its committed offsets, polls
    with lock:
        old = sum(seen.values())
    produce(range(N, N + 10))
    deadline = time.time() + 30
    while time.time() < deadline:
        with lock:
            if sum(seen.values()) >= old + 10:
                break
        time.sleep(0.1)
    time.sleep(0.5)
    stop.set()
    t.join()
    if old:
        fail(f"after the restart the group re-consumed {old} old messages: committed offsets lost")
    if sorted(seen) != list(range(N, N + 10)) or any(c != 1 for c in seen.values()):
        fail(f"after the restart the member consumed {dict(seen)}, expected {N}..{N + 9} once")
    print("ok: after a restart the group resumed at its committed offsets (nothing old, the 10 "
          "new messages once)")


if __name__ == "__main__":
    {"group": phase_group, "resume": phase_resume}[PHASE]()
