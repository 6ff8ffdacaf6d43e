"""The control plane the benchmarks run on, and a small Kubernetes REST client.

Env describes one control plane started by hack/cluster (the shared one, or a private one under
GANTRY_CLUSTER_DIR): its kubeconfig, the apiserver URL, an admin bearer token and the CA file.
Requests go only to that apiserver on 127.0.0.1. Thread-safe: each thread keeps its own
keep-alive connection.
"""
from __future__ import annotations

import http.client
import json
import os
import shlex
import ssl
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class KubeError(RuntimeError):
    def __init__(self, method: str, path: str, status: int, body: str):
        super().__init__(f"{method} {path}: HTTP {status}: {body[:400]}")
        self.status = status


@dataclass
class Env:
    kubeconfig: str
    server: str  # https://127.0.0.1:PORT
    token: str
    ca_file: str
    cluster_dir: str
    bin_dir: str = os.path.join(REPO, ".cache", "bin")
    _ctx: ssl.SSLContext | None = field(default=None, repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)

    @staticmethod
    def load(cluster_dir: str | None = None) -> "Env":
        """Reads <cluster_dir>/env written by `hack/cluster up` (default: $GANTRY_CLUSTER_DIR,
        else .cache/cluster)."""
        cluster_dir = cluster_dir or os.environ.get("GANTRY_CLUSTER_DIR") or os.path.join(
            REPO, ".cache", "cluster")
        path = os.path.join(cluster_dir, "env")
        values = {}
        try:
            with open(path) as f:
                for line in f:
                    key, sep, value = line.strip().partition("=")
                    if sep:
                        values[key] = value
        except OSError as e:
            raise RuntimeError(f"{path}: {e.strerror} (is the control plane up? hack/cluster up)")
        for key in ("KUBECONFIG", "GANTRY_APISERVER_URL", "GANTRY_ADMIN_TOKEN", "GANTRY_CA_FILE"):
            if key not in values:
                raise RuntimeError(f"{path}: no {key}= line")
        return Env(kubeconfig=values["KUBECONFIG"], server=values["GANTRY_APISERVER_URL"],
                   token=values["GANTRY_ADMIN_TOKEN"], ca_file=values["GANTRY_CA_FILE"],
                   cluster_dir=cluster_dir)

    # --- raw requests ------------------------------------------------------------------------

    def _context(self) -> ssl.SSLContext:
        if self._ctx is None:
            self._ctx = ssl.create_default_context(cafile=self.ca_file)
        return self._ctx

    def _connection(self, timeout: float) -> http.client.HTTPSConnection:
        """This thread's keep-alive connection: a TLS handshake per request would cost more
        than the request on a loaded machine, and would slow the driver's side of a timed
        window (creating 250 applications) for every system alike."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            url = urllib.parse.urlsplit(self.server)
            conn = http.client.HTTPSConnection(url.hostname, url.port, context=self._context(),
                                               timeout=timeout)
            self._local.conn = conn
        conn.timeout = timeout
        if conn.sock is not None:
            conn.sock.settimeout(timeout)
        return conn

    def request(self, method: str, path: str, body=None,
                content_type: str = "application/json", timeout: float = 60,
                accept: str = "application/json") -> tuple[int, bytes]:
        """One request; body (dict/list, str or bytes) is sent as JSON when not bytes/str.
        Returns (status, body); raises OSError on connection failures only."""
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        headers = {"Authorization": f"Bearer {self.token}", "Accept": accept}
        if body is not None:
            headers["Content-Type"] = content_type
        for attempt in (1, 2):
            conn = self._connection(timeout)
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                return resp.status, resp.read()
            except (http.client.HTTPException, OSError):
                # The server closed an idle keep-alive connection: once more on a new one.
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def call(self, method: str, path: str, body=None, content_type: str = "application/json",
             ok=(200, 201, 202)) -> dict:
        status, data = self.request(method, path, body, content_type)
        if status not in ok:
            raise KubeError(method, path, status, data.decode(errors="replace"))
        return json.loads(data) if data else {}

    def get(self, path: str) -> dict | None:
        """GET a JSON object; None when it does not exist (404)."""
        status, data = self.request("GET", path)
        if status == 404:
            return None
        if status != 200:
            raise KubeError("GET", path, status, data.decode(errors="replace"))
        return json.loads(data)

    def list(self, path: str, label_selector: str | None = None) -> list[dict]:
        """The items of a collection path (e.g. /apis/gantry.io/v1alpha1/namespaces/ns/
        applications); [] when the resource or namespace does not exist."""
        if label_selector:
            path += ("&" if "?" in path else "?") + "labelSelector=" + urllib.parse.quote(
                label_selector)
        obj = self.get(path)
        return obj.get("items") or [] if obj else []

    def apply(self, path: str, obj: dict, field_manager: str = "gantry-bench",
              force: bool = True) -> dict:
        """Server-side apply of obj at its object path (…/namespaces/NS/RESOURCE/NAME)."""
        q = f"?fieldManager={field_manager}" + ("&force=true" if force else "")
        return self.call("PATCH", path + q, obj, "application/apply-patch+yaml")

    def merge_patch(self, path: str, patch: dict) -> dict:
        return self.call("PATCH", path, patch, "application/merge-patch+json")

    def create(self, collection_path: str, obj: dict) -> dict:
        return self.call("POST", collection_path, obj)

    def delete(self, path: str) -> None:
        status, data = self.request("DELETE", path)
        if status not in (200, 202, 404):
            raise KubeError("DELETE", path, status, data.decode(errors="replace"))

    # --- helpers -----------------------------------------------------------------------------

    def create_namespace(self, name: str, labels: dict | None = None) -> None:
        self.create("/api/v1/namespaces",
                    {"apiVersion": "v1", "kind": "Namespace",
                     "metadata": {"name": name, "labels": labels or {}}})

    def delete_namespace(self, name: str) -> None:
        """Asks for deletion and returns at once (the apiserver finishes it)."""
        self.delete(f"/api/v1/namespaces/{name}")

    def kubectl(self, *args: str, input: str | None = None, timeout: float = 120) -> str:
        """Runs kubectl against this control plane; raises RuntimeError with its stderr."""
        exe = os.path.join(self.bin_dir, "kubectl")
        if not os.path.exists(exe):
            exe = "kubectl"
        cmd = [exe, "--kubeconfig", self.kubeconfig, "--request-timeout=60s", *args]
        p = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError(f"{shlex.join(cmd)}: exit {p.returncode}: {p.stderr.strip()[:600]}")
        return p.stdout

    def wait_crds(self, names: list[str], timeout: float = 60) -> None:
        """Waits until every CRD in names is Established."""
        deadline = time.monotonic() + timeout
        for n in names:
            while True:
                crd = self.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{n}")
                conds = (crd or {}).get("status", {}).get("conditions", [])
                if any(c["type"] == "Established" and c["status"] == "True" for c in conds):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"CRD {n} not Established after {timeout:.0f}s")
                time.sleep(0.2)

    def metrics_text(self) -> str:
        """The apiserver's own /metrics (Prometheus text)."""
        status, data = self.request("GET", "/metrics", accept="text/plain")
        if status != 200:
            raise KubeError("GET", "/metrics", status, data.decode(errors="replace"))
        return data.decode()

    def server_version(self) -> str:
        v = self.get("/version") or {}
        return v.get("gitVersion", "")
