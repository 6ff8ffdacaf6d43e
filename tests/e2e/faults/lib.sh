# Shared by the fault-injection tests (sourced, not run): a namespace of their own, the real
# `gantry operator` started and SIGKILLed at will, watches that sample what users would see
# (Service selectors, weights, ReplicaSet availability) into files with timestamps, and the
# recovery figures each test prints as "FIGURE <fault> injected=N recovered=N worst_ms=N".
#
# A test sets `name` and sources this file from the repository root; it exits 77 (skipped)
# without $KUBECONFIG. Everything it creates lives in $ns (deleted on exit) and $tmp.
# shellcheck shell=bash

if [[ -z ${KUBECONFIG:-} ]]; then
  echo "SKIP: KUBECONFIG is not set (hack/cluster up; eval \"\$(hack/cluster env)\")"
  exit 77
fi
bin=$(realpath "${GANTRY_BIN:-build/bin/gantry}")
[[ -x $bin ]] || { echo "FAIL: $bin is not built" >&2; exit 1; }
faults_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

ns=gantry-faults-${name:?}-$$-$RANDOM
tmp=$(mktemp -d)
op_pid=""
op_starts=0
bg_pids=()
failures=0

k() { kubectl --cache-dir="$tmp/kcache" --request-timeout=20s "$@"; }
kn() { k -n "$ns" "$@"; }
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
step() { echo "=== $(date -u +%T) $*"; }
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
die() {
  fail "$@"
  exit 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# until_true SECONDS COMMAND...: polls every 0.2s; 1 on timeout.
until_true() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

faults_cleanup() {
  local p
  if [[ -n $op_pid ]]; then kill -KILL "$op_pid" 2>/dev/null || true; fi
  # Samplers run in process groups of their own (setsid); other helpers are single processes.
  for p in "${bg_pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true; done
  k delete namespace "$ns" --wait=false --ignore-not-found >/dev/null 2>&1 || true
  if ((failures > 0)) && [[ -f $tmp/operator.log ]]; then
    echo "--- operator log (last 40 lines)"
    tail -40 "$tmp/operator.log"
  fi
  if [[ -n ${FAULTS_KEEP:-} ]]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap faults_cleanup EXIT

# install_crds: Gantry's CRDs, cluster-wide and idempotent (never deleted by these tests).
install_crds() {
  k apply --server-side --force-conflicts --field-manager=gantry-tests -f crds/ >/dev/null
  k wait --for=condition=Established --timeout=60s -f crds/ >/dev/null
}

# start_operator [extra flags]: a `gantry operator` scoped to $ns, appending to operator.log.
# Metrics on a port of its own (operator.metrics) so tests can read its counters.
start_operator() {
  local port health
  port=$(free_port)
  health=$(free_port)
  echo "$port" >"$tmp/operator.metrics"
  echo "$health" >"$tmp/operator.health"
  echo "--- start #$((op_starts + 1)) $(date -u +%T.%N)" >>"$tmp/operator.log"
  GANTRY_GIT_CACHE_DIR=$tmp/git-cache "$bin" operator --kubeconfig "$KUBECONFIG" \
    --namespace "$ns" --metrics-bind-address "127.0.0.1:$port" \
    --health-probe-bind-address "127.0.0.1:$health" --webhook-bind-address 0 "$@" \
    >>"$tmp/operator.log" 2>&1 &
  op_pid=$!
  op_starts=$((op_starts + 1))
}

kill_operator() {
  [[ -n $op_pid ]] || return 0
  kill -KILL "$op_pid" 2>/dev/null || true
  wait "$op_pid" 2>/dev/null || true
  op_pid=""
}

# operator_ready: /readyz answers 200 (caches synced, controllers started).
operator_ready() {
  curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$(cat "$tmp/operator.health")/readyz"
}

# operator_alive: the operator we started still runs (no crash, no exit on its own).
operator_alive() { [[ -n $op_pid ]] && kill -0 "$op_pid" 2>/dev/null; }

# metric NAME_WITH_LABELS: sums the operator's samples whose line starts with the argument.
metric() {
  curl -fsS --max-time 5 "http://127.0.0.1:$(cat "$tmp/operator.metrics")/metrics" |
    awk -v m="$1" 'index($0, m) == 1 {s += $NF} END {printf "%d\n", s}'
}

# sample FILE KUBECTL-GET-ARGS...: keeps a `kubectl get --watch` running (reconnecting after
# the API server goes away) and writes every event as "<epoch_ms> <line>" to FILE. It runs in a
# process group of its own so that cleanup ends the watch with it.
sample() {
  local file=$1
  shift
  setsid bash "$faults_dir/sample.sh" "$file" "$tmp/kcache-watch" -n "$ns" get "$@" \
    </dev/null &
  bg_pids+=($!)
}

# Random sleep of [min, max) milliseconds.
sleep_ms_between() { sleep "$(python3 -c "import random; print(random.uniform($1, $2) / 1000)")"; }

figure() {  # fault injected recovered worst_ms
  echo "FIGURE $1 injected=$2 recovered=$3 worst_ms=$4"
}

finish() {
  if ((failures > 0)); then
    echo "FAILED: $failures check(s)"
    exit 1
  fi
  echo "PASS"
  exit 0
}
