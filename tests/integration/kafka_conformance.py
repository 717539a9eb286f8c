"""Kafka conformance of eddy server with librdkafka (confluent-kafka-python, and librdkafka's
admin API through ctypes where the Python binding of Debian 12 lacks it), run by
kafka_conformance.sh. Each check prints "ok: ..." or "FAIL: ..."; the exit code is the number of
failed checks. Expected answers are Kafka's (error codes from the protocol's error table).

  offset-commit  a consumer's OffsetCommit and the admin client's AlterConsumerGroupOffsets for
                 a topic (or partition) that does not exist are refused per partition with
                 UNKNOWN_TOPIC_OR_PARTITION and nothing is committed for them
  create-configs CreateTopics refuses an unknown config (INVALID_CONFIG, as Kafka) and a Kafka
                 config eddy does not implement, by name; takes compression.type=producer and
                 delete.retention.ms
  fetch-limit    a consumer with fetch.max.bytes = 1 MiB reads three partitions holding one
                 600 KB batch each: the broker may exceed the limit only with the first batch
                 (KIP-74), or librdkafka rejects the response as larger than
                 receive.message.max.bytes
"""
import ctypes
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

BOOTSTRAP = sys.argv[1]
FAILS = []

UNKNOWN_TOPIC_OR_PARTITION = 3  # Kafka's error code (also librdkafka's RD_KAFKA_RESP_ERR_*)
INVALID_CONFIG = 40


def ok(msg):
    print(f"ok: {msg}", flush=True)


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    FAILS.append(msg)


ADMIN = AdminClient({"bootstrap.servers": BOOTSTRAP})  # kept: results need a live handle


def create_topic(name, partitions, config=None):
    ADMIN.create_topics([NewTopic(name, partitions, 1, config=config or {})])[name].result(15)


# --- librdkafka's admin API through ctypes (AlterConsumerGroupOffsets, librdkafka >= 2.0) ---

class TopicPartitionC(ctypes.Structure):
    _fields_ = [("topic", ctypes.c_char_p), ("partition", ctypes.c_int32),
                ("offset", ctypes.c_int64), ("metadata", ctypes.c_void_p),
                ("metadata_size", ctypes.c_size_t), ("opaque", ctypes.c_void_p),
                ("err", ctypes.c_int), ("_private", ctypes.c_void_p)]


class TopicPartitionListC(ctypes.Structure):
    _fields_ = [("cnt", ctypes.c_int), ("size", ctypes.c_int),
                ("elems", ctypes.POINTER(TopicPartitionC))]


def alter_consumer_group_offsets(group, offsets):
    """Calls rd_kafka_AlterConsumerGroupOffsets; returns {(topic, partition): error code}."""
    rd = ctypes.CDLL("librdkafka.so.1")
    vp = ctypes.c_void_p
    rd.rd_kafka_conf_new.restype = vp
    rd.rd_kafka_conf_set.argtypes = [vp, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                     ctypes.c_size_t]
    rd.rd_kafka_new.restype = vp
    rd.rd_kafka_new.argtypes = [ctypes.c_int, vp, ctypes.c_char_p, ctypes.c_size_t]
    rd.rd_kafka_queue_new.restype = vp
    rd.rd_kafka_queue_new.argtypes = [vp]
    rd.rd_kafka_topic_partition_list_new.restype = ctypes.POINTER(TopicPartitionListC)
    rd.rd_kafka_topic_partition_list_add.restype = ctypes.POINTER(TopicPartitionC)
    rd.rd_kafka_topic_partition_list_add.argtypes = [ctypes.POINTER(TopicPartitionListC),
                                                     ctypes.c_char_p, ctypes.c_int32]
    rd.rd_kafka_AlterConsumerGroupOffsets_new.restype = vp
    rd.rd_kafka_AlterConsumerGroupOffsets_new.argtypes = [ctypes.c_char_p,
                                                          ctypes.POINTER(TopicPartitionListC)]
    rd.rd_kafka_AlterConsumerGroupOffsets.argtypes = [vp, ctypes.POINTER(vp), ctypes.c_size_t, vp,
                                                      vp]
    rd.rd_kafka_queue_poll.restype = vp
    rd.rd_kafka_queue_poll.argtypes = [vp, ctypes.c_int]
    rd.rd_kafka_event_error.restype = ctypes.c_int
    rd.rd_kafka_event_error.argtypes = [vp]
    rd.rd_kafka_event_AlterConsumerGroupOffsets_result.restype = vp
    rd.rd_kafka_event_AlterConsumerGroupOffsets_result.argtypes = [vp]
    rd.rd_kafka_AlterConsumerGroupOffsets_result_groups.restype = ctypes.POINTER(vp)
    rd.rd_kafka_AlterConsumerGroupOffsets_result_groups.argtypes = [vp,
                                                                    ctypes.POINTER(ctypes.c_size_t)]
    rd.rd_kafka_group_result_error.restype = vp
    rd.rd_kafka_group_result_error.argtypes = [vp]
    rd.rd_kafka_group_result_partitions.restype = ctypes.POINTER(TopicPartitionListC)
    rd.rd_kafka_group_result_partitions.argtypes = [vp]
    rd.rd_kafka_event_destroy.argtypes = [vp]
    rd.rd_kafka_queue_destroy.argtypes = [vp]
    rd.rd_kafka_destroy.argtypes = [vp]
    rd.rd_kafka_AlterConsumerGroupOffsets_destroy.argtypes = [vp]
    rd.rd_kafka_topic_partition_list_destroy.argtypes = [ctypes.POINTER(TopicPartitionListC)]

    err = ctypes.create_string_buffer(512)
    conf = rd.rd_kafka_conf_new()
    rd.rd_kafka_conf_set(conf, b"bootstrap.servers", BOOTSTRAP.encode(), err, 512)
    rk = rd.rd_kafka_new(0, conf, err, 512)  # RD_KAFKA_PRODUCER: the admin API needs no group
    if not rk:
        raise RuntimeError(err.value.decode())
    queue = rd.rd_kafka_queue_new(rk)
    parts = rd.rd_kafka_topic_partition_list_new(len(offsets))
    for topic, partition, offset in offsets:
        rd.rd_kafka_topic_partition_list_add(parts, topic.encode(), partition).contents.offset = offset
    alter = vp(rd.rd_kafka_AlterConsumerGroupOffsets_new(group.encode(), parts))
    rd.rd_kafka_topic_partition_list_destroy(parts)
    rd.rd_kafka_AlterConsumerGroupOffsets(rk, ctypes.byref(alter), 1, None, queue)
    result = {}
    ev = rd.rd_kafka_queue_poll(queue, 20000)
    try:
        if not ev:
            raise RuntimeError("no AlterConsumerGroupOffsets result within 20 s")
        if rd.rd_kafka_event_error(ev):
            raise RuntimeError(f"request error {rd.rd_kafka_event_error(ev)}")
        res = rd.rd_kafka_event_AlterConsumerGroupOffsets_result(ev)
        n = ctypes.c_size_t()
        groups = rd.rd_kafka_AlterConsumerGroupOffsets_result_groups(res, ctypes.byref(n))
        for i in range(n.value):
            if rd.rd_kafka_group_result_error(groups[i]):
                raise RuntimeError("group-level error")
            pl = rd.rd_kafka_group_result_partitions(groups[i]).contents
            for j in range(pl.cnt):
                e = pl.elems[j]
                result[(e.topic.decode(), e.partition)] = e.err
    finally:
        if ev:
            rd.rd_kafka_event_destroy(ev)
        rd.rd_kafka_AlterConsumerGroupOffsets_destroy(alter)
        rd.rd_kafka_queue_destroy(queue)
        rd.rd_kafka_destroy(rk)
    return result


def committed(group, tps):
    c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": group})
    try:
        got = c.committed([TopicPartition(t, p) for t, p in tps], timeout=10)
        return {(tp.topic, tp.partition): tp.offset for tp in got}
    finally:
        c.close()


def check_offset_commit():
    create_topic("committed", 2)
    # A consumer's commit (librdkafka OffsetCommit), outside any subscription.
    c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": "commit-check",
                  "enable.auto.commit": False})
    codes = set()
    try:
        res = c.commit(offsets=[TopicPartition("no-such-topic", 0, 5),
                                TopicPartition("committed", 0, 7)], asynchronous=False)
        for tp in res or []:
            if tp.error is not None:
                codes.add(tp.error.code())
    except KafkaException as e:
        codes.add(e.args[0].code())
    finally:
        c.close()
    if UNKNOWN_TOPIC_OR_PARTITION in codes:
        ok("a consumer's commit to a topic that does not exist gets UNKNOWN_TOPIC_OR_PARTITION")
    else:
        fail(f"a consumer's commit to a missing topic: error codes {codes}, expected "
             f"{UNKNOWN_TOPIC_OR_PARTITION}")
    got = committed("commit-check", [("committed", 0), ("no-such-topic", 0)])
    if got[("committed", 0)] == 7 and got[("no-such-topic", 0)] < 0:
        ok("the existing partition was committed (offset 7), the missing topic was not")
    else:
        fail(f"committed offsets after the commit: {got}")

    # The admin client's AlterConsumerGroupOffsets (librdkafka's admin API).
    res = alter_consumer_group_offsets(
        "altered", [("no-such-topic", 0, 5), ("committed", 1, 9), ("committed", 7, 3)])
    want = {("no-such-topic", 0): UNKNOWN_TOPIC_OR_PARTITION, ("committed", 1): 0,
            ("committed", 7): UNKNOWN_TOPIC_OR_PARTITION}
    if res == want:
        ok("AlterConsumerGroupOffsets: UNKNOWN_TOPIC_OR_PARTITION for the missing topic and for "
           "partition 7 of a 2-partition topic, NO_ERROR for the existing partition")
    else:
        fail(f"AlterConsumerGroupOffsets per-partition errors {res}, expected {want}")
    got = committed("altered", [("committed", 1), ("no-such-topic", 0)])
    if got[("committed", 1)] == 9 and got[("no-such-topic", 0)] < 0:
        ok("AlterConsumerGroupOffsets committed only the existing partition")
    else:
        fail(f"committed offsets after AlterConsumerGroupOffsets: {got}")


def create_error(name, config):
    try:
        create_topic(name, 1, config)
    except KafkaException as e:
        return e.args[0]
    return None


def check_create_configs():
    a = ADMIN
    for name, config, what in [
            ("cfg-unknown", {"dummy.doesntexist": "1"}, "dummy.doesntexist"),
            ("cfg-compaction", {"min.compaction.lag.ms": "1000"}, "min.compaction.lag.ms"),
            ("cfg-zstd", {"compression.type": "zstd"}, "compression.type")]:
        e = create_error(name, config)
        if e is None:
            fail(f"CreateTopics with {config} was accepted")
        elif e.code() != INVALID_CONFIG or what not in e.str():
            fail(f"CreateTopics with {config}: {e.code()} '{e.str()}', expected INVALID_CONFIG "
                 f"naming {what}")
        else:
            ok(f"CreateTopics with {config}: INVALID_CONFIG '{e.str()}'")
        if name in a.list_topics(timeout=10).topics:
            fail(f"topic {name} was created anyway")
    e = create_error("cfg-ok", {"compression.type": "producer", "delete.retention.ms": "1000"})
    if e is not None:
        fail(f"CreateTopics with compression.type=producer, delete.retention.ms=1000: {e}")
        return
    res = ConfigResource(ConfigResource.Type.TOPIC, "cfg-ok")
    configs = a.describe_configs([res])[res].result(10)
    values = {k: configs[k].value for k in ("compression.type", "delete.retention.ms")}
    if values == {"compression.type": "producer", "delete.retention.ms": "1000"}:
        ok("compression.type=producer and delete.retention.ms=1000 are kept (describe_configs)")
    else:
        fail(f"describe_configs of cfg-ok: {values}")


def check_fetch_limit():
    create_topic("wide", 3)
    value = b"v" * 100_000
    p = Producer({"bootstrap.servers": BOOTSTRAP, "linger.ms": 500, "batch.size": 1_000_000,
                  "compression.type": "none", "acks": "all"})
    for part in range(3):
        for i in range(6):
            p.produce("wide", value=value, partition=part)
    if p.flush(30):
        fail("the producer did not deliver the 18 messages")
        return
    errors = []
    c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": "fetch-limit",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False,
                  "fetch.max.bytes": 1048576, "receive.message.max.bytes": 1048576 + 512,
                  "error_cb": lambda e: errors.append(str(e))})
    c.assign([TopicPartition("wide", part, 0) for part in range(3)])
    got = 0
    deadline = time.time() + 30
    while got < 18 and time.time() < deadline:
        m = c.poll(0.2)
        if m is not None and m.error() is None:
            got += 1
    c.close()
    if got == 18 and not errors:
        ok("a 1 MiB fetch.max.bytes consumer read 3 partitions of 600 KB batches (18 messages) "
           "without an oversized response")
    else:
        fail(f"fetch.max.bytes = 1 MiB: {got} of 18 messages; client errors: {errors[:3]}")


CHECKS = {"offset-commit": check_offset_commit, "create-configs": check_create_configs,
          "fetch-limit": check_fetch_limit}

for name in sys.argv[2:] or CHECKS:
    try:
        CHECKS[name]()
    except Exception as e:  # a client error is a failed check, not a crash of the test
        fail(f"{name}: {type(e).__name__}: {e}")
sys.exit(len(FAILS))
