#!/usr/bin/env python3
"""Extracts the Kubernetes objects of the ```yaml blocks in Markdown files, for a server dry run.

  extract_examples.py OUT_DIR NAMESPACE FILE.md...

Every ```yaml block is an example a reader may `kubectl apply`: each of its documents must be a
Kubernetes object (apiVersion, kind, metadata.name). A block whose first line is the comment
`# docs-test: skip (<why>)` is a deliberate fragment (a values file, part of a spec) and is left
out; the reason is required. Namespaced objects are moved into NAMESPACE (whatever namespace the
example shows), so that examples can be applied side by side in a throw-away namespace.

Writes OUT_DIR/NNN.yaml, one file per block, and OUT_DIR/index.tsv with lines
"NNN<TAB>file.md:line<TAB>kind/name ..." so that a failure names the Markdown file and line.
Exit 1, naming file and line, for a block that cannot be used; 2 for bad arguments.
"""
import os
import re
import sys

import yaml

SKIP = re.compile(r"^#\s*docs-test:\s*skip\s*\((.+)\)\s*$")
# Kinds of the examples that are not namespaced (everything else is moved into NAMESPACE).
CLUSTER_SCOPED = {
    "Namespace", "ClusterAnalysisTemplate", "ClusterRole", "ClusterRoleBinding",
    "CustomResourceDefinition", "IngressClass", "GatewayClass", "PriorityClass",
    "StorageClass", "PersistentVolume", "Node",
}


def blocks(path):
    """Yields (line of the fence, text) of each ```yaml block."""
    with open(path) as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        if re.match(r"^\s*```ya?ml\s*$", lines[i]):
            start = i + 1
            indent = len(lines[i]) - len(lines[i].lstrip())
            body = []
            i += 1
            while i < len(lines) and not re.match(r"^\s*```\s*$", lines[i]):
                body.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
                i += 1
            if i == len(lines):
                raise SystemExit(f"{path}:{start}: ```yaml block is never closed")
            yield start, "\n".join(body)
        i += 1


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    out, ns, files = argv[1], argv[2], argv[3:]
    os.makedirs(out, exist_ok=True)
    problems, index, skipped, n = [], [], [], 0
    for path in files:
        for line, text in blocks(path):
            where = f"{path}:{line}"
            first = text.lstrip().split("\n", 1)[0]
            if first.startswith("# docs-test:"):
                m = SKIP.match(first)
                if not m:
                    problems.append(f"{where}: write the marker as '# docs-test: skip (why)'")
                else:
                    skipped.append(f"{where} ({m.group(1)})")
                continue
            try:
                docs = [d for d in yaml.safe_load_all(text) if d is not None]
            except yaml.YAMLError as e:
                mark = getattr(e, "problem_mark", None)
                at = f"{path}:{line + mark.line}" if mark else where
                problems.append(f"{at}: not valid YAML: {getattr(e, 'problem', e)}")
                continue
            names = []
            for d in docs:
                if not isinstance(d, dict) or not d.get("apiVersion") or not d.get("kind") or \
                        not isinstance(d.get("metadata"), dict) or not d["metadata"].get("name"):
                    problems.append(f"{where}: a document is not a Kubernetes object (apiVersion, "
                                    "kind, metadata.name); mark a fragment with "
                                    "'# docs-test: skip (why)' on the block's first line")
                    break
                if d["kind"] not in CLUSTER_SCOPED:
                    d["metadata"]["namespace"] = ns
                names.append(f"{d['kind']}/{d['metadata']['name']}")
            else:
                if not docs:
                    problems.append(f"{where}: empty ```yaml block")
                    continue
                n += 1
                with open(os.path.join(out, f"{n:03d}.yaml"), "w") as f:
                    yaml.safe_dump_all(docs, f, sort_keys=False)
                index.append(f"{n:03d}\t{where}\t{' '.join(names)}")
    with open(os.path.join(out, "index.tsv"), "w") as f:
        f.write("\n".join(index) + ("\n" if index else ""))
    for s in skipped:
        print(f"skipped {s}")
    for p in problems:
        print(f"FAIL: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
