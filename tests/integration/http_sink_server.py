"""A local HTTP endpoint for tests/integration/http_sink.sh that misbehaves on purpose.

Listens on 127.0.0.1 (a free port, written to PORT_FILE), appends every row it accepts to
LOG_FILE as one JSON line {"path": ..., "method": ..., "req": N, "auth": ..., "row": {...}}
(req numbers the requests), and answers by path:
  /ok/...    200 for every request;
  /flaky     503 for the first request and every third after it (1st, 4th, 7th, ...), else 200;
  /stall     the first request waits 3 s before answering 200 (a client with a shorter timeout
             gives up and retries; the row is then received twice);
  /reject    400 "bad id N" for a body holding a row whose id is a multiple of 5, else 200;
  /down      503 "down for maintenance" always.
Bodies are a JSON array of rows, one JSON object per line (ndjson) or one JSON object.
With CERT_FILE and KEY_FILE it serves https with that certificate.
Usage: python3 http_sink_server.py PORT_FILE LOG_FILE [CERT_FILE KEY_FILE]
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT_FILE, LOG_FILE = sys.argv[1], sys.argv[2]
lock = threading.Lock()
counts = {}


def rows_of(body, content_type):
    text = body.decode("utf-8")
    if "ndjson" in content_type:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    value = json.loads(text)
    return value if isinstance(value, list) else [value]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, text=""):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        try:
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout the test provokes)

    def handle_body(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        rows = rows_of(body, self.headers.get("Content-Type", ""))
        base = "/" + self.path.strip("/").split("/")[0]
        with lock:
            n = counts.get(base, 0)
            counts[base] = n + 1
            req = counts["all"] = counts.get("all", 0) + 1
        if base == "/flaky" and n % 3 == 0:
            return self.answer(503, "try again")
        if base == "/stall" and n == 0:
            time.sleep(3)
        if base == "/reject":
            bad = [r["id"] for r in rows if r.get("id") is not None and r["id"] % 5 == 0]
            if bad:
                return self.answer(400, "bad id %d" % bad[0])
        if base == "/down":
            return self.answer(503, "down for maintenance")
        with lock:
            with open(LOG_FILE, "a") as f:
                for r in rows:
                    f.write(json.dumps({"path": self.path, "method": self.command, "req": req,
                                        "auth": self.headers.get("Authorization"),
                                        "row": r}) + "\n")
        self.answer(200, "ok")

    do_POST = handle_body
    do_PUT = handle_body


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
if len(sys.argv) > 4:
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
