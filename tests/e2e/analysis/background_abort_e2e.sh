#!/usr/bin/env bash
# Background analysis from `startingStep`, and a Failed run reaching its Rollout at once.
#
# A canary with steps [setWeight 25, pause {}] and background analysis (startingStep: 1) whose
# metric queries a real Prometheus (exporter.py behind it) every second without a count:
#   1. no background run exists before step 1; from step 1 on one measures, while the Rollout
#      sits Paused on its indefinite pause;
#   2. the exporter's error ratio rises: the run fails, and the Rollout aborts (Degraded,
#      canary weight 0 on the Ingress, canary scaled down) within a few seconds of the run's
#      decision. A paused Rollout is only looked at again on an event or on the controller's
#      5-minute resync, so the abort can only be this quick if the run's status change itself
#      enqueued the Rollout (the AnalysisRun informer's owner handler). The check is causal,
#      not tight timing: abortedAt must not precede the run's decision, and must follow it by
#      far less than the resync (10s bound against 300s).
# Needs $KUBECONFIG, kubectl, curl, python3, prometheus and $GANTRY_BIN. Exit 0 on success,
# 1 on failure, 77 (skipped) without KUBECONFIG.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
source tests/e2e/analysis/e2e_lib.sh

bound=10  # seconds; the Rollout controller's resync of a paused Rollout is 300s
exporter_start "$tmp" --service bg
prometheus_start "$tmp" "127.0.0.1:$EXPORTER_PORT"
e2e_start_operator
prometheus_wait_for 'http_requests_total{service="bg"}' 60 || { fail "no scrape"; e2e_finish; }

k -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: gantry.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: error-rate-continuous}
spec:
  args:
  - name: service
  - name: prometheus
  metrics:
  - name: error-ratio
    interval: 1s
    failureLimit: 2
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
metadata: {name: bg-stable}
spec: {selector: {app: bg}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: bg-canary}
spec: {selector: {app: bg}, ports: [{port: 80}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: bg}
spec:
  rules:
  - host: bg.example
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: bg-stable, port: {number: 80}}}}
---
apiVersion: gantry.io/v1alpha1
kind: Rollout
metadata: {name: bg}
spec:
  replicas: 2
  selector: {matchLabels: {app: bg}}
  template:
    metadata: {labels: {app: bg}}
    spec: {containers: [{name: app, image: "registry.local/bg:1"}]}
  strategy:
    canary:
      stableService: bg-stable
      canaryService: bg-canary
      trafficRouting: {nginx: {stableIngress: bg}}
      maxSurge: 1
      maxUnavailable: 0
      abortScaleDownDelaySeconds: 1
      analysis:
        templates: [{templateName: error-rate-continuous}]
        startingStep: 1
        args:
        - {name: service, value: bg}
        - {name: prometheus, value: "$PROMETHEUS_URL"}
      steps:
      - setWeight: 25
      - pause: {}
YAML
wait_rollout_phase bg Healthy 90 || e2e_finish
rev1=$(rollout_field bg '{.status.stableRS}')

step "1. background analysis starts at step 1 and measures while the Rollout is paused"
"$bin" rollout -n "$ns" set-image bg app=registry.local/bg:2 >/dev/null
early_runs=""
paused_with_run() {
  local index runs
  index=$(rollout_field bg '{.status.currentStepIndex}')
  runs=$(analysis_runs bg)
  if [[ ${index:-0} == 0 && -n $runs ]]; then early_runs=$runs; fi
  [[ $index == 1 ]] && rollout_phase_is bg Paused && [[ $runs == *=Running ]]
}
until_true 90 paused_with_run || fail "no background run while paused at step 1: phase $(rollout_field bg '{.status.phase}'), step $(rollout_field bg '{.status.currentStepIndex}'), runs $(analysis_runs bg | tr '\n' ' ')"
[[ -z $early_runs ]] || fail "a background run existed before startingStep: $early_runs"
run=$(analysis_runs bg | tail -1)
run=${run%%=*}
[[ $run == *-background ]] || fail "run $run is not named as the background analysis"
[[ $(rollout_field bg '{.status.canary.currentBackgroundAnalysisRunStatus.name}') == "$run" ]] ||
  fail "status.canary.currentBackgroundAnalysisRunStatus does not name $run"
two_good() { [[ $(run_field "$run" '{.status.metricResults[0].successful}') -ge 2 ]]; }
until_true 30 two_good || fail "run $run did not measure successfully while paused"
rollout_phase_is bg Paused || fail "the Rollout left its pause: $(rollout_field bg '{.status.phase}')"

step "2. the error ratio rises: the run fails and the paused Rollout aborts at once"
rev2=$(rollout_field bg '{.status.currentPodHash}')
exporter_set bad
run_failed() { [[ $(run_field "$run" '{.status.phase}') == Failed ]]; }
until_true 60 run_failed || fail "run $run did not fail: $(run_field "$run" '{.status.phase}') $(run_field "$run" '{.status.message}')"
aborted() { [[ -n $(rollout_field bg '{.status.abortedAt}') ]]; }
until_true 60 aborted || fail "the Rollout did not abort: $(rollout_field bg '{.status.message}')"
if [[ $(aborting_run bg) != "$run" ]]; then
  # A lost status write can make the Rollout start a second background run; time the one
  # that decided.
  echo "note: the abort names $(aborting_run bg), not $run"
  run=$(aborting_run bg)
  [[ $run == *-background* ]] || fail "the abort names '$run', not a background run"
  until_true 30 run_failed || fail "run $run is '$(run_field "$run" '{.status.phase}')', not Failed"
fi
# The run's decision time: when its Ready condition went False (reason Failed), as written by
# the same operator clock that wrote abortedAt.
decided=$(run_field "$run" '{.status.conditions[?(@.type=="Ready")].lastTransitionTime}')
aborted_at=$(rollout_field bg '{.status.abortedAt}')
if [[ -z $decided || -z $aborted_at ]]; then
  fail "missing times: run decided '$decided', Rollout abortedAt '$aborted_at'"
else
  lag=$(($(epoch "$aborted_at") - $(epoch "$decided")))
  echo "run decided at $decided, Rollout aborted at $aborted_at: ${lag}s"
  ((lag >= 0)) || fail "the Rollout aborted (${aborted_at}) before the run was decided (${decided})"
  ((lag <= bound)) || fail "the Rollout aborted ${lag}s after the run failed (bound ${bound}s): not event-driven"
fi
wait_rollout_phase bg Degraded 10
[[ $(k -n "$ns" get ingress bg-bg-canary -o jsonpath='{.metadata.annotations.nginx\.ingress\.kubernetes\.io/canary-weight}') == 0 ]] ||
  fail "the canary Ingress still sends traffic to the canary"
until_true 30 rs_replicas_is "$rev2" 0 || fail "the canary was not scaled down"
[[ $(rollout_field bg '{.status.stableRS}') == "$rev1" ]] || fail "stable moved during the abort"
[[ $(rollout_field bg '{.status.message}') == *"$run"*failed* ]] ||
  fail "the Rollout's message does not name the run: $(rollout_field bg '{.status.message}')"

e2e_finish
