#!/usr/bin/env bash
# Smoke test of the local control plane (hack/cluster up): a Deployment's pods are scheduled onto
# kwok nodes and become Ready, and an image change rolls out a new ReplicaSet while the old one
# scales to zero. If this fails, every other integration test would fail in a more confusing way.
#
# Needs KUBECONFIG pointing at a running cluster; uses kubectl from PATH, else .cache/bin.
# Works in its own namespace, deleted at the end whatever the outcome.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
timeout_s=${SMOKE_TIMEOUT:-90}
ns=smoke-$(date +%s)-$$

[[ -n ${KUBECONFIG:-} ]] || { echo "FAIL: KUBECONFIG is not set (eval \"\$(hack/cluster env)\")" >&2; exit 1; }
if command -v kubectl >/dev/null; then kubectl=$(command -v kubectl); else kubectl=$repo/.cache/bin/kubectl; fi
k() { "$kubectl" --request-timeout=20s "$@"; }

fail() {
  echo "FAIL: $*" >&2
  echo "--- state of namespace $ns:" >&2
  k get deploy,rs,pods -n "$ns" -o wide >&2 || true
  k get events -n "$ns" --sort-by=.lastTimestamp 2>/dev/null | tail -n 15 >&2 || true
  exit 1
}

cleanup() { k delete namespace "$ns" --wait=false >/dev/null 2>&1 || true; }
trap cleanup EXIT

# wait_until <description> <command...>: retries every second for up to $timeout_s seconds.
wait_until() {
  local what=$1 deadline=$((SECONDS + timeout_s))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || fail "timed out after ${timeout_s}s waiting for $what"
    sleep 1
  done
}

# jsonpath of the Deployment; empty while the field is unset.
deploy_field() { k get deployment web -n "$ns" -o "jsonpath=$1" 2>/dev/null; }

deployment_ready() {  # image
  [[ $(deploy_field '{.status.readyReplicas}') == 3 &&
     $(deploy_field '{.status.updatedReplicas}') == 3 &&
     $(deploy_field '{.status.replicas}') == 3 &&
     $(deploy_field '{.status.observedGeneration}') == $(deploy_field '{.metadata.generation}') &&
     $(deploy_field '{.spec.template.spec.containers[0].image}') == "$1" ]]
}

# "<image> <spec.replicas> <status.readyReplicas>" per ReplicaSet of the Deployment.
replica_sets() {
  k get rs -n "$ns" -l app=web \
    -o jsonpath='{range .items[*]}{.spec.template.spec.containers[0].image} {.spec.replicas} {.status.readyReplicas}{"\n"}{end}'
}

rolled_out() {  # old-image new-image
  local rs
  rs=$(replica_sets)
  grep -qx "$2 3 3" <<<"$rs" && grep -Eqx "$1 0 ?" <<<"$rs"
}

pods_running_with_ip() {
  local out
  out=$(k get pods -n "$ns" -l app=web --field-selector=status.phase=Running \
    -o jsonpath='{range .items[*]}{.status.podIP}{"\n"}{end}')
  [[ $(grep -c . <<<"$out") -ge 3 ]]
}

k version >/dev/null || fail "API server at $KUBECONFIG does not answer"
k create namespace "$ns" >/dev/null

k apply -n "$ns" -f - >/dev/null <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  strategy:
    rollingUpdate: {maxUnavailable: 1, maxSurge: 1}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: example.invalid/web:v1
EOF
wait_until "Deployment web: 3 ready replicas of image v1" deployment_ready example.invalid/web:v1
wait_until "3 Running pods with pod IPs" pods_running_with_ip
echo "ok: Deployment ready, 3/3 replicas"

k set image -n "$ns" deployment/web web=example.invalid/web:v2 >/dev/null
wait_until "Deployment web: 3 ready replicas of image v2" deployment_ready example.invalid/web:v2
wait_until "new ReplicaSet at 3/3 and the old one at 0" rolled_out example.invalid/web:v1 example.invalid/web:v2
echo "ok: rollout to v2 done, old ReplicaSet scaled to 0"
echo "PASS: cluster smoke test ($SECONDS s)"
