#!/usr/bin/env python3
"""The chart's Grafana dashboard and docs/metrics.md against what the operator exports.

  dashboard_metrics.py validate MANIFESTS
      MANIFESTS is rendered YAML (helm template, or kubectl get -o yaml) holding the dashboard
      ConfigMap: it must carry the label grafana_dashboard "1", its gantry.json must be valid
      JSON with a uid, a title and panels whose every target has an expression naming a gantry_
      metric. Prints the metric names the dashboard uses, one a line.

  dashboard_metrics.py check MANIFESTS SCRAPE [METRICS_MD]
      SCRAPE is the text of the operator's /metrics after it has done every kind of work (synced,
      rolled out, analysed, received a webhook). Every metric the dashboard names must be
      exported, and every gantry_ family the operator exports must appear in the dashboard; with
      METRICS_MD, every exported family must be documented there with its type, and everything
      documented must be exported.

Exit status 0 when all holds, 1 with one line per problem otherwise.
"""
import json
import re
import sys

import yaml

METRIC = re.compile(r"\bgantry_[a-z0-9_]+")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def fail(problems):
    for p in problems:
        print("FAIL: " + p)
    sys.exit(1)


def dashboard(manifests_path):
    """Returns (dashboard JSON, problems)."""
    problems = []
    with open(manifests_path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    items = []
    for d in docs:
        items.extend(d.get("items", [d]) if d.get("kind") == "List" else [d])
    maps = [d for d in items if d.get("kind") == "ConfigMap" and "gantry.json" in d.get("data", {})]
    if len(maps) != 1:
        fail([f"{manifests_path}: want one ConfigMap with data gantry.json, found {len(maps)}"])
    cm = maps[0]
    name = cm["metadata"]["name"]
    if cm["metadata"].get("labels", {}).get("grafana_dashboard") != "1":
        problems.append(f"ConfigMap {name}: no label grafana_dashboard: \"1\"")
    try:
        dash = json.loads(cm["data"]["gantry.json"])
    except json.JSONDecodeError as e:
        fail([f"ConfigMap {name}: gantry.json is not JSON: line {e.lineno} column {e.colno}: {e.msg}"])
    for key in ("uid", "title", "panels"):
        if not dash.get(key):
            problems.append(f"ConfigMap {name}: gantry.json has no {key}")
    for panel in dash.get("panels", []):
        if panel.get("type") == "row":
            continue
        title = panel.get("title", "?")
        targets = panel.get("targets", [])
        if not targets:
            problems.append(f"panel \"{title}\" has no targets")
        for t in targets:
            if not METRIC.search(t.get("expr", "")):
                problems.append(f"panel \"{title}\" target {t.get('refId')}: no gantry_ metric in "
                                f"expr {t.get('expr')!r}")
    return dash, problems


def used_metrics(dash):
    names = set()
    texts = [t.get("expr", "") for p in dash.get("panels", []) for t in p.get("targets", [])]
    for v in dash.get("templating", {}).get("list", []):
        q = v.get("query")
        texts.append(q.get("query", "") if isinstance(q, dict) else str(q or ""))
    for text in texts:
        names.update(METRIC.findall(text))
    return names


def exported(scrape_path):
    """{family: type} from the # TYPE lines of a Prometheus text exposition."""
    types = {}
    with open(scrape_path) as f:
        for line in f:
            m = re.match(r"# TYPE (gantry_[a-z0-9_]+) (\w+)", line)
            if m:
                types[m.group(1)] = m.group(2)
    return types


def family_of(name, types):
    if name in types:
        return name
    for suffix in HISTOGRAM_SUFFIXES:
        base = name[: -len(suffix)]
        if name.endswith(suffix) and types.get(base) in ("histogram", "summary"):
            return base
    return None


def documented(md_path):
    """{family: type} from the rows of docs/metrics.md's table: | `name` | type | ... |"""
    docs = {}
    with open(md_path) as f:
        for line in f:
            m = re.match(r"\|\s*`(gantry_[a-z0-9_]+)`\s*\|\s*(\w+)\s*\|", line)
            if m:
                docs[m.group(1)] = m.group(2)
    return docs


def main(argv):
    if len(argv) >= 3 and argv[1] == "validate":
        dash, problems = dashboard(argv[2])
        if problems:
            fail(problems)
        print("\n".join(sorted(used_metrics(dash))))
        return
    if len(argv) in (4, 5) and argv[1] == "check":
        dash, problems = dashboard(argv[2])
        types = exported(argv[3])
        if not types:
            fail([f"{argv[3]}: the scrape holds no gantry_ metric"])
        used = used_metrics(dash)
        for name in sorted(used):
            if family_of(name, types) is None:
                problems.append(f"the dashboard uses {name}, which the operator does not export")
        covered = {family_of(n, types) for n in used}
        for family in sorted(set(types) - covered):
            problems.append(f"the operator exports {family}, which no dashboard panel shows")
        if len(argv) == 5:
            docs = documented(argv[4])
            for family, kind in sorted(types.items()):
                if family not in docs:
                    problems.append(f"{argv[4]}: {family} ({kind}) is not documented")
                elif docs[family] != kind:
                    problems.append(f"{argv[4]}: {family} is documented as {docs[family]}, "
                                    f"exported as {kind}")
            for family in sorted(set(docs) - set(types)):
                problems.append(f"{argv[4]}: documents {family}, which the operator does not export")
        if problems:
            fail(problems)
        print(f"dashboard: {len(used)} metric names, all exported; "
              f"{len(types)} exported families, all on the dashboard"
              + (" and documented" if len(argv) == 5 else ""))
        return
    print(__doc__, file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
    main(sys.argv)
