"""The interface every system under test implements, Gantry and its peers alike.

The driver (bench/run.py) runs each scenario once per system, in the same run and on the same
control plane, so that figures are ratios. A system is an adapter module exposing one subclass of
Controller:

    bench/adapters/gantry.py       Gantry (gitops and rollouts)
    bench/peers/flux.py            Flux source-controller + kustomize-controller (gitops)
    bench/peers/argo_rollouts.py   Argo Rollouts' controller (rollouts)

The driver calls, in this order: built() (smoke runs only) or build(); install_crds(); then per
measurement start() ... the scenario's methods ... stop(). Every method may raise Unavailable
with the exact reason the system cannot take part; the driver records that reason in the results
and keeps the other systems' figures. Any other exception is a bug of the adapter or the system
and fails the scenario for that system (recorded too).

Methods run on the driver's main thread only; pids() is also called from the sampler thread, so
it must not block.
"""
from __future__ import annotations


#: Every application's retry after a failed sync (Gantry's Application and Flux's Kustomization
#: spec.retryInterval, same value on both). Unset, both retry only after spec.interval, which the
#: scenarios set to an hour so that no periodic drift check lands inside a measurement; one
#: transient failure (an apiserver timeout under load) would then stall a scenario until its
#: time limit. Flux's own examples set retryInterval for the same reason.
RETRY_INTERVAL_S = 10


class Unavailable(Exception):
    """This system cannot run here; str(exc) is the exact reason (a missing toolchain, a module
    that does not build, with the first lines of the compiler's error)."""


class Controller:
    #: "gantry" | "flux" | "argo-rollouts"
    name = ""
    #: the scenario families this system takes part in: {"gitops"}, {"rollouts"} or both
    kinds: set[str] = set()
    #: rollouts family: the API group of Rollout, AnalysisTemplate, AnalysisRun
    #: ("gantry.io" | "argoproj.io"); manifests are otherwise identical
    api_group = ""

    # --- life cycle --------------------------------------------------------------------------

    def built(self) -> bool:
        """True when the system's binaries already exist, checked cheaply (no compiler run).
        The smoke run (make bench-smoke, part of make test) only includes systems that are
        built and prints "peer <name>: not built" for the others."""
        return True

    def build(self) -> None:
        """Builds the binaries; idempotent and quick when nothing changed. Raises Unavailable
        with the reason when they cannot be built on this machine."""
        raise NotImplementedError

    def version(self) -> str:
        """A one-line description of what runs (version, commit or module versions), for the
        machine description in results/latest.json."""
        return ""

    def install_crds(self, env) -> None:
        """Installs (server-side apply) and waits for Established every CRD the system needs.
        env is bench.lib.cluster.Env. CRDs are cluster-wide and left installed."""
        raise NotImplementedError

    def start(self, env, namespace: str, workdir: str) -> None:
        """Starts the process(es), scoped to `namespace` where the system supports it, with
        logs and scratch files under `workdir` (a fresh directory), listening on 127.0.0.1
        only; returns once the system serves (ready endpoint, or caches synced). Raises
        Unavailable or RuntimeError (with the log's tail) if it does not come up."""
        raise NotImplementedError

    def pids(self) -> list[int]:
        """Every process of this system now running: the driver sums VmRSS and VmHWM and
        utime+stime of these from /proc. Empty when stopped."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stops every process start() began (TERM, then KILL) and waits for them. Idempotent."""
        raise NotImplementedError

    # --- gitops family -----------------------------------------------------------------------

    def create_source(self, env, namespace: str, git_url: str, branch: str,
                      interval_s: int) -> None:
        """Creates one Git source named "bench" in `namespace` for http(s) `git_url` at
        `branch`, polled every interval_s seconds (and able to be triggered by trigger_fetch)."""
        raise NotImplementedError

    def create_apps(self, env, namespace: str, paths: list[str], interval_s: int) -> None:
        """Creates one application per repository path (an Application or a Kustomization)
        over the source "bench", named by the path's last element, applying into `namespace`,
        with a full drift check every interval_s seconds and a retry RETRY_INTERVAL_S after a
        failure. No pruning, no health wait."""
        raise NotImplementedError

    def ready_count(self, env, namespace: str) -> tuple[int, int]:
        """(applications Ready at the source's latest revision, all applications)."""
        raise NotImplementedError

    def applied_revision(self, env, namespace: str, app: str) -> str | None:
        """The Git commit sha (40 hex digits, no branch prefix) the application last applied,
        or None."""
        raise NotImplementedError

    def trigger_fetch(self, env, namespace: str) -> None:
        """Makes the source fetch now, the way a push webhook would: Gantry POSTs its signed
        webhook; Flux annotates the GitRepository with reconcile.fluxcd.io/requestedAt (what
        its notification-controller Receiver does)."""
        raise NotImplementedError

    def request_resync(self, env, namespace: str) -> int:
        """Asks for a no-op resync of everything in `namespace`: the reconcile-request
        annotation on the source and on every application. Returns the number of write
        requests it made itself (the driver subtracts them from the apiserver's counts)."""
        raise NotImplementedError

    def resync_pending(self, env, namespace: str) -> int | None:
        """How many objects have not yet handled the last request_resync (for instance
        status.lastHandledReconcileAt differs from the annotation), or None when the system
        does not say; then the driver waits until the processes' CPU use goes quiet."""
        return None
