"""Consumer group conformance of eddy server with librdkafka (confluent-kafka-python), run by
kafka_groups.sh with the server's log file. Each check prints "ok: ..." or "FAIL: ..."; the exit
code is the number of failed checks. Generations are counted from the server's log lines
"group 'G' generation N".

  together   3 consumers started together join one generation (group.initial.rebalance.delay.ms):
             each is assigned once, none revoked
  fencing    a second consumer with the same group.instance.id takes over; the first gets
             FENCED_INSTANCE_ID (a fatal error in librdkafka) and the group no new generation
  restart    a static member (the leader, then the follower) restarting within its session
             timeout gets its old partitions back without a rebalance
  expiry     a static member that closes is removed once its session timeout (6 s) has passed
             since its last heartbeat, not a second later
"""
import datetime
import re
import sys
import time

from confluent_kafka import Consumer, KafkaError
from confluent_kafka.admin import AdminClient, NewTopic

BOOTSTRAP, SERVER_LOG = sys.argv[1], sys.argv[2]
ADMIN = AdminClient({"bootstrap.servers": BOOTSTRAP})
FAILS = []


def ok(msg):
    print(f"ok: {msg}", flush=True)


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    FAILS.append(msg)


def create_topic(name, partitions):
    ADMIN.create_topics([NewTopic(name, partitions, 1)])[name].result(15)


def log_lines(pattern):
    """(time as a Unix timestamp, match) of the server log lines matching `pattern`."""
    out = []
    with open(SERVER_LOG, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.search(pattern, line)
            if m:
                t = datetime.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S.%f").timestamp()
                out.append((t, m))
    return out


def generations(group):
    return [int(m.group(1)) for _, m in log_lines(rf"group '{group}' generation (\d+):")]


class Member:
    """A consumer that records its assignments and revocations (eager protocol)."""

    def __init__(self, group, topic, name, instance=None, session_ms=10000):
        self.name, self.events, self.errors = name, [], []
        conf = {"bootstrap.servers": BOOTSTRAP, "group.id": group, "client.id": name,
                "session.timeout.ms": session_ms, "heartbeat.interval.ms": 500,
                "enable.auto.commit": False, "auto.offset.reset": "earliest"}
        if instance:
            conf["group.instance.id"] = instance
        self.c = Consumer(conf)
        self.c.subscribe([topic], on_assign=self._assign, on_revoke=self._revoke)

    def _assign(self, _, parts):
        self.events.append(("assign", sorted(p.partition for p in parts)))

    def _revoke(self, _, parts):
        self.events.append(("revoke", sorted(p.partition for p in parts)))

    def poll(self):
        m = self.c.poll(0.05)
        if m is not None and m.error() is not None:
            self.errors.append(m.error())

    def assigned(self):
        return [e[1] for e in self.events if e[0] == "assign"]

    def close(self):
        self.c.close()


def poll_all(members, seconds, until=None):
    deadline = time.time() + seconds
    while time.time() < deadline:
        for m in members:
            m.poll()
        if until and until():
            return True
    return False


def check_together():
    create_topic("together", 6)
    ms = [Member("together", "together", f"c{i}") for i in range(3)]
    poll_all(ms, 20, until=lambda: all(m.assigned() for m in ms))
    poll_all(ms, 2)  # any extra rebalance round would show here
    events = {m.name: list(m.events) for m in ms}  # before close(), which revokes
    for m in ms:
        m.close()
    parts = sorted(p for m in ms for a in m.assigned() for p in a)
    if all(len(e) == 1 and e[0][0] == "assign" for e in events.values()) and parts == list(
            range(6)):
        ok(f"3 consumers started together: each assigned once, none revoked ({events})")
    else:
        fail(f"3 consumers started together went through extra rounds: {events}")
    gens = generations("together")
    if gens == [1]:
        ok("the group formed in one generation")
    else:
        fail(f"generations of the group: {gens}, expected [1]")


def check_fencing():
    create_topic("fenced", 2)
    first = Member("fencing", "fenced", "first", instance="inst-x")
    poll_all([first], 15, until=lambda: bool(first.assigned()))
    second = Member("fencing", "fenced", "second", instance="inst-x")
    fatal = lambda: any(e.fatal() or e.code() == KafkaError._FATAL for e in first.errors)
    poll_all([first, second], 15, until=lambda: fatal() and bool(second.assigned()))
    poll_all([first, second], 3)
    first_errors = [str(e) for e in first.errors]
    second.close()
    first.close()
    if fatal() and any("FENCED_INSTANCE_ID" in e or "fenced" in e.lower() for e in first_errors):
        ok(f"the first consumer was fenced: {first_errors[0][:120]}")
    else:
        fail(f"the first consumer with group.instance.id inst-x was not fenced: {first_errors}")
    if second.assigned() == [[0, 1]]:
        ok("the second consumer took over both partitions")
    else:
        fail(f"the second consumer's assignments: {second.events}")
    gens = generations("fencing")
    if gens == [1]:
        ok("no rebalance storm: the group stayed in generation 1")
    else:
        fail(f"generations of the group: {gens}, expected [1]")


def check_restart():
    create_topic("restarts", 4)
    a = Member("restart", "restarts", "a", instance="inst-a")
    b = Member("restart", "restarts", "b", instance="inst-b")
    poll_all([a, b], 20, until=lambda: a.assigned() and b.assigned())
    poll_all([a, b], 1)
    if len(a.assigned()) != 1 or len(b.assigned()) != 1:
        fail(f"the two static members did not form one generation: {a.events} {b.events}")
        a.close()
        b.close()
        return
    before = {"a": a.assigned()[-1], "b": b.assigned()[-1]}
    gens_before = generations("restart")
    members = {"a": a, "b": b}
    # Restart each in turn (one of them is the group's leader).
    for name, other in (("a", "b"), ("b", "a")):
        members[name].close()  # a static member sends no LeaveGroup
        again = Member("restart", "restarts", name, instance=f"inst-{name}")
        members[name] = again
        stay = members[other]
        stay_events = len(stay.events)
        poll_all([again, stay], 15, until=lambda: bool(again.assigned()))
        poll_all([again, stay], 2)
        if again.assigned() == [before[name]] and len(stay.events) == stay_events:
            ok(f"static member {name} restarted and got {before[name]} back; {other} saw no "
               "rebalance")
        else:
            fail(f"static member {name} restarted: {again.events}; {other} saw "
                 f"{stay.events[stay_events:]}")
    for m in members.values():
        m.close()
    gens = generations("restart")
    if gens == gens_before:
        ok(f"no new generation through both restarts (generations {gens})")
    else:
        fail(f"generations {gens_before} before the restarts, {gens} after")


def check_expiry():
    create_topic("expiry", 1)
    m = Member("expiry", "expiry", "alone", instance="inst-e", session_ms=6000)
    poll_all([m], 15, until=lambda: bool(m.assigned()))
    poll_all([m], 1)
    closed_at = time.time()
    m.close()
    deadline = closed_at + 15
    left = []
    while time.time() < deadline and not left:
        time.sleep(0.2)
        left = log_lines(r"group 'expiry': member \S+ left \(session timeout expired\)")
    if not left:
        fail("the closed static member was not removed within 15 s")
        return
    after = left[0][0] - closed_at
    # The session runs from the last heartbeat (at most 0.5 s before the close): removal is due
    # between 5.5 and 6 s after the close, plus the coordinator's 50 ms tick.
    if 5.0 <= after <= 6.9:
        ok(f"the closed static member was removed {after:.2f} s after its close "
           "(session.timeout.ms 6000, heartbeats every 0.5 s)")
    else:
        fail(f"the closed static member was removed {after:.2f} s after its close, expected "
             "5.5-6.1 s (session.timeout.ms 6000; up to 6.9 s is allowed on a loaded machine)")


CHECKS = {"together": check_together, "fencing": check_fencing, "restart": check_restart,
          "expiry": check_expiry}

for name in sys.argv[3:] or CHECKS:
    try:
        CHECKS[name]()
    except Exception as e:  # a client error is a failed check, not a crash of the test
        fail(f"{name}: {type(e).__name__}: {e}")
sys.exit(len(FAILS))
