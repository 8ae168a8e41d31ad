#!/usr/bin/env python3
"""A real HTTP listener on loopback for happydesk's webhook tests.

/throttle/N/SECONDS answers 429 with Retry-After: SECONDS to the first N posts to that path, then 200.

Prints "READY <port>" once listening. Every request is appended as a JSON line to --log
(method, path, headers, body) before it is answered. The path chooses the answer:
  /ok… → 200   /fail… → 500   /gone… → 410   /redirect… → 302 to /ok   /slow… → sleeps 5 s, then 200
  /big… → 200 with a 1 MB body   /echo… → 500 quoting the survey link back (as careless receivers do)
"""
import argparse
import json
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
counts = {}
args = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        with lock, open(args.log, "a", encoding="utf-8") as f:
            f.write(json.dumps({
                "method": "POST", "path": self.path, "received_at": time.time(),
                "headers": {k: v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
            }) + "\n")
        path = self.path
        status, payload, extra = 200, b'{"ok":true}', {}
        if path.startswith("/fail"):
            status, payload = 500, b'{"error":"boom"}'
        elif path.startswith("/gone"):
            status, payload = 410, b'{"error":"gone"}'
        elif path.startswith("/redirect"):
            status, payload, extra = 302, b"", {"Location": "/ok"}
        elif path.startswith("/slow"):
            time.sleep(5)
        elif path.startswith("/echo"):
            try:
                link = json.loads(body).get("survey_url", "")
            except ValueError:
                link = ""
            status, payload = 500, json.dumps({"error": "cannot post %s, try later" % link}).encode()
        elif path.startswith("/throttle"):
            # /throttle/N/SECONDS: 429 with Retry-After SECONDS for the first N requests to this path, then 200.
            parts = path.strip("/").split("/")
            limit = int(parts[1]) if len(parts) > 1 else 1
            wait = parts[2] if len(parts) > 2 else "1"
            with lock:
                counts[path] = counts.get(path, 0) + 1
                n = counts[path]
            if n <= limit:
                status, payload, extra = 429, b'{"error":"slow down"}', {"Retry-After": wait}
        elif path.startswith("/big"):
            payload = b"x" * 1_000_000
        self.send_response(status)
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        try:
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass


def main():
    global args
    # A parent that blocks SIGTERM (a Swift test runner may) passes the mask on; undo it so we can be stopped.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print("READY %d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
