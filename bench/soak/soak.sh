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
# Samples the operator's RSS (VmRSS) and the counts of work done; at the end prints the growth
# per hour (least-squares slope over the samples after the first 10% of the run, the warm-up)
# and writes samples.csv and summary.txt to SOAK_OUT.
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

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$op_pid/status"; }
metric() {
  curl -fsS --max-time 5 "http://127.0.0.1:$metrics_port/metrics" 2>/dev/null |
    awk -v m="$1" 'index($0, m) == 1 {s += $NF} END {printf "%d\n", s}'
}

log "namespace $ns, operator pid $op_pid, $duration, a sample every ${sample_every}s -> $out"
echo "elapsed_s,rss_kib,commits,canary_revisions,bluegreen_revisions,reconciles,restarts" >"$out/samples.csv"
start=$SECONDS
next_sample=0 next_commit=20 next_canary=30 next_bg=45
canary_rev=0 bg_rev=0
while true; do
  elapsed=$((SECONDS - start))
  kill -0 "$op_pid" 2>/dev/null || { log "the operator exited"; tail -20 "$tmp/operator.log"; exit 1; }
  if ((elapsed >= next_sample)); then
    rss=$(rss_kib)
    reconciles=$(metric gantry_reconcile_total)
    echo "$elapsed,$rss,$commits,$canary_rev,$bg_rev,$reconciles,0" >>"$out/samples.csv"
    log "t=${elapsed}s rss=$((rss / 1024)) MiB commits=$commits canary=$canary_rev bluegreen=$bg_rev reconciles=$reconciles"
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
python3 - "$out/samples.csv" "$duration" "$applied" "$canary_phase" <<'PY' | tee "$out/summary.txt"
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1]))]
t = [int(r["elapsed_s"]) for r in rows]
m = [int(r["rss_kib"]) / 1024 for r in rows]
# The first 10% of the run is warm-up: caches fill, allocator arenas grow.
skip = max(1, len(rows) // 10)
xs, ys = t[skip:], m[skip:]
if len(xs) >= 2:
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0
else:
    slope = 0.0
last = rows[-1]
print(f"soak {sys.argv[2]}: {len(rows)} samples, {last['commits']} commits, "
      f"{last['canary_revisions']} canary and {last['bluegreen_revisions']} blue/green revisions, "
      f"{last['reconciles']} reconciles")
print(f"rss: start {m[0]:.1f} MiB, after warm-up {ys[0] if ys else m[0]:.1f} MiB, "
      f"end {m[-1]:.1f} MiB, max {max(m):.1f} MiB")
print(f"rss growth after warm-up: {slope * 3600:+.2f} MiB/hour (least squares)")
print(f"application at {sys.argv[3]}, canary {sys.argv[4]}")
PY
