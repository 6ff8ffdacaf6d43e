#!/usr/bin/env python3
"""Assertions over rendered chart manifests, for the helm tests.

Usage: render.py CHECK < manifests.yaml, where CHECK is one of the functions below. Prints what
it checked; exits 1 with the object's kind/name and what is wrong on the first failure.
"""
import sys

import yaml


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def load():
    return [d for d in yaml.safe_load_all(sys.stdin) if d]


def named(docs, kind, name=None):
    return [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]


def one(docs, kind, name):
    found = named(docs, kind, name)
    if len(found) != 1:
        fail(f"want exactly one {kind} {name}, found {len(found)}")
    return found[0]


def grants(rules, group, resource, verb):
    for r in rules:
        if (group in r["apiGroups"] or "*" in r["apiGroups"]) and \
           (resource in r["resources"] or "*" in r["resources"]) and \
           (verb in r["verbs"] or "*" in r["verbs"]):
            return True
    return False


# Rights the operator's code uses; every one must be granted by the operator role.
OPERATOR_NEEDS = [
    ("gantry.io", "gitrepositories", "watch"), ("gantry.io", "applications", "watch"),
    ("gantry.io", "rollouts", "watch"), ("gantry.io", "analysisruns", "create"),
    ("gantry.io", "analysistemplates", "get"), ("gantry.io", "rollouts/status", "update"),
    ("gantry.io", "applications/status", "update"), ("gantry.io", "gitrepositories/status", "update"),
    ("gantry.io", "analysisruns/status", "update"), ("apps", "replicasets", "create"),
    ("apps", "replicasets", "delete"), ("", "services", "patch"), ("", "secrets", "get"),
    ("networking.k8s.io", "ingresses", "patch"), ("gateway.networking.k8s.io", "httproutes", "patch"),
    ("batch", "jobs", "create"), ("", "events", "create"), ("events.k8s.io", "events", "create"),
]
# Rights the operator must not have unless rbac.sync asks for them.
OPERATOR_MUST_NOT = [
    ("", "secrets", "list"), ("", "secrets", "create"), ("", "pods", "delete"),
    ("rbac.authorization.k8s.io", "clusterroles", "create"), ("", "namespaces", "delete"),
    ("coordination.k8s.io", "leases", "list"),
]


def check_operator_rules(kind_name, rules, sync_rules_expected=True):
    for g, r, v in OPERATOR_NEEDS:
        if not grants(rules, g, r, v):
            fail(f"{kind_name} does not grant {v} on {r}.{g or 'core'}")
    for g, r, v in OPERATOR_MUST_NOT:
        if grants(rules, g, r, v):
            fail(f"{kind_name} grants {v} on {r}.{g or 'core'}, which the operator never uses")
    for rule in rules:
        for field in ("apiGroups", "resources", "verbs"):
            if "*" in rule[field]:
                fail(f"{kind_name} has a wildcard in {field}: {rule}")
    if sync_rules_expected and not grants(rules, "apps", "deployments", "patch"):
        fail(f"{kind_name} lacks the default rbac.sync.rules (patch deployments.apps)")


def cluster_wide():
    docs = load()
    cr = one(docs, "ClusterRole", "t-gantry")
    check_operator_rules("ClusterRole t-gantry", cr["rules"])
    crb = one(docs, "ClusterRoleBinding", "t-gantry")
    if crb["roleRef"]["name"] != "t-gantry" or crb["subjects"][0]["name"] != "t-gantry":
        fail(f"ClusterRoleBinding t-gantry binds {crb['roleRef']} to {crb['subjects']}")
    reads = one(docs, "ClusterRole", "t-gantry-cluster-reads")
    ns_rule = [r for r in reads["rules"] if "namespaces" in r["resources"]][0]
    if "resourceNames" in ns_rule:
        fail("cluster-wide mode must read every namespace, not " + str(ns_rule["resourceNames"]))
    roles = [r["metadata"]["name"] for r in named(docs, "Role")]
    if roles != ["t-gantry-leader-election"]:
        fail(f"cluster-wide mode: want only the leader-election Role, got {roles}")
    lease = one(docs, "Role", "t-gantry-leader-election")
    if lease["metadata"]["namespace"] != "ops":
        fail("the leader-election Role must be in the release namespace, is in " +
             lease["metadata"]["namespace"])
    if not grants(lease["rules"], "coordination.k8s.io", "leases", "update"):
        fail("the leader-election Role cannot update leases")
    if named(docs, "ClusterRoleBinding") and any(
            b["roleRef"]["name"] == "cluster-admin" for b in named(docs, "ClusterRoleBinding")):
        fail("cluster-admin is bound although rbac.sync.clusterAdmin is false")
    print("cluster-wide RBAC: ClusterRole t-gantry grants what the operator uses and no more")

    dep = one(docs, "Deployment", "t-gantry")
    spec = dep["spec"]["template"]["spec"]
    c = spec["containers"][0]
    if dep["spec"]["replicas"] != 2:
        fail(f"Deployment t-gantry: want 2 replicas, got {dep['spec']['replicas']}")
    for arg in ("operator", "--leader-elect", "--leader-election-namespace=ops",
                "--health-probe-bind-address=:8081", "--metrics-bind-address=:8080",
                "--webhook-bind-address=:9292", "--log-format=json", "--concurrency=4"):
        if arg not in c["args"]:
            fail(f"Deployment t-gantry: argument {arg} missing from {c['args']}")
    if any(a.startswith("--namespace") for a in c["args"]):
        fail("cluster-wide mode must not pass --namespace")
    if c["livenessProbe"]["httpGet"]["path"] != "/healthz" or \
       c["readinessProbe"]["httpGet"]["path"] != "/readyz":
        fail("Deployment t-gantry: probes must be /healthz (liveness) and /readyz (readiness)")
    sc = c["securityContext"]
    if not (sc.get("readOnlyRootFilesystem") and sc.get("runAsNonRoot") and
            sc.get("allowPrivilegeEscalation") is False and sc["capabilities"]["drop"] == ["ALL"]
            and sc["seccompProfile"]["type"] == "RuntimeDefault"):
        fail(f"Deployment t-gantry: container securityContext too loose: {sc}")
    if spec["securityContext"].get("runAsNonRoot") is not True:
        fail("Deployment t-gantry: pod must run as non-root")
    for kind in ("requests", "limits"):
        if not c["resources"].get(kind, {}).get("memory"):
            fail(f"Deployment t-gantry: no memory {kind}")
    if spec["serviceAccountName"] != "t-gantry":
        fail("Deployment t-gantry: runs as " + spec["serviceAccountName"])
    one(docs, "Service", "t-gantry-metrics")
    one(docs, "Service", "t-gantry-webhook")
    print("Deployment: 2 replicas, leader election, probes, limits, non-root, read-only root")


def namespaced():
    docs = load()
    if named(docs, "ClusterRole", "t-gantry") or named(docs, "ClusterRoleBinding", "t-gantry"):
        fail("watchNamespace=apps must not produce the ClusterRole t-gantry")
    crs = [r["metadata"]["name"] for r in named(docs, "ClusterRole")]
    if crs != ["t-gantry-cluster-reads"]:
        fail(f"watchNamespace=apps: want only ClusterRole t-gantry-cluster-reads, got {crs}")
    reads = one(docs, "ClusterRole", "t-gantry-cluster-reads")
    for rule in reads["rules"]:
        if set(rule["verbs"]) - {"get", "list", "watch"}:
            fail(f"ClusterRole t-gantry-cluster-reads may only read: {rule}")
        if "namespaces" in rule["resources"] and rule.get("resourceNames") != ["apps"]:
            fail(f"ClusterRole t-gantry-cluster-reads: namespaces not narrowed to apps: {rule}")
    role = one(docs, "Role", "t-gantry")
    if role["metadata"]["namespace"] != "apps":
        fail("Role t-gantry is in " + role["metadata"]["namespace"] + ", want apps")
    check_operator_rules("Role apps/t-gantry", role["rules"])
    rb = one(docs, "RoleBinding", "t-gantry")
    if rb["metadata"]["namespace"] != "apps" or rb["subjects"][0]["namespace"] != "ops":
        fail(f"RoleBinding t-gantry: {rb['metadata']} {rb['subjects']}")
    c = one(docs, "Deployment", "t-gantry")["spec"]["template"]["spec"]["containers"][0]
    if "--namespace=apps" not in c["args"]:
        fail(f"Deployment t-gantry: --namespace=apps missing from {c['args']}")
    print("namespaced RBAC: Role/RoleBinding in apps, only narrowed cluster reads")


def cluster_admin():
    docs = load()
    admin = [b for b in named(docs, "ClusterRoleBinding") if b["roleRef"]["name"] == "cluster-admin"]
    if len(admin) != 1 or admin[0]["subjects"][0]["name"] != "t-gantry":
        fail(f"rbac.sync.clusterAdmin=true: want one ClusterRoleBinding to cluster-admin, got {admin}")
    print("rbac.sync.clusterAdmin=true binds cluster-admin")


def crds():
    docs = load()
    names = sorted(d["metadata"]["name"] for d in named(docs, "CustomResourceDefinition"))
    print("\n".join(names))


def options():
    docs = load()
    kinds = sorted(d["kind"] for d in docs)
    for k in ("Ingress", "ServiceMonitor"):
        if k not in kinds:
            fail(f"{k} not rendered with its option enabled; got {kinds}")
    ing = one(docs, "Ingress", "t-gantry-webhook")
    backend = ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    if backend["name"] != "t-gantry-webhook":
        fail(f"Ingress routes to {backend}")
    c = one(docs, "Deployment", "t-gantry")["spec"]["template"]["spec"]["containers"][0]
    if "--kube-qps=7" not in c["args"] or "--log-format=text" not in c["args"]:
        fail(f"extraArgs/logFormat not passed: {c['args']}")
    print("webhook Ingress, ServiceMonitor, extraArgs and logFormat render")


if __name__ == "__main__":
    globals()[sys.argv[1]]()
