"""What every scenario shares within one run: the control plane, the Git server, the web metric,
the sizes, a scratch directory, namespaces (labelled with the run's id so that cleanup finds
them all) and the systems' life cycle."""
from __future__ import annotations

import contextlib
import os
import secrets
import sys
import time
from dataclasses import dataclass

from bench.lib import procstat
from bench.lib.cluster import Env
from bench.lib.controller import Controller
from bench.lib.gitserver import GitServer
from bench.lib.webmetric import WebMetric

RUN_LABEL = "gantry-bench-run"


@dataclass
class Sizes:
    apps: int                 # sync scenario: applications of 4 objects
    big_objects: int          # one application of this many objects (#4)
    noop_objects: list        # no-op resync of these many managed objects
    per_set: int              # ConfigMaps per application in the no-op scenario
    latency_apps: int         # applications synced while commit-to-applied is measured
    latency_samples: int      # commits per trigger (webhook, poll)
    poll_interval_s: int      # the poll trigger's GitRepository interval
    rounds: int               # repetitions of the 250-application sync and of resyncs
    big_rounds: int           # repetitions of the one-application sync
    tight_rounds: int         # repetitions of the tight loop (1 and 8 workers each)
    abort_samples: int        # canaries aborted per system (analysis and manual)
    analysis_interval: str    # the web metric's interval, both systems
    failure_limit: int        # ... and failure limit
    idle_rollouts: int        # Rollouts at rest
    idle_window_s: float      # CPU is measured over this window
    settle_s: float           # quiet time before an at-rest reading
    timeout_s: float          # for any one wait
    wait_clean: bool          # wait for the previous measurement's namespace to be deleted
    quiet_timeout_s: float    # longest wait for the apiserver to see no managed-object traffic


FULL = Sizes(apps=250, big_objects=1000, noop_objects=[1000, 10000], per_set=100,
             latency_apps=10, latency_samples=20, poll_interval_s=10, rounds=3, big_rounds=2,
             tight_rounds=2,
             abort_samples=20, analysis_interval="1s", failure_limit=0, idle_rollouts=1000,
             idle_window_s=60, settle_s=5, timeout_s=900, wait_clean=True,
             quiet_timeout_s=300)
SMOKE = Sizes(apps=3, big_objects=12, noop_objects=[20], per_set=10, latency_apps=2,
              latency_samples=2, poll_interval_s=2, rounds=1, big_rounds=1, tight_rounds=1,
              abort_samples=1,
              analysis_interval="1s", failure_limit=0, idle_rollouts=3, idle_window_s=2,
              settle_s=0.2, timeout_s=120, wait_clean=False,
              quiet_timeout_s=0)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Context:
    def __init__(self, env: Env, sizes: Sizes, workdir: str, git: GitServer, web: WebMetric,
                 build_dir: str):
        self.env = env
        self.sizes = sizes
        self.workdir = workdir
        self.git = git
        self.web = web
        self.build_dir = build_dir
        self.run_id = secrets.token_hex(3)
        self._count = 0
        self._deleted: list[str] = []

    def new_namespace(self, what: str) -> str:
        self._count += 1
        ns = f"bench-{what}-{self.run_id}-{self._count}"[:63]
        self.env.create_namespace(ns, {RUN_LABEL: self.run_id})
        return ns

    def delete_namespace(self, ns: str) -> None:
        with contextlib.suppress(Exception):
            self.env.delete_namespace(ns)
        self._deleted.append(ns)

    def wait_deleted(self, timeout: float = 300) -> None:
        """Waits until every namespace deleted so far is gone, so that one measurement does not
        pay for the previous one's garbage collection."""
        deadline = time.monotonic() + timeout
        for ns in self._deleted:
            while self.env.get(f"/api/v1/namespaces/{ns}") is not None:
                if time.monotonic() > deadline:
                    log(f"namespace {ns} still terminating after {timeout:.0f}s; going on")
                    return
                time.sleep(0.5)
        self._deleted.clear()

    def delete_all_namespaces(self) -> None:
        for ns in self.env.list("/api/v1/namespaces", f"{RUN_LABEL}={self.run_id}"):
            with contextlib.suppress(Exception):
                self.env.delete_namespace(ns["metadata"]["name"])

    @contextlib.contextmanager
    def running(self, system: Controller, what: str):
        """A fresh namespace with `system` started in it; stopped and deleted afterwards."""
        if self.sizes.wait_clean:
            self.wait_deleted()
        ns = self.new_namespace(what)
        wd = os.path.join(self.workdir, ns)
        os.makedirs(wd, exist_ok=True)
        try:
            system.start(self.env, ns, wd)
            yield ns
        finally:
            system.stop()
            self.delete_namespace(ns)

    def wait_until(self, what: str, fn, timeout: float | None = None, period: float = 0.25):
        """Polls fn() until it returns something true; returns it. TimeoutError names `what`
        and the last value fn returned."""
        deadline = time.monotonic() + (timeout or self.sizes.timeout_s)
        while True:
            v = fn()
            if v:
                return v
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for {what} (last: {v!r})")
            time.sleep(period)

    def settle(self, system: Controller) -> None:
        """Waits settle_s, then until the system's CPU use is quiet."""
        time.sleep(self.sizes.settle_s)
        procstat.wait_quiet(system.pids, window=min(1.0, 2 * self.sizes.settle_s),
                            timeout=60, min_wait=0.1)
