#!/usr/bin/env bash
# GitOps sync end to end: the real `gantry operator` ($GANTRY_BIN) against the control plane
# ($KUBECONFIG), a Git repository on local disk (file://), all on this machine.
#
#   1. a GitRepository and an Application (prune on) sync 20 ConfigMaps and a Deployment;
#   2. a commit changes all of them and adds 10 more; the push webhook (GitHub signature) brings
#      it in; the operator is killed with SIGKILL while that sync runs, then restarted: it must
#      converge (Ready at the new revision) with exactly the objects of the commit, one inventory
#      entry each;
#   3. a hand edit of a managed ConfigMap is reverted by self-heal without waiting for interval;
#   4. a commit removing files prunes their objects;
#   5. the operator, started with --namespace, refuses a cluster-scoped object in a commit;
#   6. `gantry app diff` is answered by the operator with the Git repository out of reach,
#      Secret values masked, nothing synced.
#
# Exit 0 on success, 1 on failure, 77 (skipped) without KUBECONFIG.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
if [[ -z ${KUBECONFIG:-} ]]; then
  echo "SKIP: KUBECONFIG is not set (hack/cluster up; eval \"\$(hack/cluster env)\")"
  exit 77
fi
bin=${GANTRY_BIN:-build/bin/gantry}
[[ -x $bin ]] || { echo "FAIL: $bin is not built" >&2; exit 1; }

ns=gantry-sync-e2e-$$-$RANDOM
tmp=$(mktemp -d)
op_pid=""
k() { kubectl --cache-dir="$tmp/kcache" --request-timeout=20s "$@"; }
cleanup() {
  [[ -n $op_pid ]] && kill -KILL "$op_pid" 2>/dev/null || true
  k delete namespace "$ns" --wait=false --ignore-not-found >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [[ -f $tmp/op.log ]] && tail -40 "$tmp/op.log" >&2; exit 1; }
wait_for() {  # seconds, description, command...
  local secs=$1 what=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "timed out after ${secs}s waiting for: $what"
    sleep 0.2
  done
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

k apply --server-side --force-conflicts -f crds/ >/dev/null
k wait --for=condition=Established --timeout=60s crd/gitrepositories.gantry.io \
  crd/applications.gantry.io >/dev/null
k create namespace "$ns" >/dev/null

# The repository.
git init -q --bare -b main "$tmp/app.git"
git clone -q "$tmp/app.git" "$tmp/work" 2>/dev/null
g() { git -C "$tmp/work" -c user.name=e2e -c user.email=e2e@example.invalid "$@"; }
write_commit() {  # $1: value, $2: number of ConfigMaps, $3: message
  rm -rf "$tmp/work/app" && mkdir -p "$tmp/work/app"
  for i in $(seq 1 "$2"); do
    printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%02d\ndata:\n  value: "%s"\n' \
      "$i" "$1" >"$tmp/work/app/cm-$i.yaml"
  done
  cat >"$tmp/work/app/deploy.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: registry.invalid/web:1}]}
YAML
  g add -A && g commit -q -m "$3" && g push -q origin HEAD:main
  g rev-parse HEAD
}
c1=$(write_commit one 20 "first")

webhook_port=$(free_port)
start_operator() {
  "$bin" operator --namespace "$ns" --metrics-bind-address 127.0.0.1:0 \
    --health-probe-bind-address 127.0.0.1:0 --webhook-bind-address "127.0.0.1:$webhook_port" \
    >>"$tmp/op.log" 2>&1 &
  op_pid=$!
}
GANTRY_GIT_CACHE_DIR=$tmp/git-cache
export GANTRY_GIT_CACHE_DIR
start_operator

token=e2e-$RANDOM$RANDOM
k -n "$ns" create secret generic hook --from-literal=token="$token" >/dev/null
k apply -f - >/dev/null <<YAML
apiVersion: gantry.io/v1alpha1
kind: GitRepository
metadata: {name: repo, namespace: $ns}
spec: {url: "file://$tmp/app.git", interval: 10m, webhookSecretRef: {name: hook}}
---
apiVersion: gantry.io/v1alpha1
kind: Application
metadata: {name: app, namespace: $ns}
spec:
  sourceRef: {kind: GitRepository, name: repo}
  path: app
  targetNamespace: $ns
  prune: true
  interval: 10m
YAML

revision_is() {
  [[ "$(k -n "$ns" get application app -o jsonpath='{.status.lastAppliedRevision}')" == "main@sha1:$1" ]] &&
    [[ "$(k -n "$ns" get application app -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]]
}
wait_for 60 "first commit applied" revision_is "$c1"
n=$(k -n "$ns" get configmaps -l app.kubernetes.io/managed-by=gantry -o name | wc -l)
[[ $n == 20 ]] || fail "expected 20 managed ConfigMaps, found $n"
echo "ok: first commit applied (20 ConfigMaps + Deployment)"

# 2. A commit, the webhook, and a SIGKILL while the sync runs.
c2=$(write_commit two 30 "second")
body='{"ref":"refs/heads/main"}'
sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$token" -r | cut -d' ' -f1)
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "X-Hub-Signature-256: sha256=$sig" \
  --data "$body" "http://127.0.0.1:$webhook_port/hooks/$ns/repo")
[[ $code == 202 ]] || fail "webhook answered $code"
bad=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "X-Hub-Signature-256: sha256=00" \
  --data "$body" "http://127.0.0.1:$webhook_port/hooks/$ns/repo")
[[ $bad == 401 ]] || fail "a wrongly signed webhook answered $bad"
# Kill as soon as the first object of the new commit is written.
wait_for 30 "the sync of the second commit to start" \
  bash -c "kubectl -n $ns get configmaps -o jsonpath='{range .items[*]}{.data.value}{\"\\n\"}{end}' | grep -q two"
kill -KILL "$op_pid"; wait "$op_pid" 2>/dev/null || true
half=$(k -n "$ns" get configmaps -o jsonpath='{range .items[*]}{.data.value}{"\n"}{end}' | grep -c two || true)
echo "killed the operator mid-sync ($half of 30 ConfigMaps at the new value)"
start_operator
wait_for 90 "the restarted operator to converge on the second commit" revision_is "$c2"
n=$(k -n "$ns" get configmaps -l app.kubernetes.io/managed-by=gantry -o name | wc -l)
[[ $n == 30 ]] || fail "expected 30 managed ConfigMaps after restart, found $n"
old=$(k -n "$ns" get configmaps -l app.kubernetes.io/managed-by=gantry -o jsonpath='{range .items[*]}{.data.value}{"\n"}{end}' | grep -vc two || true)
[[ $old == 0 ]] || fail "$old ConfigMaps still at the old value"
ids=$(k -n "$ns" get application app -o jsonpath='{range .status.inventory[*]}{.id}{"\n"}{end}')
[[ $(sort <<<"$ids" | uniq -d | wc -l) == 0 ]] || fail "duplicate inventory entries: $ids"
[[ $(wc -l <<<"$ids") == 31 ]] || fail "expected 31 inventory entries, got $(wc -l <<<"$ids")"
echo "ok: restarted operator converged on the second commit, 31 inventory entries, no duplicates"

# 3. Self-heal.
k -n "$ns" patch configmap cm-01 --type merge -p '{"data":{"value":"by-hand"}}' >/dev/null
healed() { [[ "$(k -n "$ns" get configmap cm-01 -o jsonpath='{.data.value}')" == two ]]; }
wait_for 15 "self-heal to revert the hand edit" healed
echo "ok: hand edit reverted by self-heal"

# 4. Prune.
c3=$(write_commit two 5 "third")
"$bin" app sync app -n "$ns" >/dev/null || fail "gantry app sync failed"
wait_for 60 "third commit applied" revision_is "$c3"
n=$(k -n "$ns" get configmaps -l app.kubernetes.io/managed-by=gantry -o name | wc -l)
[[ $n == 5 ]] || fail "expected 5 managed ConfigMaps after prune, found $n"
echo "ok: removed files pruned (5 ConfigMaps left)"
# 5. An operator started with --namespace refuses a cluster-scoped object, naming it.
# 6. `gantry app diff` is answered by the operator from the revision it already fetched: it works
#    with the Git repository out of reach, masks Secret values and syncs nothing.
role=gantry-e2e-scoped-$$-$RANDOM
secret_value=e2e-secret-$RANDOM$RANDOM
mkdir -p "$tmp/work/scoped" "$tmp/work/quiet"
printf 'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: %s\nrules: []\n' \
  "$role" >"$tmp/work/scoped/role.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: quiet\ndata:\n  color: blue\n' \
  >"$tmp/work/quiet/cm.yaml"
printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: quiet\nstringData:\n  password: %s\n' \
  "$secret_value" >"$tmp/work/quiet/secret.yaml"
g add -A && g commit -q -m "scoped and quiet" && g push -q origin HEAD:main
c4=$(g rev-parse HEAD)
k apply -f - >/dev/null <<YAML
apiVersion: gantry.io/v1alpha1
kind: Application
metadata: {name: scoped, namespace: $ns}
spec: {sourceRef: {kind: GitRepository, name: repo}, path: scoped, interval: 10m}
---
apiVersion: gantry.io/v1alpha1
kind: Application
metadata: {name: quiet, namespace: $ns}
spec:
  sourceRef: {kind: GitRepository, name: repo}
  path: quiet
  targetNamespace: $ns
  selfHeal: false
  interval: 10m
YAML
"$bin" app sync app -n "$ns" >/dev/null || fail "gantry app sync failed"
ready_reason() {  # app reason
  [[ "$(k -n "$ns" get application "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason}')" == "$2" ]]
}
wait_for 60 "Application scoped refused" ready_reason scoped ValidationFailed
msg=$(k -n "$ns" get application scoped -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}')
grep -q "role.yaml:1: ClusterRole.rbac.authorization.k8s.io is cluster-scoped, but this operator only writes in namespace $ns" <<<"$msg" ||
  fail "the scoped Application's message does not name the file and object: $msg"
k get clusterrole "$role" >/dev/null 2>&1 && fail "ClusterRole $role was created by a namespaced operator"
echo "ok: a namespaced operator refused a cluster-scoped object, naming file and object"

quiet_synced() {
  [[ "$(k -n "$ns" get application quiet -o jsonpath='{.status.lastAppliedRevision}')" == "main@sha1:$c4" ]] &&
    ready_reason quiet ReconciliationSucceeded
}
wait_for 60 "Application quiet synced" quiet_synced
k -n "$ns" patch configmap quiet --type merge -p '{"data":{"color":"red"}}' >/dev/null
k -n "$ns" patch secret quiet --type merge -p '{"stringData":{"password":"by-hand-'"$secret_value"'"}}' >/dev/null
mv "$tmp/app.git" "$tmp/app.git.away"  # the Git URL is now unreachable
set +e
out=$("$bin" app diff quiet -n "$ns" --timeout 60 2>&1)
rc=$?
set -e
mv "$tmp/app.git.away" "$tmp/app.git"
echo "$out"
[[ $rc == 1 ]] || fail "gantry app diff exited $rc, expected 1 (changes): $out"
grep -q "^Application $ns/quiet at main@sha1:$c4" <<<"$out" || fail "diff names no revision"
grep -q "=== ConfigMap $ns/quiet (update)" <<<"$out" || fail "diff shows no ConfigMap change"
grep -q '~ /data/color: "red" -> "blue"' <<<"$out" || fail "diff shows no field change"
grep -q "=== Secret $ns/quiet (update)" <<<"$out" || fail "diff shows no Secret change"
grep -q -e "$secret_value" -e "$(printf '%s' "$secret_value" | base64)" <<<"$out" &&
  fail "diff shows a Secret value"
[[ "$(k -n "$ns" get configmap quiet -o jsonpath='{.data.color}')" == red ]] ||
  fail "gantry app diff synced the Application"
echo "ok: gantry app diff answered by the operator with the Git URL unreachable, Secret masked"

"$bin" app list -n "$ns"
echo "PASS"
