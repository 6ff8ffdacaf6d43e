#!/usr/bin/env bash
# kube-apiserver restarted under a running `gantry operator`, and etcd compacted so that every
# watch the operator holds answers 410 Gone afterwards. Restarts the control plane's API server
# (hack/cluster restart-apiserver, GANTRY_CLUSTER_DIR for a private one): ctest runs it alone
# (RUN_SERIAL).
#
# Gantry's recovery is timed from the moment the API server is ready again. What Gantry's steps
# wait for besides (pods created by the ReplicaSet controller, scheduled, made Ready by kwok) is
# the cluster's own business: after each restart the controller manager, scheduler and kwok are
# restarted too (hack/cluster restart-controllers) and a probe ReplicaSet must get a Ready pod
# before anything that needs pods is timed. Left alone, their client-go reflectors take up to a
# minute to come back after a restart (backoff accumulated across the outage and the 403/429
# answers of a starting API server, reset only after 2 quiet minutes); the ReplicaSet controller
# meanwhile refuses to act on a stale pod cache, and a rollout waits on that instead.
#
#   1. mid-sync: an Application applying 150 ConfigMaps; the API server goes away while the
#      objects are being written: the operator is frozen (SIGSTOP) once 20 were written and
#      thawed once the API server is down, so the outage meets it mid-sync however fast the
#      machine is (checked: not all were written before). The operator must resume writing
#      within 10 s of the API server being ready again and converge on the commit.
#   2. mid-rollout: a canary (setWeight 25, pause 4s, setWeight 50, pause 4s, setWeight 75)
#      restarted under it during a pause: the operator resumes (a status write) within 10 s,
#      no step is lost or repeated (sampled step index never goes back, the Rollout completes
#      with one ReplicaSet per revision).
#   3. compaction: etcd compacted to its head, then the API server restarted: the watches of
#      every type the operator holds (GitRepository, Application, Rollout, AnalysisRun,
#      ReplicaSet, Namespace and the Application's managed ConfigMaps) get 410 and list again
#      (the operator logs each), and each type still drives the
#      controllers afterwards: a new commit is synced, a hand edit of a managed ConfigMap is
#      reverted, a hand-scaled ReplicaSet is restored, a new revision rolls out, a new
#      AnalysisRun completes.
# Throughout, the operator process must stay up (no exit, no crash loop): it is started once.
# Prints "FIGURE apiserver-restart-... injected=N recovered=N worst_ms=N".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
name=apiserver
# shellcheck source=tests/e2e/faults/lib.sh
source tests/e2e/faults/lib.sh

etcd=${GANTRY_ETCD_ENDPOINT:-$(sed -n 's/^GANTRY_ETCD_ENDPOINT=//p' "${GANTRY_CLUSTER_DIR:-.cache/cluster}/env")}
[[ -n $etcd ]] || die "no etcd endpoint (GANTRY_ETCD_ENDPOINT)"
apiserver=${GANTRY_APISERVER_URL:-$(sed -n 's/^GANTRY_APISERVER_URL=//p' "${GANTRY_CLUSTER_DIR:-.cache/cluster}/env")}
[[ -n $apiserver ]] || die "no API server URL (GANTRY_APISERVER_URL)"

# restart_apiserver: prints the epoch ms at which the API server was ready again. Only the API
# server: the stopwatch starts before the cluster's controllers are restarted.
restart_apiserver() {
  hack/cluster restart-apiserver --apiserver-only >"$tmp/restart.log" 2>&1 ||
    { cat "$tmp/restart.log" >&2; return 1; }
  now_ms
}
# restart_apiserver_under_frozen_operator: the same, with the operator stopped (SIGSTOP) until
# the API server no longer accepts connections, so that whatever the operator was doing when
# frozen is cut by the outage. Prints the epoch ms at which the API server was ready again.
apiserver_down() {
  local rc=0
  curl -sk -o /dev/null --max-time 1 "$apiserver/readyz" || rc=$?
  ((rc == 7))  # could not connect
}
restart_apiserver_under_frozen_operator() {
  local job
  kill -STOP "$op_pid"
  hack/cluster restart-apiserver --apiserver-only >"$tmp/restart.log" 2>&1 &
  job=$!
  until_true 30 apiserver_down || echo "the API server did not go down within 30 s" >&2
  kill -CONT "$op_pid"
  wait "$job" || { cat "$tmp/restart.log" >&2; return 1; }
  now_ms
}
# cluster_serves: restarts the controller manager, scheduler and kwok, then waits until a probe
# ReplicaSet (not Gantry's) has a Ready pod; prints the epoch ms at which it had.
probes=0
cluster_serves() {
  hack/cluster restart-controllers >>"$tmp/restart.log" 2>&1 ||
    { cat "$tmp/restart.log" >&2; return 1; }
  probes=$((probes + 1))
  local rs=probe-$probes
  kn apply -f - >/dev/null <<YAML || return 1
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: $rs, labels: {role: probe}}
spec:
  replicas: 1
  selector: {matchLabels: {probe: "$rs"}}
  template:
    metadata: {labels: {probe: "$rs"}}
    spec: {containers: [{name: c, image: registry.local/probe:1}]}
YAML
  probe_ready() { [[ $(kn get rs "$rs" -o jsonpath='{.status.readyReplicas}') == 1 ]]; }
  until_true 60 probe_ready || { echo "the probe ReplicaSet $rs got no Ready pod in 60 s" >&2; return 1; }
  now_ms
  kn delete rs "$rs" --wait=false >/dev/null
}
compact_etcd() {
  local rev
  rev=$(curl -fsS -X POST "$etcd/v3/kv/range" -d '{"key":"AA=="}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["revision"])')
  curl -fsS -X POST "$etcd/v3/kv/compaction" -d "{\"revision\": $rev, \"physical\": true}" >/dev/null
  echo "$rev"
}
# resumed_ms FILE MS SKIP: the epoch ms of FILE's first new state sampled at or after MS.
resumed_ms() { python3 "$faults_dir/check_samples.py" resumed "$@"; }

install_crds
k create namespace "$ns" >/dev/null
restarts=0 recovered=0

mkdir -p "$tmp/www"
echo '{"ok": true}' >"$tmp/www/health.json"
web_port=$(free_port)
python3 -m http.server "$web_port" --bind 127.0.0.1 --directory "$tmp/www" >"$tmp/web.log" 2>&1 &
bg_pids+=($!)

git init -q --bare -b main "$tmp/app.git"
git clone -q "$tmp/app.git" "$tmp/work" 2>/dev/null
g() { git -C "$tmp/work" -c user.name=faults -c user.email=faults@example.invalid "$@"; }
write_commit() {  # VALUE COUNT
  local i
  rm -rf "$tmp/work/app" && mkdir -p "$tmp/work/app"
  for ((i = 1; i <= $2; i++)); do
    printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%03d\ndata:\n  value: "%s"\n' \
      "$i" "$1" >>"$tmp/work/app/cms-$(((i - 1) / 50)).yaml"
  done
  g add -A && g commit -q -m "$1" && g push -q origin HEAD:main
  g rev-parse HEAD
}
applied_is() {
  [[ "$(kn get application app -o jsonpath='{.status.lastAppliedRevision}')" == "main@sha1:$1" ]] &&
    [[ "$(kn get application app -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]]
}
field() { kn get rollouts.gantry.io web -o jsonpath="$1" 2>/dev/null; }
phase_is() { [[ $(field '{.status.phase}') == "$1" ]]; }

c1=$(write_commit one 20)
sample "$tmp/cm-events" configmaps --output-watch-events -o jsonpath='{.type} {.object.metadata.name} {.object.data.value}{"\n"}'
# 20 requests/s: the 150 ConfigMaps of step 1 take ~15 s (a dry run and a write each, several
# in flight), long enough for the restart to land mid-sync; unthrottled they take under 2 s.
start_operator --kube-qps 20 --kube-burst 20
{
  cat <<YAML
apiVersion: gantry.io/v1alpha1
kind: GitRepository
metadata: {name: repo}
spec: {url: "file://$tmp/app.git", interval: 2s}
---
apiVersion: gantry.io/v1alpha1
kind: Application
metadata: {name: app}
spec:
  sourceRef: {kind: GitRepository, name: repo}
  path: app
  targetNamespace: $ns
  prune: true
  interval: 10m
YAML
  for s in web-stable web-canary; do
    printf -- '---\napiVersion: v1\nkind: Service\nmetadata: {name: %s}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n' "$s"
  done
  cat <<YAML
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  ingressClassName: nginx
  rules:
  - http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web-stable, port: {number: 80}}}}
---
apiVersion: gantry.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: health}
spec:
  metrics:
  - name: ok
    count: 1
    successCondition: result.ok == true
    provider: {web: {url: "http://127.0.0.1:$web_port/health.json"}}
---
apiVersion: gantry.io/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  replicas: 4
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
      scaleDownDelaySeconds: 1
      trafficRouting: {nginx: {stableIngress: web}}
      steps:
      - setWeight: 25
      - pause: {duration: 4s}
      - setWeight: 50
      - analysis: {templates: [{templateName: health}]}
      - pause: {duration: 4s}
      - setWeight: 75
YAML
} | kn apply -f - >/dev/null
until_true 90 applied_is "$c1" || die "first commit not applied"
until_true 90 phase_is Healthy || die "revision 1 not Healthy: $(field '{.status.message}')"
sample "$tmp/rollout" rollouts.gantry.io -o jsonpath='{.status.currentPodHash} s={.status.currentStepIndex} {.status.phase} {.status.message}{"\n"}'
sample "$tmp/services" services -o jsonpath='{.metadata.name} {.spec.selector.rollouts-pod-template-hash}{"\n"}'
worst_sync=0 worst_rollout=0 worst_relist=0

step "1. restart mid-sync (150 ConfigMaps)"
c2=$(write_commit two 150)
until_true 60 eval '(( $(grep -c " two$" "$tmp/cm-events") >= 20 ))' || die "the sync of commit two did not start"
ready=$(restart_apiserver_under_frozen_operator) || die "restart-apiserver failed"
restarts=$((restarts + 1))
# Events sampled before the API server was ready again were written before it went away.
before=$(awk -v r="$ready" '$1 < r && $4 == "two" {print $3}' "$tmp/cm-events" | sort -u | wc -l)
echo "$before of 150 ConfigMaps were written before the API server went away"
((before < 150)) || fail "the restart landed after the sync had finished, not in the middle of it"
serving=$(cluster_serves) || die "the cluster's controllers did not serve again"
echo "the cluster's controllers served again $((serving - ready)) ms after the API server was ready"
if until_true 30 resumed_ms "$tmp/cm-events" "$ready" 1; then
  took=$(($(resumed_ms "$tmp/cm-events" "$ready" 1) - ready))
  echo "writes resumed $took ms after the API server was ready"
  worst_sync=$took
  ((took <= 10000)) && recovered=$((recovered + 1)) || fail "writes resumed after $took ms (> 10 s)"
else
  fail "no write within 30 s of the API server being ready"
fi
until_true 120 applied_is "$c2" || fail "commit two not applied after the restart"
n=$(kn get configmaps -l app.kubernetes.io/managed-by=gantry -o name | wc -l)
[[ $n == 150 ]] || fail "$n managed ConfigMaps, want 150"
operator_alive || die "the operator exited during the API server restart"

step "2. restart mid-rollout (during a pause)"
"$bin" rollout set-image web app=registry.local/web:2 -n "$ns" >/dev/null
paused_at_1() { [[ $(field '{.status.currentStepIndex}') == 1 ]] && phase_is Paused; }
until_true 60 paused_at_1 || die "revision 2 did not reach the first pause"
ready=$(restart_apiserver) || die "restart-apiserver failed"
restarts=$((restarts + 1))
serving=$(cluster_serves) || die "the cluster's controllers did not serve again"
echo "the cluster's controllers served again $((serving - ready)) ms after the API server was ready"
if until_true 30 resumed_ms "$tmp/rollout" "$ready" 0; then
  took=$(($(resumed_ms "$tmp/rollout" "$ready" 0) - ready))
  echo "Rollout status moved $took ms after the API server was ready"
  worst_rollout=$took
  ((took <= 10000)) && recovered=$((recovered + 1)) || fail "the Rollout moved after $took ms (> 10 s)"
else
  fail "no Rollout status change within 30 s of the API server being ready"
fi
rev2_done() { phase_is Healthy && [[ $(field '{.spec.template.spec.containers[0].image}') == *:2 ]] &&
  [[ $(field '{.status.stableRS}') == "$(field '{.status.currentPodHash}')" ]]; }
until_true 90 rev2_done || fail "revision 2 did not complete: $(field '{.status.message}')"
echo "revision 2 completed $(($(now_ms) - serving)) ms after the cluster's controllers served again"
web_rs() { kn get rs -l app=web -o name | wc -l; }
[[ $(web_rs) == 2 ]] || fail "$(web_rs) ReplicaSets for 2 revisions"
operator_alive || die "the operator exited during the API server restart"

step "3. etcd compacted, API server restarted: every watch gets 410"
gone_before=$(grep -c "is gone, listing again" "$tmp/operator.log" || true)
rev=$(compact_etcd) || die "etcd compaction failed"
echo "etcd compacted at revision $rev"
ready=$(restart_apiserver) || die "restart-apiserver failed"
restarts=$((restarts + 1))
serving=$(cluster_serves) || die "the cluster's controllers did not serve again"
echo "the cluster's controllers served again $((serving - ready)) ms after the API server was ready"
# The types the operator watches (AnalysisTemplates, Services and Ingresses it reads when it
# needs them, without a watch): each must meet the 410 and list again.
for kind in GitRepository Application Rollout AnalysisRun ReplicaSet ConfigMap Namespace; do
  relisted() { tail -n +"$((gone_before + 1))" <(grep "is gone, listing again" "$tmp/operator.log") | grep -qE "Kind=$kind[ :]"; }
  until_true 30 relisted || fail "the $kind informer did not list again after 410"
done
grep "is gone, listing again" "$tmp/operator.log" | tail -n +"$((gone_before + 1))" | sed 's/^.*informer /  relisted: /' | cut -c1-110
t0=$(now_ms)
# Each watched type still drives its controller.
c3=$(write_commit three 150)
kn patch configmap cm-001 --type merge -p '{"data":{"value":"by-hand"}}' >/dev/null
stable=$(field '{.status.stableRS}')
kn scale rs "web-$stable" --replicas=1 >/dev/null 2>&1 ||
  kn scale rs "$(kn get rs -l "rollouts-pod-template-hash=$stable" -o name)" --replicas=1 >/dev/null
kn apply -f - >/dev/null <<YAML
apiVersion: gantry.io/v1alpha1
kind: AnalysisRun
metadata: {name: after-compaction}
spec:
  metrics:
  - name: ok
    successCondition: result.ok == true
    provider: {web: {url: "http://127.0.0.1:$web_port/health.json"}}
YAML
rs_restored() { [[ $(kn get rs -l "rollouts-pod-template-hash=$stable" -o jsonpath='{.items[0].spec.replicas}') == 4 ]]; }
cm_healed() { [[ $(kn get configmap cm-001 -o jsonpath='{.data.value}') == three ]]; }
run_done() { [[ $(kn get analysisruns.gantry.io after-compaction -o jsonpath='{.status.phase}') == Successful ]]; }
until_true 30 rs_restored || fail "the hand-scaled ReplicaSet was not restored"
until_true 30 run_done || fail "the AnalysisRun created after the compaction did not complete"
until_true 120 applied_is "$c3" || fail "commit three not applied after the compaction"
until_true 30 cm_healed || fail "the hand edit of cm-001 stayed"
worst_relist=$(($(now_ms) - t0))
"$bin" rollout set-image web app=registry.local/web:3 -n "$ns" >/dev/null
rev3_done() { phase_is Healthy && [[ $(field '{.spec.template.spec.containers[0].image}') == *:3 ]] &&
  [[ $(field '{.status.stableRS}') == "$(field '{.status.currentPodHash}')" ]]; }
until_true 120 rev3_done || fail "revision 3 did not complete after the compaction: $(field '{.status.message}')"
((failures == 0)) && recovered=$((recovered + 1))
echo "after the compaction every type converged in $worst_relist ms"

step "samples"
python3 "$faults_dir/check_samples.py" steps "$tmp/rollout" || fail "a step went backwards"
python3 "$faults_dir/check_samples.py" flap "$tmp/services" || fail "a Service selector flapped"
[[ $(web_rs) == 3 ]] || fail "$(web_rs) ReplicaSets for 3 revisions"
operator_alive || fail "the operator exited"
[[ $op_starts == 1 ]] || fail "the operator was started $op_starts times"
figure apiserver-restart-mid-sync 1 "$([[ $worst_sync -gt 0 && $worst_sync -le 10000 ]] && echo 1 || echo 0)" "$worst_sync"
figure apiserver-restart-mid-rollout 1 "$([[ $worst_rollout -gt 0 && $worst_rollout -le 10000 ]] && echo 1 || echo 0)" "$worst_rollout"
figure etcd-compaction-410 1 "$([[ $failures == 0 ]] && echo 1 || echo 0)" "$worst_relist"
finish
