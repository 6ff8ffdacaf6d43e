#!/usr/bin/env python3
"""A Prometheus target whose error rate a test (or a demo) switches at will.

Serves, on 127.0.0.1 only:
  GET  /metrics   http_requests_total{service="<s>",code="200"|"500"} counters, one pair per
                  --service. They grow at --rps requests per second, a fraction --error-rate of
                  them (per service, changeable) counted as code="500". The counts are computed
                  from elapsed time at each scrape, so a rate() or irate() over any window gives
                  the error ratio in force during that window, whatever the scrape interval.
  GET  /state     {"<service>": <error ratio>, ...} as JSON.
  POST /good      every service (or ?service=<s>) back to --good-rate (default 0.0)
  POST /bad       every service (or ?service=<s>) to --bad-rate (default 0.5)
  POST /error-rate?value=<0..1>[&service=<s>]   any ratio
  (GET works for the switches too, for curl without -X.)

Usage:
  exporter.py [--port 0] [--port-file FILE] [--service web ...] [--rps 100]
              [--error-rate 0.0] [--good-rate 0.0] [--bad-rate 0.5]
With --port 0 (the default) the kernel picks a free port; it is printed on stdout as
"listening on 127.0.0.1:<port>" and written to --port-file when given. Stops on SIGTERM/SIGINT.

A PromQL error ratio over it, for an analysis metric's query:
  sum(irate(http_requests_total{service="web",code=~"5.."}[5s]))
    / sum(irate(http_requests_total{service="web"}[5s]))
"""

import argparse
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Counters:
    """Per service: requests counted so far and the error ratio now. One lock guards all."""

    def __init__(self, services, rps, error_rate):
        self.rps = rps
        self.lock = threading.Lock()
        self.ratio = {s: error_rate for s in services}
        self.good = {s: 0.0 for s in services}
        self.bad = {s: 0.0 for s in services}
        self.last = time.monotonic()

    def _advance(self):
        # Called with the lock held: books the requests since the last call at the ratio that
        # was in force during that time, so a switch only changes what comes after it.
        now = time.monotonic()
        elapsed = now - self.last
        self.last = now
        for s, r in self.ratio.items():
            total = elapsed * self.rps
            self.bad[s] += total * r
            self.good[s] += total * (1.0 - r)

    def set_ratio(self, value, service=None):
        with self.lock:
            self._advance()
            targets = [service] if service else list(self.ratio)
            for s in targets:
                if s not in self.ratio:
                    raise KeyError(s)
                self.ratio[s] = value

    def exposition(self):
        with self.lock:
            self._advance()
            lines = [
                "# HELP http_requests_total Requests served, by service and status code.",
                "# TYPE http_requests_total counter",
            ]
            for s in sorted(self.ratio):
                lines.append('http_requests_total{service="%s",code="200"} %.3f' % (s, self.good[s]))
                lines.append('http_requests_total{service="%s",code="500"} %.3f' % (s, self.bad[s]))
            lines.append("# HELP exporter_error_ratio The error ratio the test set, by service.")
            lines.append("# TYPE exporter_error_ratio gauge")
            for s in sorted(self.ratio):
                lines.append('exporter_error_ratio{service="%s"} %g' % (s, self.ratio[s]))
            return "\n".join(lines) + "\n"

    def state(self):
        with self.lock:
            return dict(self.ratio)


def make_handler(counters, good_rate, bad_rate):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # quiet: Prometheus scrapes every second
            pass

        def _send(self, code, body, content_type="text/plain; charset=utf-8"):
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self):
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            service = query.get("service")
            if url.path == "/metrics":
                return self._send(200, counters.exposition(), "text/plain; version=0.0.4")
            if url.path == "/state":
                return self._send(200, json.dumps(counters.state()) + "\n", "application/json")
            if url.path in ("/good", "/bad", "/error-rate"):
                if url.path == "/good":
                    value = good_rate
                elif url.path == "/bad":
                    value = bad_rate
                else:
                    try:
                        value = float(query.get("value", ""))
                    except ValueError:
                        return self._send(400, "error-rate: value must be a number in 0..1\n")
                    if not 0.0 <= value <= 1.0:
                        return self._send(400, "error-rate: value must be in 0..1\n")
                try:
                    counters.set_ratio(value, service)
                except KeyError:
                    return self._send(404, "no service %r (see --service)\n" % service)
                return self._send(200, json.dumps(counters.state()) + "\n", "application/json")
            return self._send(404, "not found: %s\n" % url.path)

        do_GET = _handle
        do_POST = _handle

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free one)")
    p.add_argument("--port-file", help="write the port here once listening")
    p.add_argument("--service", action="append", help="a service label (repeatable; default web)")
    p.add_argument("--rps", type=float, default=100.0, help="requests per second per service")
    p.add_argument("--error-rate", type=float, default=0.0, help="initial error ratio")
    p.add_argument("--good-rate", type=float, default=0.0, help="error ratio of /good")
    p.add_argument("--bad-rate", type=float, default=0.5, help="error ratio of /bad")
    args = p.parse_args()
    for name in ("error_rate", "good_rate", "bad_rate"):
        if not 0.0 <= getattr(args, name) <= 1.0:
            p.error("--%s must be in 0..1" % name.replace("_", "-"))
    counters = Counters(args.service or ["web"], args.rps, args.error_rate)
    server = ThreadingHTTPServer(("127.0.0.1", args.port),
                                 make_handler(counters, args.good_rate, args.bad_rate))
    server.daemon_threads = True
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)  # readers never see a half-written file
    print("listening on 127.0.0.1:%d" % port, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
