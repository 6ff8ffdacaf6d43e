#!/usr/bin/env python3
"""Splits Argo Rollouts example manifests into the documents Gantry should accept.

    argo_examples.py SOURCE_DIR OUT_DIR

Reads every *.yaml under SOURCE_DIR (recursively, sorted). For each document whose apiVersion is
argoproj.io/v1alpha1 and whose kind is Rollout, AnalysisTemplate, ClusterAnalysisTemplate or
AnalysisRun, it either writes the document's original text, with only the apiVersion line
changed to gantry.io/v1alpha1, to OUT_DIR/NNN.yaml and lists it in OUT_DIR/accept.tsv (number,
file, kind, name, and the namespace if the document sets one), or, when the document uses
something Gantry does not implement, prints
"SKIP file kind/name: reason" and lists it in OUT_DIR/skip.tsv. Other argoproj.io kinds
(Experiment) are skipped the same way, naming the kind. Files that are not YAML (Helm chart
templates, a published file with a syntax error) are skipped with the parser's message.

The reasons are an explicit list of Argo Rollouts features outside Gantry's scope
(docs/rollouts.md, "Coming from Argo Rollouts"); anything else must be accepted by the API server.
Exit 0, or 1 on bad usage.
"""
import os
import re
import sys

import yaml

KINDS = {"Rollout", "AnalysisTemplate", "ClusterAnalysisTemplate", "AnalysisRun"}
ARGO = "argoproj.io/v1alpha1"
STEPS = {"setWeight", "pause", "analysis", "setCanaryScale"}
ROUTERS = {"nginx"}  # Gantry's gatewayAPI has its own shape; Argo's is a plugin
PROVIDERS = {"prometheus", "web", "job"}


def unsupported(doc):
    """Reasons `doc` uses something Gantry does not implement (empty: none)."""
    kind = doc.get("kind")
    spec = doc.get("spec") or {}
    reasons = []
    if kind not in KINDS:
        return [f"kind {kind}"]
    if kind == "Rollout":
        if "workloadRef" in spec:
            reasons.append("spec.workloadRef (a template borrowed from a Deployment)")
        canary = (spec.get("strategy") or {}).get("canary") or {}
        for i, step in enumerate(canary.get("steps") or []):
            for key in step or {}:
                if key not in STEPS:
                    reasons.append(f"step {key} (spec.strategy.canary.steps[{i}])")
        routing = canary.get("trafficRouting") or {}
        for key in routing:
            if key not in ROUTERS:
                reasons.append(f"trafficRouting.{key}")
    else:
        for m in spec.get("metrics") or []:
            for key in (m.get("provider") or {}):
                if key not in PROVIDERS:
                    reasons.append(f"metric provider {key} (metric {m.get('name')})")
    return reasons


def documents(text):
    """The raw text of each YAML document in `text`."""
    parts = re.split(r"(?m)^---[ \t]*(?:#.*)?$\n?", text)
    return [p for p in parts if p.strip()]


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 1
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    accept = open(os.path.join(out, "accept.tsv"), "w")
    skip = open(os.path.join(out, "skip.tsv"), "w")
    n = 0
    files = []
    for root, _, names in os.walk(src):
        files += [os.path.join(root, f) for f in names if f.endswith((".yaml", ".yml"))]
    for path in sorted(files):
        rel = os.path.relpath(path, src)
        text = open(path, encoding="utf-8").read()
        try:
            list(yaml.safe_load_all(text))
        except yaml.YAMLError as e:
            if "argoproj.io" in text:
                msg = " ".join(str(e).split())
                print(f"SKIP {rel}: not plain YAML as published ({msg})")
                skip.write(f"{rel}\t-\t-\tnot plain YAML: {msg}\n")
            continue
        for raw in documents(text):
            doc = yaml.safe_load(raw)
            if not isinstance(doc, dict) or doc.get("apiVersion") != ARGO:
                continue
            kind = doc.get("kind")
            name = (doc.get("metadata") or {}).get("name", "")
            reasons = unsupported(doc)
            if reasons:
                print(f"SKIP {rel} {kind}/{name}: uses {', '.join(reasons)}, "
                      "which Gantry does not implement")
                skip.write(f"{rel}\t{kind}\t{name}\t{'; '.join(reasons)}\n")
                continue
            n += 1
            changed, count = re.subn(r"(?m)^(apiVersion:\s*)argoproj\.io/v1alpha1\s*$",
                                     r"\1gantry.io/v1alpha1", raw, count=1)
            if count != 1:
                print(f"SKIP {rel} {kind}/{name}: apiVersion is not on a top-level line")
                skip.write(f"{rel}\t{kind}\t{name}\tapiVersion not on its own line\n")
                n -= 1
                continue
            out_path = os.path.join(out, f"{n:03d}.yaml")
            with open(out_path, "w", encoding="utf-8") as f:
                f.write(changed)
            ns = (doc.get("metadata") or {}).get("namespace", "")
            accept.write(f"{n:03d}\t{rel}\t{kind}\t{name}\t{ns}\n")
    accept.close()
    skip.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
