"""Requests the apiserver served, from its own apiserver_request_total counter.

snapshot() reads /metrics once; diff(before, after) counts what was served in between, grouped
the way the report needs: reads, writes (excluding dry runs), dry-run writes, status writes and
writes to the kinds the benchmarks manage. The counter is the apiserver's, so it includes every
client: run heavy measurements on a private control plane (README).
"""
from __future__ import annotations

import re
import time

_LINE = re.compile(r'^apiserver_request_total\{(.*)\} ([0-9.e+]+)$')
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
READS = {"GET", "LIST", "WATCH"}
WRITES = {"POST", "PUT", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION", "CREATE", "UPDATE"}
MANAGED = {"configmaps", "deployments", "services", "serviceaccounts", "replicasets"}


def snapshot(env) -> dict[tuple, float]:
    out = {}
    for line in env.metrics_text().splitlines():
        m = _LINE.match(line)
        if m:
            labels = tuple(sorted(_LABEL.findall(m.group(1))))
            out[labels] = float(m.group(2))
    return out


def diff(before: dict, after: dict, own_writes: int = 0) -> dict:
    """Requests between two snapshots. own_writes (the driver's own annotation patches) is
    subtracted from writes."""
    r = {"total": 0, "reads": 0, "writes": 0, "dry_run_writes": 0, "status_writes": 0,
         "managed_object_writes": 0, "by_resource": {}}
    for labels, value in after.items():
        n = int(round(value - before.get(labels, 0.0)))
        if n <= 0:
            continue
        d = dict(labels)
        verb = d.get("verb", "")
        r["total"] += n
        key = f"{verb} {d.get('resource', '')}" + (f"/{d['subresource']}" if d.get("subresource")
                                                   else "")
        if d.get("dry_run"):
            key += " (dry run)"
        r["by_resource"][key] = r["by_resource"].get(key, 0) + n
        if verb in READS:
            r["reads"] += n
        elif verb in WRITES:
            if d.get("dry_run"):
                r["dry_run_writes"] += n
                continue
            r["writes"] += n
            if d.get("subresource") == "status":
                r["status_writes"] += n
            elif d.get("resource") in MANAGED:
                r["managed_object_writes"] += n
    r["writes"] = max(0, r["writes"] - own_writes)
    r["total"] = max(0, r["total"] - own_writes)
    r["by_resource"] = dict(sorted(r["by_resource"].items(), key=lambda kv: -kv[1])[:25])
    return r


def _managed_activity(snap: dict) -> float:
    """Reads and writes (dry runs included) of managed objects themselves, not their status:
    what a GitOps controller does while it syncs; controllers of the cluster (Deployment,
    ReplicaSet) write status subresources or watch instead."""
    total = 0.0
    for labels, value in snap.items():
        d = dict(labels)
        if (d.get("resource") in MANAGED and not d.get("subresource") and
                d.get("verb") in ("GET", "APPLY", "PATCH", "PUT", "POST")):
            total += value
    return total


def wait_quiet(env, window: float = 1.0, timeout: float = 300) -> float:
    """Waits until no request reads or writes a managed object for `window` seconds; returns
    the time waited. CPU alone cannot tell: a controller held back by its client-side rate
    limit is idle while it still has work queued."""
    start = time.monotonic()
    last = _managed_activity(snapshot(env))
    while time.monotonic() - start < timeout:
        time.sleep(window)
        now = _managed_activity(snapshot(env))
        if now == last:
            break
        last = now
    return time.monotonic() - start
