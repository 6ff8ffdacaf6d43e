#!/usr/bin/env python3
"""Gantry beside its peers on one control plane, in one run (make bench, make bench-smoke).

    bench/run.py [--smoke] [--out FILE] [--only SCENARIO,...] [--systems NAME,...]

Starts a Git http server and a web-metric server on 127.0.0.1, runs every scenario for every
system that takes part (Gantry, and the peers whose adapters are in bench/peers), prints a
table and writes the figures as JSON (default bench/results/latest.json; the smoke writes to
$GANTRY_BENCH_BUILD_DIR/bench-results/smoke.json). The control plane is $GANTRY_CLUSTER_DIR
(default .cache/cluster). See bench/README.md for the method and what each figure means.
Exit status: 0 when every scenario ran for every available system, 1 otherwise.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.lib import stats  # noqa: E402
from bench.lib.cluster import REPO, Env  # noqa: E402
from bench.lib.context import FULL, SMOKE, Context, log  # noqa: E402
from bench.lib.controller import Controller, Unavailable  # noqa: E402
from bench.lib.gitserver import GitServer  # noqa: E402
from bench.lib.webmetric import WebMetric  # noqa: E402
from bench.scenarios import gitops, limit, rollouts  # noqa: E402

SYSTEMS = [("gantry", "bench.adapters.gantry"), ("flux", "bench.peers.flux"),
           ("argo-rollouts", "bench.peers.argo_rollouts")]


def load_system(module_name: str) -> Controller:
    """The adapter's controller: module.controller() if defined, else its one Controller
    subclass."""
    mod = importlib.import_module(module_name)
    if hasattr(mod, "controller"):
        return mod.controller()
    classes = [c for c in vars(mod).values() if isinstance(c, type) and
               issubclass(c, Controller) and c is not Controller and c.__module__ == mod.__name__]
    if len(classes) != 1:
        raise Unavailable(f"{module_name} defines {len(classes)} Controller subclasses, not 1")
    return classes[0]()


def _run(cmd: list[str]) -> str:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        return (p.stdout or p.stderr).strip().splitlines()[0] if (p.stdout or p.stderr) else ""
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unavailable ({e})"


def describe_machine(env: Env) -> dict:
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) // 1024} MiB"
    os_name = ""
    if os.path.exists("/etc/os-release"):
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    os_name = line.split("=", 1)[1].strip().strip('"')
    b = env.bin_dir
    return {
        "cpu_model": cpu, "cores": os.cpu_count(), "memory": mem, "kernel": platform.release(),
        "os": os_name, "load_average_at_start": os.getloadavg(),
        "versions": {
            "kube-apiserver": env.server_version(),
            "etcd": _run([os.path.join(b, "etcd"), "--version"]),
            "kwok": _run([os.path.join(b, "kwok"), "--version"]),
            "python": platform.python_version(),
            "git": _run(["git", "--version"]),
            "lighttpd": _run(["lighttpd", "-v"]),
            "g++": _run(["g++", "--version"]),
            "go": _run(["go", "version"]) if shutil.which("go") else "not installed",
        },
        "gantry_commit": _run(["git", "-C", REPO, "rev-parse", "HEAD"]) +
        (" (dirty)" if _run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no",
                             "operator"]) else ""),
    }


# --- the plan -------------------------------------------------------------------------------

def plan(sizes):
    """(key, family, title, function(ctx, system, results) -> figures)"""
    steps = [
        ("sync_apps", "gitops", f"sync {sizes.apps} applications × 4 objects",
         lambda c, s, r: gitops.sync_apps(c, s)),
        ("big_app", "gitops", f"one application of {sizes.big_objects} objects",
         lambda c, s, r: gitops.big_app(c, s)),
        ("commit_to_applied_webhook", "gitops", "commit-to-applied, webhook",
         lambda c, s, r: gitops.commit_to_applied(c, s, "webhook")),
        ("commit_to_applied_poll", "gitops",
         f"commit-to-applied, {sizes.poll_interval_s}s poll",
         lambda c, s, r: gitops.commit_to_applied(c, s, "poll")),
    ]
    for n in sizes.noop_objects:
        steps.append((f"noop_resync_{n}", "gitops", f"no-op resync of {n} managed objects",
                      lambda c, s, r, n=n: gitops.noop_resync(c, s, n)))
    steps += [
        ("abort_on_metric", "rollouts", "canary abort on a failing web metric",
         lambda c, s, r: rollouts.abort_on_metric(c, s)),
        ("manual_abort", "rollouts", "manual abort request to stable",
         lambda c, s, r: rollouts.manual_abort(c, s)),
        ("idle_rollouts", "rollouts", f"{sizes.idle_rollouts} idle Rollouts",
         lambda c, s, r: rollouts.idle_rollouts(c, s)),
    ]
    return steps


def _median(results, scenario, system, figure):
    s = results.get("scenarios", {}).get(scenario, {}).get("systems", {}).get(system, {})
    f = s.get("figures", {}).get(figure)
    return f["median"] if f else None


def add_ratios(scn: dict) -> None:
    """Gantry's median over each peer's, figure by figure."""
    g = scn["systems"].get("gantry", {})
    for name, p in scn["systems"].items():
        if name == "gantry" or p.get("status") != "ran" or g.get("status") != "ran":
            continue
        scn.setdefault("ratios", {})[name] = {
            f: stats.ratio(v, p["figures"].get(f)) for f, v in g["figures"].items()
            if isinstance(v, dict) and isinstance(p["figures"].get(f), dict)}


def summarize(raw: dict) -> dict:
    out = {}
    for k, vals in raw.items():
        if vals and isinstance(vals[0], dict):
            out[k] = vals  # per-round detail (API requests by resource)
        else:
            out[k] = stats.summary(vals)
    return out


# --- targets (the goals; reported, not tuned to) ------------------------------------

def targets(results: dict) -> list[dict]:
    def fig(scn, sysname, name):
        return _median(results, scn, sysname, name)

    def row(goal, value, met, note=""):
        # No figure, no verdict.
        return {"target": goal, "value": value, "met": met if value else None, "note": note}

    rows = []
    sync = "sync_apps"
    gw, fw = fig(sync, "gantry", "wall_seconds"), fig(sync, "flux", "wall_seconds")
    gm, fm = fig(sync, "gantry", "peak_rss_mib"), fig(sync, "flux", "peak_rss_mib")
    if gw and fw:
        rows.append(row("sync of 1,000 objects ≥ 4× faster than Flux", f"{fw / gw:.2f}×",
                        fw / gw >= 4))
    else:
        rows.append(row("sync of 1,000 objects ≥ 4× faster than Flux", None, None,
                        "no Flux figure (see the scenario)"))
    if gm and fm:
        rows.append(row("peak memory ≤ 1/3 of Flux's", f"{gm / fm:.2f} of Flux's",
                        gm / fm <= 1 / 3))
    else:
        rows.append(row("peak memory ≤ 1/3 of Flux's", None, None, "no Flux figure (see the scenario)"))
    idle = fig(sync, "gantry", "idle_rss_mib")
    rows.append(row("idle RSS ≤ 15 MiB", idle and f"{idle:.1f} MiB",
                    idle is not None and idle <= 15))
    big = max((k for k in results["scenarios"] if k.startswith("noop_resync_")),
              key=lambda k: int(k.rsplit("_", 1)[1]), default=None)
    per = fig(big, "gantry", "rss_mib_per_1000_objects") if big else None
    rows.append(row("≤ 2 MiB per 1,000 watched objects", per and f"{per:.2f} MiB",
                    per is not None and per <= 2, big or ""))
    if big:
        cpu = fig(big, "gantry", "cpu_seconds")
        w = results["scenarios"][big]["systems"].get("gantry", {}).get("figures", {}).get(
            "api_managed_object_writes")
        writes = w["max"] if w else None
        rows.append(row(f"no-op resync of {big.rsplit('_', 1)[1]} objects ≤ 0.5 CPU-s, zero "
                        "writes", cpu is not None and f"{cpu:.2f} CPU-s, {writes} writes to "
                        "managed objects (worst round)",
                        cpu is not None and cpu <= 0.5 and writes == 0))
    wh = fig("commit_to_applied_webhook", "gantry", "latency_seconds")
    rows.append(row("webhook commit-to-applied ≤ 1 s median", wh and f"{wh:.3f} s",
                    wh is not None and wh <= 1))
    ab = fig("abort_on_metric", "gantry", "to_canary_down_seconds")
    rows.append(row("abort to stable ≤ 1 s after the failing measurement", ab and f"{ab:.3f} s",
                    ab is not None and ab <= 1))
    thr = fig(sync, "gantry", "objects_per_second")
    lim = fig("tight_loop", "kube_bench", "objects_per_second_8w")
    lim1 = fig("tight_loop", "kube_bench", "objects_per_second_1w")
    best = max(x for x in (lim, lim1, 0) if x is not None)
    rows.append(row("sync throughput ≥ 80% of the tight-loop limit",
                    thr and best and f"{100 * thr / best:.0f}% ({thr:.0f} of {best:.0f} objects/s)",
                    bool(thr and best) and thr / best >= 0.8))
    return rows


# --- output ---------------------------------------------------------------------------------

def _fmt(s: dict | None) -> str:
    if not s:
        return "-"
    m, lo, hi = s["median"], s["min"], s["max"]
    def f(v):
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
    return f(m) if s["n"] == 1 else f"{f(m)} [{f(lo)}–{f(hi)}]"


def print_table(results: dict) -> None:
    out = sys.stdout
    print(f"\nGantry benchmarks ({results['run']['mode']}), median [min–max] of the rounds; "
          "ratio = gantry / peer\n", file=out)
    for key, scn in results["scenarios"].items():
        systems = scn["systems"]
        names = list(systems)
        print(f"{scn['title']}", file=out)
        for name in names:
            s = systems[name]
            if s["status"] != "ran":
                print(f"  {name}: {s['status']}: {s.get('reason', '')}", file=out)
        ran = [n for n in names if systems[n]["status"] == "ran"]
        if not ran:
            continue
        figs = []
        for n in ran:
            for f, v in systems[n]["figures"].items():
                if f not in figs and (v is None or isinstance(v, dict)):
                    figs.append(f)
        header = f"  {'figure':<40}" + "".join(f"{n:>26}" for n in ran)
        peers = [n for n in ran if n != "gantry"]
        if "gantry" in ran and peers:
            header += "".join(f"{'ratio/' + p:>20}" for p in peers)
        print(header, file=out)
        for f in figs:
            line = f"  {f:<40}" + "".join(f"{_fmt(systems[n]['figures'].get(f)):>26}"
                                          for n in ran)
            for p in peers if "gantry" in ran else []:
                r = scn.get("ratios", {}).get(p, {}).get(f)
                line += f"{(f'{r:.2f}' if r is not None else '-'):>20}"
            print(line, file=out)
        print(file=out)
    print("Targets (issue #9):", file=out)
    for t in results["targets"]:
        mark = {True: "met", False: "NOT met", None: "n/a"}[t["met"]]
        print(f"  {t['target']:<58} {str(t['value'] or '-'):<48} {mark} {t['note']}", file=out)


def split_sync_figures(results: dict) -> None:
    """Results written before the no-op scenario prefixed its sync's figures held the sync's
    cpu_seconds and api_requests as the first value of the resync's lists (the sync ran and
    appended first; its wall_seconds has one value). Moves them to sync_* as runs now write."""
    for key, scn in results.get("scenarios", {}).items():
        if not key.startswith("noop_resync_"):
            continue
        for entry in scn["systems"].values():
            figs = entry.get("figures") or {}
            if "wall_seconds" not in figs or "sync_wall_seconds" in figs:
                continue
            for name in ("wall_seconds", "peak_rss_mib", "objects_per_second"):
                figs["sync_" + name] = figs.pop(name)
            for name in ("cpu_seconds", "api_requests"):
                values = figs[name]["values"]
                figs["sync_" + name] = stats.summary(values[:1])
                figs[name] = stats.summary(values[1:])


def merge(out: str, parts: list[str]) -> int:
    """Combines results of runs that each ran some scenarios (--only) into one file, for
    instance the gitops family on a private control plane and the rollouts family on another,
    run side by side; every scenario keeps its systems' figures from one run."""
    loaded = []
    for p in parts:
        with open(p) as f:
            loaded.append(json.load(f))
    merged = {"run": dict(loaded[0]["run"]), "machine": loaded[0]["machine"], "systems": {},
              "scenarios": {}}
    p_of = {id(r): p for p, r in zip(parts, loaded)}
    for r in loaded:
        split_sync_figures(r)
    # Each part ran at its own time, load and commit: kept beside its scenarios, since the
    # machine description at the top is only the first part's.
    merged["run"]["parts"] = [dict(r["run"], file=os.path.basename(p),
                                   scenarios=list(r["scenarios"]),
                                   systems=[n for n, e in r["systems"].items()
                                            if e.get("status") == "ran"],
                                   load_average_at_start=r["machine"].get("load_average_at_start"),
                                   load_average_at_end=r["machine"].get("load_average_at_end"),
                                   gantry_commit=r["machine"].get("gantry_commit"))
                              for p, r in zip(parts, loaded)]
    merged["run"]["started"] = min(r["run"]["started"] for r in loaded)
    merged["run"]["finished"] = max(r["run"]["finished"] for r in loaded)
    for r in loaded:
        for name, entry in r["systems"].items():
            if merged["systems"].get(name, {}).get("status") != "ran":
                merged["systems"][name] = entry
        for key, scn in r["scenarios"].items():
            into = merged["scenarios"].setdefault(key, {"title": scn["title"], "systems": {}})
            for name, entry in scn["systems"].items():
                into["systems"][name] = dict(entry, part=os.path.basename(p_of[id(r)]))
    for scn in merged["scenarios"].values():
        scn.pop("ratios", None)
        add_ratios(scn)
    merged["targets"] = targets(merged)
    with open(out, "w") as f:
        json.dump(merged, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print_table(merged)
    print(f"\nresults: {out}")
    return 0


def save(results: dict, out: str, started: datetime.datetime) -> None:
    """Writes the results so far (after every scenario, so that an interrupted run keeps
    what it measured)."""
    results["targets"] = targets(results)
    now = datetime.datetime.now(datetime.timezone.utc)
    results["run"]["finished"] = now.isoformat(timespec="seconds")
    results["run"]["seconds"] = round((now - started).total_seconds())
    results["machine"]["load_average_at_end"] = os.getloadavg()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out + ".tmp", "w") as f:
        json.dump(results, f, indent=1, ensure_ascii=False)
        f.write("\n")
    os.replace(out + ".tmp", out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true", help="tiny sizes (make bench-smoke)")
    ap.add_argument("--out", help="JSON results file")
    ap.add_argument("--only", help="comma-separated scenario keys (default: all)")
    ap.add_argument("--systems", help="comma-separated system names (default: all)")
    ap.add_argument("--set", action="append", default=[], metavar="SIZE=VALUE",
                    help="override one size (bench/lib/context.py Sizes), e.g. --set apps=50")
    ap.add_argument("--merge", nargs="+", metavar="PART",
                    help="combine the results files PART... into --out, run nothing")
    args = ap.parse_args()
    if args.merge:
        return merge(args.out or os.path.join(REPO, "bench", "results", "latest.json"),
                     args.merge)
    sizes = dataclasses.replace(SMOKE if args.smoke else FULL)
    for kv in args.set:
        key, _, value = kv.partition("=")
        if not hasattr(sizes, key):
            ap.error(f"--set {kv}: no size named {key!r}")
        current = getattr(sizes, key)
        if isinstance(current, list):
            setattr(sizes, key, [int(v) for v in value.split(",")])
        elif isinstance(current, bool):
            setattr(sizes, key, value.lower() in ("1", "true", "yes"))
        else:
            setattr(sizes, key, type(current)(value))
    build_dir = os.environ.get("GANTRY_BENCH_BUILD_DIR") or os.path.join(REPO, "build")
    if not args.out:
        args.out = (os.path.join(build_dir, "bench-results", "smoke.json") if args.smoke
                    else os.path.join(REPO, "bench", "results", "latest.json"))
    only = set(args.only.split(",")) if args.only else None
    wanted = set(args.systems.split(",")) if args.systems else None

    try:
        env = Env.load()
    except RuntimeError as e:
        if args.smoke:
            print(f"SKIP: {e}")
            return 77
        raise
    started = datetime.datetime.now(datetime.timezone.utc)
    results: dict = {"run": {"mode": "smoke" if args.smoke else "full",
                             "started": started.isoformat(timespec="seconds"),
                             "cluster_dir": env.cluster_dir, "sizes": vars(sizes)},
                     "machine": describe_machine(env), "systems": {}, "scenarios": {}}

    # Systems: load, build (or, in a smoke run, take only what is built), install CRDs.
    systems: list[Controller] = []
    # CRDs a smoke run installs for a peer are removed at the end: Argo Rollouts' CRDs share
    # Gantry's plurals and short names, and a smoke run inside make test must leave the
    # control plane as it found it.
    installed_here: list[str] = []
    for name, module in SYSTEMS:
        if wanted and name not in wanted:
            continue
        entry = results["systems"].setdefault(name, {})
        try:
            c = load_system(module)
            if args.smoke and not c.built():
                raise Unavailable("not built")
            if not args.smoke:
                log(f"building {name}")
                c.build()
            if args.smoke and name != "gantry" and hasattr(c, "crd_names"):
                from bench.peers import peerlib
                installed_here += peerlib.missing_crds(env, c.crd_names())
            c.install_crds(env)
            entry.update(status="ran", version=c.version(), kinds=sorted(c.kinds))
            systems.append(c)
        except ModuleNotFoundError as e:
            entry.update(status="unavailable", reason=f"not built (no adapter: {e.name})")
        except Unavailable as e:
            entry.update(status="unavailable", reason=str(e))
        except Exception as e:  # an adapter's bug: recorded, the others go on
            entry.update(status="error", reason=f"{type(e).__name__}: {e}")
        if entry["status"] != "ran":
            label = "peer " if name != "gantry" else ""
            print(f"{label}{name}: {entry['reason']}", flush=True)

    # A TERM (ctest's timeout, kill) cleans up like ^C: systems stopped, namespaces deleted.
    def terminate(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, terminate)
    workdir = tempfile.mkdtemp(prefix="gantry-bench-")
    git = GitServer(workdir)
    web = WebMetric()
    failures = 0
    ctx = None
    try:
        git.start()
        web.start()
        ctx = Context(env, sizes, workdir, git, web, build_dir)
        log(f"run {ctx.run_id}: repository {git.url}, web metric on port {web.port}")
        from bench.lib import content
        git.write(content.repository(sizes.apps, sizes.big_objects,
                                     max(sizes.noop_objects) // sizes.per_set, sizes.per_set))
        git.commit("bench repository")

        # The physical limit first: the apiserver is at its freshest.
        if not only or "tight_loop" in only:
            scn = results["scenarios"]["tight_loop"] = {
                "title": f"tight loop of server-side apply, {sizes.big_objects} objects",
                "systems": {}}
            gantry = next((s for s in systems if s.name == "gantry"), None)
            kube_bench = os.path.join(os.path.dirname(gantry.binary), "kube_bench") if gantry \
                else os.path.join(build_dir, "bin", "kube_bench")
            if os.access(kube_bench, os.X_OK):
                try:
                    raw = limit.tight_loop(ctx, kube_bench, sizes.big_objects)
                    scn["systems"]["kube_bench"] = {"status": "ran", "figures": summarize(raw)}
                except Exception as e:
                    failures += 1
                    traceback.print_exc()
                    scn["systems"]["kube_bench"] = {"status": "error",
                                                    "reason": f"{type(e).__name__}: {e}"}
            else:
                print(f"tight loop: {kube_bench} not built", flush=True)
                scn["systems"]["kube_bench"] = {"status": "unavailable",
                                                "reason": f"{kube_bench} not built"}

        for key, family, title, fn in plan(sizes):
            if only and key not in only:
                continue
            scn = results["scenarios"][key] = {"title": title, "systems": {}}
            for s in systems:
                if family not in s.kinds:
                    continue
                t0 = time.monotonic()
                try:
                    raw = fn(ctx, s, results)
                    scn["systems"][s.name] = {"status": "ran", "figures": summarize(raw),
                                              "seconds": round(time.monotonic() - t0, 1)}
                except Unavailable as e:
                    scn["systems"][s.name] = {"status": "unavailable", "reason": str(e)}
                except Exception as e:
                    failures += 1
                    log(f"{s.name}: {key} failed: {type(e).__name__}: {e}")
                    traceback.print_exc()
                    scn["systems"][s.name] = {"status": "error",
                                              "reason": f"{type(e).__name__}: {e}"}
                finally:
                    s.stop()
            add_ratios(scn)
            save(results, args.out, started)
    except KeyboardInterrupt:
        failures += 1
        log("interrupted")
    finally:
        for s in systems:
            s.stop()
        if ctx:
            ctx.delete_all_namespaces()
        web.stop()
        git.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        if installed_here:
            from bench.peers import peerlib
            peerlib.delete_crds(env, installed_here)

    save(results, args.out, started)
    print_table(results)
    print(f"\nresults: {args.out} ({results['run']['seconds']}s)")
    if failures:
        print(f"FAILED: {failures} scenario run(s) failed (see above)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
