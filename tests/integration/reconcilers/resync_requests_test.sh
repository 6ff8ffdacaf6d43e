#!/usr/bin/env bash
# The API requests of an Application's sync, counted by the operator's own
# gantry_kube_requests_total (the API server's counters include every other client of a
# shared control plane). The real `gantry operator` ($GANTRY_BIN), a file:// repository of 60
# ConfigMaps and a Deployment:
#
#   1. the first sync dry-runs and writes each object once, and reads none of them (the watch
#      cache answers);
#   2. a no-op resync (the reconcile-request annotation) sends no dry run and no write: the
#      objects are known in sync from the watch cache;
#   3. a hand edit of one ConfigMap is caught and reverted with one dry run and one write;
#   4. a restarted operator does a full pass (a dry run per object), and writes nothing.
#
# Exit 0 on success, 1 on failure, 77 (skipped) without KUBECONFIG.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
if [[ -z ${KUBECONFIG:-} ]]; then
  echo "SKIP: KUBECONFIG is not set (hack/cluster up; eval \"\$(hack/cluster env)\")"
  exit 77
fi
bin=${GANTRY_BIN:-build/bin/gantry}
[[ -x $bin ]] || { echo "FAIL: $bin is not built" >&2; exit 1; }

ns=gantry-resync-req-$$-$RANDOM
tmp=$(mktemp -d)
op_pid=""
k() { kubectl --cache-dir="$tmp/kcache" --request-timeout=20s "$@"; }
cleanup() {
  [[ -n $op_pid ]] && kill -KILL "$op_pid" 2>/dev/null || true
  k delete namespace "$ns" --wait=false --ignore-not-found >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [[ -f $tmp/op.log ]] && tail -40 "$tmp/op.log" >&2; exit 1; }
wait_for() {  # seconds, description, command...
  local secs=$1 what=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "timed out after ${secs}s waiting for: $what"
    sleep 0.2
  done
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

k apply --server-side --force-conflicts -f crds/ >/dev/null
k wait --for=condition=Established --timeout=60s crd/gitrepositories.gantry.io \
  crd/applications.gantry.io >/dev/null
k create namespace "$ns" >/dev/null

objects=61
git init -q --bare -b main "$tmp/app.git"
git clone -q "$tmp/app.git" "$tmp/work" 2>/dev/null
mkdir -p "$tmp/work/app"
for i in $(seq 1 60); do
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%02d\ndata:\n  value: "v%d"\n' \
    "$i" "$i" >"$tmp/work/app/cm-$i.yaml"
done
cat >"$tmp/work/app/deploy.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: registry.invalid/web:1}]}
YAML
git -C "$tmp/work" -c user.name=t -c user.email=t@example.invalid add -A
git -C "$tmp/work" -c user.name=t -c user.email=t@example.invalid commit -q -m first
git -C "$tmp/work" push -q origin HEAD:main
commit=$(git -C "$tmp/work" rev-parse HEAD)

metrics_port=""
start_operator() {
  metrics_port=$(free_port)
  GANTRY_GIT_CACHE_DIR=$tmp/git-cache "$bin" operator --namespace "$ns" \
    --metrics-bind-address "127.0.0.1:$metrics_port" --health-probe-bind-address 127.0.0.1:0 \
    --webhook-bind-address 0 >>"$tmp/op.log" 2>&1 &
  op_pid=$!
  wait_for 30 "operator metrics" curl -sf "http://127.0.0.1:$metrics_port/metrics"
}
# Requests counted so far by verb ("apply_dry_run=61 apply=61 get=3 ..."), all codes summed.
requests() {
  curl -sf "http://127.0.0.1:$metrics_port/metrics" | python3 -c '
import re, sys, collections
n = collections.Counter()
for line in sys.stdin:
    m = re.match(r"gantry_kube_requests_total\{(.*)\} (\S+)", line)
    if m:
        verb = re.search(r"verb=\"([^\"]*)\"", m.group(1)).group(1)
        n[verb] += int(float(m.group(2)))
print(" ".join(f"{k}={v}" for k, v in sorted(n.items())))'
}
count() {  # $1: a requests() line, $2: verb
  local v
  v=$(tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p")
  echo "${v:-0}"
}
delta() { echo $(($(count "$2" "$3") - $(count "$1" "$3"))); }
handled() {  # $1: stamp
  [[ "$(k -n "$ns" get application app -o jsonpath='{.status.lastHandledReconcileAt}')" == "$1" ]]
}
resync() {  # requests a pass and waits until it is handled
  local stamp
  stamp=$(date +%s%N)
  k -n "$ns" annotate application app --overwrite "gantry.io/reconcile-requested-at=$stamp" >/dev/null
  wait_for 60 "resync $stamp handled" handled "$stamp"
}
ready() {
  [[ "$(k -n "$ns" get application app -o jsonpath='{.status.lastAppliedRevision}')" == "main@sha1:$commit" ]] &&
    [[ "$(k -n "$ns" get application app -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]]
}

start_operator
before=$(requests)
k apply -f - >/dev/null <<YAML
apiVersion: gantry.io/v1alpha1
kind: GitRepository
metadata: {name: repo, namespace: $ns}
spec: {url: "file://$tmp/app.git", interval: 1h}
---
apiVersion: gantry.io/v1alpha1
kind: Application
metadata: {name: app, namespace: $ns}
spec:
  sourceRef: {kind: GitRepository, name: repo}
  path: app
  targetNamespace: $ns
  interval: 1h
YAML
wait_for 120 "first sync" ready
after=$(requests)
echo "first sync: $(delta "$before" "$after" apply_dry_run) dry runs, $(delta "$before" "$after" apply) writes, $(delta "$before" "$after" get) reads ($after)"
[[ $(delta "$before" "$after" apply_dry_run) -ge $objects ]] || fail "first sync: fewer dry runs than objects"
[[ $(delta "$before" "$after" apply) -eq $objects ]] || fail "first sync: expected $objects writes"
# Reads: the Application and GitRepository of each pass, discovery, and objects the watch
# cache could not answer for before its first list; never one per object.
[[ $(delta "$before" "$after" get) -lt $((objects / 2)) ]] || fail "first sync read the objects"

# 2. No-op resyncs: the Deployment's controller writes its status (and an annotation) in the
# meantime, which at most costs that one object a dry run once.
resync
before=$(requests)
resync
resync
after=$(requests)
echo "two no-op resyncs: $(delta "$before" "$after" apply_dry_run) dry runs, $(delta "$before" "$after" apply) writes, $(delta "$before" "$after" get) reads"
[[ $(delta "$before" "$after" apply_dry_run) -le 1 ]] || fail "a no-op resync dry-ran objects"
[[ $(delta "$before" "$after" apply) -eq 0 ]] || fail "a no-op resync wrote"
[[ $(delta "$before" "$after" get) -le 10 ]] || fail "a no-op resync read the objects"

# 3. Drift by another writer: caught from the watch, reverted with one dry run and one write.
before=$(requests)
k -n "$ns" patch configmap cm-07 --type merge -p '{"data":{"value":"edited"}}' >/dev/null
value_back() { [[ "$(k -n "$ns" get configmap cm-07 -o jsonpath='{.data.value}')" == v7 ]]; }
wait_for 60 "the hand edit reverted" value_back
resync
after=$(requests)
echo "hand edit: $(delta "$before" "$after" apply_dry_run) dry runs, $(delta "$before" "$after" apply) writes"
[[ $(delta "$before" "$after" apply) -eq 1 ]] || fail "expected one write to revert the edit"
[[ $(delta "$before" "$after" apply_dry_run) -ge 1 && $(delta "$before" "$after" apply_dry_run) -le 2 ]] ||
  fail "expected the edited object alone to be dry-run"

# 4. A restarted operator knows nothing: a full pass, nothing written.
kill -TERM "$op_pid"
wait "$op_pid" 2>/dev/null || true
op_pid=""
start_operator
wait_for 60 "the restarted operator's first pass" ready
resync
after=$(requests)
echo "restarted: $after"
[[ $(count "$after" apply_dry_run) -ge $objects ]] || fail "a restarted operator skipped the dry runs"
[[ $(count "$after" apply) -eq 0 ]] || fail "a restarted operator wrote unchanged objects"
echo "PASS"
