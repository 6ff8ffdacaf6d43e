"""The bench repository, served over http by `git http-backend` behind lighttpd on 127.0.0.1.

Reuses tests/integration/git/git_servers.sh (which also starts git daemon and sshd on their own
free ports; the benchmarks use only http). Every system fetches the same URL, so both sides pay
for the same transport. Bytes fetched are read from lighttpd's access log (response sizes).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess

from bench.lib.cluster import REPO
from bench.lib.net import free_ports

SCRIPT = os.path.join(REPO, "tests", "integration", "git", "git_servers.sh")
_ACCESS = re.compile(r'" (\d{3}) (\d+|-) ')


class GitServer:
    def __init__(self, workdir: str):
        self.state = os.path.join(workdir, "git")
        self.work = os.path.join(workdir, "git-work")
        self.url = ""
        self.branch = "main"

    def start(self) -> None:
        ports = free_ports(4)
        env = dict(os.environ, GANTRY_OWNER_PID=str(os.getpid()))
        p = subprocess.run(["bash", SCRIPT, "start", self.state, *map(str, ports)], env=env,
                           capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if p.returncode != 0:
            raise RuntimeError(f"git_servers.sh start: {p.stderr.strip()[-600:]}")
        self.url = f"http://127.0.0.1:{ports[1]}/public/bench.git"
        bare = os.path.join(self.state, "repos", "bench.git")
        self._git("init", "-q", "--bare", "-b", self.branch, bare, cwd=self.state)
        # Smart http needs this to serve a repository that is written while it serves.
        self._git("config", "http.receivepack", "false", cwd=bare)
        self._git("init", "-q", "-b", self.branch, self.work, cwd=self.state)
        self._git("remote", "add", "origin", bare)

    def stop(self) -> None:
        subprocess.run(["bash", SCRIPT, "stop", self.state], capture_output=True,
                       stdin=subprocess.DEVNULL)

    def _git(self, *args: str, cwd: str | None = None) -> str:
        p = subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@127.0.0.1",
                            *args], cwd=cwd or self.work, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)}: {p.stderr.strip()[:400]}")
        return p.stdout.strip()

    def write(self, files: dict[str, str], remove: list[str] = ()) -> None:
        """Writes files (path relative to the repository root -> content)."""
        for d in remove:
            shutil.rmtree(os.path.join(self.work, d), ignore_errors=True)
        for rel, text in files.items():
            path = os.path.join(self.work, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)

    def commit(self, message: str) -> str:
        """Commits everything in the work tree, pushes it; returns the sha."""
        self._git("add", "-A")
        self._git("commit", "-q", "--allow-empty", "-m", message)
        self._git("push", "-q", "origin", f"HEAD:{self.branch}")
        return self._git("rev-parse", "HEAD")

    def access_log_offset(self) -> int:
        try:
            return os.path.getsize(os.path.join(self.state, "lighttpd-access.log"))
        except OSError:
            return 0

    def bytes_served_since(self, offset: int) -> tuple[int, int]:
        """(requests, response bytes) lighttpd logged since offset."""
        requests = total = 0
        try:
            with open(os.path.join(self.state, "lighttpd-access.log"), "rb") as f:
                f.seek(offset)
                for line in f.read().decode(errors="replace").splitlines():
                    m = _ACCESS.search(line)
                    if m:
                        requests += 1
                        total += int(m.group(2)) if m.group(2) != "-" else 0
        except OSError:
            pass
        return requests, total
