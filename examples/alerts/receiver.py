"""A stand-in incident endpoint for examples/alerts: accepts POSTed JSON arrays of alerts, prints
one line per alert, and appends each alert as a JSON line to OUT_FILE (when given).

Usage: python3 receiver.py PORT_FILE [OUT_FILE]   (listens on 127.0.0.1, a free port, written to
PORT_FILE once it listens)
"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT_FILE = sys.argv[1]
OUT_FILE = sys.argv[2] if len(sys.argv) > 2 else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        alerts = json.loads(body)
        for a in alerts:
            print("incident: %s delay rose from %.1f min (%s) to %.1f min at %s" % (
                a["airport"], a["start_delay"], a["rise_start"], a["alert_delay"],
                a["alert_hour"]), flush=True)
            if OUT_FILE:
                with open(OUT_FILE, "a") as f:
                    f.write(json.dumps(a) + "\n")
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
