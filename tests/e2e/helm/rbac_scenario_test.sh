#!/usr/bin/env bash
# The chart's RBAC is enough, and used: installs deploy/helm/gantry (no replicas: the operator
# runs here instead), takes a token for the chart's ServiceAccount through the TokenRequest API,
# writes a kubeconfig with it and runs `gantry operator --leader-elect` locally as that
# ServiceAccount. Then, for every controller the operator registers, a scenario drives it to
# convergence:
#
#   gitrepository + application  a file:// repository synced into a namespace, then a second
#                                commit that changes one object and prunes another;
#   rollout                      a canary Rollout created, then its image changed: a canary
#                                ReplicaSet appears and the Rollout pauses at its pause step;
#   analysisrun                  an AnalysisRun whose web metric asks a local HTTP server.
#
# Then an unsigned webhook (refused, counted), and the operator's /metrics, scraped after all that
# work, is checked against the chart's Grafana dashboard (installed as its ConfigMap) and
# docs/metrics.md: every metric the dashboard queries is exported, every exported family is on
# the dashboard and documented with its type (tests/integration/helm/dashboard_metrics.py).
#
# Passes only if every scenario converges and the operator's log has no RBAC refusal in it.
# A controller without a scenario is still covered by the Forbidden check for what it does on
# its own (its informers list and watch at start); the test names it so that a scenario gets
# added, as a scenario_<controller> function below.
#
# Usage: rbac_scenario_test.sh [cluster|namespaced|incluster]  (the chart's watchNamespace unset
# or set). incluster is namespaced with the operator configured as in a pod instead of by a
# kubeconfig: the token, ca.crt and namespace files of a simulated service-account mount
# ($GANTRY_SERVICEACCOUNT_DIR), KUBERNETES_SERVICE_HOST/PORT pointing at the API server, no
# --kubeconfig, no $KUBECONFIG, no ~/.kube/config, and no --leader-election-namespace (the Lease
# goes to the namespace file's namespace). tests/e2e/incluster runs that mode.
# Needs $KUBECONFIG (hack/cluster), helm, git, python3, and $GANTRY_BIN (default build/bin/gantry).
# Exit 0 on success, 1 on failure, 77 (skipped) without KUBECONFIG.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
root=$PWD
mode=${1:-cluster}
if [[ -z ${KUBECONFIG:-} ]]; then
  echo "SKIP: KUBECONFIG is not set (hack/cluster up; eval \"\$(hack/cluster env)\")"
  exit 77
fi
[[ -x .cache/bin/helm ]] && PATH=$PWD/.cache/bin:$PATH
bin=${GANTRY_BIN:-build/bin/gantry}
[[ -x $bin ]] || { echo "FAIL: $bin is not built" >&2; exit 1; }
if ! "$bin" operator --help 2>&1 | grep -q -- --leader-elect; then
  echo "SKIP: $bin has no 'operator --leader-elect' (the operator is not wired into this build)"
  exit 77
fi

suffix=$$-$RANDOM
ns=gantry-rbac-$suffix        # the release: ServiceAccount, Roles, Lease
apps=gantry-rbac-apps-$suffix # where the scenarios' objects live
release=gantry-rbac-$suffix
sa=$release
tmp=$(mktemp -d)
log=$tmp/operator.log
op_pid=""
www_pid=""
k() { kubectl --cache-dir="$tmp/kcache" --request-timeout=30s "$@"; }
cleanup() {
  [[ -n $op_pid ]] && kill -KILL "$op_pid" 2>/dev/null || true
  [[ -n $www_pid ]] && kill -KILL "$www_pid" 2>/dev/null || true
  helm uninstall "$release" -n "$ns" --wait=false >/dev/null 2>&1 || true
  k delete namespace "$ns" "$apps" --wait=false --ignore-not-found >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
step() { echo "=== $*"; }
# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.5s until it succeeds.
wait_for() {
  local limit=$1 what=$2 start=$SECONDS
  shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS - start >= limit)); then
      fail "$what: not within ${limit}s"
      return 1
    fi
    sleep 0.5
  done
  echo "$what ($((SECONDS - start))s)"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
jp() { k -n "$apps" get "$1" -o jsonpath="$2" 2>/dev/null; }
condition_true() { [[ $(jp "$1" "{.status.conditions[?(@.type==\"$2\")].status}") == True ]]; }

step "helm install $release ($mode mode)"
k create namespace "$apps" >/dev/null
set_args=(--set replicaCount=0 --set grafanaDashboard.enabled=true)
[[ $mode == namespaced || $mode == incluster ]] && set_args+=(--set watchNamespace="$apps")
helm install "$release" deploy/helm/gantry -n "$ns" --create-namespace "${set_args[@]}" \
  >/dev/null 2> >(grep -v 'found symbolic link' >&2) || { fail "helm install"; exit 1; }

step "a token for $ns/$sa (TokenRequest) and a kubeconfig with only it"
token=$(k -n "$ns" create token "$sa" --duration=1h)
server=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')
kubectl config view --minify --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' |
  base64 -d >"$tmp/ca.crt"
kc=$tmp/kubeconfig
KUBECONFIG=$kc kubectl config set-cluster c --server="$server" --certificate-authority="$tmp/ca.crt" \
  --embed-certs >/dev/null
KUBECONFIG=$kc kubectl config set-credentials "$sa" --token="$token" >/dev/null
KUBECONFIG=$kc kubectl config set-context c --cluster=c --user="$sa" --namespace="$ns" >/dev/null
KUBECONFIG=$kc kubectl config use-context c >/dev/null
who=$(KUBECONFIG=$kc kubectl auth whoami -o jsonpath='{.status.userInfo.username}')
[[ $who == "system:serviceaccount:$ns:$sa" ]] || fail "the kubeconfig authenticates as '$who'"

step "gantry operator as $who"
health=$(free_port) metrics=$(free_port) webhook=$(free_port)
op_args=(operator --leader-elect
  --health-probe-bind-address "127.0.0.1:$health" --metrics-bind-address "127.0.0.1:$metrics"
  --webhook-bind-address "127.0.0.1:$webhook" --log-level debug)
# Every mode watches only $apps: a cluster-wide operator would also reconcile the objects of
# tests running beside this one. Cluster mode still authorizes every request through the
# ClusterRole; its cluster-scope reads are checked by tests/integration/helm (SubjectAccessReview).
op_args+=(--namespace "$apps")
if [[ $mode == incluster ]]; then
  # What the kubelet mounts at /var/run/secrets/kubernetes.io/serviceaccount, and the
  # environment it gives every container for the `kubernetes` Service.
  mount=$tmp/serviceaccount
  mkdir -p "$mount" "$tmp/home"
  printf '%s' "$token" >"$mount/token"
  cp "$tmp/ca.crt" "$mount/ca.crt"
  printf '%s' "$ns" >"$mount/namespace"
  hostport=${server#https://}
  env -u KUBECONFIG HOME="$tmp/home" GANTRY_SERVICEACCOUNT_DIR="$mount" \
    KUBERNETES_SERVICE_HOST="${hostport%:*}" KUBERNETES_SERVICE_PORT="${hostport##*:}" \
    GANTRY_GIT_CACHE_DIR=$tmp/git-cache "$bin" "${op_args[@]}" >"$log" 2>&1 &
else
  op_args+=(--kubeconfig "$kc" --leader-election-namespace "$ns")
  GANTRY_GIT_CACHE_DIR=$tmp/git-cache "$bin" "${op_args[@]}" >"$log" 2>&1 &
fi
op_pid=$!
wait_for 30 "/readyz answers 200" curl -fsS "http://127.0.0.1:$health/readyz" ||
  { tail -20 "$log"; exit 1; }
if [[ $mode == incluster ]]; then
  grep -q "using in-cluster service account -> $server" "$log" ||
    fail "the operator did not configure itself from the service-account mount: $(grep -m1 using "$log")"
fi
lease_holder() { k -n "$ns" get lease gantry-leader -o jsonpath='{.spec.holderIdentity}'; }
wait_for 20 "it holds the Lease $ns/gantry-leader" test -n "$(lease_holder)"
sleep 1  # controllers start right after the lease is taken
mapfile -t controllers < <(sed -nE 's/.*controller ([a-z-]+) started.*/\1/p' "$log" | sort -u)
echo "controllers registered: ${controllers[*]:-none}"

# --- scenarios, one per controller -------------------------------------------------------------
commit_all() { git -C "$tmp/repo" add -A && git -C "$tmp/repo" -c user.name=t -c user.email=t@t \
  commit -qm "$1"; }

scenario_gitrepository() {
  step "sync: GitRepository (file://) + Application into $apps"
  mkdir -p "$tmp/repo/deploy"
  git init -q -b main "$tmp/repo"
  cat >"$tmp/repo/deploy/app.yaml" <<YAML
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {greeting: hello}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
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
  commit_all "first"
  k -n "$apps" apply -f - >/dev/null <<YAML
apiVersion: gantry.io/v1alpha1
kind: GitRepository
metadata: {name: config}
spec: {url: "file://$tmp/repo", ref: {branch: main}, interval: 2s}
---
apiVersion: gantry.io/v1alpha1
kind: Application
metadata: {name: web}
spec:
  sourceRef: {kind: GitRepository, name: config}
  path: ./deploy
  targetNamespace: $apps
  interval: 5s
  prune: true
YAML
  wait_for 30 "GitRepository config is Ready" condition_true gitrepository/config Ready
  wait_for 30 "Application web is Ready" condition_true application/web Ready
  for o in configmap/settings service/web deployment/web; do
    [[ $(jp "$o" '{.metadata.labels.app\.kubernetes\.io/managed-by}') == gantry ]] ||
      fail "$apps/$o was not applied by gantry"
  done
  sed -i 's/greeting: hello/greeting: bonjour/' "$tmp/repo/deploy/app.yaml"
  python3 - "$tmp/repo/deploy/app.yaml" <<'PY'
import sys
p = sys.argv[1]
docs = open(p).read().split("---\n")
open(p, "w").write("---\n".join(d for d in docs if "kind: Service" not in d))
PY
  commit_all "second: change settings, drop the Service"
  want=$(git -C "$tmp/repo" rev-parse HEAD)
  wait_for 30 "Application web applied the second commit" \
    bash -c "[[ \$(kubectl -n $apps get application web -o jsonpath='{.status.lastAppliedRevision}') == *$want ]]"
  [[ $(jp configmap/settings '{.data.greeting}') == bonjour ]] || fail "configmap/settings not updated"
  wait_for 15 "service/web pruned" bash -c "! kubectl -n $apps get service web"
}
scenario_application() { :; }  # driven together with gitrepository above

scenario_rollout() {
  step "rollout: a canary Rollout in $apps, then a new image"
  k -n "$apps" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: {name: shop-stable}
spec: {selector: {app: shop}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: shop-canary}
spec: {selector: {app: shop}, ports: [{port: 80}]}
---
apiVersion: gantry.io/v1alpha1
kind: Rollout
metadata: {name: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: shop}}
  template:
    metadata: {labels: {app: shop}}
    spec: {containers: [{name: shop, image: registry.invalid/shop:1}]}
  strategy:
    canary:
      stableService: shop-stable
      canaryService: shop-canary
      steps: [{setWeight: 50}, {pause: {}}]
YAML
  wait_for 40 "Rollout shop is Healthy" bash -c \
    "[[ \$(kubectl -n $apps get rollouts.gantry.io shop -o jsonpath='{.status.phase}') == Healthy ]]"
  k -n "$apps" patch rollout shop --type=json \
    -p '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"registry.invalid/shop:2"}]' \
    >/dev/null
  wait_for 40 "Rollout shop pauses at its pause step" bash -c \
    "[[ \$(kubectl -n $apps get rollouts.gantry.io shop -o jsonpath='{.status.phase}') == Paused ]]"
  rs=$(k -n "$apps" get replicasets -l app=shop -o name | wc -l)
  [[ $rs == 2 ]] || fail "want a stable and a canary ReplicaSet, found $rs"
  sel=$(jp service/shop-canary '{.spec.selector.rollouts-pod-template-hash}')
  [[ -n $sel ]] || fail "service/shop-canary does not select the canary pods"
}

scenario_analysisrun() {
  step "analysis: an AnalysisRun with a web metric (a local HTTP server) in $apps"
  mkdir -p "$tmp/www"
  echo '{"ok": true, "latency": 0.12}' >"$tmp/www/health.json"
  local port
  port=$(free_port)
  python3 -m http.server "$port" --bind 127.0.0.1 --directory "$tmp/www" >/dev/null 2>&1 &
  www_pid=$!
  wait_for 10 "the metric's HTTP server answers" curl -fsS "http://127.0.0.1:$port/health.json"
  k -n "$apps" apply -f - >/dev/null <<YAML
apiVersion: gantry.io/v1alpha1
kind: AnalysisRun
metadata: {name: health}
spec:
  metrics:
  - name: latency
    count: 1
    successCondition: result.ok == true && result.latency < 0.5
    provider:
      web:
        url: http://127.0.0.1:$port/health.json
        jsonPath: "{\$}"
YAML
  wait_for 40 "AnalysisRun health is Successful" bash -c \
    "[[ \$(kubectl -n $apps get analysisruns.gantry.io health -o jsonpath='{.status.phase}') == Successful ]]"
  kill "$www_pid" 2>/dev/null || true
}

if ((${#controllers[@]} == 0)); then
  echo "NOTE: the operator registers no controller yet: only its own start-up (Namespaces"
  echo "      informer, Lease, Events) runs with the chart's rights"
fi
for c in "${controllers[@]}"; do
  if declare -F "scenario_$c" >/dev/null; then
    "scenario_$c"
  else
    echo "NOTE: controller $c has no scenario here (add scenario_$c); only its start-up is checked"
  fi
done

step "an unsigned webhook is refused; /metrics against the dashboard and docs/metrics.md"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data '{}' \
  "http://127.0.0.1:$webhook/hooks/$apps/config")
[[ $code == 401 ]] || fail "an unsigned webhook got HTTP $code, want 401"
curl -fsS "http://127.0.0.1:$metrics/metrics" >"$tmp/metrics.txt" || fail "GET /metrics"
k -n "$ns" get configmap "$release-dashboard" -o yaml >"$tmp/dashboard.yaml" ||
  fail "the chart did not install the dashboard ConfigMap $ns/$release-dashboard"
python3 tests/integration/helm/dashboard_metrics.py check "$tmp/dashboard.yaml" \
  "$tmp/metrics.txt" docs/metrics.md || fail "the dashboard or docs/metrics.md and /metrics differ"

step "graceful stop, then the log"
kill -TERM "$op_pid"
for _ in $(seq 1 40); do kill -0 "$op_pid" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$op_pid" 2>/dev/null; then
  fail "the operator did not stop within 20s of SIGTERM"
else
  wait "$op_pid" || fail "the operator exited with status $?"
fi
op_pid=""
# RBAC refusals name the user; other Forbidden answers (a namespace being deleted, seen in
# cluster mode through other tests' objects) are not about the chart.
if grep -E "forbidden: User \"system:serviceaccount:$ns:$sa\" cannot" "$log"; then
  fail "the operator was refused something with the chart's RBAC (lines above)"
fi
[[ -z $(lease_holder) ]] || fail "the Lease still names $(lease_holder) after a graceful stop"

if ((failures)); then
  echo "--- operator log (last 40 lines)"
  tail -40 "$log"
  echo "rbac scenario ($mode): $failures failure(s)" >&2
  exit 1
fi
echo "rbac scenario ($mode): PASS"
