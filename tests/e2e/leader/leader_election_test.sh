#!/usr/bin/env bash
# Leader election end to end: `gantry operator --leader-elect` processes against the real control
# plane ($KUBECONFIG), sharing the Lease gantry-leader in a namespace of this run.
#
#   1. A leads, B stands by: the Lease names A, only A starts its controllers (and, when a
#      GitRepository controller is registered, only A reconciles one; B does once it leads),
#      both answer /readyz 200.
#   2. A cannot renew (its only way to the API server, a TCP proxy, is frozen: requests hang):
#      A must give up leadership (log "leader election lost", then exit non-zero) before B takes
#      over, which happens once the lease duration (15s) has passed since A's last renewal.
#   3. B leads, A' (restarted) stands by; B is killed with SIGKILL: A' takes over after the
#      lease duration. The time from the kill to the takeover is measured and printed.
#   4. A' leads, B' stands by; A' gets SIGTERM: it releases the Lease and B' takes over at once
#      (within one retry period, 2s). Measured and printed.
#
# Needs $KUBECONFIG, kubectl, git, python3, curl and $GANTRY_BIN (default build/bin/gantry).
# Exit 0 on success, 1 on failure, 77 (skipped) without KUBECONFIG.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
if [[ -z ${KUBECONFIG:-} ]]; then
  echo "SKIP: KUBECONFIG is not set (hack/cluster up; eval \"\$(hack/cluster env)\")"
  exit 77
fi
bin=${GANTRY_BIN:-build/bin/gantry}
[[ -x $bin ]] || { echo "FAIL: $bin is not built" >&2; exit 1; }
if ! "$bin" operator --help 2>&1 | grep -q -- --leader-elect; then
  echo "SKIP: $bin has no 'operator --leader-elect' (the operator is not wired into this build)"
  exit 77
fi
lease_duration=15 retry_period=2 renew_deadline=10  # the operator's defaults

ns=gantry-leader-$$-$RANDOM
tmp=$(mktemp -d)
declare -A pids=()  # operator name -> pid
proxy_pid=""
k() { kubectl --cache-dir="$tmp/kcache" --request-timeout=10s "$@"; }
cleanup() {
  for p in "${pids[@]}" $proxy_pid; do kill -KILL "$p" 2>/dev/null || true; done
  k delete namespace "$ns" --wait=false --ignore-not-found >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
source tests/e2e/leader/lib.sh
DUMP_LINES=15
holder() { k -n "$ns" get lease gantry-leader -o jsonpath='{.spec.holderIdentity}' 2>/dev/null; }

# start NAME [KUBECONFIG]: an operator scoped to $ns, its log in $tmp/NAME.log.
start() {
  local name=$1 kc=${2:-$KUBECONFIG} port
  port=$(free_port)
  echo "$port" >"$tmp/$name.port"
  GANTRY_GIT_CACHE_DIR=$tmp/git-$name "$bin" operator --kubeconfig "$kc" --namespace "$ns" \
    --leader-elect --leader-election-namespace "$ns" --health-probe-bind-address "127.0.0.1:$port" \
    --metrics-bind-address 127.0.0.1:0 --webhook-bind-address 127.0.0.1:0 >"$tmp/$name.log" 2>&1 &
  pids[$name]=$!
  wait_log "$name" "waiting for lease" 20 || { fail "$name did not start"; dump "$name"; exit 1; }
}
ready() { curl -fsS -o /dev/null "http://127.0.0.1:$(cat "$tmp/$1.port")/readyz"; }
leads() { wait_log "$1" "leader election: $(identity "$1") (leads|took lease)" "$2"; }
controllers_started() { grep -cE 'controller [a-z-]+ started' "$tmp/$1.log" || true; }
# exited NAME SECONDS: waits for NAME's process to end; prints its exit status.
exited() {
  local deadline=$(($(now_ms) + $2 * 1000)) pid=${pids[$1]}
  while kill -0 "$pid" 2>/dev/null; do
    (($(now_ms) < deadline)) || return 1
    sleep 0.05
  done
  local rc=0
  wait "$pid" || rc=$?
  unset "pids[$1]"
  echo "$rc"
}

k create namespace "$ns" >/dev/null

step "1. A leads (through a proxy), B stands by"
kubectl config view --minify --raw --flatten >"$tmp/direct.kubeconfig"
api=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')
api_hostport=${api#https://}
python3 tests/e2e/leader/tcp_proxy.py "$tmp/proxy.port" "${api_hostport%:*}" "${api_hostport##*:}" &
proxy_pid=$!
for _ in $(seq 1 200); do [[ -s $tmp/proxy.port ]] && break; sleep 0.05; done
[[ -s $tmp/proxy.port ]] || { fail "the TCP proxy did not start"; exit 1; }
cp "$tmp/direct.kubeconfig" "$tmp/proxied.kubeconfig"
KUBECONFIG=$tmp/proxied.kubeconfig kubectl config set-cluster \
  "$(kubectl config view --minify -o jsonpath='{.clusters[0].name}')" \
  --server="https://127.0.0.1:$(cat "$tmp/proxy.port")" >/dev/null
start A "$tmp/proxied.kubeconfig"
leads A 20 || { fail "A did not lead an empty Lease"; dump A; exit 1; }
start B
wait_log B "waiting, lease $ns/gantry-leader is held by \"$(identity A)\"" 20 ||
  fail "B does not say it waits for A"
for n in A B; do
  for _ in $(seq 1 100); do ready $n && break; sleep 0.1; done
  ready $n || fail "$n's /readyz is not 200 ($([[ $n == A ]] && echo leader || echo standby))"
done
[[ $(holder) == "$(identity A)" ]] || fail "the Lease names '$(holder)', not A ($(identity A))"
sleep 3  # B keeps polling; it must stay a standby
[[ $(controllers_started B) == 0 ]] || fail "B started controllers while A leads"
echo "A=$(identity A) leads with $(controllers_started A) controller(s); B=$(identity B) waits; both ready"
# A GitRepository to reconcile: only the leader fetches it.
git init -q -b main "$tmp/repo"
echo "apiVersion: v1" >"$tmp/repo/x.yaml"
git -C "$tmp/repo" add -A && git -C "$tmp/repo" -c user.name=t -c user.email=t@t commit -qm one
fetched='GitRepository [^ ]*/cfg: fetched'
if grep -q 'controller gitrepository started' "$tmp/A.log"; then
  k -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: gantry.io/v1alpha1
kind: GitRepository
metadata: {name: cfg}
spec: {url: "file://$tmp/repo", interval: 1h}
YAML
  wait_log A "$fetched" 20 || fail "the leader A did not reconcile GitRepository $ns/cfg"
  sleep 2
  ! grep -qE "$fetched" "$tmp/B.log" || fail "the standby B reconciled GitRepository $ns/cfg"
  echo "only A reconciled GitRepository $ns/cfg"
fi

step "2. A loses its connection: it gives up before B takes over"
cut=$(now_ms)
# SIGSTOP, not SIGKILL: the proxy keeps its sockets open and forwards nothing, so A's requests
# hang instead of failing fast, as in a partition that drops packets. A must give up at the renew
# deadline all the same, not when its request times out (30s, after B took over).
kill -STOP "$proxy_pid"
lost_ms="" takeover_ms=""
deadline=$((cut + (lease_duration + 3 * retry_period + 5) * 1000))
while [[ -z $lost_ms || -z $takeover_ms ]] && (($(now_ms) < deadline)); do
  [[ -z $lost_ms ]] && grep -q "leader election lost" "$tmp/A.log" && lost_ms=$(($(now_ms) - cut))
  [[ -z $takeover_ms ]] && grep -qE "leader election: $(identity B) (leads|took lease)" "$tmp/B.log" &&
    takeover_ms=$(($(now_ms) - cut))
  sleep 0.05
done
echo "A gave up leadership ${lost_ms:-never}ms after the cut; B took over ${takeover_ms:-never}ms after it"
if [[ -z $lost_ms ]]; then
  fail "A never said it lost leadership"
elif [[ -z $takeover_ms ]]; then
  fail "B never took over"
elif ((lost_ms >= takeover_ms)); then
  fail "A still led when B took over: two leaders for $((lost_ms - takeover_ms))ms"
fi
rc=$(exited A 45) || fail "A did not exit within 45s of losing leadership"
[[ ${rc:-0} != 0 ]] || fail "A exited with 0 after losing leadership; want an error (restart)"
[[ $(holder) == "$(identity B)" ]] || fail "the Lease names '$(holder)', not B"
if grep -q 'controller gitrepository started' "$tmp/B.log"; then
  wait_log B "$fetched" 20 || fail "B leads but did not reconcile GitRepository $ns/cfg"
fi

step "3. SIGKILL the leader B: A' takes over after the lease duration"
start A2
wait_log A2 "is held by \"$(identity B)\"" 20 || fail "A' does not wait for B"
sleep 1
kill_at=$(now_ms)
kill -KILL "${pids[B]}"
wait "${pids[B]}" 2>/dev/null || true
unset "pids[B]"
if leads A2 $((lease_duration + 3 * retry_period + 5)); then
  sigkill_takeover_ms=$(($(now_ms) - kill_at))
  echo "TAKEOVER after SIGKILL of the leader: ${sigkill_takeover_ms}ms (lease duration ${lease_duration}s)"
  # The standby times the lease on its own clock from when it first saw the last renewal (up
  # to a retry period after it was written) and looks again every retry period: the takeover
  # comes lease_duration after the kill, plus up to two retry periods.
  ((sigkill_takeover_ms <= (lease_duration + 2 * retry_period + 1) * 1000)) ||
    fail "takeover took ${sigkill_takeover_ms}ms, more than the lease duration + two retry periods"
  ((sigkill_takeover_ms >= (lease_duration - retry_period - 1) * 1000)) ||
    fail "takeover after ${sigkill_takeover_ms}ms: before the lease expired"
else
  fail "A' did not take over after B was killed"
  dump A2
fi

step "4. SIGTERM the leader A': it releases the Lease, B' takes over at once"
start B2
wait_log B2 "is held by \"$(identity A2)\"" 20 || fail "B' does not wait for A'"
[[ $(controllers_started B2) == 0 ]] || fail "B' started controllers while A' leads"
term_at=$(now_ms)
kill -TERM "${pids[A2]}"
if leads B2 10; then
  graceful_takeover_ms=$(($(now_ms) - term_at))
  echo "TAKEOVER after SIGTERM of the leader: ${graceful_takeover_ms}ms"
  ((graceful_takeover_ms <= (retry_period + 1) * 1000)) ||
    fail "takeover after a graceful stop took ${graceful_takeover_ms}ms, want one retry period"
else
  fail "B' did not take over after A' stopped"
fi
rc=$(exited A2 20) || fail "A' did not exit within 20s of SIGTERM"
[[ ${rc:-1} == 0 ]] || fail "A' exited with $rc after SIGTERM, want 0"
grep -q "released lease" "$tmp/A2.log" || fail "A' did not log that it released the lease"
[[ $(holder) == "$(identity B2)" ]] || fail "the Lease names '$(holder)', not B'"
transitions=$(k -n "$ns" get lease gantry-leader -o jsonpath='{.spec.leaseTransitions}')
((transitions >= 3)) || fail "leaseTransitions is $transitions, want at least 3 (A->B->A'->B')"

if ((failures)); then
  dump A B A2 B2 2>/dev/null || true
  echo "leader election test: $failures failure(s)" >&2
  exit 1
fi
echo "leader election test: PASS"
