#!/usr/bin/env bash
# Soak: one `gantry operator` under continuous work for a long time (default 1h), its memory
# sampled every minute. Not part of `make test`; run with `make soak`.
#
#   bench/soak/soak.sh            SOAK_DURATION (Go-style: 1h, 20m, 90s; default 1h)
#                                 SOAK_SAMPLE_SECONDS (default 60), SOAK_OUT (results dir,
#                                 default build/soak), GANTRY_BIN (default build/bin/gantry)
#
# Work, all in one namespace of its own on the control plane named by $KUBECONFIG (started with
# hack/cluster up when unset; GANTRY_CLUSTER_DIR picks a private one):
#   - a Git repository (file://) with 50 ConfigMaps and a Deployment; every 20 s a commit
#     changes all of them (every 5th commit also removes and re-adds ten, so prune runs); the
#     GitRepository polls every 5 s and the Application (prune on) syncs each commit;
#   - a canary Rollout (4 replicas, setWeight 25 / pause 3s / setWeight 75 / pause 3s) given a
#     new image every 30 s, and a blue/green Rollout (auto-promotion after 3 s) every 45 s;
#     an AnalysisRun (web metric served on 127.0.0.1) with every canary revision.
# Samples the operator's RSS (VmRSS, and RssAnon: its heap), the number of series its /metrics
# exposes, the objects of the namespace its informers cache (ConfigMaps, ReplicaSets,
# AnalysisRuns) and the counts of work done. At the end prints the growth per hour twice: the
# mean RSS of the last 10 minutes against the first 10 (the first and last tenth of a run shorter
# than 30 minutes), and the least-squares slope over the samples after the first 10% of the run
# (the warm-up), and writes samples.csv, summary.txt, soak.json and the /metrics text after the
# warm-up and at the end (metrics-warm.txt, metrics-end.txt) to SOAK_OUT. MALLOC_ARENA_MAX and
# the like reach the operator from the environment.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$PWD
duration=${SOAK_DURATION:-1h}
sample_every=${SOAK_SAMPLE_SECONDS:-60}
out=${SOAK_OUT:-$root/build/soak}
bin=$(realpath "${GANTRY_BIN:-build/bin/gantry}")
[[ -x $bin ]] || { echo "soak: $bin is not built (make build)" >&2; exit 1; }

seconds_of() {  # Go-style duration -> seconds
  python3 -c '
import re, sys
total = 0
for n, u in re.findall(r"(\d+)(h|m|s)", sys.argv[1]):
    total += int(n) * {"h": 3600, "m": 60, "s": 1}[u]
print(total)' "$1"
}
total_s=$(seconds_of "$duration")
((total_s > 0)) || { echo "soak: bad SOAK_DURATION '$duration'" >&2; exit 1; }

if [[ -z ${KUBECONFIG:-} ]]; then
  hack/cluster up
  eval "$(hack/cluster env)"
fi
mkdir -p "$out"
ns=gantry-soak-$$-$RANDOM
tmp=$(mktemp -d)
pids=()
op_pid=""
k() { kubectl --cache-dir="$tmp/kcache" --request-timeout=30s "$@"; }
cleanup() {
  [[ -n $op_pid ]] && kill -TERM "$op_pid" 2>/dev/null
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  k delete namespace "$ns" --wait=false --ignore-not-found >/dev/null 2>&1 || true
  cp "$tmp/operator.log" "$out/operator.log" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
log() { echo "soak $(date -u +%T) $*"; }

k apply --server-side --force-conflicts --field-manager=gantry-tests -f crds/ >/dev/null
k wait --for=condition=Established --timeout=60s -f crds/ >/dev/null
k create namespace "$ns" >/dev/null

# The analysis metric.
mkdir -p "$tmp/www"
echo '{"ok": true}' >"$tmp/www/health.json"
web_port=$(free_port)
python3 -m http.server "$web_port" --bind 127.0.0.1 --directory "$tmp/www" >/dev/null 2>&1 &
pids+=($!)

# The repository.
git init -q --bare -b main "$tmp/app.git"
git clone -q "$tmp/app.git" "$tmp/work" 2>/dev/null
g() { git -C "$tmp/work" -c user.name=soak -c user.email=soak@example.invalid "$@"; }
commits=0
commit() {
  local i first=1
  commits=$((commits + 1))
  ((commits % 5 == 0)) && first=11
  rm -rf "$tmp/work/app" && mkdir -p "$tmp/work/app"
  for ((i = first; i <= 50; i++)); do
    printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%02d\ndata:\n  commit: "%d"\n' \
      "$i" "$commits" >>"$tmp/work/app/configmaps.yaml"
  done
  cat >"$tmp/work/app/deploy.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}, annotations: {commit: "$commits"}}
    spec: {containers: [{name: web, image: registry.invalid/web:1}]}
YAML
  g add -A && g commit -q -m "commit $commits" && g push -q origin HEAD:main
}
commit

metrics_port=$(free_port)
GANTRY_GIT_CACHE_DIR=$tmp/git-cache "$bin" operator --kubeconfig "$KUBECONFIG" --namespace "$ns" \
  --metrics-bind-address "127.0.0.1:$metrics_port" --health-probe-bind-address 127.0.0.1:0 \
  --webhook-bind-address 0 >"$tmp/operator.log" 2>&1 &
op_pid=$!

k -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: gantry.io/v1alpha1
kind: GitRepository
metadata: {name: repo}
spec: {url: "file://$tmp/app.git", interval: 5s}
---
apiVersion: gantry.io/v1alpha1
kind: Application
metadata: {name: app}
spec:
  sourceRef: {kind: GitRepository, name: repo}
  path: app
  targetNamespace: $ns
  prune: true
  interval: 5m
---
apiVersion: v1
kind: Service
metadata: {name: canary-stable}
spec: {selector: {app: canary}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: canary-canary}
spec: {selector: {app: canary}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: bg-active}
spec: {selector: {app: bg}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: bg-preview}
spec: {selector: {app: bg}, ports: [{port: 80}]}
---
apiVersion: gantry.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: health}
spec:
  metrics:
  - name: ok
    count: 2
    interval: 1s
    successCondition: result.ok == true
    provider: {web: {url: "http://127.0.0.1:$web_port/health.json"}}
---
apiVersion: gantry.io/v1alpha1
kind: Rollout
metadata: {name: canary}
spec:
  replicas: 4
  revisionHistoryLimit: 3
  selector: {matchLabels: {app: canary}}
  template:
    metadata: {labels: {app: canary}}
    spec: {containers: [{name: app, image: "registry.local/canary:0"}]}
  strategy:
    canary:
      stableService: canary-stable
      canaryService: canary-canary
      scaleDownDelaySeconds: 2
      steps:
      - setWeight: 25
      - analysis: {templates: [{templateName: health}]}
      - pause: {duration: 3s}
      - setWeight: 75
      - pause: {duration: 3s}
---
apiVersion: gantry.io/v1alpha1
kind: Rollout
metadata: {name: bg}
spec:
  replicas: 2
  revisionHistoryLimit: 3
  selector: {matchLabels: {app: bg}}
  template:
    metadata: {labels: {app: bg}}
    spec: {containers: [{name: app, image: "registry.local/bg:0"}]}
  strategy:
    blueGreen:
      activeService: bg-active
      previewService: bg-preview
      autoPromotionSeconds: 3
      scaleDownDelaySeconds: 3
YAML

status_kib() { awk -v f="$1:" '$1 == f {print $2}' "/proc/$op_pid/status"; }
scrape() { curl -fsS --max-time 5 "http://127.0.0.1:$metrics_port/metrics" >"$tmp/metrics.txt" 2>/dev/null; }
# metric PREFIX: the sum of the scraped samples whose line starts with PREFIX.
metric() { awk -v m="$1" 'index($0, m) == 1 {s += $NF} END {printf "%d\n", s}' "$tmp/metrics.txt"; }
# series [PREFIX]: how many samples (lines other than comments) the scrape holds.
series() { awk -v m="${1:-}" '!/^#/ && index($0, m) == 1 {n++} END {printf "%d\n", n}' "$tmp/metrics.txt"; }
count() { k -n "$ns" get "$1" -o name 2>/dev/null | wc -l; }

log "namespace $ns, operator pid $op_pid, $duration, a sample every ${sample_every}s -> $out"
echo "elapsed_s,rss_kib,anon_kib,commits,canary_revisions,bluegreen_revisions,reconciles,restarts,series,analysis_series,configmaps,replicasets,analysisruns" >"$out/samples.csv"
warm_s=$((total_s / 10))
start=$SECONDS
next_sample=0 next_commit=20 next_canary=30 next_bg=45
canary_rev=0 bg_rev=0
while true; do
  elapsed=$((SECONDS - start))
  kill -0 "$op_pid" 2>/dev/null || { log "the operator exited"; tail -20 "$tmp/operator.log"; exit 1; }
  if ((elapsed >= next_sample)); then
    rss=$(status_kib VmRSS)
    anon=$(status_kib RssAnon)
    scrape || log "scraping /metrics failed"
    reconciles=$(metric gantry_reconcile_total)
    n_series=$(series)
    n_analysis=$(series gantry_analysis_run_metric_phase)
    cms=$(count configmaps) rss_n=$(count replicasets.apps) runs=$(count analysisruns.gantry.io)
    echo "$elapsed,$rss,$anon,$commits,$canary_rev,$bg_rev,$reconciles,0,$n_series,$n_analysis,$cms,$rss_n,$runs" >>"$out/samples.csv"
    log "t=${elapsed}s rss=$((rss / 1024)) MiB anon=$((anon / 1024)) MiB commits=$commits canary=$canary_rev bluegreen=$bg_rev reconciles=$reconciles series=$n_series analysis_series=$n_analysis cm=$cms rs=$rss_n runs=$runs"
    [[ ! -f $out/metrics-warm.txt ]] && ((elapsed >= warm_s)) && cp "$tmp/metrics.txt" "$out/metrics-warm.txt"
    cp "$tmp/metrics.txt" "$out/metrics-end.txt"
    next_sample=$((next_sample + sample_every))
    ((elapsed >= total_s)) && break
  fi
  if ((elapsed >= next_commit)); then
    commit
    next_commit=$((next_commit + 20))
  fi
  if ((elapsed >= next_canary)); then
    canary_rev=$((canary_rev + 1))
    "$bin" rollout set-image canary "app=registry.local/canary:$canary_rev" -n "$ns" >/dev/null ||
      log "set-image canary failed"
    next_canary=$((next_canary + 30))
  fi
  if ((elapsed >= next_bg)); then
    bg_rev=$((bg_rev + 1))
    "$bin" rollout set-image bg "app=registry.local/bg:$bg_rev" -n "$ns" >/dev/null ||
      log "set-image bg failed"
    next_bg=$((next_bg + 45))
  fi
  sleep 1
done

applied=$(k -n "$ns" get application app -o jsonpath='{.status.lastAppliedRevision}')
canary_phase=$(k -n "$ns" get rollouts.gantry.io canary -o jsonpath='{.status.phase}')
version=$("$bin" version 2>/dev/null | head -1 || true)
python3 - "$out" "$duration" "$applied" "$canary_phase" "$version" "${MALLOC_ARENA_MAX:-}" <<'PY' | tee "$out/summary.txt"
import csv, json, os, re, sys
out, duration, applied, canary_phase, version, arena_max = sys.argv[1:7]
rows = [r for r in csv.DictReader(open(os.path.join(out, "samples.csv")))]
t = [int(r["elapsed_s"]) for r in rows]
m = [int(r["rss_kib"]) / 1024 for r in rows]
anon = [int(r["anon_kib"] or 0) / 1024 for r in rows]


def slope(xs, ys):
    if len(xs) < 2:
        return 0.0
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


def mean(v):
    return sum(v) / len(v) if v else 0.0


# The first 10% of the run is warm-up: caches fill, allocator arenas grow.
skip = max(1, len(rows) // 10)
per_hour = slope(t[skip:], m[skip:]) * 3600
anon_per_hour = slope(t[skip:], anon[skip:]) * 3600
# Windows: the first and the last 10 minutes (a tenth of a run shorter than 30 minutes).
span = t[-1] - t[0] if len(t) > 1 else 0
window = 600 if span >= 1800 else max(1, span // 10)
first = [v for x, v in zip(t, m) if x <= t[0] + window]
last_w = [v for x, v in zip(t, m) if x >= t[-1] - window]
mid_gap = ((t[-1] - window / 2) - (t[0] + window / 2)) / 3600 if span else 0
window_per_hour = (mean(last_w) - mean(first)) / mid_gap if mid_gap > 0 else 0.0


def families(path):
    """Series per metric family in a /metrics text."""
    counts = {}
    if not os.path.exists(path):
        return counts
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        name = re.split(r"[{ ]", line, 1)[0]
        name = re.sub(r"_(bucket|sum|count)$", "", name)
        counts[name] = counts.get(name, 0) + 1
    return counts


warm, end = families(os.path.join(out, "metrics-warm.txt")), families(os.path.join(out, "metrics-end.txt"))
grown = {f: [warm.get(f, 0), end[f]] for f in sorted(end) if end[f] != warm.get(f, 0)}
last = rows[-1]
lines = [
    f"soak {duration}: {len(rows)} samples, {last['commits']} commits, "
    f"{last['canary_revisions']} canary and {last['bluegreen_revisions']} blue/green revisions, "
    f"{last['reconciles']} reconciles" + (f", MALLOC_ARENA_MAX={arena_max}" if arena_max else ""),
    f"rss: start {m[0]:.1f} MiB, after warm-up {m[skip] if len(m) > skip else m[0]:.1f} MiB, "
    f"end {m[-1]:.1f} MiB, max {max(m):.1f} MiB",
    f"rss growth: {window_per_hour:+.2f} MiB/hour (mean of the last "
    f"{f'{window // 60} min' if window >= 60 else f'{window} s'} "
    f"{mean(last_w):.1f} MiB against the first {mean(first):.1f} MiB)",
    f"rss growth after warm-up: {per_hour:+.2f} MiB/hour (least squares); "
    f"heap (RssAnon) {anon_per_hour:+.2f} MiB/hour",
    f"metric series: {sum(warm.values())} after warm-up, {sum(end.values())} at the end"
    + ("; changed: " + ", ".join(f"{f} {a}->{b}" for f, (a, b) in grown.items()) if grown else ""),
    f"objects at the end: {last['configmaps']} ConfigMaps, {last['replicasets']} ReplicaSets, "
    f"{last['analysisruns']} AnalysisRuns",
    f"application at {applied}, canary {canary_phase}",
]
print("\n".join(lines))
json.dump({
    "duration": duration, "version": version, "malloc_arena_max": arena_max or None,
    "samples": len(rows), "sample_seconds": t[1] - t[0] if len(t) > 1 else None,
    "work": {k: int(last[k]) for k in ("commits", "canary_revisions", "bluegreen_revisions", "reconciles")},
    "rss_mib": {"start": round(m[0], 1), "end": round(m[-1], 1), "max": round(max(m), 1),
                "first_window_mean": round(mean(first), 1), "last_window_mean": round(mean(last_w), 1),
                "window_s": window},
    "growth_mib_per_hour": {"windows": round(window_per_hour, 2), "slope_after_warmup": round(per_hour, 2),
                            "anon_slope_after_warmup": round(anon_per_hour, 2)},
    "metric_series": {"after_warmup": sum(warm.values()), "end": sum(end.values()), "changed": grown},
    "application": applied, "canary_phase": canary_phase,
    "summary": lines,
    "rows": rows,
}, open(os.path.join(out, "soak.json"), "w"), indent=1)
PY
