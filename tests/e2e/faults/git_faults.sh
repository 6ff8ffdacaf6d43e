#!/usr/bin/env bash
# The Git server fails under a syncing Application (prune on): `git http-backend` behind
# lighttpd (tests/integration/git/git_servers.sh), reached through fault_proxy.py, which the
# test turns off, stalls mid-pack, or lets through.
#
#   1. down: the proxy refuses connections while a new commit waits. The last applied revision
#      and all its objects stay (nothing pruned), the GitRepository's Ready condition says the
#      fetch failed and why, the retries back off with growing delays (read from the operator's
#      "retry #N" log lines) up to the cap for unreachable servers; once the server is back the
#      commit is applied within 15 s, and after that success the backoff starts over.
#   2. slow: the server stalls in the middle of a pack (a 3 MB file in the commit): the fetch
#      gives up at spec.timeout, the condition says so, the last state stays; then applied.
#   3. force-push: history rewritten to a commit that is not a descendant of the applied one:
#      applied as the new desired state (objects only in the lost commits pruned).
# Prints "FIGURE git-... injected=N recovered=N worst_ms=N": recovery is the time from the
# server's return to Ready at the new revision.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
name=git
# shellcheck source=tests/e2e/faults/lib.sh
source tests/e2e/faults/lib.sh

install_crds
k create namespace "$ns" >/dev/null

servers=$tmp/git
# The ports are free when picked but may be taken before the servers bind them: try again.
for attempt in 1 2 3; do
  read -r git_port http_port https_port ssh_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(4)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')
  if GANTRY_OWNER_PID=$$ bash tests/integration/git/git_servers.sh start "$servers" "$git_port" \
    "$http_port" "$https_port" "$ssh_port" >"$tmp/git-servers.log" 2>&1; then
    break
  fi
  ((attempt < 3)) || { cat "$tmp/git-servers.log"; die "git servers did not start"; }
done
stop_servers() { bash tests/integration/git/git_servers.sh stop "$servers" >/dev/null 2>&1 || true; }
# shellcheck disable=SC1091
source "$servers/env"
echo forward >"$tmp/mode"
python3 "$faults_dir/fault_proxy.py" "$tmp/proxy.port" "$tmp/mode" 127.0.0.1 "$HTTP_PORT" \
  >"$tmp/proxy.log" 2>&1 &
bg_pids+=($!)
until_true 10 test -s "$tmp/proxy.port" || die "fault proxy did not start"
proxy_port=$(cat "$tmp/proxy.port")
set_mode() { echo "$1" >"$tmp/mode"; sleep 0.3; }

git init -q --bare -b main "$REPO_ROOT/app.git"
git clone -q "$REPO_ROOT/app.git" "$tmp/work" 2>/dev/null
g() { git -C "$tmp/work" -c user.name=faults -c user.email=faults@example.invalid "$@"; }
write_commit() {  # VALUE FIRST LAST [BLOB]: ConfigMaps cm-FIRST..cm-LAST; BLOB adds 3 MB of noise
  local i
  rm -rf "$tmp/work/app" && mkdir -p "$tmp/work/app" "$tmp/work/data"
  for ((i = $2; i <= $3; i++)); do
    printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%02d\ndata:\n  value: "%s"\n' \
      "$i" "$1" >>"$tmp/work/app/cms.yaml"
  done
  if [[ -n ${4:-} ]]; then head -c 3000000 /dev/urandom >"$tmp/work/data/$1.bin"; fi
  g add -A && g commit -q -m "$1" && g push -q -f origin HEAD:main
  g rev-parse HEAD
}

k -n "$ns" create secret generic git-auth --from-literal=username="$BASIC_USER" \
  --from-literal=password="$BASIC_PASS" >/dev/null
c1=$(write_commit one 1 10)
start_operator
kn apply -f - >/dev/null <<YAML
apiVersion: gantry.io/v1alpha1
kind: GitRepository
metadata: {name: repo}
spec:
  url: "http://127.0.0.1:$proxy_port/basic/app.git"
  secretRef: {name: git-auth}
  interval: 2s
  timeout: 4s
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
applied_is() {
  [[ "$(kn get application app -o jsonpath='{.status.lastAppliedRevision}')" == "main@sha1:$1" ]] &&
    [[ "$(kn get application app -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]]
}
repo_cond() { kn get gitrepository repo -o jsonpath="{.status.conditions[?(@.type==\"Ready\")].$1}"; }
repo_failed() { [[ $(repo_cond status) == False && $(repo_cond reason) == GitOperationFailed ]]; }
managed() {
  kn get configmaps -l app.kubernetes.io/managed-by=gantry \
    -o jsonpath='{range .items[*]}{.metadata.name}={.data.value}{"\n"}{end}' | sort | tr '\n' ' '
}
want() {  # VALUE FIRST LAST
  local i
  for ((i = $2; i <= $3; i++)); do printf 'cm-%02d=%s ' "$i" "$1"; done
}
until_true 90 applied_is "$c1" || die "commit one not applied: $(repo_cond message)"
echo "commit one applied through the proxy"
worst_down=0 worst_stall=0 worst_force=0 down_ok=0 stall_ok=0 force_ok=0

step "1. Git server down"
set_mode down
log_mark=$(wc -l <"$tmp/operator.log")
c2=$(write_commit two 6 10)
until_true 30 repo_failed || fail "the GitRepository does not say the fetch failed: $(repo_cond reason) $(repo_cond message)"
echo "condition: $(repo_cond reason): $(repo_cond message)"
[[ $(repo_cond message) == *"127.0.0.1:$proxy_port"* ]] || fail "the condition does not name the server"
sleep 12
[[ $(managed) == "$(want one 1 10)" ]] || fail "objects changed while Git was down: $(managed)"
applied_is "$c1" || fail "the Application left commit one while Git was down"
# Delays between consecutive retries of this outage must grow (exponential backoff).
tail -n +"$log_mark" "$tmp/operator.log" >"$tmp/outage.log"
mapfile -t retries < <(grep -E "error +gitrepository $ns/repo: .*\(retry #[0-9]+\)" "$tmp/outage.log" |
  sed -E 's/^([0-9T:.-]+)Z .*\(retry #([0-9]+)\)$/\1 \2/' |
  while read -r ts n; do echo "$(date -d "${ts}Z" +%s%3N) $n"; done)
((${#retries[@]} >= 4)) || fail "only ${#retries[@]} retries logged in 12 s of outage"
gaps=()
for ((i = 1; i < ${#retries[@]}; i++)); do
  gaps+=($((${retries[i]%% *} - ${retries[i - 1]%% *})))
done
echo "retry gaps (ms): ${gaps[*]}"
if ((${#gaps[@]} >= 3)); then
  first=${gaps[0]} last=${gaps[-1]}
  ((last > 4 * first && last >= 1000)) || fail "the backoff does not grow: gaps ${gaps[*]}"
  # Each retry waits at least as long as the previous one (within 30% for the fetch's own time).
  for ((i = 1; i < ${#gaps[@]}; i++)); do
    ((gaps[i] * 13 / 10 + 50 >= gaps[i - 1])) || fail "the backoff shrank during the outage: ${gaps[*]}"
  done
fi
set_mode forward
t0=$(now_ms)
if until_true 60 applied_is "$c2"; then
  worst_down=$(($(now_ms) - t0))
  down_ok=1
  echo "commit two applied $worst_down ms after the server came back"
  # However long the outage, the retries wait at most a few seconds (an unreachable server
  # caps the backoff), so the return is noticed soon.
  ((worst_down <= 15000)) || fail "commit two applied only $worst_down ms after the server came back"
else
  fail "commit two not applied after the server came back: $(repo_cond message)"
fi
[[ $(managed) == "$(want two 6 10)" ]] || fail "objects after the outage: $(managed)"
# The backoff started over: the next outage's first retries come quickly again.
set_mode down
mark2=$(wc -l <"$tmp/operator.log")
kn annotate gitrepository repo --overwrite "gantry.io/reconcile-requested-at=$(date +%s%N)" >/dev/null
first_retry() { tail -n +"$mark2" "$tmp/operator.log" | grep -qE "error +gitrepository $ns/repo: .*\(retry #1\)"; }
until_true 20 first_retry || fail "after a success, the next failure is not retry #1 (the backoff was not reset)"
set_mode forward

step "2. Git server stalls mid-pack"
set_mode stall
c3=$(write_commit three 6 12 blob)
stalled() { repo_failed && [[ $(repo_cond message) == *"timeout"* ]]; }
until_true 40 stalled || fail "the GitRepository does not report the stalled fetch: $(repo_cond reason) $(repo_cond message)"
echo "condition: $(repo_cond reason): $(repo_cond message)"
grep -q "stall after" "$tmp/proxy.log" || fail "the proxy never stalled a pack"
[[ $(managed) == "$(want two 6 10)" ]] || fail "objects changed during the stall: $(managed)"
applied_is "$c2" || fail "the Application left commit two during the stall"
set_mode forward
t0=$(now_ms)
if until_true 60 applied_is "$c3"; then
  worst_stall=$(($(now_ms) - t0))
  stall_ok=1
  echo "commit three applied $worst_stall ms after the server went on"
else
  fail "commit three not applied after the stall: $(repo_cond message)"
fi
[[ $(managed) == "$(want three 6 12)" ]] || fail "objects after the stall: $(managed)"

step "3. force-push"
g reset -q --hard "$c2"
c4=$(write_commit four 1 8)
t0=$(now_ms)
git -C "$REPO_ROOT/app.git" merge-base --is-ancestor "$c3" "$c4" && fail "the test's force-push kept history"
if until_true 60 applied_is "$c4"; then
  worst_force=$(($(now_ms) - t0))
  force_ok=1
  echo "force-pushed commit four applied in $worst_force ms"
else
  fail "the force-pushed commit four was not applied: $(repo_cond message)"
fi
[[ $(managed) == "$(want four 1 8)" ]] || fail "objects after the force-push: $(managed)"
operator_alive || fail "the operator exited"
[[ $op_starts == 1 ]] || fail "the operator was restarted"
stop_servers
figure git-server-down 1 "$down_ok" "$worst_down"
figure git-server-stall 1 "$stall_ok" "$worst_stall"
figure git-force-push 1 "$force_ok" "$worst_force"
finish
