# What the analysis end-to-end scripts share: a namespace of their own on the control plane
# ($KUBECONFIG), the real `gantry operator` scoped to it, Prometheus and the exporter
# (prometheus_lib.sh), waiting helpers and failure counting. Source it after `set -euo pipefail`
# from the repository root; it skips (exit 77) without KUBECONFIG and sets:
#   bin ns tmp       the gantry binary, this run's namespace, a scratch directory
#   k ...            kubectl with a private cache and a request timeout
#   e2e_start_operator [extra flags]   starts the operator (OP_PID, OP_LOG); waits for its
#                                      controllers; fails (exit 1) when it exits
#   fail MSG / failures                counts a failed check, says why
#   until_true SECONDS CMD...          polls CMD every 0.2s
#   rollout_field NAME JSONPATH        a field of a Rollout
#   e2e_finish                         prints the operator log's tail on failure; exit status
# Everything started here is stopped, and the namespace deleted, by the EXIT trap.

if [[ -z ${KUBECONFIG:-} ]]; then
  echo "SKIP: KUBECONFIG is not set (hack/cluster up; eval \"\$(hack/cluster env)\")"
  exit 77
fi
source tests/e2e/analysis/prometheus_lib.sh

bin=$(realpath "${GANTRY_BIN:-build/bin/gantry}")
[[ -x $bin ]] || { echo "FAIL: $bin is not built" >&2; exit 1; }
ns=gantry-analysis-$(basename "$0" .sh | tr '_' '-' | cut -c1-20)-$$-$RANDOM
tmp=$(mktemp -d)
OP_PID=""
E2E_PIDS=()  # background helpers of a script, stopped on exit
OP_LOG=$tmp/operator.log
failures=0

k() { kubectl --cache-dir="$tmp/kcache" --request-timeout=20s "$@"; }
# Runs from the EXIT trap, where `set -e` still holds: every step tolerates failure (a helper
# that already exited, a wait that reports the signal) so that the namespace is always deleted.
e2e_cleanup() {
  local p
  for p in "${E2E_PIDS[@]}"; do
    pkill -TERM -P "$p" 2>/dev/null || true
    kill -TERM "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [[ -n $OP_PID ]]; then
    kill -TERM "$OP_PID" 2>/dev/null || true
    wait "$OP_PID" 2>/dev/null || true
  fi
  prometheus_cleanup || true
  k delete namespace "$ns" --wait=false --ignore-not-found >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap e2e_cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
step() { echo "=== $(date -u +%T) $*"; }
free_port() { _prom_free_port; }
until_true() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}
# Resources are named with their group: the control plane may also serve Argo Rollouts' CRDs
# (argoproj.io), whose short names are the same.
rollout_field() { k -n "$ns" get rollouts.gantry.io "$1" -o jsonpath="$2" 2>/dev/null; }
rollout_phase_is() { [[ $(rollout_field "$1" '{.status.phase}') == "$2" ]]; }
# wait_rollout_phase NAME PHASE SECONDS
wait_rollout_phase() {
  until_true "$3" rollout_phase_is "$1" "$2" && return 0
  fail "Rollout $1 is '$(rollout_field "$1" '{.status.phase}')' ($(rollout_field "$1" '{.status.message}')), not $2 after $3s"
  return 1
}
# The desired replicas of the ReplicaSet with pod-template hash $1.
rs_replicas() {
  k -n "$ns" get rs -l "rollouts-pod-template-hash=$1" -o jsonpath='{.items[0].spec.replicas}'
}
rs_replicas_is() { [[ $(rs_replicas "$1") == "$2" ]]; }
# The AnalysisRuns of Rollout $1 as NAME=PHASE lines, oldest first.
analysis_runs() {
  k -n "$ns" get analysisruns.gantry.io -l "gantry.io/rollout=$1" --sort-by=.metadata.creationTimestamp \
    -o jsonpath='{range .items[*]}{.metadata.name}={.status.phase}{"\n"}{end}'
}
# The AnalysisRun a Rollout's abort names in its message ("... AnalysisRun <name> failed: ...").
# Tests read the run from here rather than taking the newest: a Rollout whose status write was
# lost may have started a second run of the same step.
aborting_run() {
  rollout_field "$1" '{.status.message}' | sed -nE 's/.*AnalysisRun ([^ ]+) (failed|errored).*/\1/p'
}
run_field() { k -n "$ns" get analysisruns.gantry.io "$1" -o jsonpath="$2" 2>/dev/null; }
# RFC 3339 time -> seconds since the epoch.
epoch() { date -u -d "$1" +%s; }

e2e_start_operator() {
  bash tests/integration/rollout/install_crds.sh gantry
  k get namespace "$ns" >/dev/null 2>&1 || k create namespace "$ns" >/dev/null
  : >"$OP_LOG"
  "$bin" operator --kubeconfig "$KUBECONFIG" --namespace "$ns" --metrics-bind-address 0 \
    --health-probe-bind-address "127.0.0.1:$(free_port)" --webhook-bind-address 0 "$@" \
    >"$OP_LOG" 2>&1 &
  OP_PID=$!
  local i
  for i in $(seq 150); do
    grep -q "rollout controller registered" "$OP_LOG" &&
      grep -q "analysisrun controller registered" "$OP_LOG" && return 0
    kill -0 "$OP_PID" 2>/dev/null || break
    sleep 0.2
  done
  echo "FAIL: the operator did not register its controllers; its log:" >&2
  cat "$OP_LOG" >&2
  exit 1
}

operator_alive() { kill -0 "$OP_PID" 2>/dev/null; }

e2e_finish() {
  operator_alive || fail "the operator exited"
  if ((failures > 0)); then
    echo "--- operator log (last 40 lines)"
    tail -40 "$OP_LOG"
    echo "FAILED: $failures check(s)"
    exit 1
  fi
  echo "PASS"
  exit 0
}
