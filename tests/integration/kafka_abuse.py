"""Connection abuse against eddy server, run by kafka_abuse.sh. Each check prints "ok: ..." or
"FAIL: ..."; the exit code is the number of failed checks.

usage: kafka_abuse.py PHASE HOST PORT SERVER_PID SERVER_LOG KCAT

  flood   1,000 connections each announce a 100 MiB request (socket.request.max.bytes) and send
          one byte; 50 slowloris connections trickle a request in, a byte at a time. Meanwhile
          and afterwards kcat produces and consumes a round trip; the server's peak RSS (VmHWM)
          stays under 200 MB. A silent connection is closed after connections.max.idle.ms (the
          script starts the server with 3000 ms).
  junk    5 s of connections sending junk frames: the log grows by less than 100 KB (one line
          per connection before) and says how many similar messages it suppressed.
  limits  (server started with --max-connections 20 --max-connections-per-ip 10) 10 connections
          from 127.0.0.1 are kept, the 11th is refused; 10 more from 127.0.0.2 are kept, one
          from 127.0.0.3 is refused (max.connections); each refusal is logged.
"""
import os
import socket
import struct
import subprocess
import sys
import threading
import time

PHASE, HOST, PORT, PID, LOG, KCAT = sys.argv[1:7]
PORT = int(PORT)
FAILS = []
RSS_BOUND_KB = 200 * 1024


def ok(msg):
    print(f"ok: {msg}", flush=True)


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    FAILS.append(msg)


def proc_status_kb(field):
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def connect(source="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(10)
    s.connect((HOST, PORT))
    return s


def closed_by_server(s, within):
    """Whether the server closes `s` (EOF or reset) within `within` seconds."""
    s.settimeout(within)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def kcat_round_trip(topic, n, timeout=30):
    """Produces n messages with kcat (acks=all) and consumes them back; returns a message on
    failure, None on success."""
    lines = "".join(f"{topic}-{i}\n" for i in range(n))
    b = f"{HOST}:{PORT}"
    p = subprocess.run([KCAT, "-b", b, "-P", "-t", topic, "-X", "acks=all"], input=lines,
                       text=True, capture_output=True, timeout=timeout)
    if p.returncode != 0:
        return f"kcat -P exited {p.returncode}: {p.stderr[-300:]}"
    c = subprocess.run([KCAT, "-b", b, "-C", "-t", topic, "-o", "beginning", "-e", "-q"],
                       text=True, capture_output=True, timeout=timeout)
    got = c.stdout.splitlines()
    want = lines.splitlines()
    if got != want:
        return f"kcat -C read {len(got)} messages, expected {len(want)} (exit {c.returncode})"
    return None


def phase_flood():
    rss0 = proc_status_kb("VmRSS")
    # 1,000 connections, each announcing a 100 MiB request and sending one byte of it.
    announced = []
    frame_start = struct.pack(">i", 100 * 1024 * 1024) + b"\x00"
    for _ in range(1000):
        s = connect()
        s.sendall(frame_start)
        announced.append(s)
    ok(f"1,000 connections announced a 100 MiB request each and sent one byte")
    # Slowloris: a 1 MiB Produce frame trickled in a byte every 100 ms per connection.
    stop = threading.Event()
    slow = []
    for _ in range(50):
        s = connect()
        s.sendall(struct.pack(">i", 1024 * 1024))
        slow.append(s)

    def trickle():
        while not stop.is_set():
            for s in slow:
                try:
                    s.send(b"\x00")
                except OSError:
                    pass
            time.sleep(0.1)

    t = threading.Thread(target=trickle)
    t.start()
    peak_during = 0
    try:
        time.sleep(1)
        err = kcat_round_trip("during-abuse", 100)
        if err:
            fail(f"kcat during the abuse: {err}")
        else:
            ok("kcat produced and consumed 100 messages during the abuse")
        peak_during = proc_status_kb("VmRSS")
        # A silent connection (no request at all) is closed after connections.max.idle.ms.
        idle = connect()
        start = time.time()
        if closed_by_server(idle, 15):
            ok(f"a silent connection was closed after {time.time() - start:.1f} s "
               "(connections.max.idle.ms 3000)")
        else:
            fail("a silent connection was not closed within 15 s (connections.max.idle.ms 3000)")
        # The slowloris connections send a byte every 100 ms: never idle, never complete.
        alive = sum(1 for s in slow if not closed_by_server(s, 0.01))
        if alive == len(slow):
            ok("the 50 slowloris connections are still open (they are not idle)")
        else:
            fail(f"only {alive} of 50 slowloris connections are open")
    finally:
        stop.set()
        t.join()
    for s in announced + slow:
        s.close()
    time.sleep(0.5)
    err = kcat_round_trip("after-abuse", 100)
    if err:
        fail(f"kcat after the abuse: {err}")
    else:
        ok("kcat produced and consumed 100 messages after the abuse")
    hwm = proc_status_kb("VmHWM")
    if hwm < RSS_BOUND_KB:
        ok(f"server RSS {rss0 // 1024} MB before, {peak_during // 1024} MB during the abuse; peak "
           f"(VmHWM) {hwm // 1024} MB < {RSS_BOUND_KB // 1024} MB")
    else:
        fail(f"server peak RSS (VmHWM) {hwm // 1024} MB >= {RSS_BOUND_KB // 1024} MB")


def phase_junk():
    size0 = os.path.getsize(LOG)
    deadline = time.time() + 5
    n = 0
    while time.time() < deadline:
        try:
            s = connect()
            # A frame size no Kafka client sends (-1), then junk.
            s.sendall(b"\xff\xff\xff\xff junk")
            s.close()
            n += 1
        except OSError:
            pass
    time.sleep(1.5)  # the server writes the "suppressed" lines about once a second
    grown = os.path.getsize(LOG) - size0
    with open(LOG, encoding="utf-8", errors="replace") as f:
        f.seek(size0)
        text = f.read()
    closes = text.count("closing the connection")
    if n < 1000:
        fail(f"only {n} junk connections in 5 s: too few to judge the log's rate limit")
    elif grown < 100 * 1024 and "suppressed" in text:
        ok(f"{n} junk connections in 5 s wrote {grown} bytes of log ({closes} 'closing' lines, "
           "the rest counted in 'suppressed' lines)")
    else:
        fail(f"{n} junk connections in 5 s wrote {grown} bytes of log ({closes} 'closing' lines); "
             "expected under 100 KB with 'suppressed' lines")


def phase_limits():
    kept = [connect("127.0.0.1") for _ in range(10)]
    extra = connect("127.0.0.1")
    if closed_by_server(extra, 5):
        ok("the 11th connection from 127.0.0.1 was refused (max.connections.per.ip 10)")
    else:
        fail("the 11th connection from 127.0.0.1 was kept (max.connections.per.ip 10)")
    other = [connect("127.0.0.2") for _ in range(10)]
    over = connect("127.0.0.3")
    if closed_by_server(over, 5):
        ok("a 21st connection (from 127.0.0.3) was refused (max.connections 20)")
    else:
        fail("a 21st connection was kept (max.connections 20)")
    open_now = sum(1 for s in kept + other if not closed_by_server(s, 0.01))
    if open_now == 20:
        ok("the 20 connections within the limits stay open")
    else:
        fail(f"{open_now} of the 20 connections within the limits are open")
    with open(LOG, encoding="utf-8", errors="replace") as f:
        text = f.read()
    if "max.connections.per.ip" in text and "(max.connections)" in text:
        ok("both refusals are logged")
    else:
        fail("the refusals are not logged with max.connections / max.connections.per.ip")
    for s in kept + other:
        s.close()
    err = kcat_round_trip("after-limits", 10)
    if err:
        fail(f"kcat once the connections closed: {err}")
    else:
        ok("kcat works again once connections are closed")


{"flood": phase_flood, "junk": phase_junk, "limits": phase_limits}[PHASE]()
sys.exit(len(FAILS))
