#!/usr/bin/env bash
# deploy/helm/gantry without a cluster: `helm lint`, what `helm template` renders (RBAC in both
# modes, the Deployment's hardening, optional objects), values.schema.json rejecting bad values,
# and the CRDs coming from the repository's crds/ through the symlink, from the chart directory
# and from a `helm package`d chart. Needs helm (hack/cluster builds it into .cache/bin) and
# python3 with PyYAML. Exit 0 on success, 1 on failure, 77 (skipped) without helm.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
here=tests/integration/helm
chart=deploy/helm/gantry
[[ -x .cache/bin/helm ]] && PATH=$PWD/.cache/bin:$PATH
if ! command -v helm >/dev/null; then
  echo "SKIP: helm is not on PATH (hack/cluster up builds it into .cache/bin)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
step() { echo "=== $*"; }
# helm warns on stderr about following the crds symlink; keep stderr for real errors only.
render() { helm template t "$@" 2> >(grep -v 'found symbolic link' >&2); }

step "helm lint --strict (cluster-wide and namespaced)"
helm lint --strict "$chart" 2>&1 | grep -v 'found symbolic link' || fail "helm lint"
helm lint --strict "$chart" --set watchNamespace=apps >/dev/null 2>&1 ||
  fail "helm lint with watchNamespace=apps"

step "helm template: cluster-wide"
render "$chart" -n ops >"$tmp/default.yaml" || fail "helm template (defaults)"
python3 $here/render.py cluster_wide <"$tmp/default.yaml" || fail "cluster-wide rendering"

step "helm template: watchNamespace=apps"
render "$chart" -n ops --set watchNamespace=apps >"$tmp/ns.yaml" || fail "helm template (ns)"
python3 $here/render.py namespaced <"$tmp/ns.yaml" || fail "namespaced rendering"

step "helm template: rbac.sync.clusterAdmin, ingress, ServiceMonitor, extraArgs"
render "$chart" -n ops --set rbac.sync.clusterAdmin=true >"$tmp/admin.yaml" || fail "clusterAdmin"
python3 $here/render.py cluster_admin <"$tmp/admin.yaml" || fail "clusterAdmin rendering"
render "$chart" -n ops --set webhook.ingress.enabled=true --set metrics.serviceMonitor.enabled=true \
  --set 'extraArgs={--kube-qps=7}' --set logFormat=text >"$tmp/opts.yaml" || fail "options"
python3 $here/render.py options <"$tmp/opts.yaml" || fail "options rendering"

step "helm template: grafanaDashboard (off by default; on: a valid dashboard ConfigMap)"
if grep -q 'grafana_dashboard' "$tmp/default.yaml"; then
  fail "the dashboard ConfigMap is rendered although grafanaDashboard.enabled is false"
fi
render "$chart" -n ops --set grafanaDashboard.enabled=true --set grafanaDashboard.namespace=grafana \
  --set grafanaDashboard.labels.grafana_folder=Gantry >"$tmp/dash.yaml" || fail "grafanaDashboard"
if names=$(python3 $here/dashboard_metrics.py validate "$tmp/dash.yaml"); then
  echo "dashboard JSON valid; it queries $(wc -l <<<"$names") metric names"
else
  fail "dashboard: $names"
fi
python3 - "$tmp/dash.yaml" <<'PY' || fail "dashboard ConfigMap metadata"
import sys, yaml
cm = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] == "ConfigMap"][0]
md = cm["metadata"]
assert md["namespace"] == "grafana", md["namespace"]
assert md["labels"]["grafana_dashboard"] == "1" and md["labels"]["grafana_folder"] == "Gantry", md
PY

step "values.schema.json and template checks reject bad values"
reject() {  # reject "<expected message>" --set ...
  local want=$1
  shift
  if out=$(helm template t "$chart" "$@" 2>&1); then
    fail "accepted $*"
  elif ! grep -qF -- "$want" <<<"$out"; then
    fail "$* rejected without '$want': $out"
  else
    echo "rejected $*: $(grep -F -- "$want" <<<"$out" | head -1 | sed 's/^ *//')"
  fi
}
reject "/concurrency" --set concurrency=0
reject "/logFormat" --set logFormat=xml
reject "/grafanaDashboard" --set grafanaDashboard.enable=true
reject "/image/pullPolicy" --set image.pullPolicy=Sometimes
reject "/watchNamespace" --set watchNamespace=Not_A_Namespace
reject "bogus" --set bogus=1
reject "/rbac/sync/rules/0/verbs/0" --set 'rbac.sync.rules[0].apiGroups={apps}' \
  --set 'rbac.sync.rules[0].resources={deployments}' --set 'rbac.sync.rules[0].verbs={steal}'
reject "needs leaderElection.enabled" --set leaderElection.enabled=false
render "$chart" --set leaderElection.enabled=false --set replicaCount=1 >/dev/null ||
  fail "one replica without leader election must render"

step "CRDs: one source of truth (crds/), from the directory and from helm package"
[[ -L $chart/crds && $(readlink $chart/crds) == ../../../crds ]] ||
  fail "$chart/crds must be a symlink to ../../../crds"
want=$(for f in crds/*.yaml; do basename "$f" .yaml; done | sort)
render "$chart" --include-crds | python3 $here/render.py crds >"$tmp/dir-crds" || fail "dir crds"
[[ $(cat "$tmp/dir-crds") == "$want" ]] || fail "chart dir CRDs: $(cat "$tmp/dir-crds")"
helm package "$chart" -d "$tmp" >/dev/null 2>&1 || fail "helm package"
pkg=$(ls "$tmp"/gantry-*.tgz)
helm template t "$pkg" --include-crds 2>/dev/null | python3 $here/render.py crds >"$tmp/pkg-crds" ||
  fail "packaged crds"
[[ $(cat "$tmp/pkg-crds") == "$want" ]] || fail "packaged chart CRDs: $(cat "$tmp/pkg-crds")"
mkdir "$tmp/x" && tar xzf "$pkg" -C "$tmp/x"
for f in crds/*.yaml; do
  cmp -s "$f" "$tmp/x/gantry/$f" || fail "packaged $f differs from the repository's"
done
echo "$(wc -l <<<"$want") CRDs, identical in the directory chart and $(basename "$pkg")"

if ((failures)); then
  echo "helm chart test: $failures failure(s)" >&2
  exit 1
fi
echo "helm chart test: PASS"
