"""Clients of bench/run-mqtt-bench.sh (paho-mqtt, an MQTT client independent of eddy's
libmosquitto):

  latency PORT RATE SECONDS   publish sensor readings {"sensor","v","sent"} at RATE/s for SECONDS
                              (QoS 1, 'sent' = the send time in µs since the epoch) to
                              bench/readings while a second client subscribes to bench/alerts
                              (QoS 1) and takes receipt time - 'sent' of every alert; prints one
                              JSON line with the percentiles in ms. Readings with v > 50 (about
                              half, seeded) are the alerts the job must publish.
  queue PORT COUNT            publish COUNT readings (QoS 1) to bench/readings as fast as the
                              broker acknowledges them; returns when all are acknowledged.
"""
import json
import random
import sys
import threading
import time

import paho.mqtt.client as mqtt


def connect(port, client_id=""):
    c = mqtt.Client(client_id=client_id, clean_session=True)
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    c.connect("127.0.0.1", int(port), keepalive=30)
    c.loop_start()
    return c


def now_us():
    return time.time_ns() // 1000


def latency(port, rate, seconds):
    rate, seconds = int(rate), float(seconds)
    lat = []
    lock = threading.Lock()
    subscribed = threading.Event()

    def on_message(_c, _u, m):
        t = now_us()
        sent = json.loads(m.payload)["sent"]
        with lock:
            lat.append((t - sent) / 1000.0)

    sub = mqtt.Client(client_id="", clean_session=True)
    sub.on_message = on_message
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.connect("127.0.0.1", int(port), keepalive=30)
    sub.subscribe("bench/alerts", qos=1)
    sub.loop_start()
    subscribed.wait(10)
    pub = connect(port)
    rnd = random.Random(7)
    n = int(rate * seconds)
    expected = 0
    t0 = time.monotonic()
    late_sends = 0
    for i in range(n):
        target = t0 + i / rate
        d = target - time.monotonic()
        if d > 0:
            time.sleep(d)
        elif d < -0.01:
            late_sends += 1
        v = round(rnd.uniform(0, 100), 2)
        expected += v > 50
        pub.publish("bench/readings",
                    json.dumps({"sensor": "s%03d" % (i % 200), "v": v, "sent": now_us()}), qos=1)
    took = time.monotonic() - t0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with lock:
            if len(lat) >= expected:
                break
        time.sleep(0.05)
    pub.loop_stop()
    sub.loop_stop()
    with lock:
        xs = sorted(lat)

    def pct(p):
        return round(xs[min(len(xs) - 1, int(p / 100.0 * len(xs)))], 2) if xs else None

    print(json.dumps({"rate": rate, "rate_reached": round(n / took), "readings": n,
                      "alerts_expected": expected, "alerts_received": len(xs),
                      "sends_behind_schedule": late_sends, "p50_ms": pct(50), "p99_ms": pct(99),
                      "p999_ms": pct(99.9), "max_ms": round(xs[-1], 2) if xs else None}))


def queue(port, count):
    c = connect(port)
    rnd = random.Random(11)
    infos = []
    for i in range(int(count)):
        payload = json.dumps({"sensor": "s%04d" % (i % 2000), "v": round(rnd.uniform(0, 100), 2),
                              "ts": "2024-01-01 00:%02d:%02d.%03d" % (i // 60000 % 60,
                                                                     i // 1000 % 60, i % 1000)})
        infos.append(c.publish("bench/readings", payload, qos=1))
    for info in infos:
        info.wait_for_publish(60)
    c.loop_stop()
    c.disconnect()


if __name__ == "__main__":
    {"latency": latency, "queue": queue}[sys.argv[1]](*sys.argv[2:])
