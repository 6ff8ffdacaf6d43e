#!/usr/bin/env python3
"""Another writer for conflicting_writers.sh: patches the objects Gantry manages as fast as one
keep-alive HTTPS connection to the API server allows.

  intruder.py SERVER CA CERT KEY NAMESPACE SECONDS COUNT_FILE

Each round i writes four objects:
  ConfigMap cm-01   data.value = "intruder-<i>"          (a field Gantry owns; merge patch)
  ConfigMap cm-02   label intruder, data.extra = "i<i>"   (fields Gantry does not own; server-side
                                                         apply, field manager "intruder")
  Application app   annotation intruder = "i<i>"         (moves its resourceVersion)
  Rollout web       annotation intruder = "i<i>"
and writes the number of finished rounds to COUNT_FILE. Answers other than 2xx are counted and
printed at the end (they are not expected: merge patches and apply never conflict)."""
import http.client
import json
import ssl
import sys
import time
import urllib.parse


def main():
    server, ca, cert, key, ns, seconds, count_file = sys.argv[1:8]
    url = urllib.parse.urlparse(server)
    ctx = ssl.create_default_context(cafile=ca)
    ctx.load_cert_chain(cert, key)
    conn = None
    failures = 0
    rounds = 0
    end = time.monotonic() + float(seconds)
    gantry = f"/apis/gantry.io/v1alpha1/namespaces/{ns}"
    cms = f"/api/v1/namespaces/{ns}/configmaps"
    merge = "application/merge-patch+json"
    while time.monotonic() < end:
        i = rounds + 1
        writes = [
            (f"{cms}/cm-01", merge, {"data": {"value": f"intruder-{i}"}}),
            (f"{cms}/cm-02?fieldManager=intruder", "application/apply-patch+yaml",
             {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "cm-02", "labels": {"intruder": f"i{i}"}},
              "data": {"extra": f"i{i}"}}),
            (f"{gantry}/applications/app", merge,
             {"metadata": {"annotations": {"intruder": f"i{i}"}}}),
            (f"{gantry}/rollouts/web", merge,
             {"metadata": {"annotations": {"intruder": f"i{i}"}}}),
        ]
        for path, content_type, body in writes:
            for attempt in range(2):
                try:
                    if conn is None:
                        conn = http.client.HTTPSConnection(url.hostname, url.port, context=ctx,
                                                           timeout=10)
                    conn.request("PATCH", path, json.dumps(body),
                                 {"Content-Type": content_type})
                    resp = conn.getresponse()
                    resp.read()
                    if resp.status // 100 != 2:
                        failures += 1
                    break
                except (OSError, http.client.HTTPException):
                    conn = None  # reconnect once
        rounds = i
        with open(count_file, "w") as f:
            f.write(str(rounds))
    print(f"intruder: {rounds} rounds, {failures} non-2xx answers")


if __name__ == "__main__":
    main()
