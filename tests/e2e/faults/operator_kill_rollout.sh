#!/usr/bin/env bash
# The operator SIGKILLed at random moments of a rollout, 20 times (KILLS), while new revisions
# go through every step; each time a new operator must continue from the Rollout's status.
#
#   operator_kill_rollout.sh canary     NGINX traffic routing; steps setWeight, a timed pause,
#                                       setCanaryScale, an analysis step (web metric served on
#                                       127.0.0.1), an indefinite pause, matchTrafficWeight
#   operator_kill_rollout.sh bluegreen  preview with previewReplicaCount, pre-promotion
#                                       analysis, manual promotion, post-promotion analysis,
#                                       scaleDownDelaySeconds
#
# Watches sample, for the whole test, what users and load balancers see; at the end:
#   - no traffic flapping: no Service selector ever returns to a hash it left, the canary
#     weight only rises (or drops to 0 when a revision completes), no revision's step index
#     goes backwards (no lost or repeated step);
#   - capacity: the available pods over all ReplicaSets never drop below what the strategy
#     allows (maxUnavailable 0: the full replica count);
#   - pauses are kept: a kill while the Rollout waits for promotion leaves it Paused at the
#     same step, and only `gantry rollout promote` moves it on;
#   - the final state equals the desired one: Healthy, stable = the last template's hash, one
#     ReplicaSet per template hash, Services on the stable hash, the old revisions scaled to 0.
# Prints "FIGURE operator-sigkill-<strategy> injected=N recovered=N worst_ms=N": recovery is
# the time from a restart to the new operator's first finished Rollout reconcile.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
strategy=${1:?usage: operator_kill_rollout.sh canary|bluegreen}
name=kill-$strategy
# shellcheck source=tests/e2e/faults/lib.sh
source tests/e2e/faults/lib.sh
kills_wanted=${KILLS:-20}
replicas=4

install_crds
k create namespace "$ns" >/dev/null

# The analysis metric: {"ok": true} from a server on loopback.
mkdir -p "$tmp/www"
echo '{"ok": true}' >"$tmp/www/health.json"
web_port=$(free_port)
python3 -m http.server "$web_port" --bind 127.0.0.1 --directory "$tmp/www" >"$tmp/web.log" 2>&1 &
bg_pids+=($!)
until_true 10 curl -fsS "http://127.0.0.1:$web_port/health.json" || die "web server"

service() {
  cat <<YAML
---
apiVersion: v1
kind: Service
metadata: {name: $1}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
YAML
}

if [[ $strategy == canary ]]; then
  svc_a=web-stable svc_b=web-canary
  strategy_yaml="    canary:
      stableService: web-stable
      canaryService: web-canary
      maxSurge: 1
      maxUnavailable: 0
      scaleDownDelaySeconds: 1
      trafficRouting: {nginx: {stableIngress: web}}
      steps:
      - setWeight: 25
      - pause: {duration: 2s}
      - setCanaryScale: {replicas: 2}
      - setWeight: 50
      - analysis: {templates: [{templateName: health}]}
      - pause: {}
      - setCanaryScale: {matchTrafficWeight: true}
      - setWeight: 75
      - pause: {duration: 1s}"
  paused_step=5
else
  svc_a=web-active svc_b=web-preview
  strategy_yaml="    blueGreen:
      activeService: web-active
      previewService: web-preview
      previewReplicaCount: 2
      autoPromotionEnabled: false
      scaleDownDelaySeconds: 3
      prePromotionAnalysis: {templates: [{templateName: health}]}
      postPromotionAnalysis: {templates: [{templateName: health}]}"
  paused_step=""
fi

{
  service "$svc_a"
  service "$svc_b"
  cat <<YAML
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  annotations: {kubernetes.io/ingress.class: nginx}
spec:
  rules:
  - host: web.local
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web-stable, port: {number: 80}}}}
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
metadata: {name: web}
spec:
  replicas: $replicas
  revisionHistoryLimit: 30
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: "registry.local/web:1"}]}
  strategy:
$strategy_yaml
YAML
} >"$tmp/objects.yaml"
kn apply -f "$tmp/objects.yaml" >/dev/null

field() { kn get rollouts.gantry.io web -o jsonpath="$1" 2>/dev/null; }
phase() { field '{.status.phase}'; }
phase_is() { [[ $(phase) == "$1" ]]; }
rollout_reconciles() { metric 'gantry_reconcile_total{controller="rollout"' 2>/dev/null || echo 0; }

start_operator
until_true 90 phase_is Healthy || die "revision 1 did not become Healthy: $(field '{.status.message}')"
step "revision 1 Healthy ($(field '{.status.stableRS}')); sampling watches"

sample "$tmp/services" services -o jsonpath='{.metadata.name} {.spec.selector.rollouts-pod-template-hash}{"\n"}'
sample "$tmp/replicasets" replicasets -o jsonpath='{.metadata.name} r={.spec.replicas} a={.status.availableReplicas}{"\n"}'
sample "$tmp/rollout" rollouts.gantry.io -o jsonpath='{.status.currentPodHash} s={.status.currentStepIndex} {.status.phase} {.status.message}{"\n"}'
if [[ $strategy == canary ]]; then
  sample "$tmp/weights" ingresses -o jsonpath='{.metadata.annotations.nginx\.ingress\.kubernetes\.io/canary-weight}{"\n"}'
fi
sleep 1
start_ms=$(now_ms)

kills=0 recovered=0 worst_ms=0 revision=1 paused_kills=0 promotions=0
images=("registry.local/web:1")

# restart_operator: a new operator; returns once it finished a Rollout reconcile and records
# how long that took.
restart_operator() {
  local t0 took
  t0=$(now_ms)
  start_operator
  if until_true 30 bash -c "(( \$(curl -fsS --max-time 2 http://127.0.0.1:$(cat "$tmp/operator.metrics")/metrics | awk '/^gantry_reconcile_total\\{controller=\"rollout\"/ {s += \$NF} END {print s+0}') > 0 ))"; then
    took=$(($(now_ms) - t0))
    recovered=$((recovered + 1))
    if ((took > worst_ms)); then worst_ms=$took; fi
  else
    fail "restart #$kills: no Rollout reconcile within 30s"
  fi
}

kill_now() {  # what the kill interrupted, for the log
  kill_operator
  kills=$((kills + 1))
  echo "kill #$kills during: revision $revision, $(seen)"
}

# pause_check: the Rollout waits for promotion. Kill the operator, start another, let it look
# for a few seconds: the Rollout must stay Paused at the same step. Then promote.
pause_check() {
  local before_step before_hash
  before_step=$(field '{.status.currentStepIndex}')
  before_hash=$(field '{.status.currentPodHash}')
  kill_now
  restart_operator
  sleep 2
  if ! phase_is Paused || [[ $(field '{.status.currentStepIndex}') != "$before_step" ]] ||
    [[ $(field '{.status.currentPodHash}') != "$before_hash" ]]; then
    fail "pause lost after a kill: phase $(phase), step $(field '{.status.currentStepIndex}') (was $before_step)"
  fi
  paused_kills=$((paused_kills + 1))
  "$bin" rollout promote web -n "$ns" >/dev/null || fail "gantry rollout promote"
  promotions=$((promotions + 1))
  kill_soon
}

# kill_soon: a kill 0.1-0.9 s after a user action (a new revision, a promotion), while the
# operator is in the middle of acting on it.
kill_soon() {
  ((kills < kills_wanted)) || return 0
  sleep_ms_between 100 900
  kill_now
  sleep_ms_between 0 500
  restart_operator
}

waiting_for_promotion() {
  phase_is Paused || return 1
  if [[ -n $paused_step ]]; then
    [[ $(field '{.status.currentStepIndex}') == "$paused_step" ]]
  else
    # blue/green: paused for manual promotion once pre-promotion analysis passed
    [[ $(field '{.status.pauseConditions[0].reason}') != "" ]]
  fi
}

# Only the stable revision keeps pods (the others were scaled down after their delay).
old_scaled_down() {
  [[ $(kn get rs -o jsonpath="{range .items[?(@.spec.replicas>0)]}{.metadata.labels.rollouts-pod-template-hash}{\"\\n\"}{end}") == "$(field '{.status.stableRS}')" ]]
}
# The Rollout as the watch last saw it: "<hash> s=<step> <phase> <message>"; no API call, so
# that a kill follows a change within a few milliseconds.
seen() { tail -1 "$tmp/rollout" | cut -d' ' -f2-; }
completed() {
  phase_is Healthy && [[ $(field '{.status.stableRS}') == "$(field '{.status.currentPodHash}')" ]] &&
    [[ $(field '{.spec.template.spec.containers[0].image}') == "registry.local/web:$revision" ]] &&
    [[ $(field '{.status.observedGeneration}') == "$(field '{.metadata.generation}')" ]] &&
    old_scaled_down
}

while ((kills < kills_wanted)); do
  revision=$((revision + 1))
  images+=("registry.local/web:$revision")
  "$bin" rollout set-image web "app=registry.local/web:$revision" -n "$ns" >/dev/null ||
    die "set-image revision $revision"
  step "revision $revision"
  kill_soon
  rev_deadline=$((SECONDS + 150))
  while true; do
    ((SECONDS < rev_deadline)) || die "revision $revision did not complete: $(phase) $(field '{.status.message}')"
    now_seen=$(seen)
    if [[ $now_seen == *" Healthy "* ]] && completed; then break; fi
    if [[ $now_seen == *" Paused "* ]] && waiting_for_promotion; then
      pause_check
      continue
    fi
    if ((kills < kills_wanted)); then
      # Kill soon after the Rollout moved to another step or sub-state, so that kills spread
      # over every step rather than over the longest ones.
      until_true 3 eval '[[ $(seen) != "$now_seen" ]]' || true
      sleep_ms_between 0 400
      kill_now
      # Dead for a moment, as a crash-looping pod would be.
      sleep_ms_between 0 500
      restart_operator
    else
      sleep 0.3
    fi
  done
  echo "revision $revision complete ($kills kills so far)"
done

step "final state"
until_true 60 phase_is Healthy || fail "not Healthy at the end: $(field '{.status.message}')"
stable=$(field '{.status.stableRS}')
[[ $stable == "$(field '{.status.currentPodHash}')" ]] || fail "stableRS $stable is not the current hash"
# One ReplicaSet per template hash, one per revision.
hashes=$(kn get rs -o jsonpath='{range .items[*]}{.metadata.labels.rollouts-pod-template-hash}{"\n"}{end}' | sort)
dups=$(uniq -d <<<"$hashes")
[[ -z $dups ]] || fail "duplicate ReplicaSets for hashes: $dups"
rs_count=$(wc -l <<<"$hashes")
((rs_count == revision)) || fail "$rs_count ReplicaSets for $revision revisions: $(tr '\n' ' ' <<<"$hashes")"
until_true 30 old_scaled_down || fail "ReplicaSets other than stable keep pods: $(kn get rs --no-headers)"
stable_rs=$(kn get rs -l "rollouts-pod-template-hash=$stable" -o jsonpath='{.items[0].status.availableReplicas}')
[[ $stable_rs == "$replicas" ]] || fail "stable has $stable_rs available pods, want $replicas"
for s in "$svc_a" "$svc_b"; do
  got=$(kn get service "$s" -o jsonpath='{.spec.selector.rollouts-pod-template-hash}')
  [[ $got == "$stable" ]] || fail "Service $s selects $got, not the stable $stable"
done
if [[ $strategy == canary ]]; then
  w=$(kn get ingress web-web-canary -o jsonpath='{.metadata.annotations.nginx\.ingress\.kubernetes\.io/canary-weight}')
  [[ $w == 0 ]] || fail "canary Ingress weight is $w at the end, not 0"
fi
((paused_kills > 0)) || fail "no kill happened while the Rollout waited for promotion"

sleep 1
step "samples"
python3 "$faults_dir/check_samples.py" flap "$tmp/services" || fail "a Service selector flapped"
python3 "$faults_dir/check_samples.py" steps "$tmp/rollout" || fail "a step went backwards"
python3 "$faults_dir/check_samples.py" available "$tmp/replicasets" "$replicas" "$start_ms" ||
  fail "available pods dropped below $replicas"
if [[ $strategy == canary ]]; then
  python3 "$faults_dir/check_samples.py" weight "$tmp/weights" || fail "the canary weight went backwards"
fi
echo "revisions: $revision, kills: $kills ($paused_kills while paused), promotions: $promotions, operator starts: $op_starts"
figure "operator-sigkill-$strategy" "$kills" "$recovered" "$worst_ms"
finish
