#!/usr/bin/env bash
# A canary whose analysis step queries a real Prometheus, end to end: Debian's `prometheus` on
# 127.0.0.1 scrapes exporter.py (http_requests_total by code; the test switches the error
# ratio), an AnalysisTemplate measures the error ratio of "{{args.service}}" every second, and
# the real `gantry operator` (scoped to this run's namespace) drives a Rollout whose traffic is
# split by an NGINX canary Ingress. Prometheus requires basic auth: the template's Authorization
# header comes from an argument read from a Secret (valueFrom.secretKeyRef), which must never be
# copied into the run.
#   a. the error ratio stays low: the analysis run succeeds and the canary is promoted;
#   b. the error ratio rises during the analysis: failures exceed failureLimit, the run is
#      Failed, the Rollout aborts at once (Degraded, canary weight 0 on the Ingress while the
#      canary pods are still up), and the canary is scaled down only after
#      abortScaleDownDelaySeconds; `gantry rollout get` lists the failed run;
#   c. Prometheus is down: every measurement is an Error (the operator stays up, nothing counts
#      as success), the run ends Error past consecutiveErrorLimit and the Rollout aborts again.
# Needs $KUBECONFIG, kubectl, curl, python3, prometheus and $GANTRY_BIN. Exit 0 on success,
# 1 on failure, 77 (skipped) without KUBECONFIG.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
source tests/e2e/analysis/e2e_lib.sh

abort_delay=5
password=pw-$RANDOM$RANDOM
export PROMETHEUS_BASIC_AUTH=gantry:$password
credentials=$(printf %s "$PROMETHEUS_BASIC_AUTH" | base64 -w0)
exporter_start "$tmp" --service web
prometheus_start "$tmp" "127.0.0.1:$EXPORTER_PORT"
e2e_start_operator
prometheus_wait_for 'http_requests_total{service="web"}' 60 || { fail "no scrape"; e2e_finish; }

k -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Secret
metadata: {name: prometheus-auth}
stringData:
  authorization: "Basic $credentials"
---
apiVersion: gantry.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: error-rate}
spec:
  args:
  - name: service
  - name: prometheus
  - name: count
  - name: authorization
    valueFrom: {secretKeyRef: {name: prometheus-auth, key: authorization}}
  metrics:
  - name: error-ratio
    interval: 1s
    count: "{{args.count}}"
    failureLimit: 1
    consecutiveErrorLimit: 2
    successCondition: result[0] < 0.05
    provider:
      prometheus:
        address: "{{args.prometheus}}"
        timeout: 2s
        headers: [{key: Authorization, value: "{{args.authorization}}"}]
        query: >-
          sum(irate(http_requests_total{service="{{args.service}}",code=~"5.."}[5s]))
          / sum(irate(http_requests_total{service="{{args.service}}"}[5s]))
---
apiVersion: v1
kind: Service
metadata: {name: web-stable}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-canary}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  rules:
  - host: web.example
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web-stable, port: {number: 80}}}}
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
      trafficRouting: {nginx: {stableIngress: web}}
      maxSurge: 1
      maxUnavailable: 0
      scaleDownDelaySeconds: 1
      abortScaleDownDelaySeconds: $abort_delay
      steps:
      - setWeight: 20
      - analysis:
          templates: [{templateName: error-rate}]
          args:
          - {name: service, value: web}
          - {name: prometheus, value: "$PROMETHEUS_URL"}
          - {name: count, value: "10"}
YAML
wait_rollout_phase web Healthy 90 || e2e_finish

canary_weight() {
  k -n "$ns" get ingress web-web-canary \
    -o jsonpath='{.metadata.annotations.nginx\.ingress\.kubernetes\.io/canary-weight}'
}

step "a. a low error ratio: the analysis passes and the canary is promoted"
rev1=$(rollout_field web '{.status.stableRS}')
"$bin" rollout -n "$ns" set-image web app=registry.local/web:2 >/dev/null
moved_on() { [[ $(rollout_field web '{.status.stableRS}') != "$rev1" ]] && rollout_phase_is web Healthy; }
until_true 120 moved_on || fail "revision 2 was not promoted: $(rollout_field web '{.status.message}')"
rev2=$(rollout_field web '{.status.stableRS}')
run_a=$(analysis_runs web | tail -1)
[[ $run_a == *=Successful ]] || fail "the analysis run is '$run_a', not Successful"
run_a=${run_a%%=*}
[[ $(run_field "$run_a" '{.status.metricResults[0].successful}') == 10 ]] ||
  fail "run $run_a: $(run_field "$run_a" '{.status.metricResults[0].successful}') successful measurements, not 10"
[[ $(run_field "$run_a" '{.spec.metrics[0].provider.prometheus.query}') == *'{{args.service}}'* ]] ||
  fail "run $run_a does not carry the template's query"
[[ $(run_field "$run_a" '{.spec.args[?(@.name=="authorization")].valueFrom.secretKeyRef.name}') == prometheus-auth ]] ||
  fail "run $run_a does not refer to the Secret for its authorization argument"
[[ $(k -n "$ns" get analysisruns.gantry.io "$run_a" -o json) != *"$credentials"* ]] ||
  fail "run $run_a carries the Secret's value"
[[ $(run_field "$run_a" '{.status.metricResults[0].measurements[-1].value}') =~ ^\[0(\.0+)?\]$ ]] ||
  fail "run $run_a: last value '$(run_field "$run_a" '{.status.metricResults[0].measurements[-1].value}')', not [0]"

step "b. the error ratio rises during the analysis: Failed run, immediate abort"
"$bin" rollout -n "$ns" set-image web app=registry.local/web:3 >/dev/null
running_with_success() {
  local r
  r=$(analysis_runs web | tail -1)
  [[ $r == *=Running && ${r%%=*} != "$run_a" ]] &&
    [[ $(run_field "${r%%=*}" '{.status.metricResults[0].successful}') -ge 1 ]]
}
until_true 90 running_with_success || fail "no running analysis of revision 3: $(analysis_runs web | tr '\n' ' ')"
rev3=$(rollout_field web '{.status.currentPodHash}')
exporter_set bad
# Traffic first: the canary weight is 0 while the canary's pods are still there.
aborted_on_traffic() {
  [[ $(rollout_field web '{.status.abort}') == true && $(canary_weight) == 0 ]]
}
until_true 60 aborted_on_traffic || fail "the Rollout did not abort: $(rollout_field web '{.status.message}')"
canary_pods_at_abort=$(rs_replicas "$rev3")
[[ $canary_pods_at_abort -ge 1 ]] ||
  fail "the canary was scaled down ($canary_pods_at_abort) before abortScaleDownDelaySeconds"
run_b=$(aborting_run web)
[[ $run_b == "web-$rev3-"* ]] || fail "the abort names run '$run_b', not one of revision 3 ($rev3)"
[[ $(run_field "$run_b" '{.status.phase}') == Failed ]] ||
  fail "run $run_b is '$(run_field "$run_b" '{.status.phase}')', not Failed"
[[ $(run_field "$run_b" '{.status.metricResults[0].failed}') == 2 ]] ||
  fail "run $run_b: $(run_field "$run_b" '{.status.metricResults[0].failed}') failed measurements, not failureLimit+1 = 2"
[[ $(run_field "$run_b" '{.status.message}') == *"failureLimit (1)"* ]] ||
  fail "run $run_b message: $(run_field "$run_b" '{.status.message}')"
rollout_phase_is web Degraded || fail "the aborted Rollout is $(rollout_field web '{.status.phase}'), not Degraded"
[[ $(rollout_field web '{.status.canary.weights.canary.weight}') == 0 ]] ||
  fail "status.canary.weights.canary.weight is $(rollout_field web '{.status.canary.weights.canary.weight}')"
until_true $((abort_delay + 30)) rs_replicas_is "$rev3" 0 || fail "the aborted canary was not scaled down"
aborted_at=$(epoch "$(rollout_field web '{.status.abortedAt}')")
scaled_down_at=$(date -u +%s)
((scaled_down_at - aborted_at >= abort_delay)) ||
  fail "the canary went down $((scaled_down_at - aborted_at))s after the abort, before abortScaleDownDelaySeconds ($abort_delay)"
[[ $(rollout_field web '{.status.stableRS}') == "$rev2" ]] || fail "stable moved during an abort"
rs_replicas_is "$rev2" 2 || fail "the stable ReplicaSet has $(rs_replicas "$rev2") replicas, not 2"
[[ $(k -n "$ns" get service web-stable -o jsonpath='{.spec.selector.rollouts-pod-template-hash}') == "$rev2" ]] ||
  fail "web-stable does not select the stable revision"
view=$("$bin" rollout -n "$ns" get web 2>&1 || true)
grep -q "$run_b.*AnalysisRun.*Failed" <<<"$view" || fail "rollout get does not show $run_b Failed:
$view"

step "c. Prometheus down: Error measurements, no success, the run errors, the Rollout aborts"
exporter_set good
prometheus_stop
"$bin" rollout -n "$ns" retry web >/dev/null
aborted_again() { [[ -n $(aborting_run web) && $(aborting_run web) != "$run_b" ]]; }
until_true 90 aborted_again || fail "the retried analysis did not abort the Rollout: $(rollout_field web '{.status.message}'); runs $(analysis_runs web | tr '\n' ' ')"
run_c=$(aborting_run web)
[[ $(run_field "$run_c" '{.status.phase}') == Error ]] ||
  fail "with Prometheus down run $run_c is '$(run_field "$run_c" '{.status.phase}')', not Error"
later_runs=$(analysis_runs web | grep -v -e "^$run_a=" || true)
[[ $later_runs != *=Successful* ]] ||
  fail "a run succeeded after revision 2: $(analysis_runs web | tr '\n' ' ')"
[[ $(run_field "$run_c" '{.status.metricResults[0].successful}') == 0 ]] ||
  fail "run $run_c counted a success with Prometheus down"
[[ $(run_field "$run_c" '{.status.metricResults[0].consecutiveError}') == 3 ]] ||
  fail "run $run_c: consecutiveError $(run_field "$run_c" '{.status.metricResults[0].consecutiveError}'), not consecutiveErrorLimit+1 = 3"
phases=$(run_field "$run_c" '{.status.metricResults[0].measurements[*].phase}')
[[ $phases == "Error Error Error" ]] || fail "run $run_c measurements: $phases"
[[ $(run_field "$run_c" '{.status.metricResults[0].measurements[0].message}') == *"querying Prometheus"* ]] ||
  fail "run $run_c: the Error does not say what failed: $(run_field "$run_c" '{.status.metricResults[0].measurements[0].message}')"
wait_rollout_phase web Degraded 30
[[ $(rollout_field web '{.status.message}') == *"$run_c"*errored* ]] ||
  fail "the Rollout's message does not name the errored run: $(rollout_field web '{.status.message}')"
[[ $(rollout_field web '{.status.stableRS}') == "$rev2" ]] || fail "stable moved with Prometheus down"
operator_alive || fail "the operator died with Prometheus down"

e2e_finish
