"""What the systems sync and roll out: the bench repository's manifests and the Rollouts.

Repository layout (every object is namespaced; each application applies into its own namespace):
  apps/app-NNN/        4 objects of one application: ServiceAccount, ConfigMap, Service, Deployment
  big/group-NNN.yaml   one application of many objects, 4 per file (the same 4 kinds)
  sets/set-NNN/        ConfigMaps only, `per_set` per application (no-op resync, watched objects)
"""
from __future__ import annotations

import json


def _doc(obj: dict) -> str:
    # JSON is YAML; one object per document.
    return "---\n" + json.dumps(obj, sort_keys=True) + "\n"


def service_account(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}}


def config_map(name: str, value: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
            "data": {"value": value, "app": name}}


def service(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": {"app": name},
                     "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}


def deployment(name: str) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"serviceAccountName": name,
                                           "containers": [{"name": "app",
                                                           "image": "registry.invalid/bench:1",
                                                           "ports": [{"containerPort": 8080}]}]}}}}


def four_objects(name: str, value: str = "1") -> list[dict]:
    return [service_account(name), config_map(name, value), service(name), deployment(name)]


def app_path(i: int) -> str:
    return f"apps/app-{i:03d}"


def set_path(i: int) -> str:
    return f"sets/set-{i:03d}"


def app_files(i: int, value: str = "1") -> dict[str, str]:
    name = f"app-{i:03d}"
    sa, cm, svc, dep = four_objects(name, value)
    p = app_path(i)
    return {f"{p}/serviceaccount.yaml": _doc(sa), f"{p}/configmap.yaml": _doc(cm),
            f"{p}/service.yaml": _doc(svc), f"{p}/deployment.yaml": _doc(dep)}


def repository(apps: int, big_objects: int, sets: int, per_set: int) -> dict[str, str]:
    files: dict[str, str] = {}
    for i in range(apps):
        files.update(app_files(i))
    for g in range(big_objects // 4):
        files[f"big/group-{g:03d}.yaml"] = "".join(_doc(o) for o in four_objects(f"big-{g:03d}"))
    for s in range(sets):
        files[f"{set_path(s)}/configmaps.yaml"] = "".join(
            _doc(config_map(f"set-{s:03d}-{c:03d}", str(c))) for c in range(per_set))
    return files


def big_objects(n: int, namespace: str) -> list[dict]:
    """The objects of big/ as the apiserver gets them (namespace set): the tight-loop limit
    applies exactly these."""
    out = []
    for g in range(n // 4):
        for o in four_objects(f"big-{g:03d}"):
            o["metadata"]["namespace"] = namespace
            out.append(o)
    return out


# --- rollouts ---------------------------------------------------------------------------------

def analysis_template(group: str, interval: str, failure_limit: int) -> dict:
    return {"apiVersion": f"{group}/v1alpha1", "kind": "AnalysisTemplate",
            "metadata": {"name": "bench-web"},
            "spec": {"args": [{"name": "url"}],
                     "metrics": [{"name": "ok", "interval": interval,
                                  "failureLimit": failure_limit,
                                  "successCondition": "result == true",
                                  "provider": {"web": {"url": "{{args.url}}",
                                                       "jsonPath": "{$.ok}"}}}]}}


def rollout(group: str, name: str, image: str, replicas: int = 2,
            analysis_url: str | None = None) -> dict:
    """A canary of `replicas` pods: setWeight 50, then pause until promoted. Without a traffic
    router the weight is the replica ratio on both systems. With analysis_url, a background
    analysis (template bench-web) queries it from the start of every update."""
    canary: dict = {"maxSurge": 1, "maxUnavailable": 0,
                    "steps": [{"setWeight": 50}, {"pause": {}}]}
    if analysis_url:
        canary["analysis"] = {"templates": [{"templateName": "bench-web"}],
                              "args": [{"name": "url", "value": analysis_url}]}
    return {"apiVersion": f"{group}/v1alpha1", "kind": "Rollout",
            "metadata": {"name": name},
            "spec": {"replicas": replicas, "revisionHistoryLimit": 2,
                     "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": image}]}},
                     "strategy": {"canary": canary}}}
