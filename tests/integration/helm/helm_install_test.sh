#!/usr/bin/env bash
# deploy/helm/gantry against the real control plane ($KUBECONFIG; `hack/cluster up` and
# `eval "$(hack/cluster env)"`): `helm template` of every optional object accepted by
# `kubectl apply --dry-run=server`, `helm install` into a namespace of this run, the Deployment
# becomes Available (kwok runs the pods), the objects and the ServiceAccount's rights are what
# the chart promises (checked by the API server's own authorizer through SubjectAccessReviews),
# `helm upgrade` to watchNamespace mode moves the rights into a Role, and `helm uninstall`
# removes everything but the CRDs. Exit 0 on success, 1 on failure, 77 without KUBECONFIG.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
chart=deploy/helm/gantry
if [[ -z ${KUBECONFIG:-} ]]; then
  echo "SKIP: KUBECONFIG is not set (hack/cluster up; eval \"\$(hack/cluster env)\")"
  exit 77
fi
[[ -x .cache/bin/helm ]] && PATH=$PWD/.cache/bin:$PATH
suffix=$$-$RANDOM
ns=gantry-helm-$suffix
apps=gantry-helm-apps-$suffix
release=gantry-it-$suffix  # cluster-scoped RBAC objects carry the release name: unique per run
full=$release              # the release name contains "gantry", so it is the full name too
sa=system:serviceaccount:$ns:$full
cache=$(mktemp -d)
k() { kubectl --cache-dir="$cache" --request-timeout=30s "$@"; }
h() { helm --kube-context "$(kubectl config current-context)" "$@" 2> >(grep -v 'found symbolic link' >&2); }
cleanup() {
  helm uninstall "$release" -n "$ns" --wait=false >/dev/null 2>&1 || true
  k delete namespace "$ns" "$apps" --wait=false --ignore-not-found >/dev/null 2>&1 || true
  rm -rf "$cache"
}
trap cleanup EXIT
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
step() { echo "=== $*"; }
# allowed VERB GROUP RESOURCE[/SUBRESOURCE] [NAMESPACE] [NAME]: asks the API server's authorizer
# (a SubjectAccessReview) whether the chart's ServiceAccount may, as it authorizes real requests.
allowed() {
  local verb=$1 group=$2 resource=${3%%/*} sub="" rns=${4:-} name=${5:-}
  [[ $3 == */* ]] && sub=${3#*/}
  k create -o jsonpath='{.status.allowed}' -f - <<JSON
{"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
 "spec": {"user": "$sa",
          "groups": ["system:serviceaccounts", "system:serviceaccounts:$ns", "system:authenticated"],
          "resourceAttributes": {"verb": "$verb", "group": "$group", "resource": "$resource",
                                 "subresource": "$sub", "namespace": "$rns", "name": "$name"}}}
JSON
}
can() { [[ $(allowed "$@") == true ]] || fail "$sa cannot $*"; }
cannot() { [[ $(allowed "$@") != true ]] || fail "$sa can $*, which it must not"; }

step "helm template | kubectl apply --dry-run=server (every optional object but the ServiceMonitor)"
k create namespace "$apps" >/dev/null
# Rendered into $apps under another release name, so nothing collides with the install below.
for mode in cluster namespaced; do
  set_args=(--set webhook.ingress.enabled=true --set grafanaDashboard.enabled=true)
  [[ $mode == namespaced ]] && set_args+=(--set watchNamespace="$apps")
  if ! h template "$release-dry" "$chart" -n "$apps" "${set_args[@]}" >"$cache/$mode.yaml"; then
    fail "helm template ($mode)"
  elif out=$(k apply --dry-run=server -f "$cache/$mode.yaml" 2>&1); then
    echo "$mode: $(grep -c 'created (server dry run)' <<<"$out") objects accepted by the API server"
  else
    fail "kubectl apply --dry-run=server of the rendered chart ($mode): $out"
  fi
done

step "helm install $release into $ns"
start=$(date +%s)
h install "$release" "$chart" -n "$ns" --create-namespace --wait --timeout 90s \
  --set image.repository=registry.invalid/gantry --set grafanaDashboard.enabled=true \
  >"$cache/notes" || fail "helm install did not become ready"
echo "installed and Available in $(($(date +%s) - start))s"
grep -q "rbac.sync.clusterAdmin=true" "$cache/notes" || fail "NOTES do not explain rbac.sync"
grep -q "get lease gantry-leader" "$cache/notes" || fail "NOTES do not show the leader lease"

step "objects"
ready=$(k -n "$ns" get deployment "$full" -o jsonpath='{.status.readyReplicas}')
[[ $ready == 2 ]] || fail "Deployment $ns/$full has $ready ready replicas, want 2"
for o in serviceaccount/$full service/$full-metrics service/$full-webhook \
  role/$full-leader-election rolebinding/$full-leader-election configmap/$full-dashboard; do
  k -n "$ns" get "$o" >/dev/null || fail "$o missing in $ns"
done
for o in clusterrole/$full clusterrolebinding/$full clusterrole/$full-cluster-reads; do
  k get "$o" >/dev/null || fail "$o missing"
done
for crd in crds/*.yaml; do
  k get crd "$(basename "$crd" .yaml)" >/dev/null || fail "CRD $(basename "$crd" .yaml) missing"
done
eps=$(k -n "$ns" get endpointslices -l kubernetes.io/service-name="$full-metrics" \
  -o jsonpath='{.items[*].endpoints[?(@.conditions.ready==true)].addresses[0]}' | wc -w)
[[ $eps == 2 ]] || fail "service $full-metrics has $eps endpoints, want 2"

step "the ServiceAccount's rights, as the API server authorizes them (cluster-wide mode)"
can watch gantry.io rollouts "$apps"
can update gantry.io rollouts/status "$apps"
can create apps replicasets "$apps"
can patch gateway.networking.k8s.io httproutes "$apps"
can create batch jobs "$apps"
can get "" secrets "$apps"
can create "" events "$apps"
can create events.k8s.io events "$apps"
can list "" namespaces
can update coordination.k8s.io leases "$ns" gantry-leader
can create coordination.k8s.io leases "$ns"
can patch apps deployments "$apps"  # rbac.sync.rules default
cannot list "" secrets "$apps"
cannot delete "" pods "$apps"
cannot update coordination.k8s.io leases "$ns" other-lease
cannot create rbac.authorization.k8s.io clusterroles
cannot create apps daemonsets "$apps"  # not in rbac.sync.rules
cannot update coordination.k8s.io leases "$apps" gantry-leader

step "helm upgrade --set watchNamespace=$apps"
h upgrade "$release" "$chart" -n "$ns" --reuse-values --set watchNamespace="$apps" --wait \
  --timeout 60s >/dev/null || fail "helm upgrade to watchNamespace"
k get clusterrole "$full" >/dev/null 2>&1 && fail "ClusterRole $full still exists"
k -n "$apps" get role "$full" >/dev/null || fail "Role $apps/$full missing"
args=$(k -n "$ns" get deployment "$full" -o jsonpath='{.spec.template.spec.containers[0].args}')
[[ $args == *"--namespace=$apps"* ]] || fail "Deployment args lack --namespace=$apps: $args"
can watch gantry.io rollouts "$apps"
can create apps replicasets "$apps"
can get "" namespaces "" "$apps"
can list "" namespaces "" "$apps"  # list with fieldSelector metadata.name
cannot watch gantry.io rollouts default
cannot get "" secrets default
cannot get "" namespaces "" default
cannot list "" namespaces  # only by name (resourceNames), not all of them

step "helm uninstall"
h uninstall "$release" -n "$ns" --wait --timeout 60s >/dev/null || fail "helm uninstall"
left=$(k get clusterrole,clusterrolebinding -o name | grep -c "/$full" || true)
[[ $left == 0 ]] || fail "$left cluster-scoped RBAC objects of $release left after uninstall"
left=$(k -n "$ns" get deployment,service,serviceaccount,role,rolebinding,configmap -o name |
  grep -cvE '^(serviceaccount/default|configmap/kube-root-ca.crt)$' || true)
[[ $left == 0 ]] || fail "$left objects left in $ns after uninstall"
k -n "$apps" get role "$full" >/dev/null 2>&1 && fail "Role $apps/$full left after uninstall"
k get crd rollouts.gantry.io >/dev/null || fail "uninstall removed the CRDs (helm keeps crds/)"

if ((failures)); then
  echo "helm install test: $failures failure(s)" >&2
  exit 1
fi
echo "helm install test: PASS"
