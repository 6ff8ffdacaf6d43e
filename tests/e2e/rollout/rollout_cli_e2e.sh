#!/usr/bin/env bash
# The Rollout controller and the `gantry rollout` CLI end to end: a real `gantry operator`
# (scoped to a namespace of this run) against the control plane of $KUBECONFIG, driven only by
# kubectl and the CLI, as a user would:
#
#   1. a canary Rollout becomes Healthy; `set-image` starts revision 2, which pauses at its
#      pause step with half the pods; `get` shows the tree; `kubectl gantry rollout promote`
#      (the kubectl plugin) finishes it;
#   2. `undo` goes back to revision 1's template (and later `undo --to-revision 2` to the second
#      image), `abort` sends it back to stable (Degraded),
#      `retry` starts the steps again, `promote --full` finishes;
#   3. `pause` / `promote` hold and release it; `restart` replaces every pod;
#   4. `kubectl scale rollout` (the scale subresource, as an HPA) resizes it; `get --watch`
#      follows a release live through a real watch and ends on SIGINT and on a closed pipe;
#   5. /metrics has gantry_rollout_info and gantry_rollout_canary_weight; Events tell the story.
#
# Needs $KUBECONFIG, kubectl, curl, python3 and $GANTRY_BIN (default build/bin/gantry, with the
# kubectl-gantry link beside it). Exit 0 on success, 1 on failure, 77 (skipped) without
# KUBECONFIG.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
if [[ -z ${KUBECONFIG:-} ]]; then
  echo "SKIP: KUBECONFIG is not set (hack/cluster up; eval \"\$(hack/cluster env)\")"
  exit 77
fi
bin=$(realpath "${GANTRY_BIN:-build/bin/gantry}")
[[ -x $bin ]] || { echo "FAIL: $bin is not built" >&2; exit 1; }
bindir=$(dirname "$bin")
[[ -x $bindir/kubectl-gantry ]] || { echo "FAIL: $bindir/kubectl-gantry is missing" >&2; exit 1; }
export PATH=$bindir:$PATH

ns=gantry-rollout-e2e-$$-$RANDOM
tmp=$(mktemp -d)
op_pid=""
k() { kubectl --cache-dir="$tmp/kcache" --request-timeout=20s "$@"; }
g() { "$bin" rollout -n "$ns" "$@"; }
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
# until_true SECONDS CMD...: polls CMD every 0.25s; 1 on timeout.
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
rs_replicas() {  # hash -> spec.replicas
  k -n "$ns" get rs -l "rollouts-pod-template-hash=$1" -o jsonpath='{.items[0].spec.replicas}'
}
# Predicates for until_true (evaluated on every poll).
rs_is() { [[ $(rs_replicas "$1") == "$2" ]]; }
restarted() { [[ -n $(field '{.status.restartedAt}') ]]; }
available_is() { [[ $(field '{.status.availableReplicas}') == "$1" ]]; }

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

step "1. canary: create, set-image, pause, get, promote through the kubectl plugin"
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
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: "registry.local/web:1"}]}
  strategy:
    canary:
      stableService: web-stable
      canaryService: web-canary
      maxSurge: 1
      maxUnavailable: 0
      abortScaleDownDelaySeconds: 2
      steps:
      - setWeight: 50
      - pause: {}
YAML
wait_phase Healthy
rev1=$(field '{.status.stableRS}')
g set-image web app=registry.local/web:2 | grep -q "app=registry.local/web:2" || fail "set-image output"
wait_phase Paused
rev2=$(field '{.status.currentPodHash}')
[[ $rev2 != "$rev1" ]] || fail "set-image did not make a new revision"
[[ $(rs_replicas "$rev2") == 1 && $(rs_replicas "$rev1") == 1 ]] ||
  fail "at setWeight 50 expected 1+1 pods, got canary $(rs_replicas "$rev2") stable $(rs_replicas "$rev1")"
g get web >"$tmp/get.txt"
for want in "Paused" "Step:         1/2" "# revision:2" "# revision:1" "(canary)" "(stable)" "ReplicaSet"; do
  grep -qF -- "$want" "$tmp/get.txt" || fail "get does not show '$want'"
done
kubectl gantry rollout promote web -n "$ns" | grep -q promoted || fail "kubectl gantry rollout promote"
wait_phase Healthy
[[ $(field '{.status.stableRS}') == "$rev2" ]] || fail "revision 2 is not stable after promote"
[[ $(rs_replicas "$rev1") == 0 ]] || fail "revision 1 still has pods"

step "2. undo, abort, retry, promote --full"
g undo web | grep -q "revision 1" || fail "undo output"
wait_phase Paused
[[ $(field '{.status.currentPodHash}') == "$rev1" ]] || fail "undo did not go back to revision 1's ReplicaSet"
g abort web >/dev/null
wait_phase Degraded
until_true 60 rs_is "$rev1" 0 || fail "the aborted canary did not scale down"
until_true 30 rs_is "$rev2" 2 || fail "stable is not back to 2 pods after abort"
g retry web >/dev/null
wait_phase Paused
g promote web --full >/dev/null
wait_phase Healthy
[[ $(field '{.status.stableRS}') == "$rev1" ]] || fail "promote --full did not finish the undo"

step "3. pause, promote, restart"
g pause web >/dev/null
[[ $(field '{.spec.paused}') == true ]] || fail "pause did not set spec.paused"
wait_phase Paused
g promote web >/dev/null
wait_phase Healthy
before=$(k -n "$ns" get pods -l app=web -o jsonpath='{.items[*].metadata.name}')
sleep 1
g restart web >/dev/null
until_true 90 restarted || fail "restart did not finish"
after=$(k -n "$ns" get pods -l app=web -o jsonpath='{.items[*].metadata.name}')
for p in $before; do
  [[ " $after " != *" $p "* ]] || fail "pod $p survived the restart"
done

step "4. kubectl scale rollout (scale subresource)"
k -n "$ns" scale rollouts.gantry.io web --replicas=3 >/dev/null
until_true 60 available_is 3 || fail "scale to 3 did not happen"
wait_phase Healthy
g get web --watch --timeout 2s >"$tmp/watch.txt" || fail "get --watch --timeout exited non-zero"
grep -q "Healthy" "$tmp/watch.txt" || fail "get --watch did not show the Rollout"

step "4b. get --watch follows a release live (one tree per change), ends on Ctrl-C and on a closed pipe"
# Driven from python, which sends the SIGINT a terminal's Ctrl-C would.
python3 - "$bin" "$ns" "$tmp/live.txt" >"$tmp/live.rc" 2>&1 <<'PY' &
import signal, subprocess, sys, time
bin, ns, out = sys.argv[1:4]
with open(out, "w") as f:
    # As a terminal's foreground job would: SIGINT not ignored, whatever this shell did.
    p = subprocess.Popen([bin, "rollout", "get", "web", "-n", ns, "--watch"], stdout=f,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 120
    while time.time() < deadline:
        text = open(out).read()
        last = text.split("\n\nName:")[-1]
        if "Paused" in text and "Status:         ✔ Healthy" in last and "web:4 (stable)" in last:
            break
        time.sleep(0.2)
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    start = time.time()
    rc = p.wait(10)
    print(f"rc={rc} stop={time.time() - start:.2f}s")
PY
live_pid=$!
# The release starts once the watch has drawn its first tree.
until_true 60 grep -q "^Name:" "$tmp/live.txt" || fail "get --watch drew nothing in 60s"
g set-image web app=registry.local/web:4 >/dev/null
wait_phase Paused
g promote web --full >/dev/null
wait_phase Healthy
wait "$live_pid" || fail "the watch driver failed: $(cat "$tmp/live.rc")"
grep -q "^rc=0 " "$tmp/live.rc" || fail "get --watch did not exit 0 on SIGINT: $(cat "$tmp/live.rc")"
frames=$(grep -c "^Name:" "$tmp/live.txt")
((frames >= 3)) || fail "get --watch drew $frames trees during a whole release"
grep -q "॥ Paused" "$tmp/live.txt" || fail "get --watch never showed the pause"
grep -q "registry.local/web:4 (canary)" "$tmp/live.txt" || fail "get --watch never showed the canary"
tail -40 "$tmp/live.txt" | grep -q "registry.local/web:4 (stable)" || fail "the last tree is not the finished release"
echo "get --watch drew $frames trees; $(cat "$tmp/live.rc")"
# A reader that goes away: `head` takes the first lines and exits; the watch must end too,
# although nothing changes any more.
start=$SECONDS
timeout 20 bash -c "\"$bin\" rollout get web -n \"$ns\" --watch | head -n 3 >/dev/null" ||
  fail "get --watch | head did not end when head exited"
echo "get --watch | head -n 3 ended after $((SECONDS - start))s"

step "4c. undo --to-revision goes back to a named revision, reusing its ReplicaSet"
g undo web --to-revision 2 | grep -q "revision 2" || fail "undo --to-revision 2 output"
[[ $(field '{.spec.template.spec.containers[0].image}') == registry.local/web:2 ]] ||
  fail "undo --to-revision 2 did not restore registry.local/web:2"
wait_phase Paused
[[ $(field '{.status.currentPodHash}') == "$rev2" ]] || fail "undo --to-revision 2 did not reuse revision 2's ReplicaSet"
g promote web --full >/dev/null
wait_phase Healthy
[[ $(field '{.status.stableRS}') == "$rev2" ]] || fail "revision 2 is not stable after undo --to-revision and promote --full"

step "5. metrics and events"
metrics=$(curl -fsS "http://127.0.0.1:$metrics_port/metrics")
grep -qE "^gantry_rollout_info\{.*name=\"web\".*phase=\"Healthy\".*\} 1" <<<"$metrics" ||
  grep -qE "^gantry_rollout_info\{.*phase=\"Healthy\".*name=\"web\".*\} 1" <<<"$metrics" ||
  fail "gantry_rollout_info for web is missing or not Healthy"
grep -qE "^gantry_rollout_canary_weight\{.*name=\"web\".*\} 0" <<<"$metrics" ||
  fail "gantry_rollout_canary_weight for web is missing"
events=$(k -n "$ns" get events --field-selector involvedObject.kind=Rollout -o jsonpath='{.items[*].reason}')
for want in RolloutUpdated RolloutStepCompleted RolloutCompleted RolloutPaused RolloutDegraded SwitchService; do
  [[ " $events " == *" $want "* ]] || fail "no $want event"
done
g get nope >/dev/null 2>"$tmp/err.txt" && fail "get of a missing Rollout succeeded"
grep -q "nope" "$tmp/err.txt" || fail "the error does not name the missing Rollout"

if ((failures > 0)); then
  echo "--- operator log (last 30 lines)"
  tail -30 "$tmp/operator.log"
  echo "FAILED: $failures check(s)"
  exit 1
fi
echo "PASS"
