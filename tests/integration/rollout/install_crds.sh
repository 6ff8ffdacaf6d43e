#!/usr/bin/env bash
# Installs what the Rollout integration and e2e tests need in the control plane named by
# $KUBECONFIG, idempotently (server-side apply; CRDs are cluster-wide and never deleted here):
#   install_crds.sh gantry    the Rollout and analysis CRDs from crds/
#   install_crds.sh httproute the Gateway API HTTPRoute CRD, taken from the Go module
#                             sigs.k8s.io/gateway-api in the module cache (downloaded through
#                             the Go module proxy when missing), never copied into the repo;
#                             without Go or the proxy, httproute_minimal_crd.yaml (only when no
#                             HTTPRoute CRD is installed yet)
# Waits until the CRDs are Established. Exit 0 on success, 1 on failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
gateway_api_version=${GATEWAY_API_VERSION:-v1.2.1}
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
k() { kubectl --cache-dir="$cache" --request-timeout=30s "$@"; }

case ${1:-gantry} in
  gantry)
    files=(crds/rollouts.gantry.io.yaml crds/analysisruns.gantry.io.yaml
           crds/analysistemplates.gantry.io.yaml crds/clusteranalysistemplates.gantry.io.yaml)
    names=(rollouts.gantry.io analysisruns.gantry.io analysistemplates.gantry.io
           clusteranalysistemplates.gantry.io)
    ;;
  httproute)
    names=(httproutes.gateway.networking.k8s.io)
    command -v go >/dev/null || PATH=/usr/local/go/bin:$PATH
    dir=""
    if command -v go >/dev/null; then
      dir=$(cd "$cache" && go mod download -json "sigs.k8s.io/gateway-api@$gateway_api_version" 2>/dev/null |
            sed -nE 's/^\s*"Dir": "(.*)",?$/\1/p') || dir=""
    fi
    if [[ -n $dir && -f $dir/config/crd/standard/gateway.networking.k8s.io_httproutes.yaml ]]; then
      files=("$dir/config/crd/standard/gateway.networking.k8s.io_httproutes.yaml")
    elif k get crd "${names[0]}" >/dev/null 2>&1; then
      echo "sigs.k8s.io/gateway-api@$gateway_api_version could not be downloaded; using the HTTPRoute CRD already installed" >&2
      files=()
    else
      echo "sigs.k8s.io/gateway-api@$gateway_api_version could not be downloaded (go missing or no module proxy); installing the minimal HTTPRoute CRD of the tests" >&2
      files=(tests/integration/rollout/httproute_minimal_crd.yaml)
    fi
    ;;
  *) echo "usage: $0 gantry|httproute" >&2; exit 1 ;;
esac
for f in "${files[@]+"${files[@]}"}"; do
  k apply --server-side --force-conflicts --field-manager=gantry-tests -f "$f" >/dev/null
done
for n in "${names[@]}"; do
  k wait --for=condition=Established --timeout=60s "crd/$n" >/dev/null
done
