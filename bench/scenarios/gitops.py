"""GitOps scenarios, run once per system of the gitops family. Each returns figures as lists of
per-round values (the driver takes medians, min and max)."""
from __future__ import annotations

import random
import time

from bench.lib import apimetrics, content, procstat
from bench.lib.context import Context, log
from bench.lib.controller import Controller

MIB = 1024.0
APP_INTERVAL_S = 3600   # no periodic drift check inside a measurement
SOURCE_INTERVAL_S = 3600


def _wait_all_ready(ctx: Context, system: Controller, ns: str, total: int, what: str,
                    timeout: float | None = None) -> float:
    t0 = time.monotonic()
    ctx.wait_until(f"{system.name}: {what} ({total} applications Ready in {ns})",
                   lambda: system.ready_count(ctx.env, ns) == (total, total), timeout, 0.2)
    return time.monotonic() - t0


def _sync(ctx: Context, system: Controller, ns: str, paths: list[str], objects: int,
          out: dict, prefix: str = "") -> None:
    """Creates the source and applications in a running system and measures until all are
    Ready: wall time, peak RSS, CPU, API requests, objects per second."""
    pids = system.pids
    sampler = procstat.Sampler(pids).start()
    cpu0 = procstat.cpu_seconds(pids())
    api0 = apimetrics.snapshot(ctx.env)
    t0 = time.monotonic()
    system.create_source(ctx.env, ns, ctx.git.url, ctx.git.branch, SOURCE_INTERVAL_S)
    system.create_apps(ctx.env, ns, paths, APP_INTERVAL_S)
    _wait_all_ready(ctx, system, ns, len(paths), "sync")
    wall = time.monotonic() - t0
    cpu = procstat.cpu_seconds(pids()) - cpu0
    peak = max(sampler.stop(), procstat.hwm_kib(pids()))
    api = apimetrics.diff(api0, apimetrics.snapshot(ctx.env))
    out.setdefault(prefix + "wall_seconds", []).append(wall)
    out.setdefault(prefix + "peak_rss_mib", []).append(peak / MIB)
    out.setdefault(prefix + "cpu_seconds", []).append(cpu)
    out.setdefault(prefix + "objects_per_second", []).append(objects / wall)
    out.setdefault(prefix + "api_requests", []).append(api["total"])
    log(f"  {system.name}: {len(paths)} apps / {objects} objects Ready in {wall:.2f}s, "
        f"peak {peak / MIB:.1f} MiB, {cpu:.2f} CPU-s, {api['total']} API requests")


def _resync(ctx: Context, system: Controller, ns: str, out: dict, prefix: str = "") -> None:
    """One no-op resync of everything in ns: CPU, API requests, Git bytes."""
    pids = system.pids
    # The sync's tail (Deployments the cluster rolls out, queued reconciles) ends first.
    apimetrics.wait_quiet(ctx.env, timeout=ctx.sizes.quiet_timeout_s)
    procstat.wait_quiet(pids, timeout=60)
    cpu0 = procstat.cpu_seconds(pids())
    api0 = apimetrics.snapshot(ctx.env)
    git0 = ctx.git.access_log_offset()
    t0 = time.monotonic()
    own = system.request_resync(ctx.env, ns)
    if system.resync_pending(ctx.env, ns) is not None:
        ctx.wait_until(f"{system.name}: resync handled in {ns}",
                       lambda: system.resync_pending(ctx.env, ns) == 0, period=0.1)
    handled = time.monotonic() - t0
    # Whatever the resync started (status writes, events) finishes before CPU is read.
    apimetrics.wait_quiet(ctx.env, window=0.5, timeout=ctx.sizes.quiet_timeout_s)
    procstat.wait_quiet(pids, window=0.5, threshold=0.01, timeout=60, min_wait=0.2)
    cpu = procstat.cpu_seconds(pids()) - cpu0
    api = apimetrics.diff(api0, apimetrics.snapshot(ctx.env), own_writes=own)
    git_requests, git_bytes = ctx.git.bytes_served_since(git0)
    for k, v in (("cpu_seconds", cpu), ("seconds_to_handled", handled),
                 ("api_requests", api["total"]), ("api_reads", api["reads"]),
                 ("api_writes", api["writes"]), ("api_status_writes", api["status_writes"]),
                 ("api_managed_object_writes", api["managed_object_writes"]),
                 ("api_dry_run_writes", api["dry_run_writes"]),
                 ("git_requests", git_requests), ("git_bytes", git_bytes)):
        out.setdefault(prefix + k, []).append(v)
    out.setdefault(prefix + "api_by_resource", []).append(api["by_resource"])
    log(f"  {system.name}: no-op resync in {handled:.2f}s: {cpu:.3f} CPU-s, {api['total']} API "
        f"requests ({api['writes']} writes, {api['managed_object_writes']} to managed objects, "
        f"{api['dry_run_writes']} dry runs), git {git_requests} requests / {git_bytes} bytes")


def sync_apps(ctx: Context, system: Controller) -> dict:
    """sync N applications × 4 objects; also the idle RSS with nothing managed."""
    n = ctx.sizes.apps
    paths = [content.app_path(i) for i in range(n)]
    out: dict = {}
    for r in range(ctx.sizes.rounds):
        log(f"{system.name}: sync {n} applications × 4 objects, round {r + 1}/{ctx.sizes.rounds}")
        with ctx.running(system, f"{system.name}-sync") as ns:
            ctx.settle(system)
            out.setdefault("idle_rss_mib", []).append(procstat.rss_kib(system.pids()) / MIB)
            _sync(ctx, system, ns, paths, 4 * n, out)
    return out


def big_app(ctx: Context, system: Controller) -> dict:
    """One application of big_objects objects: time and peak memory to sync, then a no-op
    resync's CPU (#4)."""
    out: dict = {}
    for r in range(ctx.sizes.big_rounds):
        log(f"{system.name}: one application of {ctx.sizes.big_objects} objects, round "
            f"{r + 1}/{ctx.sizes.big_rounds}")
        with ctx.running(system, f"{system.name}-big") as ns:
            _sync(ctx, system, ns, ["big"], ctx.sizes.big_objects, out)
            _resync(ctx, system, ns, out, prefix="resync_")
    return out


def noop_resync(ctx: Context, system: Controller, objects: int) -> dict:
    """A no-op resync of `objects` managed objects (ConfigMaps, per_set per application), and
    RSS per 1,000 watched objects (at rest, managing them, minus the same process's RSS before
    it managed anything)."""
    per = ctx.sizes.per_set
    sets = max(1, objects // per)
    paths = [content.set_path(i) for i in range(sets)]
    out: dict = {}
    log(f"{system.name}: {sets} applications × {per} ConfigMaps, then no-op resyncs")
    with ctx.running(system, f"{system.name}-noop") as ns:
        ctx.settle(system)
        idle_rss_mib = procstat.rss_kib(system.pids()) / MIB
        out["idle_rss_mib"] = [idle_rss_mib]
        _sync(ctx, system, ns, paths, sets * per, out, prefix="sync_")
        apimetrics.wait_quiet(ctx.env, timeout=ctx.sizes.quiet_timeout_s)
        ctx.settle(system)
        rss = procstat.rss_kib(system.pids()) / MIB
        out["rss_at_rest_mib"] = [rss]
        out["rss_mib_per_1000_objects"] = [(rss - idle_rss_mib) * 1000 / (sets * per)]
        for r in range(ctx.sizes.rounds):
            _resync(ctx, system, ns, out)
    return out


def _live_value(ctx: Context, ns: str) -> str | None:
    cm = ctx.env.get(f"/api/v1/namespaces/{ns}/configmaps/app-000")
    return (cm or {}).get("data", {}).get("value")


def commit_to_applied(ctx: Context, system: Controller, trigger: str) -> dict:
    """Commit-to-applied latency of one changed object (ConfigMap app-000) while
    latency_apps applications follow the source: from `git push` returning until the live object
    has the new value. trigger "webhook": the source polls hourly and trigger_fetch() runs right
    after the push; "poll": the source polls every poll_interval_s and nothing else happens."""
    n = ctx.sizes.latency_apps
    paths = [content.app_path(i) for i in range(n)]
    interval = SOURCE_INTERVAL_S if trigger == "webhook" else ctx.sizes.poll_interval_s
    out: dict = {}
    log(f"{system.name}: commit-to-applied by {trigger}, {ctx.sizes.latency_samples} commits")
    with ctx.running(system, f"{system.name}-{trigger}") as ns:
        system.create_source(ctx.env, ns, ctx.git.url, ctx.git.branch, interval)
        system.create_apps(ctx.env, ns, paths, APP_INTERVAL_S)
        _wait_all_ready(ctx, system, ns, n, "initial sync")
        timeout = 60 + 3 * interval if trigger == "poll" else 60
        for i in range(ctx.sizes.latency_samples):
            value = f"{system.name}-{trigger}-{ctx.run_id}-{i}"
            ctx.git.write(content.app_files(0, value))
            ctx.git.commit(f"{trigger} {i}")
            t0 = time.monotonic()
            if trigger == "webhook":
                system.trigger_fetch(ctx.env, ns)
            ctx.wait_until(f"{system.name}: commit {i} applied by {trigger}",
                           lambda: _live_value(ctx, ns) == value, timeout, period=0.02)
            latency = time.monotonic() - t0
            out.setdefault("latency_seconds", []).append(latency)
            _wait_all_ready(ctx, system, ns, n, f"commit {i} everywhere")
            if trigger == "poll":
                # Commits land at a random phase of the poll timer.
                time.sleep(random.uniform(0, min(2.0, interval / 2)))
        lat = out["latency_seconds"]
        log(f"  {system.name}: {trigger} latency median {sorted(lat)[len(lat) // 2]:.3f}s, "
            f"worst {max(lat):.3f}s")
    return out
