#!/usr/bin/env bash
# A Rollout at rest under a real `gantry operator` (scoped to a namespace of this run) on the
# control plane of $KUBECONFIG:
#
#   1. a canary Rollout with a stable and a canary Service becomes Healthy; both Services select
#      its pods' hash;
#   2. at rest, the operator writes nothing (the Rollout's resourceVersion stays put) and
#      reconciles nothing for a while (gantry_reconcile_total of the rollout controller);
#   3. a hand edit of either Service's selector is put back within a few seconds (the operator
#      watches the Services its Rollouts name), and the edit does not stir the Rollout's status.
#
# Needs $KUBECONFIG, kubectl, curl, python3 and $GANTRY_BIN (default build/bin/gantry). Exit 0
# on success, 1 on failure, 77 (skipped) without KUBECONFIG.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
if [[ -z ${KUBECONFIG:-} ]]; then
  echo "SKIP: KUBECONFIG is not set (hack/cluster up; eval \"\$(hack/cluster env)\")"
  exit 77
fi
bin=$(realpath "${GANTRY_BIN:-build/bin/gantry}")
[[ -x $bin ]] || { echo "FAIL: $bin is not built" >&2; exit 1; }

ns=gantry-rollout-rest-$$-$RANDOM
tmp=$(mktemp -d)
op_pid=""
k() { kubectl --cache-dir="$tmp/kcache" --request-timeout=20s "$@"; }
cleanup() {
  [[ -n $op_pid ]] && kill -TERM "$op_pid" 2>/dev/null && wait "$op_pid" 2>/dev/null || true
  k delete namespace "$ns" --wait=false --ignore-not-found >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
step() { echo "=== $*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
field() { k -n "$ns" get rollouts.gantry.io web -o jsonpath="$1" 2>/dev/null; }
selected() { k -n "$ns" get service "$1" -o jsonpath='{.spec.selector.rollouts-pod-template-hash}'; }
# until_true SECONDS CMD...: polls CMD every 0.1s; 1 on timeout.
until_true() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}
healthy() { [[ $(field '{.status.phase}') == Healthy && -n $(field '{.status.stableRS}') ]]; }
selects() { [[ $(selected "$1") == "$2" ]]; }
# Rollout passes so far (every result), from /metrics.
reconciles() {
  curl -fsS "http://127.0.0.1:$metrics_port/metrics" |
    awk '/^gantry_reconcile_total\{controller="rollout"/ { n += $2 } END { print n + 0 }'
}

bash tests/integration/rollout/install_crds.sh gantry
k create namespace "$ns" >/dev/null

metrics_port=$(free_port)
health_port=$(free_port)
"$bin" operator --kubeconfig "$KUBECONFIG" --namespace "$ns" \
  --metrics-bind-address "127.0.0.1:$metrics_port" \
  --health-probe-bind-address "127.0.0.1:$health_port" --webhook-bind-address 0 \
  >"$tmp/operator.log" 2>&1 &
op_pid=$!
until_true 30 curl -fsS "http://127.0.0.1:$health_port/readyz" ||
  { fail "the operator did not become ready"; tail -30 "$tmp/operator.log"; exit 1; }

step "1. a canary Rollout with two Services becomes Healthy"
k -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: {name: web-stable}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-canary}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: gantry.io/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: "registry.local/web:1"}]}
  strategy:
    canary:
      stableService: web-stable
      canaryService: web-canary
      steps:
      - setWeight: 50
      - pause: {}
YAML
until_true 90 healthy || { fail "not Healthy: $(field '{.status.message}')"; tail -30 "$tmp/operator.log"; exit 1; }
hash=$(field '{.status.stableRS}')
until_true 10 selects web-stable "$hash" || fail "web-stable selects '$(selected web-stable)', not $hash"
until_true 10 selects web-canary "$hash" || fail "web-canary selects '$(selected web-canary)', not $hash"

step "2. at rest: no writes, no passes"
# The 10 s look-again of a Rollout that was still progressing may be pending: let it pass.
sleep 11
rv=$(field '{.metadata.resourceVersion}')
before=$(reconciles)
sleep 8
after=$(reconciles)
[[ $(field '{.metadata.resourceVersion}') == "$rv" ]] ||
  fail "the Rollout was written at rest (resourceVersion $rv -> $(field '{.metadata.resourceVersion}'))"
((after - before == 0)) || fail "$((after - before)) rollout passes at rest in 8s"
echo "resourceVersion $rv kept; $((after - before)) passes in 8s"

step "3. hand-edited Service selectors are put back within seconds"
for svc in web-stable web-canary; do
  k -n "$ns" patch service "$svc" --type merge \
    -p '{"spec":{"selector":{"rollouts-pod-template-hash":"edited"}}}' >/dev/null
  t0=$(date +%s.%N)
  if until_true 5 selects "$svc" "$hash"; then
    echo "$svc restored in $(python3 -c "import time; print(f'{time.time() - $t0:.2f}')")s"
  else
    fail "$svc still selects '$(selected "$svc")' 5s after the edit, not $hash"
    tail -20 "$tmp/operator.log"
  fi
done
# Putting the selector back is not a change of the Rollout.
[[ $(field '{.metadata.resourceVersion}') == "$rv" ]] ||
  fail "restoring the Services rewrote the Rollout's status"

if ((failures > 0)); then
  echo "$failures failure(s); operator log:"
  tail -40 "$tmp/operator.log"
  exit 1
fi
echo "PASS"
