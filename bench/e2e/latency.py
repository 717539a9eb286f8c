"""End-to-end latency through `eddy server`: a confluent-kafka producer sends RATE records/s to
topic `src` for SECONDS, a pass-through pipeline (INSERT INTO dst SELECT k, t FROM src) copies
them to topic `dst`, and a confluent-kafka consumer of `dst` measures, per record, the time from
the producer call (t, in µs, carried in the record) to its receipt. Prints one JSON line with
p50/p99/p99.9/max in ms, the number of records received and the rate reached.

With PUSH_URL set (the server's HTTP address), the receiver is a push query instead
(POST /v1/query with `SELECT k, t FROM src`, rows as newline-delimited JSON): producer call →
the row on the HTTP client, no pipeline and no `dst`.

Usage: python3 latency.py BOOTSTRAP RATE SECONDS
"""
import json
import os
import sys
import multiprocessing
import time

from confluent_kafka import Consumer, Producer, TopicPartition

bootstrap, rate, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
total = int(rate * seconds)


def push_consume(done, results, url):
    # The push query reads `src` from its end; each NDJSON row carries t.
    import urllib.request
    sql = ("CREATE TABLE src (k STRING, t BIGINT) WITH ('connector' = 'kafka', 'topic' = 'src', "
           f"'properties.bootstrap.servers' = '{bootstrap}', 'scan.startup.mode' = 'latest-offset', "
           "'format' = 'csv'); SELECT k, t FROM src")
    req = urllib.request.Request(url + "/v1/query", data=json.dumps({"sql": sql}).encode(),
                                 headers={"Content-Type": "application/json"})
    lat_us = []
    with urllib.request.urlopen(req) as r:
        ready.set()
        for line in r:
            now = time.time_ns() // 1000
            row = json.loads(line)
            lat_us.append(now - int(row["t"]))
            if len(lat_us) >= total:
                break
    results.send((lat_us, []))


def consume(done, results):
    # A process of its own: in a thread it would wait for the producer loop's GIL.
    lat_us = []
    sink_us = []  # producer call → the pipeline's append to dst (the dst record's timestamp, ms)
    c = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "latency-bench",
        "enable.auto.commit": False,
        # Ask for every record as soon as it is there: the broker answers a Fetch when one byte is
        # available (fetch.min.bytes), so what is measured is eddy, not the client's waiting.
        "fetch.wait.max.ms": 100,
        "fetch.min.bytes": 1,
        "isolation.level": os.environ.get("ISOLATION", "read_committed"),
    })
    c.assign([TopicPartition("dst", 0, -1)])  # OFFSET_END: only what the run produces
    deadline = None
    while len(lat_us) < total:
        # poll() returns as soon as one record is there (consume(n) would wait for n or its timeout).
        m = c.poll(0.05)
        now = time.time_ns() // 1000
        if m is not None and not m.error():
            t = int(m.value().decode().split(",")[1])
            lat_us.append(now - t)
            sink_us.append(m.timestamp()[1] * 1000 - t)
        if done.is_set():
            deadline = deadline or time.time() + 10
            if time.time() > deadline:
                break
    c.close()
    results.send((lat_us, sink_us))


done = multiprocessing.Event()
ready = multiprocessing.Event()
results, child_end = multiprocessing.Pipe(duplex=False)
if os.environ.get("PUSH_URL"):
    th = multiprocessing.Process(target=push_consume, args=(done, child_end, os.environ["PUSH_URL"]))
else:
    th = multiprocessing.Process(target=consume, args=(done, child_end))
th.start()
time.sleep(2)  # the consumer's assignment is in place before the first record
p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "acks": os.environ.get("ACKS", "all")})
start = time.perf_counter()
for i in range(total):
    due = start + i / rate
    while True:
        d = due - time.perf_counter()
        if d <= 0:
            break
        if d > 0.002:
            p.poll(0)
            time.sleep(d - 0.001)
    p.produce("src", value=f"k{i % 100},{time.time_ns() // 1000}".encode())
    p.poll(0)
p.flush(30)
elapsed = time.perf_counter() - start
done.set()
lat_us, sink_us = results.recv()
th.join()
lat = sorted(lat_us)


def pct(q, v=lat):
    return round(v[min(len(v) - 1, int(q * len(v)))] / 1000.0, 3) if v else None


sink = sorted(sink_us)


print(json.dumps({"rate": rate, "sent": total, "received": len(lat),
                  "rate_reached": round(total / elapsed), "p50_ms": pct(0.50), "p99_ms": pct(0.99),
                  "p999_ms": pct(0.999),
                  "to_sink_p50_ms": pct(0.5, sink), "to_sink_p99_ms": pct(0.99, sink), "max_ms": round(lat[-1] / 1000.0, 3) if lat else None}))
