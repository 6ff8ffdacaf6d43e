#!/usr/bin/env bash
# Failover time of `gantry operator --leader-elect`: two operators share the Lease gantry-leader
# in a namespace of this run on the control plane of $KUBECONFIG; the leader is killed with
# SIGKILL (no chance to release the Lease) and the time until the standby logs that it leads is
# measured. Repeated (default 10 times, a fresh standby started after each kill); prints each
# time and the median, min and max. With the defaults (lease 15s, retry 2s) a takeover is due
# 15s to 19s after the kill: the standby waits a whole lease duration, timed on its own clock from
# when it saw the last renewal, and looks again every retry period.
#
# Usage: bench/failover/failover.sh [KILLS]    (about 20s per kill)
# Needs $KUBECONFIG (hack/cluster up; eval "$(hack/cluster env)"), kubectl, python3 and
# $GANTRY_BIN (default build/bin/gantry). Results also go to $GANTRY_BENCH_OUT (default
# build/bench/failover.txt). Not part of `make test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
kills=${1:-10}
: "${KUBECONFIG:?KUBECONFIG is not set (hack/cluster up; eval \"\$(hack/cluster env)\")}"
bin=${GANTRY_BIN:-build/bin/gantry}
[[ -x $bin ]] || { echo "$bin is not built" >&2; exit 1; }
out=${GANTRY_BENCH_OUT:-build/bench/failover.txt}
mkdir -p "$(dirname "$out")"

ns=gantry-failover-$$-$RANDOM
tmp=$(mktemp -d)
declare -A pids=()
k() { kubectl --cache-dir="$tmp/kcache" --request-timeout=10s "$@"; }
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  k delete namespace "$ns" --wait=false --ignore-not-found >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
identity() { sed -nE 's/.*leader election: ([^ ]+) waiting for lease.*/\1/p' "$tmp/$1.log" | head -1; }
wait_log() {  # NAME PATTERN SECONDS
  local deadline=$(($(now_ms) + $3 * 1000))
  until grep -qsE -- "$2" "$tmp/$1.log"; do
    (($(now_ms) < deadline)) || return 1
    sleep 0.02
  done
}
leads() { wait_log "$1" "leader election: $(identity "$1") (leads|took lease)" "$2"; }
n=0
start() {  # starts operator number $n; sets $started to its name
  n=$((n + 1))
  started=op$n
  GANTRY_GIT_CACHE_DIR=$tmp/git-$started "$bin" operator --kubeconfig "$KUBECONFIG" \
    --namespace "$ns" --leader-elect --leader-election-namespace "$ns" \
    --health-probe-bind-address 127.0.0.1:0 --metrics-bind-address 127.0.0.1:0 \
    --webhook-bind-address 0 >"$tmp/$started.log" 2>&1 &
  pids[$started]=$!
  wait_log "$started" "waiting for lease" 30 || { echo "$started did not start" >&2; tail "$tmp/$started.log" >&2; exit 1; }
}

k create namespace "$ns" >/dev/null
start
leader=$started
leads "$leader" 30 || { echo "$leader did not lead" >&2; exit 1; }
times=()
for i in $(seq 1 "$kills"); do
  start
  standby=$started
  wait_log "$standby" "is held by \"$(identity "$leader")\"" 30 ||
    { echo "$standby does not see $leader lead" >&2; exit 1; }
  sleep 1  # past the standby's first look, as a standby that has waited a while
  killed_at=$(now_ms)
  kill -KILL "${pids[$leader]}"
  wait "${pids[$leader]}" 2>/dev/null || true
  unset "pids[$leader]"
  leads "$standby" 60 || { echo "$standby did not take over" >&2; tail "$tmp/$standby.log" >&2; exit 1; }
  ms=$(($(now_ms) - killed_at))
  times+=("$ms")
  printf 'kill %2d: %s took over %d ms after SIGKILL of %s\n' "$i" "$standby" "$ms" "$leader"
  leader=$standby
done

python3 - "$out" "$bin" "${times[@]}" <<'PY'
import statistics, sys, time
out, binary, times = sys.argv[1], sys.argv[2], [int(t) for t in sys.argv[3:]]
line = (f"failover after SIGKILL of the leader: median {statistics.median(times) / 1000:.2f}s, "
        f"min {min(times) / 1000:.2f}s, max {max(times) / 1000:.2f}s over {len(times)} kills "
        f"(lease 15s, renew 10s, retry 2s)")
print(line)
with open(out, "a") as f:
    f.write(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {binary}: {line}; "
            f"each ms: {' '.join(map(str, times))}\n")
PY
