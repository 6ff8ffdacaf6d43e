"""The physical limit: the sync scenario's objects applied by a minimal tight loop of
server-side apply requests (bench/kube's kube_bench, Gantry's own REST client, no throttling),
with 1 worker and with 8. Gantry's sync throughput is reported as a fraction of the best."""
from __future__ import annotations

import json
import os
import subprocess

from bench.lib import content
from bench.lib.context import Context, log


def tight_loop(ctx: Context, kube_bench: str, objects: int) -> dict:
    out: dict = {}
    path = os.path.join(ctx.workdir, "limit-objects.jsonl")
    with open(path, "w") as f:
        for o in content.big_objects(objects, "placeholder"):
            f.write(json.dumps(o) + "\n")
    env = dict(os.environ, KUBECONFIG=ctx.env.kubeconfig)
    for r in range(ctx.sizes.tight_rounds):
        for workers in (1, 8):
            if ctx.sizes.wait_clean:
                ctx.wait_deleted()
            ns = ctx.new_namespace(f"limit-{workers}w")
            try:
                p = subprocess.run([kube_bench, "ssa", "--namespace", ns, "--objects", path,
                                    "--workers", str(workers), "--qps", "0"],
                                   capture_output=True, text=True, env=env, timeout=600)
                if p.returncode != 0:
                    raise RuntimeError(f"kube_bench ssa: exit {p.returncode}: "
                                       f"{p.stderr.strip()[-500:]}")
                row = json.loads(p.stdout.strip().splitlines()[-1])
            finally:
                ctx.delete_namespace(ns)
            out.setdefault(f"objects_per_second_{workers}w", []).append(
                row["create_objects_per_second"])
            out.setdefault(f"reapply_objects_per_second_{workers}w", []).append(
                row["reapply_objects_per_second"])
            log(f"tight loop, {workers} worker(s): {row['objects']} objects created at "
                f"{row['create_objects_per_second']:.0f}/s, re-applied at "
                f"{row['reapply_objects_per_second']:.0f}/s")
    return out
