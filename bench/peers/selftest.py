#!/usr/bin/env python3
"""Self-test of the peer adapters against the control plane: each peer is built (if it is not
already), its CRDs installed, then started in a fresh namespace and put through the smallest run
of its scenario family:

  flux           a GitRepository over http (git http-backend behind lighttpd) and two
                 Kustomizations of four objects each become Ready at the pushed commit; a second
                 commit changing one ConfigMap is applied after trigger_fetch; a resync request
                 is handled by every object
  argo-rollouts  a canary (setWeight 50, pause) with a background web-metric analysis comes up on
                 kwok pods, pauses; the metric turns bad and the Rollout aborts, sends the weight
                 back to stable and scales the canary to 0

  python3 bench/peers/selftest.py [flux|argo-rollouts ...]     (default: both)

Uses the shared control plane (hack/cluster env) unless GANTRY_CLUSTER_DIR names another (a
private one, GANTRY_CLUSTER_DIR=.cache/cluster-peers hack/cluster up, keeps the peers' CRDs away
from other users); CRDs it installed are deleted again at the end. Exits 0
when every selected peer passed, 1 when one failed, 77 when none could be built here (the reason
is printed).
"""
from __future__ import annotations

import os
import secrets
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from bench.lib import content  # noqa: E402
from bench.lib.cluster import Env  # noqa: E402
from bench.lib.controller import Controller, Unavailable  # noqa: E402
from bench.lib.gitserver import GitServer  # noqa: E402
from bench.lib.webmetric import WebMetric  # noqa: E402
from bench.peers import argo_rollouts, flux, peerlib  # noqa: E402

RUN = secrets.token_hex(3)


def say(msg: str) -> None:
    print(f"selftest: {msg}", flush=True)


def wait_until(what: str, fn, timeout: float = 120, period: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not reached after {timeout:.0f}s")
        time.sleep(period)


def new_namespace(env: Env, what: str) -> str:
    ns = f"peers-selftest-{what}-{RUN}"
    env.create_namespace(ns, {"gantry-bench": f"peers-selftest-{RUN}"})
    return ns


def dump_logs(system: Controller) -> None:
    for path in getattr(system, "logs", lambda: [])():
        try:
            with open(path, errors="replace") as f:
                tail = f.readlines()[-25:]
        except OSError:
            continue
        print(f"--- {path}\n{''.join(tail)}", file=sys.stderr)


def test_flux(env: Env, system: flux.Flux, workdir: str) -> None:
    git = GitServer(workdir)
    git.start()
    ns = new_namespace(env, "flux")
    try:
        git.write({**content.app_files(0), **content.app_files(1)})
        first = git.commit("two applications")
        system.start(env, ns, workdir)
        pids = system.pids()
        assert len(pids) == 2, f"expected 2 flux processes, got {pids}"
        system.create_source(env, ns, git.url, git.branch, 600)
        system.create_apps(env, ns, [content.app_path(0), content.app_path(1)], 600)
        t0 = time.monotonic()
        wait_until("flux: 2 Kustomizations Ready", lambda: system.ready_count(env, ns) == (2, 2))
        say(f"flux: 2 Kustomizations Ready at {first[:12]} in {time.monotonic() - t0:.2f}s")
        for app in ("app-000", "app-001"):
            got = system.applied_revision(env, ns, app)
            assert got == first, f"flux: {app} applied {got}, pushed {first}"
            for kind in ("serviceaccounts", "configmaps", "services"):
                assert env.get(f"/api/v1/namespaces/{ns}/{kind}/{app}"), f"no {kind}/{app}"
            assert env.get(f"/apis/apps/v1/namespaces/{ns}/deployments/{app}"), f"no {app}"

        # A commit changing one object, picked up through the webhook path (the 600s poll
        # interval cannot be what finds it).
        git.write(content.app_files(0, value="2"))
        second = git.commit("app-000: value 2")
        t0 = time.monotonic()
        system.trigger_fetch(env, ns)
        wait_until("flux: app-000 at the second commit",
                   lambda: system.applied_revision(env, ns, "app-000") == second)
        cm = env.get(f"/api/v1/namespaces/{ns}/configmaps/app-000")
        assert cm["data"]["value"] == "2", f"flux: ConfigMap app-000 is {cm['data']}"
        say(f"flux: commit {second[:12]} applied {time.monotonic() - t0:.2f}s after the trigger")

        writes = system.request_resync(env, ns)
        assert writes == 3, f"flux: request_resync made {writes} writes, expected 3"
        wait_until("flux: resync handled", lambda: system.resync_pending(env, ns) == 0)
        say("flux: resync request handled by the GitRepository and both Kustomizations")
    except BaseException:
        dump_logs(system)
        raise
    finally:
        system.stop()
        git.stop()
        env.delete_namespace(ns)
    assert system.pids() == [], "flux: processes left after stop()"


def _replica_sets(env: Env, ns: str, name: str) -> dict[str, dict]:
    out = {}
    for rs in env.list(f"/apis/apps/v1/namespaces/{ns}/replicasets"):
        if any(o.get("kind") == "Rollout" and o.get("name") == name
               for o in rs["metadata"].get("ownerReferences") or []):
            out[rs["metadata"]["labels"]["rollouts-pod-template-hash"]] = rs
    return out


def test_argo(env: Env, system: argo_rollouts.ArgoRollouts, workdir: str) -> None:
    web = WebMetric().start()
    ns = new_namespace(env, "argo")
    group = system.api_group
    base = f"/apis/{group}/v1alpha1/namespaces/{ns}"
    name = "canary"
    key = f"{ns}-{name}"
    try:
        system.start(env, ns, workdir)
        env.apply(f"{base}/analysistemplates/bench-web",
                  content.analysis_template(group, "1s", 0))
        env.apply(f"{base}/rollouts/{name}",
                  content.rollout(group, name, "registry.invalid/web:1", analysis_url=web.url(key)))

        def rollout() -> dict:
            return env.get(f"{base}/rollouts/{name}") or {}

        def healthy() -> bool:
            st = rollout().get("status", {})
            return st.get("phase") == "Healthy" and st.get("availableReplicas") == 2

        wait_until("argo: Rollout Healthy with 2 available kwok pods", healthy)
        say("argo: Rollout Healthy, 2 pods Ready")
        env.apply(f"{base}/rollouts/{name}",
                  content.rollout(group, name, "registry.invalid/web:2", analysis_url=web.url(key)))

        def paused_canary() -> dict | None:
            st = rollout().get("status", {})
            canary, stable = st.get("currentPodHash"), st.get("stableRS")
            if not canary or canary == stable or not st.get("pauseConditions"):
                return None
            rs = _replica_sets(env, ns, name).get(canary, {})
            return st if rs.get("status", {}).get("readyReplicas", 0) >= 1 else None

        st = wait_until("argo: canary pod Ready and paused at setWeight 50", paused_canary)
        canary, stable = st["currentPodHash"], st["stableRS"]
        say(f"argo: canary {canary} up and paused (stable {stable})")
        wait_until("argo: a first web measurement", lambda: web.served(key) >= 1)
        web.turn_bad(key)
        t_bad = wait_until("argo: a measurement after the flip", lambda: web.first_bad(key),
                           period=0.01)

        def aborted() -> bool:
            return bool(rollout().get("status", {}).get("abort"))

        wait_until("argo: status.abort after the failing measurement", aborted, timeout=60,
                   period=0.02)
        t_abort = time.monotonic() - t_bad
        ars = env.list(f"{base}/analysisruns")
        assert any(a.get("status", {}).get("phase") == "Failed" for a in ars), \
            f"argo: no Failed AnalysisRun: {[a.get('status', {}).get('phase') for a in ars]}"

        def canary_down() -> bool:
            rss = _replica_sets(env, ns, name)
            return (rss.get(canary, {}).get("spec", {}).get("replicas") == 0 and
                    rss.get(stable, {}).get("status", {}).get("readyReplicas") == 2)

        # Without a traffic router Argo Rollouts scales the canary down at once:
        # abortScaleDownDelaySeconds (default 30) applies only under trafficRouting
        # (utils/defaults.GetAbortScaleDownDelaySecondsOrDefault). 90s leaves room for both.
        wait_until("argo: canary scaled to 0, stable at 2 ready", canary_down, timeout=90,
                   period=0.1)
        say(f"argo: aborted {t_abort:.3f}s after the failing measurement; canary at 0 and "
            f"stable at 2 ready {time.monotonic() - t_bad:.1f}s after it")
        assert rollout()["status"].get("phase") == "Degraded", \
            f"argo: phase {rollout()['status'].get('phase')} after the abort"
    except BaseException:
        dump_logs(system)
        raise
    finally:
        system.stop()
        web.stop()
        env.delete_namespace(ns)
    assert system.pids() == [], "argo: process left after stop()"


def main(argv: list[str]) -> int:
    chosen = argv or ["flux", "argo-rollouts"]
    systems = {"flux": (flux.Flux(), test_flux),
               "argo-rollouts": (argo_rollouts.ArgoRollouts(), test_argo)}
    unknown = [c for c in chosen if c not in systems]
    if unknown:
        print(f"usage: selftest.py [flux|argo-rollouts ...] (unknown: {unknown})", file=sys.stderr)
        return 2
    env = Env.load()
    failed = unavailable = 0
    for name in chosen:
        system, test = systems[name]
        try:
            t0 = time.monotonic()
            system.build()
            say(f"{name}: built ({system.version()}) in {time.monotonic() - t0:.1f}s")
            # CRDs this run adds are removed afterwards: Argo Rollouts' take over kubectl's
            # short names of Gantry's kinds (see README.md).
            added = peerlib.missing_crds(env, system.crd_names())
            system.install_crds(env)
            try:
                with tempfile.TemporaryDirectory(prefix=f"peers-{name}-") as workdir:
                    test(env, system, workdir)
            finally:
                peerlib.delete_crds(env, added)
            say(f"{name}: PASS")
        except Unavailable as e:
            unavailable += 1
            say(f"{name}: UNAVAILABLE: {e}")
        except Exception as e:  # noqa: BLE001 - report and go on with the next peer
            failed += 1
            say(f"{name}: FAIL: {type(e).__name__}: {e}")
    if failed:
        return 1
    return 77 if unavailable == len(chosen) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
