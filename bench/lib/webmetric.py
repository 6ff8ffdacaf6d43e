"""The web metric the canary analyses query: an HTTP server on 127.0.0.1 answering
GET /m/<key> with {"ok": true} until the driver turns <key> bad, {"ok": false} after.

It records, per key, the instant it first served a bad answer: the failing measurement from which
abort latency is counted.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebMetric:
    def __init__(self):
        self._lock = threading.Lock()  # guards the three dicts
        self._bad: set[str] = set()
        self.first_bad_served: dict[str, float] = {}
        self.requests: dict[str, int] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                key = self.path.split("?", 1)[0].removeprefix("/m/")
                now = time.monotonic()
                with outer._lock:
                    bad = key in outer._bad
                    outer.requests[key] = outer.requests.get(key, 0) + 1
                    if bad:
                        outer.first_bad_served.setdefault(key, now)
                body = json.dumps({"ok": not bad}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "WebMetric":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, key: str) -> str:
        return f"http://127.0.0.1:{self.port}/m/{key}"

    def turn_bad(self, key: str) -> float:
        with self._lock:
            self._bad.add(key)
        return time.monotonic()

    def served(self, key: str) -> int:
        with self._lock:
            return self.requests.get(key, 0)

    def first_bad(self, key: str) -> float | None:
        with self._lock:
            return self.first_bad_served.get(key)
