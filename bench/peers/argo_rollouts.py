"""Argo Rollouts as a system under test: its controller (cmd/rollouts-controller), the peer of
Gantry's Rollout and AnalysisRun reconcilers.

Built by bench/peers/build.sh from github.com/argoproj/argo-rollouts at v1.8.5; CRDs from that
module's manifests/crds in the Go module cache. It runs with the bench's kubeconfig in namespaced
mode (--namespaced --namespace NS, which scopes every informer to NS, and POD_NAMESPACE=NS for
its notification ConfigMap), leader election off, metrics and healthz on free ports.

Argo Rollouts v1.8.5 binds its metrics and healthz servers to 0.0.0.0 with no flag to change it
(controller/controller.go: listenAddr = "0.0.0.0:%d"); the bench talks to them on 127.0.0.1 only.
"""
from __future__ import annotations

import os

from bench.lib.cluster import Env
from bench.lib.controller import Controller
from bench.lib.net import free_ports
from bench.peers import peerlib

MODULE = "github.com/argoproj/argo-rollouts"


class ArgoRollouts(Controller):
    name = "argo-rollouts"
    kinds = {"rollouts"}
    api_group = "argoproj.io"

    def __init__(self):
        self.proc: peerlib.Process | None = None

    def built(self) -> bool:
        return peerlib.built(["rollouts-controller"])

    def build(self) -> None:
        peerlib.build(["argo-rollouts"])

    def version(self) -> str:
        version = peerlib.required_version("argo-rollouts", MODULE)
        return f"argo-rollouts rollouts-controller {version}"

    def _crd_files(self) -> list[str]:
        src = peerlib.module_source("argo-rollouts", MODULE)
        return peerlib.crd_files(os.path.join(src, "manifests", "crds"))

    def crd_names(self) -> list[str]:
        return peerlib.crd_names(self._crd_files())

    def install_crds(self, env: Env) -> None:
        peerlib.install_crds(env, self._crd_files())

    def start(self, env: Env, namespace: str, workdir: str) -> None:
        self.stop()
        metrics, healthz = free_ports(2)
        environ = dict(os.environ, KUBECONFIG=env.kubeconfig, POD_NAMESPACE=namespace)
        self.proc = peerlib.Process(
            "rollouts-controller",
            [peerlib.binary("rollouts-controller"), "--kubeconfig", env.kubeconfig,
             "--namespaced", "--namespace", namespace, "--leader-elect=false",
             "--metricsport", str(metrics), "--healthzPort", str(healthz),
             "--loglevel", "info", "--logformat", "text"],
            workdir, environ)
        try:
            # healthz answers as soon as the process listens; "Started controller" is logged
            # once every informer has synced and the workers run.
            peerlib.wait_serving(
                [self.proc],
                lambda: (peerlib.http_ok(f"http://127.0.0.1:{healthz}/healthz") and
                         self.proc.log_contains("Started controller")),
                "argo rollouts-controller")
        except BaseException:
            self.stop()
            raise

    def pids(self) -> list[int]:
        p = self.proc
        return [p.pid] if p and p.running() else []

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None

    def logs(self) -> list[str]:
        return [self.proc.log_path] if self.proc else []


def controller() -> Controller:
    return ArgoRollouts()
