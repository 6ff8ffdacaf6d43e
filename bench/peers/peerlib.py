"""What the peer adapters share: building through build.sh, finding the CRDs in the Go module
cache, and running a controller process with its log in the workdir.

The peers' binaries live in .cache/bin/peers (build.sh); their CRDs are read from the exact module
versions the wrapper go.mod files pin, in the Go module cache, never from copies in this tree.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request

from bench.lib.cluster import REPO, Env
from bench.lib.controller import Unavailable

PEERS_DIR = os.path.dirname(os.path.abspath(__file__))
BIN_DIR = os.environ.get("GANTRY_PEERS_BIN_DIR") or os.path.join(REPO, ".cache", "bin", "peers")
BUILD_SH = os.path.join(PEERS_DIR, "build.sh")


def go_binary() -> str | None:
    return shutil.which("go") or (
        "/usr/local/go/bin/go" if os.access("/usr/local/go/bin/go", os.X_OK) else None)


def build(groups: list[str]) -> None:
    """Runs build.sh for groups (quick when the stamps match); raises Unavailable with the
    command and the compiler's error when a group does not build."""
    if go_binary() is None:
        raise Unavailable("no Go toolchain: `go` is neither on PATH nor in /usr/local/go/bin "
                          "(bench/peers/build.sh needs Go >= 1.26)")
    p = subprocess.run(["bash", BUILD_SH, *groups], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL)
    if p.returncode == 0:
        return
    reasons = []
    for g in groups:
        path = os.path.join(BIN_DIR, f".failed-{g}")
        if os.path.exists(path):
            with open(path, errors="replace") as f:
                reasons.append(f"{g}: {f.read().strip()}")
    raise Unavailable("\n".join(reasons) or
                      f"bench/peers/build.sh {' '.join(groups)} exited {p.returncode}: "
                      f"{p.stderr.strip()[-800:]}")


def built(binaries: list[str]) -> bool:
    return all(os.access(os.path.join(BIN_DIR, b), os.X_OK) for b in binaries)


def binary(name: str) -> str:
    return os.path.join(BIN_DIR, name)


def required_version(module_dir: str, module_path: str) -> str:
    """The version of module_path the wrapper go.mod in bench/peers/<module_dir> requires."""
    gomod = os.path.join(PEERS_DIR, module_dir, "go.mod")
    with open(gomod) as f:
        for line in f:
            m = re.match(r"\s*(?:require\s+)?(\S+)\s+(v\S+)", line)
            if m and m.group(1) == module_path and "=>" not in line:
                return m.group(2)
    raise RuntimeError(f"{gomod}: no requirement on {module_path}")


def module_source(module_dir: str, module_path: str) -> str:
    """The directory of module_path, at the version bench/peers/<module_dir>/go.mod pins, in the
    Go module cache (downloaded through the module proxy when missing)."""
    go = go_binary()
    if go is None:
        raise Unavailable("no Go toolchain to locate the CRDs in the module cache")
    version = required_version(module_dir, module_path)
    p = subprocess.run([go, "mod", "download", "-json", f"{module_path}@{version}"],
                       cwd=os.path.join(PEERS_DIR, module_dir), capture_output=True, text=True,
                       stdin=subprocess.DEVNULL)
    try:
        info = json.loads(p.stdout)
    except json.JSONDecodeError:
        info = {}
    if p.returncode != 0 or not info.get("Dir"):
        raise Unavailable(f"go mod download {module_path}@{version} (in bench/peers/"
                          f"{module_dir}) failed: {(info.get('Error') or p.stderr).strip()[:600]}")
    return info["Dir"]


def crd_files(directory: str) -> list[str]:
    """The CustomResourceDefinition YAML files of a module's CRD directory (kustomization.yaml
    and anything else that is not a CRD are skipped), sorted."""
    out = []
    for name in sorted(os.listdir(directory)):
        if not name.endswith((".yaml", ".yml")):
            continue
        path = os.path.join(directory, name)
        with open(path) as f:
            if re.search(r"^kind:\s*CustomResourceDefinition\s*$", f.read(), re.M):
                out.append(path)
    if not out:
        raise RuntimeError(f"{directory}: no CustomResourceDefinition files")
    return out


def crd_names(files: list[str]) -> list[str]:
    """metadata.name of every CRD in files (read without a YAML parser: top-level
    `metadata:` then its `name:`)."""
    names = []
    for path in files:
        with open(path) as f:
            m = re.search(r"^metadata:\n(?:[ \t]+.*\n)*?[ \t]+name:\s*(\S+)", f.read(), re.M)
        if not m:
            raise RuntimeError(f"{path}: a CRD without metadata.name")
        names.append(m.group(1))
    return names


def install_crds(env: Env, files: list[str]) -> None:
    args = ["apply", "--server-side", "--force-conflicts", "--field-manager=gantry-bench"]
    for path in files:
        args += ["-f", path]
    env.kubectl(*args)
    env.wait_crds(crd_names(files))


def missing_crds(env: Env, names: list[str]) -> list[str]:
    return [n for n in names
            if env.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{n}") is None]


def delete_crds(env: Env, names: list[str]) -> None:
    """Deletes CRDs (and with them every object of their kinds); returns at once."""
    for n in names:
        env.delete(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{n}")


class Process:
    """One controller process: stdout and stderr to <workdir>/<name>.log, started in its own
    process group so a TERM reaches it alone, with its own TMPDIR, <workdir>/<name>.tmp.

    The private TMPDIR is not tidiness: kustomize-controller removes every kustomization-*
    directory in os.TempDir() when it starts (main.go, purgeStaleTempDirs, meant for a pod's
    own emptyDir), so with a shared /tmp any kustomize-controller starting on the machine (a
    bench-smoke in someone's make test, another bench part) deletes the directories a running
    one is building from: "kustomization path not found: stat /tmp/kustomization-...". The Go
    controllers write temporary files only through os.TempDir(), which reads TMPDIR."""

    def __init__(self, name: str, cmd: list[str], workdir: str, environ: dict[str, str]):
        self.name = name
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.tmp_dir = os.path.join(os.path.abspath(workdir), f"{name}.tmp")
        os.makedirs(self.tmp_dir, exist_ok=True)
        environ = dict(environ, TMPDIR=self.tmp_dir)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=environ,
                                         start_new_session=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def running(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"

    def log_contains(self, *texts: str) -> bool:
        """True when one line of the log contains every one of texts."""
        try:
            with open(self.log_path, errors="replace") as f:
                return any(all(t in line for t in texts) for line in f)
        except OSError:
            return False

    def stop(self, grace: float = 15) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def wait_serving(procs: list[Process], ready, what: str, timeout: float = 60) -> None:
    """Polls ready() until true; raises RuntimeError with the log's tail when a process exits
    or the timeout passes."""
    deadline = time.monotonic() + timeout
    while not ready():
        for p in procs:
            if not p.running():
                raise RuntimeError(f"{p.name} exited with {p.proc.returncode} while starting: "
                                   f"{p.log_tail()}")
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {p.name}\n{p.log_tail()}" for p in procs)
            raise RuntimeError(f"{what} not serving after {timeout:.0f}s:\n{tails}")
        time.sleep(0.05)


def reconcile_stamp() -> str:
    """A value for reconcile.fluxcd.io/requestedAt: any string that differs from the last one."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{time.time_ns() % 10**9:09d}Z"
