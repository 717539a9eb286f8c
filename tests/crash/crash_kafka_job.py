"""Exactly-once Kafka output through SIGKILL (issue: fault tolerance), run by kafka_job.sh.

The flights delays query (examples/flights/delays-kafka.sql: hourly statistics per origin over a
tumbling window) reads the 'flights' topic of an `eddy server` and writes its results to a topic
with 'sink.delivery-guarantee' = 'exactly-once' and checkpoints every 50-200 ms. Two scenarios:

  run:      `eddy run` over librdkafka; the job is SIGKILLed at random moments and restarted with
            `--from-checkpoint latest` (at parallelism 1 or 2, chosen anew each time: a restore
            may change it) until a run finishes; the broker stays up.
  pipeline: the same query as an `eddy server --sql` pipeline on the local log, restoring its
            latest checkpoint when the server starts; the whole server is SIGKILLed at random
            moments and restarted until the pipeline ends.

After every kill a read_committed consumer (confluent-kafka-python) must see a sub-multiset of
the reference (no row twice, no row that is not in the result); at the end it must see exactly
the reference, row for row, and no transaction may be left open (last stable offset = high
watermark). The reference is the output of a run without failures (at-least-once, no checkpoints)
of the same query. Finally an eddy job with a read_committed kafka source (librdkafka) and a
bounded scan reads the last output back: the same rows.

Usage: crash_kafka_job.py EDDY ROOT WORK SCENARIO KILLS SEED
"""
import collections
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time

from confluent_kafka import Consumer, KafkaError, TopicPartition

EDDY, ROOT, WORK, SCENARIO, KILLS, SEED = sys.argv[1:7]
KILLS = int(KILLS)
rng = random.Random(int(SEED))
DATA = os.path.join(WORK, "data")
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
PORT = sock.getsockname()[1]
sock.close()
BOOTSTRAP = f"127.0.0.1:{PORT}"
fails = 0


def check(cond, what):
    global fails
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        fails += 1


def die(what):
    print("FAIL: " + what, flush=True)
    sys.exit(1)


class Server:
    def __init__(self):
        self.proc = None

    def start(self, *extra):
        port_file = os.path.join(WORK, "port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        args = [EDDY, "server", "--data-dir", DATA, "--kafka-listen", BOOTSTRAP, "--port-file",
                port_file, *extra]
        with open(os.path.join(WORK, "server.err"), "ab") as err:
            self.proc = subprocess.Popen(args, cwd=WORK, stdout=subprocess.DEVNULL, stderr=err)
        for _ in range(400):
            if os.path.exists(port_file) and open(port_file).read().strip():
                return
            if self.proc.poll() is not None:
                die(f"the server exited with {self.proc.returncode} at start")
            time.sleep(0.025)
        die("the server did not start listening")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


def read(topic, isolation="read_committed"):
    """The values of `topic` a consumer with `isolation` reads to the end, as a multiset."""
    c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": f"check-{time.time()}",
                  "isolation.level": isolation, "enable.partition.eof": True,
                  "enable.auto.commit": False})
    c.assign([TopicPartition(topic, p, 0) for p in range(3)])
    rows, eof = collections.Counter(), set()
    deadline = time.time() + 60
    while len(eof) < 3:
        if time.time() > deadline:
            die(f"reading {topic}: the end was not reached within 60 s")
        for m in c.consume(1000, 0.2):
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    eof.add(m.partition())
                    continue
                die(f"reading {topic}: {m.error()}")
            eof.discard(m.partition())
            rows[m.value().decode()] += 1
    c.close()
    return rows


def ends(topic, isolation):
    c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": "ends", "isolation.level": isolation})
    out = [c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(3)]
    c.close()
    return out


def job_sql(out_topic, exactly_once, checkpoint_dir=None):
    """The delays query of examples/flights/delays-kafka.sql writing to `out_topic`."""
    sql = open(os.path.join(ROOT, "examples/flights/delays-kafka.sql")).read()
    sql = sql.replace("127.0.0.1:9092", BOOTSTRAP).replace("'hourly_delays'", f"'{out_topic}'")
    guarantee = ("'sink.delivery-guarantee' = 'exactly-once',\n"
                 "  'sink.transactional-id-prefix' = 'delays-" + SCENARIO + "',\n"
                 if exactly_once else "'sink.delivery-guarantee' = 'at-least-once',\n")
    sql = sql.replace("  'key.fields' = 'origin',\n",
                      "  'key.fields' = 'origin',\n  " + guarantee)
    if checkpoint_dir:
        sql = (f"SET 'execution.checkpointing.interval' = '{rng.choice([50, 100, 200])} ms';\n"
               f"SET 'execution.checkpointing.dir' = '{checkpoint_dir}';\n"
               "SET 'execution.savepoint.path' = 'latest';\n" + sql)
    return sql


def write(name, text):
    path = os.path.join(WORK, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def topic_create(name):
    r = subprocess.run([EDDY, "topic", "create", name, "--partitions", "3", "--bootstrap-server",
                        BOOTSTRAP], capture_output=True, text=True)
    if r.returncode != 0:
        die(f"creating topic {name}: {r.stderr}")


# The input: the flights month, replayed into 'flights' (3 partitions, keyed by origin).
server = Server()
server.start()
replay = subprocess.run(["bash", os.path.join(ROOT, "examples/flights/replay.sh"),
                         "--bootstrap-server", BOOTSTRAP, "--partitions", "3"],
                        env={**os.environ, "EDDY": EDDY}, capture_output=True, text=True)
if replay.returncode != 0:
    die("replaying the flights: " + replay.stderr[-500:])
topic_create("reference")

# The reference: one run without failures.
t0 = time.time()
r = subprocess.run([EDDY, "run", write("ref.sql", job_sql("reference", False)), "-q"], cwd=WORK,
                   capture_output=True, text=True, timeout=600)
duration = time.time() - t0
if r.returncode != 0:
    die("reference run: " + r.stderr[-2000:])
ref = read("reference")
print(f"ok: reference run: {sum(ref.values())} rows in {duration:.2f} s", flush=True)

kills = 0


def after_kill(topic):
    rows = read(topic)
    extra = rows - ref
    check(not extra, f"kill {kills}: {sum(rows.values())} rows visible to read_committed, none "
          f"twice or not in the result (extra: {list(extra.items())[:2]})")


def episode(n):
    """Runs the job to its end through kills; returns the output topic."""
    global kills
    topic = f"results{n}"
    topic_create(topic)
    job = write(f"job{n}.sql", job_sql(topic, True, os.path.join(WORK, f"checkpoints{n}")))
    name = os.path.basename(job)
    if SCENARIO == "run":
        for attempt in range(200):
            parallelism = rng.choice([1, 2])
            p = subprocess.Popen([EDDY, "run", job, "-q", "--set",
                                  f"parallelism.default={parallelism}", "--from-checkpoint",
                                  "latest"], cwd=WORK, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)
            try:
                # Within the time a whole run takes (a restored run has less to do: it finishes
                # now and then, which starts the next episode).
                p.wait(timeout=rng.uniform(0.1, duration))
            except subprocess.TimeoutExpired:
                pass
            if p.poll() is None and kills < KILLS:
                p.send_signal(signal.SIGKILL)
                p.wait()
                kills += 1
                after_kill(topic)
                continue
            err = p.communicate(timeout=600)[1]
            if p.returncode != 0:
                die(f"episode {n}: run exited {p.returncode}: {err[-1500:]}")
            return topic
        die(f"episode {n}: no run finished")
    server.stop()
    for attempt in range(200):
        server.start("--sql", job)
        try:
            server.proc.wait(timeout=rng.uniform(0.05, pipeline_duration))
        except subprocess.TimeoutExpired:
            pass
        log = open(os.path.join(WORK, "server.err")).read()
        if f"pipeline '{name}': failed" in log:
            die(f"episode {n}: the pipeline failed")
        if f"pipeline '{name}': ended" in log or kills >= KILLS:
            deadline = time.time() + 120
            while f"pipeline '{name}': ended" not in open(os.path.join(WORK, "server.err")).read():
                if time.time() > deadline:
                    die(f"episode {n}: the pipeline did not end within 120 s")
                time.sleep(0.1)
            server.stop()
            server.start()
            return topic
        server.kill()
        kills += 1
        # What is committed right after the kill (a server without the pipeline serves it).
        server.start()
        after_kill(topic)
        server.stop()
    die(f"episode {n}: the pipeline did not end")


pipeline_duration = duration
if SCENARIO == "pipeline":
    # How long the server takes from its start to the end of the pipeline, without failures.
    server.stop()
    timing = write("timing.sql", job_sql("reference", False))
    t0 = time.time()
    server.start("--sql", timing)
    while "pipeline 'timing.sql': ended" not in open(os.path.join(WORK, "server.err")).read():
        if time.time() - t0 > 120:
            die("the timing pipeline did not end within 120 s")
        time.sleep(0.01)
    pipeline_duration = time.time() - t0
    server.stop()
    server.start()
    print(f"ok: the pipeline alone takes {pipeline_duration:.2f} s from the server's start",
          flush=True)

episodes = 0
while kills < KILLS:
    episodes += 1
    topic = episode(episodes)
    rows = read(topic)
    check(rows == ref, f"episode {episodes} ({kills} kills so far): the committed output equals "
          f"the reference ({sum(rows.values())} rows; missing {sum((ref - rows).values())}, "
          f"extra {sum((rows - ref).values())})")
    # The records of aborted attempts are there for read_uncommitted readers (the kills hit open
    # transactions): what read_committed leaves out.
    raw = read(topic, "read_uncommitted")
    print(f"   episode {episodes}: read_uncommitted sees {sum(raw.values())} rows, "
          f"{sum((raw - ref).values())} of them from aborted transactions", flush=True)
    check(ends(topic, "read_committed") == ends(topic, "read_uncommitted"),
          f"episode {episodes}: no transaction is left open (last stable offset = high "
          "watermark)")
print(f"{kills} kills over {episodes} episodes", flush=True)

# The last output read back by an eddy job with 'properties.isolation.level' = 'read_committed'
# (librdkafka) and a bounded scan: the same rows, and the scan ends although each partition ends
# with a transaction marker, which no consumer receives.
readback = subprocess.run(
    [EDDY, "run", "-q", "--format", "json", "-e",
     f"CREATE TABLE r (v STRING) WITH ('connector' = 'kafka', 'topic' = '{topic}', "
     f"'properties.bootstrap.servers' = '{BOOTSTRAP}', 'scan.startup.mode' = 'earliest-offset', "
     "'scan.bounded.mode' = 'latest-offset', 'properties.isolation.level' = 'read_committed', "
     "'format' = 'raw'); SELECT v FROM r;"],
    cwd=WORK, capture_output=True, text=True, timeout=120)
if readback.returncode != 0:
    check(False, "a read_committed eddy job reads the output back: " + readback.stderr[-1000:])
else:
    got = collections.Counter(json.loads(line)["v"] for line in readback.stdout.splitlines()
                              if line.strip())
    check(got == ref, f"a read_committed eddy job reads the output back: {sum(got.values())} rows, "
          f"equal to the reference")
server.stop()
sys.exit(1 if fails else 0)
