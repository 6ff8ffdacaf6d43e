#!/usr/bin/env bash
# Argo Rollouts manifests accepted as they are, with only `apiVersion: argoproj.io/v1alpha1`
# changed to `gantry.io/v1alpha1`:
#
#   argo_examples_e2e.sh upstream   the documented examples of Argo Rollouts (examples/ of the Go
#                                   module github.com/argoproj/argo-rollouts@$ARGO_ROLLOUTS_VERSION,
#                                   downloaded through the Go module proxy into the module cache,
#                                   never copied into this repository; the Helm chart example is
#                                   rendered with `helm template`). Exit 77 when it cannot be had.
#   argo_examples_e2e.sh testdata   the hand-written Argo-form set in tests/testdata/argo-rollouts,
#                                   which needs no network.
#
# 1. Every Rollout, AnalysisTemplate, ClusterAnalysisTemplate and AnalysisRun document is applied
#    with `kubectl apply --dry-run=server`; each must be accepted. Documents that use what Gantry
#    does not implement (Experiments, experiment steps, Istio/ALB/SMI/... routers, workloadRef,
#    other metric providers) are listed with the reason and not applied (argo_examples.py).
# 2. The basic canary (rollout-canary), rolling update (rollout-rollingupdate) and blue/green
#    (rollout-bluegreen) examples run through a real `gantry operator`: a new image goes through
#    every canary step (promoted past the manual and timed pauses) to Healthy, the rolling update
#    replaces every pod, and blue/green switches the active Service on promote and scales the
#    old version down after its delay.
#
# Needs $KUBECONFIG, kubectl, python3 with PyYAML, $GANTRY_BIN (default build/bin/gantry); go and
# helm for `upstream`. Exit 0 on success, 1 on failure, 77 (skipped) when a prerequisite is
# missing, with the reason.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
root=$PWD
mode=${1:-}
[[ $mode == upstream || $mode == testdata ]] || { echo "usage: $0 upstream|testdata" >&2; exit 1; }
if [[ -z ${KUBECONFIG:-} ]]; then
  echo "SKIP: KUBECONFIG is not set (hack/cluster up; eval \"\$(hack/cluster env)\")"
  exit 77
fi
python3 -c 'import yaml' 2>/dev/null || { echo "SKIP: python3 has no PyYAML (apt-get install python3-yaml)"; exit 77; }
bin=$(realpath "${GANTRY_BIN:-build/bin/gantry}")
[[ -x $bin ]] || { echo "FAIL: $bin is not built" >&2; exit 1; }

tmp=$(mktemp -d)
ns=gantry-argo-$mode-$$-$RANDOM
op_pid=""
created_namespaces=()
k() { kubectl --cache-dir="$tmp/kcache" --request-timeout=30s "$@"; }
cleanup() {
  [[ -n $op_pid ]] && kill -TERM "$op_pid" 2>/dev/null && wait "$op_pid" 2>/dev/null || true
  for n in "$ns" "${created_namespaces[@]}"; do
    k delete namespace "$n" --wait=false --ignore-not-found >/dev/null 2>&1 || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
step() { echo "=== $*"; }

src=$tmp/src
if [[ $mode == upstream ]]; then
  version=${ARGO_ROLLOUTS_VERSION:-v1.8.3}
  command -v go >/dev/null || PATH=/usr/local/go/bin:$PATH
  command -v go >/dev/null || { echo "SKIP: go is not on PATH nor in /usr/local/go: cannot fetch github.com/argoproj/argo-rollouts@$version"; exit 77; }
  # Outside any module, so that only the module cache is touched.
  if ! out=$(cd "$tmp" && go mod download -json "github.com/argoproj/argo-rollouts@$version" 2>&1); then
    echo "SKIP: go mod download github.com/argoproj/argo-rollouts@$version failed: $(tr '\n' ' ' <<<"$out" | cut -c1-400)"
    exit 77
  fi
  dir=$(sed -nE 's/^\s*"Dir": "(.*)",?$/\1/p' <<<"$out")
  [[ -d $dir/examples ]] || { echo "SKIP: the module has no examples/ directory ($dir)"; exit 77; }
  cp -r "$dir/examples" "$src"
  chmod -R u+w "$src"
  # The Helm chart example is a template: render it as a user would.
  if [[ -d $src/helm-blue-green ]]; then
    if command -v helm >/dev/null; then
      helm template example "$src/helm-blue-green" >"$tmp/helm-blue-green.yaml"
      rm -rf "$src/helm-blue-green"
      mkdir -p "$src/helm-blue-green" && mv "$tmp/helm-blue-green.yaml" "$src/helm-blue-green/"
    else
      echo "NOTE: helm is not on PATH: the Helm chart example is listed as not plain YAML"
    fi
  fi
  echo "examples: github.com/argoproj/argo-rollouts@$version ($dir/examples)"
else
  cp -r tests/testdata/argo-rollouts "$src"
  echo "examples: tests/testdata/argo-rollouts"
fi

bash tests/integration/rollout/install_crds.sh gantry
k create namespace "$ns" >/dev/null

step "1. kubectl apply --dry-run=server of every Argo-form document (apiVersion changed only)"
python3 tests/e2e/rollout/argo_examples.py "$src" "$tmp/split"
accepted=0
while IFS=$'\t' read -r n file kind name doc_ns; do
  target=$ns
  if [[ -n $doc_ns ]]; then
    # The document names its own namespace (and kubectl will not override it).
    target=$doc_ns
    if ! k get namespace "$target" >/dev/null 2>&1; then
      k create namespace "$target" >/dev/null && created_namespaces+=("$target")
    fi
  fi
  if out=$(k apply --dry-run=server -n "$target" -f "$tmp/split/$n.yaml" 2>&1); then
    echo "accepted: $file $kind/$name"
    accepted=$((accepted + 1))
  else
    fail "$file $kind/$name was rejected: $out"
  fi
done <"$tmp/split/accept.tsv"
skipped=$(wc -l <"$tmp/split/skip.tsv")
echo "$accepted document(s) accepted, $skipped skipped (listed above with the reason)"
((accepted >= 5)) || fail "only $accepted documents were tried: the example set looks wrong"

split_of() {  # file name -> path of its split Rollout document
  awk -F'\t' -v f="$2" -v k=Rollout '$2 == f && $3 == k {print $1; exit}' "$tmp/split/accept.tsv" |
    sed "s|^|$tmp/split/|; s|$|.yaml|" | grep . || { fail "no Rollout in $2 ($1)"; return 1; }
}
canary_doc=$(split_of canary "$([[ $mode == upstream ]] && echo rollout-canary.yaml || echo canary.yaml)")
bluegreen_doc=$(split_of bluegreen "$([[ $mode == upstream ]] && echo rollout-bluegreen.yaml || echo bluegreen.yaml)")
bluegreen_src=$src/$([[ $mode == upstream ]] && echo rollout-bluegreen.yaml || echo bluegreen.yaml)
rolling_doc=$(split_of rolling "$([[ $mode == upstream ]] && echo rollout-rolling-update.yaml || echo rolling-update.yaml)")

step "2. the canary, rolling update and blue/green examples through a real operator"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
health_port=$(free_port)
"$bin" operator --kubeconfig "$KUBECONFIG" --namespace "$ns" --metrics-bind-address 0 \
  --health-probe-bind-address "127.0.0.1:$health_port" --webhook-bind-address 0 \
  >"$tmp/operator.log" 2>&1 &
op_pid=$!
until_true() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.25
  done
}
until_true 30 curl -fsS "http://127.0.0.1:$health_port/readyz" ||
  { fail "the operator did not become ready"; tail -30 "$tmp/operator.log"; exit 1; }
field() { k -n "$ns" get rollouts.gantry.io "$1" -o jsonpath="$2" 2>/dev/null; }
phase_is() { [[ $(field "$1" '{.status.phase}') == "$2" ]]; }
step_is() { [[ $(field "$1" '{.status.currentStepIndex}') == "$2" ]]; }
rs_replicas() { k -n "$ns" get rs -l "rollouts-pod-template-hash=$1" -o jsonpath='{.items[0].spec.replicas}'; }
rs_is() { [[ $(rs_replicas "$1") == "$2" ]]; }
selects() { [[ $(k -n "$ns" get service "$1" -o jsonpath='{.spec.selector.rollouts-pod-template-hash}') == "$2" ]]; }
wait_phase() {  # rollout phase [seconds]
  until_true "${3:-90}" phase_is "$1" "$2" || {
    fail "$1: phase is '$(field "$1" '{.status.phase}')' ($(field "$1" '{.status.message}')), not $2"
    tail -20 "$tmp/operator.log"
    return 1
  }
}
g() { "$bin" rollout -n "$ns" "$@"; }

# Canary: 5 pods; steps 20% / pause {} / 40% / 40s / 60% / 20s / 80% / 20s.
k -n "$ns" apply -f "$canary_doc" >/dev/null
wait_phase rollout-canary Healthy
blue=$(field rollout-canary '{.status.stableRS}')
g set-image rollout-canary rollouts-demo=argoproj/rollouts-demo:yellow >/dev/null
wait_phase rollout-canary Paused
yellow=$(field rollout-canary '{.status.currentPodHash}')
[[ $yellow != "$blue" ]] || fail "set-image made no new revision"
step_is rollout-canary 1 || fail "not paused at step 1 (pause {})"
rs_is "$yellow" 1 && rs_is "$blue" 4 || fail "at setWeight 20 expected 1 canary + 4 stable pods, got $(rs_replicas "$yellow") + $(rs_replicas "$blue")"
for want in "2:3" "3:5" "4:7"; do  # canary pods : the timed pause's step index
  g promote rollout-canary >/dev/null
  until_true 90 step_is rollout-canary "${want#*:}" ||
    fail "did not reach step ${want#*:} (at $(field rollout-canary '{.status.currentStepIndex}'))"
  until_true 60 rs_is "$yellow" "${want%%:*}" ||
    fail "at step ${want#*:} expected ${want%%:*} canary pods, got $(rs_replicas "$yellow")"
  echo "canary at step ${want#*:}: $(rs_replicas "$yellow") of 5 pods, weight $(field rollout-canary '{.status.canary.weights.canary.weight}')"
done
g promote rollout-canary >/dev/null
wait_phase rollout-canary Healthy
[[ $(field rollout-canary '{.status.stableRS}') == "$yellow" ]] || fail "the canary example did not finish on the new revision"
until_true 60 rs_is "$blue" 0 || fail "the old revision still has pods"
rs_is "$yellow" 5 || fail "the new revision does not have 5 pods"

# Rolling update (a canary without steps): 5 pods, maxSurge 1, maxUnavailable 1.
k -n "$ns" apply -f "$rolling_doc" >/dev/null
wait_phase rollout-rollingupdate Healthy
ru_blue=$(field rollout-rollingupdate '{.status.stableRS}')
g set-image rollout-rollingupdate rollouts-demo=argoproj/rollouts-demo:yellow >/dev/null
ru_new() { [[ $(field rollout-rollingupdate '{.status.stableRS}') != "$ru_blue" ]] && phase_is rollout-rollingupdate Healthy; }
until_true 90 ru_new || fail "the rolling update did not finish: $(field rollout-rollingupdate '{.status.message}')"
rs_is "$ru_blue" 0 || fail "the rolling update left pods on the old revision"

# Blue/green: 2 pods; manual promotion.
k -n "$ns" apply -f "$bluegreen_doc" >/dev/null
# The example's Services, from the same file, unchanged.
python3 - "$bluegreen_src" <<'PY' | k -n "$ns" apply -f - >/dev/null
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d.get("kind") == "Service"]
print(yaml.safe_dump_all(docs))
PY
wait_phase rollout-bluegreen Healthy
bg_blue=$(field rollout-bluegreen '{.status.stableRS}')
selects rollout-bluegreen-active "$bg_blue" || fail "the active Service does not select the first revision"
g set-image rollout-bluegreen rollouts-demo=argoproj/rollouts-demo:green >/dev/null
wait_phase rollout-bluegreen Paused
bg_green=$(field rollout-bluegreen '{.status.currentPodHash}')
selects rollout-bluegreen-preview "$bg_green" || fail "the preview Service does not select the new revision"
selects rollout-bluegreen-active "$bg_blue" || fail "the active Service moved before the promotion"
rs_is "$bg_green" 2 || fail "the preview has $(rs_replicas "$bg_green") pods, not 2"
g promote rollout-bluegreen >/dev/null
wait_phase rollout-bluegreen Healthy
selects rollout-bluegreen-active "$bg_green" || fail "promote did not switch the active Service"
# scaleDownDelaySeconds defaults to 30.
until_true 75 rs_is "$bg_blue" 0 || fail "the old blue/green revision was not scaled down after its delay"

if ((failures > 0)); then
  echo "--- operator log (last 30 lines)"
  tail -30 "$tmp/operator.log"
  echo "FAILED: $failures check(s)"
  exit 1
fi
echo "PASS"
