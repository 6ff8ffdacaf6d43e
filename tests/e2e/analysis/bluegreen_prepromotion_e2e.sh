#!/usr/bin/env bash
# Blue/green pre-promotion analysis against a real Prometheus, end to end with the real
# `gantry operator`: exporter.py behind Debian's `prometheus`, an AnalysisTemplate on the error
# ratio, a blue/green Rollout with auto-promotion gated by prePromotionAnalysis:
#   1. a low error ratio: the pre-promotion run succeeds and the active Service switches to the
#      new revision;
#   2. a high error ratio: the pre-promotion run fails, the Rollout aborts (Degraded), the active
#      Service keeps selecting the old revision the whole time (watched every 0.2s from the
#      update until the end), and the preview ReplicaSet is scaled down after
#      abortScaleDownDelaySeconds.
# Needs $KUBECONFIG, kubectl, curl, python3, prometheus and $GANTRY_BIN. Exit 0 on success,
# 1 on failure, 77 (skipped) without KUBECONFIG.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
source tests/e2e/analysis/e2e_lib.sh

abort_delay=5
exporter_start "$tmp" --service shop
prometheus_start "$tmp" "127.0.0.1:$EXPORTER_PORT"
e2e_start_operator
prometheus_wait_for 'http_requests_total{service="shop"}' 60 || { fail "no scrape"; e2e_finish; }

k -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: gantry.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: error-rate}
spec:
  args:
  - name: service
  - name: prometheus
  metrics:
  - name: error-ratio
    interval: 1s
    count: 3
    failureLimit: 0
    successCondition: result[0] < 0.05
    provider:
      prometheus:
        address: "{{args.prometheus}}"
        timeout: 2s
        query: >-
          sum(irate(http_requests_total{service="{{args.service}}",code=~"5.."}[5s]))
          / sum(irate(http_requests_total{service="{{args.service}}"}[5s]))
---
apiVersion: v1
kind: Service
metadata: {name: shop-active}
spec: {selector: {app: shop}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: shop-preview}
spec: {selector: {app: shop}, ports: [{port: 80}]}
---
apiVersion: gantry.io/v1alpha1
kind: Rollout
metadata: {name: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec: {containers: [{name: app, image: "registry.local/shop:1"}]}
  strategy:
    blueGreen:
      activeService: shop-active
      previewService: shop-preview
      autoPromotionEnabled: true
      scaleDownDelaySeconds: 1
      abortScaleDownDelaySeconds: $abort_delay
      prePromotionAnalysis:
        templates: [{templateName: error-rate}]
        args:
        - {name: service, value: shop}
        - {name: prometheus, value: "$PROMETHEUS_URL"}
YAML
wait_rollout_phase shop Healthy 90 || e2e_finish
active_selector() {
  k -n "$ns" get service shop-active -o jsonpath='{.spec.selector.rollouts-pod-template-hash}'
}

step "1. a low error ratio: pre-promotion analysis passes, the active Service switches"
rev1=$(rollout_field shop '{.status.stableRS}')
"$bin" rollout -n "$ns" set-image shop app=registry.local/shop:2 >/dev/null
promoted() {
  local rev
  rev=$(rollout_field shop '{.status.stableRS}')
  [[ $rev != "$rev1" && $(active_selector) == "$rev" ]] && rollout_phase_is shop Healthy
}
until_true 120 promoted || fail "revision 2 was not promoted: $(rollout_field shop '{.status.message}')"
rev2=$(rollout_field shop '{.status.stableRS}')
runs2=$(analysis_runs shop | grep -E "^shop-$rev2-[0-9]+-pre(\.[0-9]+)?=Successful$" || true)
[[ -n $runs2 ]] ||
  fail "no successful pre-promotion run of revision 2: $(analysis_runs shop | tr '\n' ' ')"

step "2. a high error ratio: pre-promotion analysis fails, the active Service stays"
exporter_set bad
sleep 2  # the error ratio is in Prometheus before the preview comes up
"$bin" rollout -n "$ns" set-image shop app=registry.local/shop:3 >/dev/null
# Watch the active Service from now on: it must never select revision 3.
(
  while :; do
    echo "$(active_selector 2>/dev/null)" >>"$tmp/active.log"
    sleep 0.2
  done
) &
watcher=$!
E2E_PIDS+=("$watcher")
wait_rollout_phase shop Degraded 90
rev3=$(rollout_field shop '{.status.currentPodHash}')
[[ -n $rev3 && $rev3 != "$rev2" ]] || fail "no new revision: currentPodHash '$rev3'"
[[ $(rs_replicas "$rev3") -ge 1 ]] ||
  fail "the preview was scaled down at the abort, before abortScaleDownDelaySeconds"
run2=$(aborting_run shop)
[[ $run2 == "shop-$rev3-"*-pre* ]] ||
  fail "the abort names '$run2', not a pre-promotion run of revision 3: $(rollout_field shop '{.status.message}')"
[[ $(run_field "$run2" '{.status.phase}') == Failed ]] ||
  fail "the pre-promotion run $run2 is '$(run_field "$run2" '{.status.phase}')', not Failed"
runs3=$(analysis_runs shop | grep "^shop-$rev3-" || true)
[[ $runs3 != *=Successful* ]] ||
  fail "a pre-promotion run of revision 3 succeeded: $(analysis_runs shop | tr '\n' ' ')"
[[ $(rollout_field shop '{.status.abort}') == true ]] || fail "status.abort is not set"
until_true $((abort_delay + 30)) rs_replicas_is "$rev3" 0 || fail "the preview ReplicaSet was not scaled down"
aborted_at=$(epoch "$(rollout_field shop '{.status.abortedAt}')")
(($(date -u +%s) - aborted_at >= abort_delay)) ||
  fail "the preview went down before abortScaleDownDelaySeconds ($abort_delay)"
sleep 1
kill "$watcher" 2>/dev/null
wait "$watcher" 2>/dev/null || true
seen=$(sort -u "$tmp/active.log" | grep -v '^$' | tr '\n' ' ')
[[ $seen == "$rev2 " ]] || fail "the active Service selected '$seen' during the failed update, not only $rev2"
[[ $(active_selector) == "$rev2" ]] || fail "the active Service selects $(active_selector), not $rev2"
[[ $(rollout_field shop '{.status.blueGreen.activeSelector}') == "$rev2" ]] ||
  fail "status.blueGreen.activeSelector is $(rollout_field shop '{.status.blueGreen.activeSelector}')"
[[ $(rollout_field shop '{.status.stableRS}') == "$rev2" ]] || fail "stable moved"
rs_replicas_is "$rev2" 2 || fail "the active ReplicaSet has $(rs_replicas "$rev2") replicas, not 2"

e2e_finish
