"""Progressive-delivery scenarios, run once per system of the rollouts family."""
from __future__ import annotations

import concurrent.futures
import time

from bench.lib import apimetrics, content, procstat
from bench.lib.context import Context, log
from bench.lib.controller import Controller

MIB = 1024.0


def _path(system: Controller, ns: str, resource: str, name: str = "") -> str:
    p = f"/apis/{system.api_group}/v1alpha1/namespaces/{ns}/{resource}"
    return f"{p}/{name}" if name else p


def _replica_sets(ctx: Context, ns: str, rollout: str) -> dict[str, dict]:
    """The Rollout's ReplicaSets by pod-template hash."""
    out = {}
    for rs in ctx.env.list(f"/apis/apps/v1/namespaces/{ns}/replicasets"):
        owners = rs["metadata"].get("ownerReferences") or []
        if any(o.get("kind") == "Rollout" and o.get("name") == rollout for o in owners):
            h = rs["metadata"].get("labels", {}).get("rollouts-pod-template-hash")
            if h:
                out[h] = rs
    return out


def _healthy(ctx, system, ns, name) -> bool:
    ro = ctx.env.get(_path(system, ns, "rollouts", name)) or {}
    st = ro.get("status", {})
    return (st.get("phase") == "Healthy" and
            st.get("observedGeneration") in (ro.get("metadata", {}).get("generation"),
                                             str(ro.get("metadata", {}).get("generation"))) and
            st.get("availableReplicas", 0) == ro["spec"]["replicas"])


def _canary_up(ctx, system, ns, name) -> dict | None:
    """The Rollout's status once its canary pod is ready and it is paused at step 2."""
    ro = ctx.env.get(_path(system, ns, "rollouts", name)) or {}
    st = ro.get("status", {})
    canary, stable = st.get("currentPodHash"), st.get("stableRS")
    if not canary or not stable or canary == stable:
        return None
    if not st.get("pauseConditions") and st.get("phase") != "Paused":
        return None
    rs = _replica_sets(ctx, ns, name).get(canary)
    if not rs or rs.get("status", {}).get("readyReplicas", 0) < 1:
        return None
    return st


def _new_canary(ctx: Context, system: Controller, ns: str, name: str,
                analysis_url: str | None) -> dict:
    """Creates Rollout `name`, waits until Healthy, updates its image and waits until the
    canary (1 of 2 pods) is up and paused. Returns the Rollout's status then."""
    path = _path(system, ns, "rollouts", name)
    ctx.env.apply(path, content.rollout(system.api_group, name, "registry.invalid/web:1",
                                        analysis_url=analysis_url))
    ctx.wait_until(f"{system.name}: Rollout {ns}/{name} Healthy",
                   lambda: _healthy(ctx, system, ns, name), period=0.1)
    ctx.env.apply(path, content.rollout(system.api_group, name, "registry.invalid/web:2",
                                        analysis_url=analysis_url))
    return ctx.wait_until(f"{system.name}: canary of {ns}/{name} up and paused",
                          lambda: _canary_up(ctx, system, ns, name), period=0.1)


def _wait_aborted(ctx, system, ns, name, canary_hash, stable_hash, replicas, t_from) -> dict:
    """Polls until the Rollout records the abort, the canary is scaled to 0 (stable weight
    100%: without a router the weight is the replica ratio) and the stable ReplicaSet is back to
    `replicas` ready pods; returns each instant minus t_from."""
    got: dict = {}
    deadline = time.monotonic() + ctx.sizes.timeout_s
    while len(got) < 3:
        now = time.monotonic()
        if now > deadline:
            raise TimeoutError(f"{system.name}: {ns}/{name} not aborted and scaled down "
                               f"(reached: {sorted(got)})")
        ro = ctx.env.get(_path(system, ns, "rollouts", name)) or {}
        if "abort" not in got and ro.get("status", {}).get("abort"):
            got["abort"] = now - t_from
        rss = _replica_sets(ctx, ns, name)
        can = rss.get(canary_hash, {})
        if "canary_down" not in got and can and can["spec"].get("replicas", 1) == 0:
            got["canary_down"] = now - t_from
        st = rss.get(stable_hash, {})
        if ("stable_full" not in got and st and st["spec"].get("replicas") == replicas and
                st.get("status", {}).get("readyReplicas", 0) == replicas):
            got["stable_full"] = now - t_from
        time.sleep(0.02)
    return got


def abort_on_metric(ctx: Context, system: Controller) -> dict:
    """A canary whose web metric turns bad at a known instant: from the first bad answer served
    (the failing measurement) to the abort, to the canary scaled to 0 (stable 100%), to the
    stable ReplicaSet fully ready."""
    out: dict = {}
    log(f"{system.name}: abort on a failing web metric, {ctx.sizes.abort_samples} canaries")
    with ctx.running(system, f"{system.name}-abort") as ns:
        ctx.settle(system)
        out["idle_rss_mib"] = [procstat.rss_kib(system.pids()) / MIB]
        ctx.env.apply(_path(system, ns, "analysistemplates", "bench-web"),
                      content.analysis_template(system.api_group, ctx.sizes.analysis_interval,
                                                ctx.sizes.failure_limit))
        for i in range(ctx.sizes.abort_samples):
            name = f"canary-{i}"
            key = f"{ns}-{name}"
            st = _new_canary(ctx, system, ns, name, ctx.web.url(key))
            ctx.wait_until(f"{system.name}: a first measurement of {key}",
                           lambda: ctx.web.served(key) >= 1, period=0.05)
            t_flip = ctx.web.turn_bad(key)
            t_bad = ctx.wait_until(f"{system.name}: a measurement of {key} after it turned bad",
                                   lambda: ctx.web.first_bad(key), period=0.01)
            got = _wait_aborted(ctx, system, ns, name, st["currentPodHash"], st["stableRS"], 2,
                                t_bad)
            out.setdefault("flip_to_failing_measurement_seconds", []).append(t_bad - t_flip)
            for k, v in got.items():
                out.setdefault(f"to_{k}_seconds", []).append(v)
            log(f"  {system.name}: {name}: measured {t_bad - t_flip:.2f}s after the flip; from "
                f"that measurement: abort {got['abort']:.3f}s, canary at 0 "
                f"{got['canary_down']:.3f}s, stable ready {got['stable_full']:.3f}s")
            ctx.env.delete(_path(system, ns, "rollouts", name))
    return out


def manual_abort(ctx: Context, system: Controller) -> dict:
    """The abort request itself (status.abort=true, what `gantry rollout abort` and `kubectl
    argo rollouts abort` write) to the canary scaled to 0 (stable 100%) (#5)."""
    out: dict = {}
    log(f"{system.name}: manual abort, {ctx.sizes.abort_samples} canaries")
    with ctx.running(system, f"{system.name}-mabort") as ns:
        for i in range(ctx.sizes.abort_samples):
            name = f"manual-{i}"
            st = _new_canary(ctx, system, ns, name, None)
            t0 = time.monotonic()
            ctx.env.merge_patch(_path(system, ns, "rollouts", name) + "/status",
                                {"status": {"abort": True}})
            got = _wait_aborted(ctx, system, ns, name, st["currentPodHash"], st["stableRS"], 2, t0)
            for k, v in got.items():
                out.setdefault(f"to_{k}_seconds", []).append(v)
            log(f"  {system.name}: {name}: canary at 0 {got['canary_down']:.3f}s after the "
                f"request, stable ready {got['stable_full']:.3f}s")
            ctx.env.delete(_path(system, ns, "rollouts", name))
    return out


def idle_rollouts(ctx: Context, system: Controller) -> dict:
    """N Rollouts at rest (Healthy, 1 pod each): RSS, CPU per minute, API requests per minute."""
    n = ctx.sizes.idle_rollouts
    out: dict = {}
    log(f"{system.name}: {n} idle Rollouts")
    with ctx.running(system, f"{system.name}-idle") as ns:
        ctx.settle(system)
        idle = procstat.rss_kib(system.pids()) / MIB
        def create(i):
            name = f"idle-{i:04d}"
            ctx.env.apply(_path(system, ns, "rollouts", name),
                          content.rollout(system.api_group, name, "registry.invalid/idle:1", 1))

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(create, range(n)))

        def healthy():
            items = ctx.env.list(_path(system, ns, "rollouts"))
            return sum(1 for r in items if r.get("status", {}).get("phase") == "Healthy") == n

        t0 = time.monotonic()
        ctx.wait_until(f"{system.name}: {n} Rollouts Healthy", healthy, period=1)
        log(f"  {system.name}: {n} Rollouts Healthy {time.monotonic() - t0:.1f}s after the last "
            "was created")
        ctx.settle(system)
        pids = system.pids
        cpu0 = procstat.cpu_seconds(pids())
        api0 = apimetrics.snapshot(ctx.env)
        t0 = time.monotonic()
        time.sleep(ctx.sizes.idle_window_s)
        window = time.monotonic() - t0
        cpu = procstat.cpu_seconds(pids()) - cpu0
        api = apimetrics.diff(api0, apimetrics.snapshot(ctx.env))
        rss = procstat.rss_kib(pids()) / MIB
        out["rss_mib"] = [rss]
        out["rss_mib_above_idle"] = [rss - idle]
        out["cpu_seconds_per_minute"] = [cpu * 60 / window]
        out["cpu_ms_per_rollout_per_minute"] = [cpu * 60 / window * 1000 / n]
        out["api_requests_per_minute"] = [api["total"] * 60 / window]
        log(f"  {system.name}: at rest {rss:.1f} MiB ({rss - idle:+.1f} over idle), "
            f"{cpu * 60 / window:.3f} CPU-s/min")
    return out
