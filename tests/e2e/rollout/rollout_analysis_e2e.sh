#!/usr/bin/env bash
# A canary gated by analysis, end to end through both controllers of a real `gantry operator`:
# the Rollout reconciler creates the AnalysisRun from an AnalysisTemplate (arguments resolved),
# the AnalysisRun reconciler measures it with the web provider against an HTTP server this test
# runs on 127.0.0.1, and the Rollout follows the run's phase:
#
#   1. the endpoint says {"ok": true}: the analysis step succeeds and the canary completes;
#   2. the endpoint says {"ok": false}: the run fails, the Rollout aborts (Degraded, message
#      naming the run), the canary scales down and the stable revision keeps serving;
#   3. the endpoint is fixed and `gantry rollout retry` runs a fresh AnalysisRun to success.
#
# Needs $KUBECONFIG, kubectl, curl, python3 and $GANTRY_BIN. Exit 0 on success, 1 on failure,
# 77 (skipped) without KUBECONFIG.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
if [[ -z ${KUBECONFIG:-} ]]; then
  echo "SKIP: KUBECONFIG is not set (hack/cluster up; eval \"\$(hack/cluster env)\")"
  exit 77
fi
bin=$(realpath "${GANTRY_BIN:-build/bin/gantry}")
[[ -x $bin ]] || { echo "FAIL: $bin is not built" >&2; exit 1; }

ns=gantry-analysis-e2e-$$-$RANDOM
tmp=$(mktemp -d)
op_pid="" web_pid=""
k() { kubectl --cache-dir="$tmp/kcache" --request-timeout=20s "$@"; }
g() { "$bin" rollout -n "$ns" "$@"; }
cleanup() {
  for p in $op_pid $web_pid; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
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
until_true() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.25
  done
}
phase_is() { [[ $(field '{.status.phase}') == "$1" ]]; }
wait_phase() {
  until_true "${2:-90}" phase_is "$1" || {
    fail "phase is '$(field '{.status.phase}')' ($(field '{.status.message}')), not $1"
    tail -20 "$tmp/operator.log"
    return 1
  }
}
rs_is() {
  [[ $(k -n "$ns" get rs -l "rollouts-pod-template-hash=$1" -o jsonpath='{.items[0].spec.replicas}') == "$2" ]]
}
runs() { k -n "$ns" get analysisruns.gantry.io -l gantry.io/rollout=web -o jsonpath='{range .items[*]}{.metadata.name}={.status.phase}{"\n"}{end}'; }

bash tests/integration/rollout/install_crds.sh gantry
k create namespace "$ns" >/dev/null

# The metric endpoint: serves $tmp/www/health.json.
mkdir -p "$tmp/www"
echo '{"ok": true}' >"$tmp/www/health.json"
web_port=$(free_port)
python3 -m http.server "$web_port" --bind 127.0.0.1 --directory "$tmp/www" >"$tmp/web.log" 2>&1 &
web_pid=$!
until_true 10 curl -fsS "http://127.0.0.1:$web_port/health.json" || { fail "web server"; exit 1; }

"$bin" operator --kubeconfig "$KUBECONFIG" --namespace "$ns" --metrics-bind-address 0 \
  --health-probe-bind-address "127.0.0.1:$(free_port)" --webhook-bind-address 0 \
  >"$tmp/operator.log" 2>&1 &
op_pid=$!

k -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: gantry.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: health}
spec:
  args:
  - name: endpoint
  - name: revision
  metrics:
  - name: ok
    successCondition: result.ok == true
    provider:
      web:
        url: "{{args.endpoint}}/health.json?rev={{args.revision}}"
---
apiVersion: gantry.io/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: "registry.local/web:1"}]}
  strategy:
    canary:
      maxSurge: 1
      maxUnavailable: 0
      abortScaleDownDelaySeconds: 1
      steps:
      - setWeight: 50
      - analysis:
          templates: [{templateName: health}]
          args:
          - {name: endpoint, value: "http://127.0.0.1:$web_port"}
          - name: revision
            valueFrom: {podTemplateHashValue: Latest}
YAML
wait_phase Healthy

step "1. a healthy endpoint lets the canary through"
rev1=$(field '{.status.stableRS}')
g set-image web app=registry.local/web:2 >/dev/null
# Healthy again with another stable revision (the phase alone may still be the old Healthy).
moved_on() { [[ $(field '{.status.stableRS}') != "$rev1" ]] && phase_is Healthy; }
until_true 120 moved_on || fail "revision 2 did not become stable: $(field '{.status.message}')"
rev2=$(field '{.status.stableRS}')
[[ $(field '{.status.currentPodHash}') == "$rev2" ]] || fail "revision 2 is not the current one"
run=$(runs | head -1)
[[ $run == *"=Successful" ]] || fail "the AnalysisRun is '$run', not Successful"
name=${run%%=*}
[[ $(k -n "$ns" get analysisruns.gantry.io "$name" -o jsonpath='{.spec.args[?(@.name=="revision")].value}') == "$rev2" ]] ||
  fail "the run's revision argument is not the canary's hash"
[[ $(k -n "$ns" get analysisruns.gantry.io "$name" -o jsonpath='{.metadata.ownerReferences[0].kind}') == Rollout ]] ||
  fail "the run is not owned by the Rollout"

step "2. a failing endpoint aborts the canary"
echo '{"ok": false}' >"$tmp/www/health.json"
g set-image web app=registry.local/web:3 >/dev/null
wait_phase Degraded 120
rev3=$(field '{.status.currentPodHash}')
[[ $(field '{.status.message}') == *"AnalysisRun"*"failed"* ]] ||
  fail "the message does not name the failed run: $(field '{.status.message}')"
until_true 60 rs_is "$rev3" 0 || fail "the aborted canary did not scale down"
until_true 30 rs_is "$rev2" 2 || fail "the stable revision is not back to 2 pods"
[[ $(field '{.status.stableRS}') == "$rev2" ]] || fail "stable moved during an abort"

step "3. fixed endpoint, retry: a fresh run succeeds"
echo '{"ok": true}' >"$tmp/www/health.json"
g retry web >/dev/null
wait_phase Healthy 120
[[ $(field '{.status.stableRS}') == "$rev3" ]] || fail "revision 3 did not become stable after retry"
runs | grep -q "\.1=Successful" || fail "no successful rerun: $(runs | tr '\n' ' ')"

if ((failures > 0)); then
  echo "--- operator log (last 30 lines)"
  tail -30 "$tmp/operator.log"
  echo "FAILED: $failures check(s)"
  exit 1
fi
echo "PASS"
