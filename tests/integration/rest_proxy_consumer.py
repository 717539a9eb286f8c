"""Consumer instances of the REST Proxy v2 API (rest_proxy_consumer.sh), driven with urllib, and
checked against a real Kafka client (confluent-kafka, librdkafka) of the same consumer group.

Usage: rest_proxy_consumer.py HTTP_URL BOOTSTRAP
Prints "ok: ..." / "FAIL: ..." lines; exits 1 when something failed.
"""
import base64
import json
import sys
import time
import urllib.error
import urllib.request

from confluent_kafka import Consumer, Producer, TopicPartition

H, BS = sys.argv[1], sys.argv[2]
V2 = "application/vnd.kafka.v2+json"
JSON_V2 = "application/vnd.kafka.json.v2+json"
BIN_V2 = "application/vnd.kafka.binary.v2+json"
failed = False


def check(cond, what):
    global failed
    print(("  ok: " if cond else "  FAIL: ") + what)
    failed |= not cond


def call(method, path, body=None, accept=None, content_type=V2):
    """(status, parsed JSON body or None)."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": content_type} if data is not None else {}
    if accept:
        headers["Accept"] = accept
    req = urllib.request.Request(H + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, json.loads(raw) if raw else None


def fetch_all(base, want, accept=JSON_V2):
    """Records of repeated fetches until `want` records came or 10 s passed."""
    out, deadline = [], time.time() + 10
    while len(out) < want and time.time() < deadline:
        status, recs = call("GET", base + "/records?timeout=200", accept=accept)
        if status != 200:
            return status, recs
        out += recs
    return 200, out


# Independent data: a librdkafka producer writes 3 JSON records to each of 2 partitions and
# reports where each landed.
produced = []
p = Producer({"bootstrap.servers": BS})
for i in range(6):
    p.produce("events", key=json.dumps(f"k{i}"), value=json.dumps({"n": i}), partition=i % 2,
              on_delivery=lambda err, m: produced.append(
                  (m.partition(), m.offset(), json.loads(m.key()), json.loads(m.value()))))
p.flush(10)
check(len(produced) == 6, f"librdkafka produced 6 records: {sorted(produced)}")
per_partition = {q: sum(1 for x in produced if x[0] == q) for q in (0, 1)}

# A Kafka client of the same group, to read the group's committed offsets.
kc = Consumer({"bootstrap.servers": BS, "group.id": "g1", "enable.auto.commit": False})


def kafka_committed(group_consumer=None):
    c = group_consumer or kc
    return {tp.partition: tp.offset
            for tp in c.committed([TopicPartition("events", 0), TopicPartition("events", 1)],
                                  timeout=10)}


print("== a json consumer instance reads every record")
status, body = call("POST", "/consumers/g1", {"name": "c1", "format": "json",
                                              "auto.offset.reset": "earliest",
                                              "auto.commit.enable": "false"})
check(status == 200 and body["instance_id"] == "c1" and
      body["base_uri"].endswith("/consumers/g1/instances/c1") and body["base_uri"].startswith(H),
      f"POST /consumers/g1: {status} {body}")
C1 = "/consumers/g1/instances/c1"
status, _ = call("POST", C1 + "/subscription", {"topics": ["events"]})
check(status == 204, f"subscribe: {status}")
status, body = call("GET", C1 + "/subscription")
check(status == 200 and body == {"topics": ["events"]}, f"GET subscription: {body}")
status, body = call("GET", C1 + "/assignments")
check(body == {"partitions": [{"topic": "events", "partition": 0},
                              {"topic": "events", "partition": 1}]},
      f"the only instance of g1 is assigned both partitions: {body}")
status, recs = fetch_all(C1, 6)
got = sorted((r["partition"], r["offset"], r["key"], r["value"]) for r in recs) if status == 200 else recs
check(status == 200 and got == sorted(produced) and all(r["topic"] == "events" for r in recs),
      f"GET records (json): the 6 records the producer wrote, keys and values as JSON: {got}")
status, recs = call("GET", C1 + "/records?timeout=100", accept=JSON_V2)
check(status == 200 and recs == [], f"nothing more to read: {status} {recs}")

print("== commits are the group's committed offsets, as a Kafka client sees them")
status, _ = call("POST", C1 + "/offsets")
check(status == 204, f"commit what was returned (empty body): {status}")
check(kafka_committed() == per_partition,
      f"librdkafka sees the committed offsets {kafka_committed()} (records per partition: {per_partition})")
status, body = call("GET", C1 + "/offsets", {"partitions": [{"topic": "events", "partition": 0},
                                                              {"topic": "events", "partition": 1}]})
check(status == 200 and {o["partition"]: o["offset"] for o in body["offsets"]} == per_partition,
      f"GET offsets: {body}")
status, _ = call("POST", C1 + "/offsets",
                 {"offsets": [{"topic": "events", "partition": 0, "offset": 0}]})
check(status == 204 and kafka_committed()[0] == 1,
      f"commit offset 0 (the last record consumed, Confluent's meaning): Kafka's committed offset is 1: {kafka_committed()}")
# A Kafka client commits; the REST API sees it.
kc.commit(offsets=[TopicPartition("events", 1, 2)], asynchronous=False)
status, body = call("GET", C1 + "/offsets", {"partitions": [{"topic": "events", "partition": 1}]})
check(status == 200 and body["offsets"][0]["offset"] == 2,
      f"an offset librdkafka committed (2) is what GET offsets answers: {body}")

print("== seek")
status, _ = call("POST", C1 + "/positions",
                 {"offsets": [{"topic": "events", "partition": 0, "offset": 1}]})
check(status == 204, f"POST positions: {status}")
status, recs = fetch_all(C1, per_partition[0] - 1)
want = sorted(x for x in produced if x[0] == 0 and x[1] >= 1)
got = sorted((r["partition"], r["offset"], r["key"], r["value"]) for r in recs)
check(got == want, f"after the seek the records of partition 0 from offset 1: {got}")
status, _ = call("POST", C1 + "/positions/beginning",
                 {"partitions": [{"topic": "events", "partition": 1}]})
status, recs = fetch_all(C1, per_partition[1])
check(sorted(r["offset"] for r in recs) == list(range(per_partition[1])),
      f"positions/beginning: partition 1 again from offset 0: {[r['offset'] for r in recs]}")

print("== two instances of a group share the partitions; a new one starts at the committed offset")
status, body = call("POST", "/consumers/g1", {"name": "c2", "format": "binary"})
C2 = "/consumers/g1/instances/c2"
call("POST", C2 + "/subscription", {"topics": ["events"]})
a1, a2 = call("GET", C1 + "/assignments")[1], call("GET", C2 + "/assignments")[1]
check(a1 == {"partitions": [{"topic": "events", "partition": 0}]} and
      a2 == {"partitions": [{"topic": "events", "partition": 1}]},
      f"range assignment by instance name: c1 {a1}, c2 {a2}")
status, recs = fetch_all(C2, per_partition[1] - 2, accept=BIN_V2)
got = sorted((r["partition"], r["offset"], base64.b64decode(r["key"]), base64.b64decode(r["value"]))
             for r in recs) if status == 200 else recs
# The producer wrote json.dumps() text; compare the bytes it wrote.
want = sorted((x[0], x[1], json.dumps(x[2]).encode(), json.dumps(x[3]).encode())
              for x in produced if x[0] == 1 and x[1] >= 2)
check(got == want, f"c2 (binary) reads partition 1 from the committed offset 2, base64: {got}")

print("== auto commit")
status, _ = call("POST", "/consumers/g2", {"name": "a", "format": "json", "auto.commit.enable": "true"})
call("POST", "/consumers/g2/instances/a/subscription", {"topics": ["events"]})
fetch_all("/consumers/g2/instances/a", 6)
kc2 = Consumer({"bootstrap.servers": BS, "group.id": "g2", "enable.auto.commit": False})
check(kafka_committed(kc2) == per_partition,
      f"auto.commit.enable=true: records returned are committed: {kafka_committed(kc2)}")
kc2.close()

print("== errors (Confluent's error codes)")


def expect(what, status_want, code_want, method, path, body=None, accept=None, content_type=V2):
    status, b = call(method, path, body, accept, content_type)
    code = b.get("error_code") if isinstance(b, dict) else None
    check(status == status_want and code == code_want, f"{what}: {status} {b}")


expect("an instance name in use", 409, 40902, "POST", "/consumers/g1", {"name": "c1"})
expect("an unknown instance", 404, 40403, "GET", "/consumers/g1/instances/nope/records", accept=JSON_V2)
expect("format avro", 422, 42204, "POST", "/consumers/g1", {"name": "x", "format": "avro"})
expect("auto.offset.reset maybe", 422, 42204, "POST", "/consumers/g1",
       {"name": "x", "auto.offset.reset": "maybe"})
expect("binary records from a json instance", 406, 40601, "GET", C1 + "/records", accept=BIN_V2)
expect("a subscription without topics", 422, 42204, "POST", C1 + "/subscription", {"topic": "events"})
expect("commit to an unknown topic", 404, 40401, "POST", C1 + "/offsets",
       {"offsets": [{"topic": "nope", "partition": 0, "offset": 1}]})
expect("seek on a partition assigned to another instance", 409, 40903, "POST", C1 + "/positions",
       {"offsets": [{"topic": "events", "partition": 1, "offset": 0}]})
expect("a body of another type", 415, 415, "POST", "/consumers/g1", {"name": "y"},
       content_type="text/plain")
req = urllib.request.Request(H + "/consumers/g1", data=b"{not json", method="POST",
                             headers={"Content-Type": V2})
try:
    urllib.request.urlopen(req, timeout=5)
    check(False, "bad JSON was accepted")
except urllib.error.HTTPError as e:
    check(e.code == 400 and json.loads(e.read())["error_code"] == 400, f"bad JSON: {e.code}")

print("== delete and expiry")
status, _ = call("DELETE", C2)
check(status == 204, f"DELETE c2: {status}")
expect("c2 after DELETE", 404, 40403, "GET", C2 + "/records", accept=BIN_V2)
a1 = call("GET", C1 + "/assignments")[1]
check(len(a1["partitions"]) == 2, f"c1 takes both partitions again: {a1}")
call("POST", "/consumers/g3", {"name": "idle"})
time.sleep(2.5)  # the server runs with --consumer-instance-timeout-ms 2000
expect("an instance idle longer than consumer.instance.timeout.ms", 404, 40403, "GET",
       "/consumers/g3/instances/idle/subscription")
kc.close()
sys.exit(1 if failed else 0)
