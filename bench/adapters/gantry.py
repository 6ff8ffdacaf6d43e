"""Gantry as a system under test: `gantry operator` from the build directory.

The binary is build/bin/gantry unless $GANTRY_BENCH_BUILD_DIR names another build directory.
It runs with --namespace, every endpoint on a free 127.0.0.1 port, its git cache in the workdir.
"""
from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import os
import secrets
import signal
import subprocess
import time
import urllib.request

from bench.lib.cluster import REPO, Env
from bench.lib.controller import RETRY_INTERVAL_S, Controller, Unavailable
from bench.lib.net import free_ports
from bench.lib.procstat import die_with_parent

GROUP = "/apis/gantry.io/v1alpha1"
CRD_NAMES = ["gitrepositories.gantry.io", "applications.gantry.io", "rollouts.gantry.io",
             "analysisruns.gantry.io", "analysistemplates.gantry.io",
             "clusteranalysistemplates.gantry.io"]


def _ready(obj: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in obj.get("status", {}).get("conditions", []))


def _sha(revision: str | None) -> str | None:
    # "main@sha1:<sha>" -> "<sha>"
    if not revision:
        return None
    return revision.rsplit(":", 1)[-1]


class Gantry(Controller):
    name = "gantry"
    kinds = {"gitops", "rollouts"}
    api_group = "gantry.io"

    def __init__(self):
        self.build_dir = os.environ.get("GANTRY_BENCH_BUILD_DIR") or os.path.join(REPO, "build")
        # make test runs the smoke from ctest, which names the binary it built in $GANTRY_BIN.
        self.binary = os.environ.get("GANTRY_BIN") or os.path.join(self.build_dir, "bin", "gantry")
        self.proc: subprocess.Popen | None = None
        self.webhook_port = 0
        self.metrics_port = 0
        self.token = secrets.token_hex(16)
        self.log_path = ""

    # --- life cycle ----------------------------------------------------------------------------

    def built(self) -> bool:
        return os.access(self.binary, os.X_OK)

    def build(self) -> None:
        # make bench builds Gantry (hack/build) before the driver runs; the driver never builds
        # in a build directory, which may be someone else's.
        if not self.built():
            raise Unavailable(f"{self.binary} is not built (make build, or set "
                              "GANTRY_BENCH_BUILD_DIR to a build directory holding bin/gantry)")

    def version(self) -> str:
        p = subprocess.run([self.binary, "version"], capture_output=True, text=True)
        return " ".join(p.stdout.split())

    def install_crds(self, env: Env) -> None:
        env.kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=gantry-bench",
                    "-f", os.path.join(REPO, "crds"))
        env.wait_crds(CRD_NAMES)

    def start(self, env: Env, namespace: str, workdir: str) -> None:
        self.stop()
        health, self.webhook_port, self.metrics_port = free_ports(3)
        self.log_path = os.path.join(workdir, "gantry.log")
        cmd = [self.binary, "operator", "--kubeconfig", env.kubeconfig, "--namespace", namespace,
               "--metrics-bind-address", f"127.0.0.1:{self.metrics_port}",
               "--health-probe-bind-address", f"127.0.0.1:{health}",
               "--webhook-bind-address", f"127.0.0.1:{self.webhook_port}"]
        environ = dict(os.environ, GANTRY_GIT_CACHE_DIR=os.path.join(workdir, "git-cache"))
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=environ,
                                         stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gantry operator exited with {self.proc.returncode}: "
                                   f"{self._log_tail()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{health}/readyz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gantry operator not ready after 60s: {self._log_tail()}")
            time.sleep(0.05)

    def _log_tail(self) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-15:])
        except OSError:
            return "(no log)"

    def pids(self) -> list[int]:
        return [self.proc.pid] if self.proc and self.proc.poll() is None else []

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    # --- gitops --------------------------------------------------------------------------------

    def create_source(self, env, namespace, git_url, branch, interval_s) -> None:
        env.apply(f"/api/v1/namespaces/{namespace}/secrets/bench-webhook",
                  {"apiVersion": "v1", "kind": "Secret",
                   "metadata": {"name": "bench-webhook", "namespace": namespace},
                   "stringData": {"token": self.token}})
        env.apply(f"{GROUP}/namespaces/{namespace}/gitrepositories/bench",
                  {"apiVersion": "gantry.io/v1alpha1", "kind": "GitRepository",
                   "metadata": {"name": "bench", "namespace": namespace},
                   "spec": {"url": git_url, "ref": {"branch": branch},
                            "interval": f"{interval_s}s",
                            "webhookSecretRef": {"name": "bench-webhook"}}})

    def create_apps(self, env, namespace, paths, interval_s) -> None:
        for path in paths:
            name = path.rstrip("/").rsplit("/", 1)[-1]
            env.apply(f"{GROUP}/namespaces/{namespace}/applications/{name}",
                      {"apiVersion": "gantry.io/v1alpha1", "kind": "Application",
                       "metadata": {"name": name, "namespace": namespace},
                       "spec": {"sourceRef": {"kind": "GitRepository", "name": "bench"},
                                "path": path, "targetNamespace": namespace,
                                "interval": f"{interval_s}s",
                                "retryInterval": f"{RETRY_INTERVAL_S}s", "prune": False}})

    def _latest(self, env, namespace) -> str | None:
        repo = env.get(f"{GROUP}/namespaces/{namespace}/gitrepositories/bench") or {}
        return repo.get("status", {}).get("artifact", {}).get("revision")

    def ready_count(self, env, namespace) -> tuple[int, int]:
        latest = self._latest(env, namespace)
        apps = env.list(f"{GROUP}/namespaces/{namespace}/applications")
        ready = sum(1 for a in apps if latest and _ready(a) and
                    a.get("status", {}).get("lastAppliedRevision") == latest)
        return ready, len(apps)

    def applied_revision(self, env, namespace, app) -> str | None:
        obj = env.get(f"{GROUP}/namespaces/{namespace}/applications/{app}") or {}
        return _sha(obj.get("status", {}).get("lastAppliedRevision"))

    def trigger_fetch(self, env, namespace) -> None:
        body = json.dumps({"ref": "refs/heads/main"}).encode()
        sig = hmac.new(self.token.encode(), body, hashlib.sha256).hexdigest()
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.webhook_port}/hooks/{namespace}/bench", data=body,
            method="POST", headers={"X-Hub-Signature-256": f"sha256={sig}",
                                    "Content-Type": "application/json",
                                    "X-GitHub-Event": "push"})
        with urllib.request.urlopen(req, timeout=10) as r:
            if r.status != 202:
                raise RuntimeError(f"gantry webhook answered {r.status}")

    def request_resync(self, env, namespace) -> int:
        stamp = datetime.datetime.now(datetime.timezone.utc).isoformat()
        self._stamp = stamp
        patch = {"metadata": {"annotations": {"gantry.io/reconcile-requested-at": stamp}}}
        writes = 0
        env.merge_patch(f"{GROUP}/namespaces/{namespace}/gitrepositories/bench", patch)
        writes += 1
        for a in env.list(f"{GROUP}/namespaces/{namespace}/applications"):
            env.merge_patch(f"{GROUP}/namespaces/{namespace}/applications/"
                            f"{a['metadata']['name']}", patch)
            writes += 1
        return writes

    def resync_pending(self, env, namespace) -> int | None:
        stamp = getattr(self, "_stamp", None)
        if stamp is None:
            return None
        objs = env.list(f"{GROUP}/namespaces/{namespace}/applications")
        repo = env.get(f"{GROUP}/namespaces/{namespace}/gitrepositories/bench")
        if repo:
            objs.append(repo)
        return sum(1 for o in objs if o.get("status", {}).get("lastHandledReconcileAt") != stamp)


def controller() -> Controller:
    return Gantry()
