#!/usr/bin/env python3
"""A tiny Alertmanager webhook receiver for the paging test.

usage: webhook_receiver.py <listen address> <port> <log file> [lifetime seconds]

Appends one JSON line per POST to the log file: {"received": <Unix time>, "body": <the
POSTed JSON>}, and answers 200. Bodies above 1 MiB get 413, non-JSON bodies 400 (both also
logged, as {"received": ..., "error": ...}, so the test sees them). Each request must arrive
within 5 s; the process exits by itself after the lifetime (default 600 s) so that a test
killed before its cleanup does not leave it behind. Python standard library only.
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

MAX_BODY_BYTES = 1 << 20


class PageLog:
    def __init__(self, path):
        self.path_ = path
        self.lock_ = threading.Lock()

    def append(self, entry):
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        with self.lock_, open(self.path_, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()


class WebhookHandler(BaseHTTPRequestHandler):
    timeout = 5  # seconds for each read from the client

    def do_POST(self):
        received = time.time()
        try:
            length = int(self.headers.get("Content-Length", "-1"))
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            self.server.page_log.append({"received": received, "error": f"bad Content-Length {length}"})
            self.reply(413, "too large or no length\n")
            return
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError as e:
            self.server.page_log.append({"received": received, "error": f"not JSON: {e}"})
            self.reply(400, "not JSON\n")
            return
        self.server.page_log.append({"received": received, "path": self.path, "body": body})
        self.reply(200, "ok\n")

    def do_GET(self):
        self.reply(200, "webhook receiver\n")

    def reply(self, status, text):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        sys.stderr.write("webhook: " + (fmt % args) + "\n")


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    lifetime = float(sys.argv[4]) if len(sys.argv) == 5 else 600.0
    server = HTTPServer((host, port), WebhookHandler)
    server.page_log = PageLog(path)
    server.timeout = 1  # handle_request() returns at least every second to check the lifetime
    deadline = time.monotonic() + lifetime
    while time.monotonic() < deadline:
        server.handle_request()
    server.server_close()


if __name__ == "__main__":
    main()
