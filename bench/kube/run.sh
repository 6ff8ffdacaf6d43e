#!/usr/bin/env bash
# Kubernetes client figures on the local control plane (hack/cluster), each beside its peer:
#   1. an informer holding 10,000 ConfigMaps of 1 KiB: resident memory and list+watch start-up
#   2. server-side apply of 1,000 small ConfigMaps: objects per second for gantry's client with
#      default throttling (50 qps / burst 100), unthrottled, and unthrottled with 8 workers,
#      beside `kubectl apply --server-side` of the same objects (one file, one process)
# Every measurement runs ROUNDS times (default 3), gantry and kubectl interleaved, in fresh
# namespaces; the summary shows medians. Figures are ratios on a shared machine: compare
# within a run, not across runs.
# Usage: bench/kube/run.sh [BUILD_DIR]   (default build; needs kube_bench built there)
# Raw figures, one JSON object per line: BUILD_DIR/bench-results/kube-<time>.jsonl
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
bench=$build/bin/kube_bench
[[ -x $bench ]] || { echo "run.sh: $bench not built (cmake --build $build --target kube_bench)" >&2; exit 2; }
if [[ -z ${KUBECONFIG:-} ]]; then eval "$(hack/cluster env)"; fi
command -v kubectl >/dev/null || export PATH=$PWD/.cache/bin:$PATH

count_informer=${BENCH_INFORMER_OBJECTS:-10000}
count_ssa=${BENCH_SSA_OBJECTS:-1000}
rounds=${ROUNDS:-3}
suffix=$(date +%s)-$$
# Namespaces carry a label of this run, so cleanup finds them even though new_ns runs in a
# command substitution (a subshell, whose variables the trap would not see).
cleanup() { kubectl delete ns -l "gantry-bench=$suffix" --wait=false >/dev/null 2>&1 || true; }
trap cleanup EXIT
new_ns() {
  local ns=bench-$1-$suffix
  kubectl create ns "$ns" >/dev/null
  kubectl label ns "$ns" "gantry-bench=$suffix" >/dev/null
  echo "$ns"
}

mkdir -p "$build/bench-results"
out=$build/bench-results/kube-$(date -u +%Y%m%dT%H%M%SZ).jsonl
: >"$out"
record() { tee -a "$out" >&2; }

echo "== informer: $count_informer ConfigMaps of 1 KiB" >&2
ns=$(new_ns informer)
$bench populate --namespace "$ns" --count "$count_informer" --size 1024 --workers 8 | record
for ((r = 1; r <= rounds; r++)); do $bench informer --namespace "$ns" | record; done

echo "== server-side apply: $count_ssa small ConfigMaps" >&2
manifest=$(mktemp)
for ((r = 1; r <= rounds; r++)); do
  $bench ssa --namespace "$(new_ns ssa-default-$r)" --count "$count_ssa" --workers 1 | record
  $bench ssa --namespace "$(new_ns ssa-1w-$r)" --count "$count_ssa" --workers 1 --qps 0 | record
  $bench ssa --namespace "$(new_ns ssa-8w-$r)" --count "$count_ssa" --workers 8 --qps 0 | record
  ns=$(new_ns kubectl-$r)
  $bench manifest --namespace "$ns" --count "$count_ssa" >"$manifest"
  for pass in create reapply; do
    t0=$(date +%s.%N)
    kubectl apply --server-side --field-manager=kubectl-bench -f "$manifest" >/dev/null
    t1=$(date +%s.%N)
    python3 -c "import json; s=$t1-$t0; print(json.dumps({'command':'kubectl','pass':'$pass','objects':$count_ssa,'seconds':round(s,3),'objects_per_second':round($count_ssa/s,1)}))" | record
  done
done
rm -f "$manifest"

python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = lambda xs: statistics.median(xs) if xs else float("nan")
inf = [r for r in rows if r["command"] == "informer"]
if inf:
    n = inf[0]["objects"]
    print(f"informer, {n} ConfigMaps of 1 KiB (median of {len(inf)}):")
    print(f"  list+watch start-up     {med([r['watching_seconds'] for r in inf]):.2f} s")
    print(f"  resident memory added   {med([r['rss_delta_kib'] for r in inf]) / 1024:.1f} MiB "
          f"({med([r['rss_bytes_per_object'] for r in inf]):.0f} B/object; cached JSON "
          f"{med([r['cached_json_bytes_per_object'] for r in inf]):.0f} B/object)")
print("server-side apply, objects/s (median):            create   re-apply")
def line(name, sel):
    rs = [r for r in rows if sel(r)]
    if rs:
        print(f"  {name:<44}{med([r['create_objects_per_second'] for r in rs]):8.0f}"
              f"{med([r['reapply_objects_per_second'] for r in rs]):11.0f}")
line("gantry, 1 worker, 50 qps / burst 100", lambda r: r["command"] == "ssa" and r["qps"] == 50)
line("gantry, 1 worker, unthrottled", lambda r: r["command"] == "ssa" and r["qps"] == 0 and r["workers"] == 1)
line("gantry, 8 workers, unthrottled", lambda r: r["command"] == "ssa" and r["qps"] == 0 and r["workers"] == 8)
k = [r for r in rows if r["command"] == "kubectl"]
if k:
    c = med([r["objects_per_second"] for r in k if r["pass"] == "create"])
    a = med([r["objects_per_second"] for r in k if r["pass"] == "reapply"])
    print(f"  {'kubectl apply --server-side (one process)':<44}{c:8.0f}{a:11.0f}")
PY
echo "raw figures: $out" >&2
