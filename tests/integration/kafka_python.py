"""kafka-python (Debian python3-kafka) against eddy server, run by kafka_python.sh: the admin
client creates a topic, a producer (acks=all, gzip) writes 2000 messages with keys and headers,
a group consumer reads them all back and commits, and a second consumer of the group finds the
committed offsets. Prints "ok: ..." lines; exits 1 on the first failed check."""
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

BOOTSTRAP = sys.argv[1]
TOPIC, N = "py-events", 2000


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP, client_id="kafka-python-admin")
admin.create_topics([NewTopic(TOPIC, num_partitions=4, replication_factor=1)])
if TOPIC not in admin.list_topics():
    fail(f"'{TOPIC}' not listed after create_topics")
print(f"ok: admin client created and listed '{TOPIC}' (4 partitions)")

producer = KafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", compression_type="gzip",
                         linger_ms=5)
futures = [producer.send(TOPIC, key=f"k{i % 13}".encode(), value=f"value {i}".encode(),
                         headers=[("n", str(i).encode())]) for i in range(N)]
producer.flush(30)
offsets = [f.get(timeout=30) for f in futures]
if len({(m.partition, m.offset) for m in offsets}) != N:
    fail("the producer got duplicate (partition, offset) acknowledgements")
print(f"ok: producer (acks=all, gzip) acknowledged {N} messages in "
      f"{len({m.partition for m in offsets})} partitions")
producer.close()

consumer = KafkaConsumer(TOPIC, bootstrap_servers=BOOTSTRAP, group_id="py-group",
                         auto_offset_reset="earliest", enable_auto_commit=False,
                         consumer_timeout_ms=10000)
got = {}
for m in consumer:
    n = int(dict(m.headers)["n"])
    if m.value != f"value {n}".encode() or m.key != f"k{n % 13}".encode():
        fail(f"message {n}: key {m.key!r} value {m.value!r} do not match its header")
    got[n] = got.get(n, 0) + 1
    if len(got) == N:
        break
consumer.commit()
if sorted(got) != list(range(N)) or any(c != 1 for c in got.values()):
    fail(f"consumed {len(got)} distinct of {N} messages")
print(f"ok: group consumer read all {N} messages once (keys, values, headers) and committed")
consumer.close()

second = KafkaConsumer(bootstrap_servers=BOOTSTRAP, group_id="py-group",
                       enable_auto_commit=False)
committed = sum(second.committed(TopicPartition(TOPIC, p)) or 0 for p in range(4))
if committed != N:
    fail(f"committed offsets add up to {committed}, expected {N}")
print(f"ok: the group's committed offsets add up to {N}")
second.close()
