"""Helpers of tests/integration/mqtt.sh: publishers (paho-mqtt, an MQTT client independent of
libmosquitto) and the independent computation the test checks eddy against.

  free-port                                    print a free TCP port on 127.0.0.1
  sensors PORT SENSORS READINGS SEED OUTDIR    publish SENSORS x READINGS JSON readings (QoS 1) to
                                               sensors/<id>/reading and write OUTDIR/expected_avg.csv
                                               (sensor,window_start,avg,count of 10 s tumbling
                                               windows) and OUTDIR/expected_alerts.txt (v > 99)
  seq PORT TOPIC FIRST LAST                    publish {"seq":i} for i in FIRST..LAST (QoS 1)
  raw PORT TOPIC FILE                          publish each line of FILE as one message (QoS 1)
  check-avg EXPECTED ACTUAL                    compare window averages; print a verdict
  check-alerts EXPECTED ACTUAL                 compare 'topic payload' lines of mosquitto_sub
  check-seq ACTUAL FIRST LAST                  every seq in FIRST..LAST present; print counts
"""
import csv
import datetime
import json
import random
import socket
import sys
import time

BASE = datetime.datetime(2024, 1, 1, 0, 0, 0)


def client(port):
    import paho.mqtt.client as mqtt

    c = mqtt.Client(client_id="", clean_session=True)
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    deadline = time.time() + 20
    while True:
        try:
            c.connect("127.0.0.1", int(port), keepalive=30)
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)
    c.loop_start()
    return c


def publish_all(port, messages):
    """messages: iterable of (topic, payload). Waits until every one is acknowledged."""
    c = client(port)
    infos = []
    for topic, payload in messages:
        infos.append(c.publish(topic, payload, qos=1))
    deadline = time.time() + 120
    for info in infos:
        while not info.is_published():
            if time.time() > deadline:
                sys.exit("publish: not every message was acknowledged within 120 s")
            time.sleep(0.01)
    c.loop_stop()
    c.disconnect()
    return len(infos)


def ts_text(dt):
    return dt.strftime("%Y-%m-%d %H:%M:%S.") + "%03d" % (dt.microsecond // 1000)


def sensors(port, n_sensors, n_readings, seed, outdir):
    rnd = random.Random(int(seed))
    n_sensors, n_readings = int(n_sensors), int(n_readings)
    msgs, groups, alerts = [], {}, []
    seq = 0
    # Reading k of every sensor is 2 s of event time after reading k-1; sensors are spread over
    # the first second. Messages go out in event-time order (within the 5 s watermark delay).
    for k in range(n_readings):
        for s in range(n_sensors):
            seq += 1
            dt = BASE + datetime.timedelta(seconds=2 * k, milliseconds=s % 1000)
            v = round(rnd.uniform(0, 100), 2)
            sensor = "s%04d" % s
            payload = json.dumps({"sensor": sensor, "seq": seq, "v": v, "ts": ts_text(dt)})
            msgs.append(("sensors/%s/reading" % sensor, payload))
            w = int((dt - BASE).total_seconds()) // 10 * 10
            groups.setdefault((sensor, w), []).append(v)
            if v > 99:
                alerts.append("alerts/%s %d %.2f" % (sensor, seq, v))
    t0 = time.time()
    n = publish_all(port, msgs)
    took = time.time() - t0
    with open(outdir + "/expected_avg.csv", "w") as f:
        for (sensor, w), vs in sorted(groups.items()):
            start = ts_text(BASE + datetime.timedelta(seconds=w))
            f.write("%s,%s,%r,%d\n" % (sensor, start, sum(vs) / len(vs), len(vs)))
    with open(outdir + "/expected_alerts.txt", "w") as f:
        f.write("".join(a + "\n" for a in sorted(alerts)))
    print("published %d readings in %.2f s (%d alerts expected)" % (n, took, len(alerts)))


def norm_ts(text):
    # eddy writes TIMESTAMP(3) as '2024-01-01 00:00:10' (fraction only when non-zero).
    text = text.strip('"')
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.datetime.strptime(text, fmt)
        except ValueError:
            pass
    return text


def check_avg(expected, actual):
    exp = {}
    for sensor, start, avg, count in csv.reader(open(expected)):
        exp[(sensor, norm_ts(start))] = (float(avg), int(count))
    got, dup = {}, 0
    for row in csv.reader(open(actual)):
        key = (row[0], norm_ts(row[1]))
        dup += key in got
        got[key] = (float(row[2]), int(row[3]))
    missing = [k for k in exp if k not in got]
    extra = [k for k in got if k not in exp]
    wrong = [k for k in exp if k in got and (got[k][1] != exp[k][1] or abs(got[k][0] - exp[k][0]) > 1e-9)]
    if missing or extra or wrong or dup:
        print("MISMATCH windows=%d expected=%d missing=%d extra=%d wrong=%d duplicated=%d e.g. %s"
              % (len(got), len(exp), len(missing), len(extra), len(wrong), dup,
                 (missing + extra + wrong)[:3]))
    else:
        print("OK %d windows" % len(exp))


def check_alerts(expected, actual):
    exp = [l.rstrip("\n") for l in open(expected)]
    got = []
    for line in open(actual):
        topic, _, payload = line.rstrip("\n").partition(" ")
        p = json.loads(payload)
        got.append("%s %d %.2f" % (topic, p["seq"], p["v"]))
    got.sort()
    if got == exp:
        print("OK %d alerts" % len(exp))
    else:
        print("MISMATCH got %d alerts, expected %d; missing %s extra %s"
              % (len(got), len(exp), sorted(set(exp) - set(got))[:3], sorted(set(got) - set(exp))[:3]))


def check_seq(actual, first, last):
    seqs = [int(row[0]) for row in csv.reader(open(actual)) if row]
    want = set(range(int(first), int(last) + 1))
    have = set(seqs)
    missing = sorted(want - have)
    extra = sorted(have - want)
    print("rows=%d distinct=%d missing=%d extra=%d duplicates=%d%s"
          % (len(seqs), len(have), len(missing), len(extra), len(seqs) - len(have),
             " e.g. missing %s" % missing[:5] if missing else ""))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "free-port":
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])
        s.close()
    elif cmd == "sensors":
        sensors(*args)
    elif cmd == "seq":
        port, topic, first, last = args
        publish_all(port, ((topic, json.dumps({"seq": i})) for i in range(int(first), int(last) + 1)))
    elif cmd == "raw":
        port, topic, path = args
        publish_all(port, ((topic, line.rstrip("\n")) for line in open(path)))
    elif cmd == "check-avg":
        check_avg(*args)
    elif cmd == "check-alerts":
        check_alerts(*args)
    elif cmd == "check-seq":
        check_seq(*args)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
