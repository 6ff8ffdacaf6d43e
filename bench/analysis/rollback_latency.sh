#!/usr/bin/env bash
# Rollback latency: how long after a canary's error rate rises its traffic is back on stable.
#
# The real `gantry operator` on the local control plane, Debian's `prometheus` scraping
# tests/e2e/analysis/exporter.py every second, and a canary Rollout split by an NGINX canary
# Ingress (steps: setWeight 25, pause {}) with background analysis of the error ratio every
# INTERVAL (default 5s), failureLimit FAILURE_LIMIT (default 2). Each of RUNS (default 10)
# rounds: update the image, wait until the canary takes traffic and its run has measured once,
# wait a random fraction of the interval (so the switch falls anywhere in the measurement
# cycle), switch the exporter to 50% errors (t0) and time until the canary Ingress's weight is
# 0 (t1: all traffic on the stable Service), read from a watch on the Ingress.
#
# What bounds it: a run fails when failures exceed failureLimit, i.e. on the
# (failureLimit+1)-th failing measurement, and measurements are `interval` apart. The first
# measurement that can fail is the first one after Prometheus has scraped a bad sample (up to
# one scrape interval after t0); the failureLimit more it needs follow at the interval. So
#   lower bound         = failureLimit x interval        (switch just before a measurement
#                                                          that already sees it)
#   schedule worst case = (failureLimit+1) x interval + scrape interval   (just after one)
# plus the reconcile and API round trips (the Failed run enqueues its Rollout at once), and the
# measurement cadence stretches by each query's duration and requeue delay (the next is due an
# interval after the last finished), so a loaded machine can exceed the schedule's worst case.
# A uniform switch time gives a mean near failureLimit x interval + interval/2 + scrape/2.
#
# Usage: bench/analysis/rollback_latency.sh [BUILD_DIR]   (default build; needs bin/gantry)
# Env: RUNS, INTERVAL (Go duration in whole seconds, e.g. 5s), FAILURE_LIMIT.
# Prints one line per round and a summary; raw figures as JSON lines in
# BUILD_DIR/bench-results/analysis-rollback-<time>.jsonl. Not part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
export GANTRY_BIN=${GANTRY_BIN:-$build/bin/gantry}
if [[ -z ${KUBECONFIG:-} ]]; then eval "$(hack/cluster env)"; fi
runs=${RUNS:-10}
interval=${INTERVAL:-5s}
failure_limit=${FAILURE_LIMIT:-2}
interval_s=${interval%s}
[[ $interval_s =~ ^[0-9]+$ ]] || { echo "INTERVAL must be whole seconds, e.g. 5s" >&2; exit 2; }
source tests/e2e/analysis/e2e_lib.sh

mkdir -p "$build/bench-results"
out=$build/bench-results/analysis-rollback-$(date -u +%Y%m%dT%H%M%SZ).jsonl
: >"$out"

exporter_start "$tmp" --service rb --bad-rate 0.5
prometheus_start "$tmp" "127.0.0.1:$EXPORTER_PORT"
e2e_start_operator
prometheus_wait_for 'http_requests_total{service="rb"}' 60
k -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: gantry.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: error-rate}
spec:
  args:
  - name: prometheus
  metrics:
  - name: error-ratio
    interval: $interval
    failureLimit: $failure_limit
    successCondition: result[0] < 0.05
    provider:
      prometheus:
        address: "{{args.prometheus}}"
        timeout: 2s
        query: >-
          sum(irate(http_requests_total{service="rb",code=~"5.."}[5s]))
          / sum(irate(http_requests_total{service="rb"}[5s]))
---
apiVersion: v1
kind: Service
metadata: {name: rb-stable}
spec: {selector: {app: rb}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: rb-canary}
spec: {selector: {app: rb}, ports: [{port: 80}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: rb}
spec:
  rules:
  - host: rb.example
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: rb-stable, port: {number: 80}}}}
---
apiVersion: gantry.io/v1alpha1
kind: Rollout
metadata: {name: rb}
spec:
  replicas: 2
  selector: {matchLabels: {app: rb}}
  template:
    metadata: {labels: {app: rb}}
    spec: {containers: [{name: app, image: "registry.local/rb:1"}]}
  strategy:
    canary:
      stableService: rb-stable
      canaryService: rb-canary
      trafficRouting: {nginx: {stableIngress: rb}}
      maxSurge: 1
      maxUnavailable: 0
      abortScaleDownDelaySeconds: 1
      analysis:
        templates: [{templateName: error-rate}]
        startingStep: 1
        args: [{name: prometheus, value: "$PROMETHEUS_URL"}]
      steps:
      - setWeight: 25
      - pause: {}
YAML
wait_rollout_phase rb Healthy 90 || e2e_finish

# Every change of the canary weight, stamped on arrival: "<unix time> <weight>".
weights=$tmp/weights.log
: >"$weights"
watch_weight() {
  until k -n "$ns" get ingress rb-rb-canary >/dev/null 2>&1; do sleep 0.2; done
  kubectl --cache-dir="$tmp/kcache" -n "$ns" get ingress rb-rb-canary -w \
    -o jsonpath='{.metadata.annotations.nginx\.ingress\.kubernetes\.io/canary-weight}{"\n"}' |
    python3 -c 'import sys, time
for line in sys.stdin:
    print("%.3f %s" % (time.time(), line.strip()), flush=True)'
}
watch_weight >>"$weights" 2>/dev/null &
E2E_PIDS+=($!)  # e2e_cleanup stops it and its kubectl

# weight_zero_after T0: prints the first arrival time > T0 of weight 0, or fails.
weight_zero_after() {
  awk -v t0="$1" '$1 > t0 && $2 == "0" { print $1; found = 1; exit } END { exit !found }' "$weights"
}

echo "rollback latency: interval $interval, failureLimit $failure_limit, $runs rounds" \
  "(scrape 1s, query irate over 5s)"
latencies=()
previous_run=""
error_ratio='sum(irate(http_requests_total{service="rb",code=~"5.."}[5s])) / sum(irate(http_requests_total{service="rb"}[5s]))'
ratio_is_zero() { [[ $(prometheus_value "$error_ratio") =~ ^0(\.0*)?$ ]]; }
for round in $(seq 1 "$runs"); do
  exporter_set good
  # The last round's errors must have left the query's window, or the new run would start with
  # failures that are not this round's.
  until_true 60 ratio_is_zero || fail "round $round: the error ratio did not return to 0"
  "$bin" rollout -n "$ns" set-image rb "app=registry.local/rb:$((round + 1))" >/dev/null
  measuring() {
    local r
    r=$(analysis_runs rb | tail -1)
    [[ $r == *=Running && ${r%%=*} != "$previous_run" ]] && rollout_phase_is rb Paused &&
      [[ $(run_field "${r%%=*}" '{.status.metricResults[0].successful}') -ge 1 ]]
  }
  if ! until_true 120 measuring; then
    fail "round $round: the canary did not start measuring: $(rollout_field rb '{.status.message}'); runs: $(analysis_runs rb | tr '\n' ' ')"
    break
  fi
  run=$(analysis_runs rb | tail -1)
  run=${run%%=*}
  previous_run=$run
  if [[ $(run_field "$run" '{.status.metricResults[0].failed}') != 0 ]]; then
    fail "round $round: run $run failed a measurement before the switch"
    break
  fi
  sleep "$(python3 -c "import random; print(round(random.uniform(0, $interval_s), 2))")"
  t0=$(date +%s.%N)
  exporter_set bad
  if ! until_true 120 weight_zero_after "$t0"; then
    fail "round $round: traffic did not go back to stable: $(rollout_field rb '{.status.message}')"
    break
  fi
  t1=$(weight_zero_after "$t0")
  latency=$(python3 -c "print('%.2f' % ($t1 - $t0))")
  latencies+=("$latency")
  # Where the time went, from the run's status (whole seconds, so +-1s): the first failing
  # measurement and the decision, after the switch; the mean gap between measurements.
  k -n "$ns" get analysisruns.gantry.io "$run" -o json | python3 -c '
import datetime, json, sys
t0, latency, rnd, interval, limit = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
run = json.load(sys.stdin)
ts = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
ms = run["status"]["metricResults"][0]["measurements"]
starts = [ts(m["startedAt"]) for m in ms]
gap = (starts[-1] - starts[0]) / (len(starts) - 1) if len(starts) > 1 else 0.0
first = next(ts(m["startedAt"]) for m in ms if m["phase"] == "Failed") - t0
ready = [c for c in run["status"].get("conditions", []) if c["type"] == "Ready"]
decided = ts(ready[0]["lastTransitionTime"]) - t0 if ready else float("nan")
failed = run["status"]["metricResults"][0].get("failed", 0)
print("round %2d: %6.2fs  first failing measurement +%.0fs, run %s +%.0fs (%d failed), "
      "measurements %.1fs apart" % (rnd, latency, first, run["status"]["phase"], decided, failed, gap))
print(json.dumps({"round": rnd, "latency_seconds": latency, "interval": interval,
                  "failure_limit": limit, "run_phase": run["status"]["phase"], "failed": failed,
                  "first_failure_after_seconds": first, "decided_after_seconds": decided,
                  "measurement_gap_seconds": gap}), file=sys.stderr)
' "$t0" "$latency" "$round" "$interval" "$failure_limit" 2>>"$out"
  until_true 60 rollout_phase_is rb Degraded || fail "round $round: the Rollout is not Degraded"
done

if ((${#latencies[@]} > 0)); then
  printf '%s\n' "${latencies[@]}" | python3 -c "
import statistics, sys
xs = sorted(float(l) for l in sys.stdin)
i, n, s = $interval_s, $failure_limit, 1
print()
print('rounds:              %d' % len(xs))
print('median:              %.2fs' % statistics.median(xs))
print('worst:               %.2fs' % xs[-1])
print('best:                %.2fs' % xs[0])
print('lower bound:         %ds = failureLimit x interval = %d x %ds' % (n * i, n, i))
print('  failures must exceed failureLimit: failureLimit+1 = %d failing measurements, an interval' % (n + 1))
print('  apart; the first can come as soon as Prometheus has scraped a bad sample')
print('schedule worst case: %ds = (failureLimit+1) x interval + scrape = %d x %ds + %ds' % ((n + 1) * i + s, n + 1, i, s))
print('  the switch lands just after a measurement: one more interval to wait')
print('expected mean:       %.1fs = failureLimit x interval + interval/2 + scrape/2' % (n * i + i / 2 + s / 2))
print('  beyond these: the query itself, the reconcile passes and API writes; each next')
print('  measurement is due an interval after the last one finished, so delays add up')
" | tee -a "$tmp/summary"
  echo "raw figures: $out"
fi
e2e_finish
