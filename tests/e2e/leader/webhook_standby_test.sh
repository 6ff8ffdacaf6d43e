#!/usr/bin/env bash
# A Git webhook that lands on the standby replica is not lost: the chart's webhook Service routes
# to every replica, and a standby runs no controllers, so after checking the signature it hands
# the request to the leader through the API (annotation gantry.io/reconcile-requested-at on the
# GitRepository, which the leader watches) and answers 202.
#
#   1. A leads, B stands by, a GitRepository with a webhook secret and a one-hour poll interval
#      has been fetched by A.
#   2. A new commit, then a push webhook with a wrong signature to B: 401, nothing changes.
#   3. The same push correctly signed (GitHub's X-Hub-Signature-256) to B: 202, the annotation is
#      set, and A (not B) fetches the new commit within seconds, far inside the poll interval.
#   4. The same to A, the leader, with GitLab's token header: 202, fetched at once.
#
# Needs $KUBECONFIG, kubectl, git, python3, curl, openssl and $GANTRY_BIN (default
# build/bin/gantry). Exit 0 on success, 1 on failure, 77 (skipped) without KUBECONFIG.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
if [[ -z ${KUBECONFIG:-} ]]; then
  echo "SKIP: KUBECONFIG is not set (hack/cluster up; eval \"\$(hack/cluster env)\")"
  exit 77
fi
bin=${GANTRY_BIN:-build/bin/gantry}
[[ -x $bin ]] || { echo "FAIL: $bin is not built" >&2; exit 1; }

ns=gantry-hook-standby-$$-$RANDOM
tmp=$(mktemp -d)
declare -A pids=()
k() { kubectl --cache-dir="$tmp/kcache" --request-timeout=10s "$@"; }
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
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

# start NAME: an operator scoped to $ns whose webhook receiver listens on $tmp/NAME.hook.
start() {
  local name=$1 hook
  hook=$(free_port)
  echo "$hook" >"$tmp/$name.hook"
  GANTRY_GIT_CACHE_DIR=$tmp/git-$name "$bin" operator --kubeconfig "$KUBECONFIG" --namespace "$ns" \
    --leader-elect --leader-election-namespace "$ns" --health-probe-bind-address 127.0.0.1:0 \
    --metrics-bind-address 127.0.0.1:0 --webhook-bind-address "127.0.0.1:$hook" \
    >"$tmp/$name.log" 2>&1 &
  pids[$name]=$!
  wait_log "$name" "waiting for lease" 20 || { fail "$name did not start"; dump "$name"; exit 1; }
}
# post NAME BODY HEADER: POSTs the push to NAME's receiver; prints the HTTP status.
post() {
  curl -s -o "$tmp/answer" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -H "$3" --data "$2" "http://127.0.0.1:$(cat "$tmp/$1.hook")/hooks/$ns/cfg"
}
sign() { printf '%s' "$1" | openssl dgst -sha256 -hmac "$token" | sed 's/^.*= //'; }
requested_at() {
  k -n "$ns" get gitrepository cfg \
    -o jsonpath='{.metadata.annotations.gantry\.io/reconcile-requested-at}'
}
artifact_commit() { k -n "$ns" get gitrepository cfg -o jsonpath='{.status.artifact.commit}'; }
commit() {
  echo "n: $1" >"$tmp/repo/x.yaml"
  git -C "$tmp/repo" add -A && git -C "$tmp/repo" -c user.name=t -c user.email=t@t commit -qm "$1"
  git -C "$tmp/repo" rev-parse HEAD
}
# fetched_within SECONDS SHA: waits until status.artifact.commit is SHA.
fetched_within() {
  local deadline=$(($(now_ms) + $1 * 1000))
  until [[ $(artifact_commit) == "$2" ]]; do
    (($(now_ms) < deadline)) || return 1
    sleep 0.2
  done
}

k create namespace "$ns" >/dev/null
step "1. A leads, B stands by; GitRepository $ns/cfg polled every hour"
start A
wait_log A "leader election: $(identity A) (leads|took lease)" 20 || { fail "A did not lead"; dump A; exit 1; }
start B
wait_log B "is held by \"$(identity A)\"" 20 || { fail "B does not wait for A"; dump A B; exit 1; }
token=tok-$RANDOM$RANDOM
git init -q -b main "$tmp/repo"
first=$(commit one)
k -n "$ns" create secret generic hook --from-literal=token="$token" >/dev/null
k -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: gantry.io/v1alpha1
kind: GitRepository
metadata: {name: cfg}
spec:
  url: "file://$tmp/repo"
  ref: {branch: main}
  interval: 1h
  webhookSecretRef: {name: hook}
YAML
fetched_within 20 "$first" || { fail "A did not fetch the first commit"; dump A; exit 1; }

step "2. a wrongly signed push to the standby B is refused and changes nothing"
second=$(commit two)
body="{\"ref\":\"refs/heads/main\",\"after\":\"$second\"}"
code=$(post B "$body" "X-Hub-Signature-256: sha256=$(token=wrong sign "$body")")
[[ $code == 401 ]] || fail "wrong signature to B: HTTP $code, want 401 ($(cat "$tmp/answer"))"
[[ -z $(requested_at) ]] || fail "a refused push set the annotation to $(requested_at)"

step "3. the signed push to the standby B reaches the leader A"
sent=$(now_ms)
code=$(post B "$body" "X-Hub-Signature-256: sha256=$(sign "$body")")
[[ $code == 202 ]] || fail "signed push to B: HTTP $code, want 202 ($(cat "$tmp/answer"))"
[[ -n $(requested_at) ]] || fail "B did not set gantry.io/reconcile-requested-at"
if fetched_within 15 "$second"; then
  echo "the push to the standby was fetched by the leader in $(($(now_ms) - sent))ms"
else
  fail "the leader did not fetch $second after a push to the standby (poll interval 1h)"
fi
grep -q "handing the reconcile of .*GitRepository $ns/cfg to the leader" "$tmp/B.log" ||
  fail "B does not log the hand-over"
! grep -qE "GitRepository [^ ]*/cfg: fetched" "$tmp/B.log" || fail "the standby B fetched itself"
handled=$(k -n "$ns" get gitrepository cfg -o jsonpath='{.status.lastHandledReconcileAt}')
[[ $handled == "$(requested_at)" ]] ||
  fail "status.lastHandledReconcileAt is '$handled', want the request '$(requested_at)'"

step "4. a push to the leader A is queued there directly"
third=$(commit three)
body="{\"ref\":\"refs/heads/main\",\"after\":\"$third\"}"
before=$(requested_at)
code=$(post A "$body" "X-Gitlab-Token: $token")
[[ $code == 202 ]] || fail "push to A: HTTP $code, want 202 ($(cat "$tmp/answer"))"
fetched_within 15 "$third" || fail "the leader did not fetch $third after a push to itself"
[[ $(requested_at) == "$before" ]] || fail "the leader wrote the annotation instead of queueing"

if ((failures)); then
  dump A B
  echo "webhook on standby: $failures failure(s)" >&2
  exit 1
fi
echo "webhook on standby: PASS"
