#!/usr/bin/env bash
# Every example in the documentation is accepted by the real API server, so the docs cannot rot:
# each ```yaml block of README.md and docs/*.md (tests/integration/docs/extract_examples.py) is
# applied with `kubectl apply --dry-run=server` into a namespace of this run, against Gantry's
# CRDs as crds/ defines them today (applied first, server-side, with Gateway API's HTTPRoute).
# A block that is a deliberate fragment starts with `# docs-test: skip (why)`; the test lists
# those and keeps them few.
# Exit 0 when every example is accepted, 1 naming the Markdown file and line of each that is
# not, 77 (skipped) without KUBECONFIG.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
if [[ -z ${KUBECONFIG:-} ]]; then
  echo "SKIP: KUBECONFIG is not set (hack/cluster up; eval \"\$(hack/cluster env)\")"
  exit 77
fi
max_skipped=8  # fragments are the exception: past this many, turn some into whole examples
ns=gantry-docs-$$-$RANDOM
tmp=$(mktemp -d)
k() { kubectl --cache-dir="$tmp/kcache" --request-timeout=30s "$@"; }
cleanup() {
  k delete namespace "$ns" --wait=false --ignore-not-found >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

k apply --server-side --force-conflicts --field-manager=gantry-tests -f crds/ >/dev/null
for crd in crds/*.yaml; do
  k wait --for=condition=Established --timeout=30s "crd/$(basename "$crd" .yaml)" >/dev/null
done
# The Gateway API example needs the HTTPRoute CRD (from the Go module cache, as the Rollout tests).
bash tests/integration/rollout/install_crds.sh httproute
k create namespace "$ns" >/dev/null

failures=0
out=$(python3 tests/integration/docs/extract_examples.py "$tmp/examples" "$ns" README.md docs/*.md) ||
  failures=1
echo "$out"
skipped=$(grep -c '^skipped ' <<<"$out" || true)
if ((skipped > max_skipped)); then
  echo "FAIL: $skipped blocks are marked '# docs-test: skip'; keep fragments to $max_skipped"
  failures=$((failures + 1))
fi
total=0
while IFS=$'\t' read -r id where objects; do
  total=$((total + 1))
  if res=$(k apply --dry-run=server -f "$tmp/examples/$id.yaml" 2>&1); then
    echo "ok   $where  $objects"
  else
    echo "FAIL: $where ($objects): the API server refuses the example:"
    sed 's/^/      /' <<<"$res"
    failures=$((failures + 1))
  fi
done <"$tmp/examples/index.tsv"
((total > 0)) || { echo "FAIL: no example found in README.md or docs/"; exit 1; }
if ((failures)); then
  echo "docs examples: $failures failure(s) among $total examples" >&2
  exit 1
fi
echo "docs examples: all $total accepted by the API server ($skipped fragments skipped)"
