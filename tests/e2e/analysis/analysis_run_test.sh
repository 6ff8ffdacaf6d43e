#!/usr/bin/env bash
# AnalysisRuns end to end: the real `gantry operator` (scoped to a namespace of this run) against
# the control plane ($KUBECONFIG) decides AnalysisRuns created with kubectl:
#   1. a Job metric whose Job completes (kwok completes its pod): Successful, the Job owned by
#      the run, status.metricResults filled, an AnalysisRunSuccessful Event;
#   2. a Job metric whose Job cannot run (no node matches) and hits activeDeadlineSeconds:
#      Failed, with a message naming the metric;
#   3. gantry_analysis_run_metric_phase on /metrics shows both runs' metrics.
# Needs $KUBECONFIG, kubectl, curl, python3 and $GANTRY_BIN (default build/bin/gantry).
# Exit 0 on success, 1 on failure, 77 (skipped) without KUBECONFIG or without the controller.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
if [[ -z ${KUBECONFIG:-} ]]; then
  echo "SKIP: KUBECONFIG is not set (hack/cluster up; eval \"\$(hack/cluster env)\")"
  exit 77
fi
bin=${GANTRY_BIN:-build/bin/gantry}
[[ -x $bin ]] || { echo "FAIL: $bin is not built" >&2; exit 1; }

ns=gantry-analysis-$$-$RANDOM
tmp=$(mktemp -d)
op_pid=""
k() { kubectl --cache-dir="$tmp/kcache" --request-timeout=10s "$@"; }
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
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# wait_phase RUN PHASE SECONDS
wait_phase() {
  local deadline=$((SECONDS + $3)) phase=""
  while ((SECONDS < deadline)); do
    phase=$(k -n "$ns" get analysisruns.gantry.io "$1" -o jsonpath='{.status.phase}' 2>/dev/null || true)
    [[ $phase == "$2" ]] && return 0
    sleep 0.5
  done
  echo "AnalysisRun $1 is '$phase', expected $2" >&2
  return 1
}

k apply --server-side --force-conflicts -f crds/ >/dev/null
k wait --for=condition=Established crd/analysisruns.gantry.io --timeout=60s >/dev/null
k create namespace "$ns" >/dev/null

metrics_port=$(free_port)
GANTRY_GIT_CACHE_DIR=$tmp/git "$bin" operator --namespace "$ns" \
  --metrics-bind-address "127.0.0.1:$metrics_port" --health-probe-bind-address 127.0.0.1:0 \
  --webhook-bind-address 127.0.0.1:0 >"$tmp/operator.log" 2>&1 &
op_pid=$!
for _ in $(seq 100); do
  grep -q "analysisrun controller registered" "$tmp/operator.log" && break
  kill -0 "$op_pid" 2>/dev/null || break
  sleep 0.1
done
if ! grep -q "analysisrun controller registered" "$tmp/operator.log"; then
  if kill -0 "$op_pid" 2>/dev/null; then
    echo "SKIP: this build's operator does not register the AnalysisRun controller"
    exit 77
  fi
  echo "FAIL: the operator exited; its log:" >&2
  cat "$tmp/operator.log" >&2
  exit 1
fi

job_run() {  # NAME METRIC EXTRA_POD_SPEC EXTRA_JOB_SPEC
  cat <<YAML
apiVersion: gantry.io/v1alpha1
kind: AnalysisRun
metadata: {name: $1, namespace: $ns}
spec:
  metrics:
  - name: $2
    provider:
      job:
        spec:
          backoffLimit: 0
          $4
          template:
            spec:
              restartPolicy: Never
              $3
              containers: [{name: check, image: busybox, command: [sh, -c, "exit 0"]}]
YAML
}

echo "=== a Job that completes: Successful"
job_run smoke smoke-test "" "" | k apply -f - >/dev/null
wait_phase smoke Successful 90 || fail "smoke did not succeed"
owner=$(k -n "$ns" get job smoke-smoke-test-1 -o jsonpath='{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}' 2>/dev/null || true)
[[ $owner == AnalysisRun/smoke ]] || fail "Job smoke-smoke-test-1 owner is '$owner'"
count=$(k -n "$ns" get analysisruns.gantry.io smoke -o jsonpath='{.status.metricResults[0].successful}')
[[ $count == 1 ]] || fail "smoke: metricResults[0].successful is '$count'"
for _ in $(seq 50); do
  k -n "$ns" get events --field-selector involvedObject.name=smoke -o jsonpath='{.items[*].reason}' |
    grep -q AnalysisRunSuccessful && break
  sleep 0.2
done
k -n "$ns" get events --field-selector involvedObject.name=smoke -o jsonpath='{.items[*].reason}' |
  grep -q AnalysisRunSuccessful || fail "no AnalysisRunSuccessful event for smoke"

echo "=== a Job that cannot run: Failed"
job_run stuck never-runs "nodeSelector: {gantry.io/no-such-node: x}" "activeDeadlineSeconds: 1" |
  k apply -f - >/dev/null
wait_phase stuck Failed 90 || fail "stuck did not fail"
message=$(k -n "$ns" get analysisruns.gantry.io stuck -o jsonpath='{.status.message}')
[[ $message == *'metric "never-runs"'* ]] || fail "stuck: message '$message' does not name the metric"

echo "=== /metrics"
scrape=$(curl -fsS "http://127.0.0.1:$metrics_port/metrics")
grep -q "gantry_analysis_run_metric_phase{.*metric=\"smoke-test\".*phase=\"Successful\".*} 1" <<<"$scrape" ||
  fail "no gantry_analysis_run_metric_phase 1 for smoke-test Successful"
grep -q "gantry_analysis_run_metric_phase{.*metric=\"never-runs\".*phase=\"Failed\".*} 1" <<<"$scrape" ||
  fail "no gantry_analysis_run_metric_phase 1 for never-runs Failed"

if ((failures > 0)); then
  echo "--- operator log (last 40 lines)"
  tail -40 "$tmp/operator.log"
  exit 1
fi
echo "PASS"
