#!/usr/bin/env bash
# Integration test for crds/: applies every CRD to the control plane named by $KUBECONFIG
# (`hack/cluster up; eval "$(hack/cluster env)"`), then checks the schemas with real objects:
#
#   1. every CRD applies with server-side apply (idempotently: other tests apply them too) and
#      becomes Established; CRDs are cluster-wide and are never deleted here;
#   2. every object in tests/testdata/crds/good passes `kubectl apply --dry-run=server`;
#   3. every object in tests/testdata/crds/bad is rejected, and the error contains each of the
#      file's "# server-error:" lines;
#   4. the namespaced good objects are created in a namespace of this run, their status is
#      written through the status subresource (so the status schemas are checked too), and
#      `kubectl get gantry`, the printer columns and the Rollout scale subresource work.
#
# Exit 0 on success, 1 on any failure, 77 (skipped) when KUBECONFIG is not set.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."

if [[ -z ${KUBECONFIG:-} ]]; then
  echo "SKIP: KUBECONFIG is not set. Start the local control plane with 'hack/cluster up' and"
  echo "      run 'eval \"\$(hack/cluster env)\"' (make test does both)."
  exit 77
fi
command -v kubectl >/dev/null || {
  echo "FAIL: kubectl is not on PATH (eval \"\$(hack/cluster env)\" puts .cache/bin there)" >&2
  exit 1
}

good=tests/testdata/crds/good
bad=tests/testdata/crds/bad
ns=gantry-crds-test-$$-$RANDOM
# A private discovery cache: a shared one may predate the CRDs and hide the new kinds.
cache=$(mktemp -d)
k() { kubectl --cache-dir="$cache" --request-timeout=30s "$@"; }
cleanup() {
  k delete namespace "$ns" --wait=false --ignore-not-found >/dev/null 2>&1 || true
  rm -rf "$cache"
}
trap cleanup EXIT

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
step() { echo "=== $*"; }

step "apply crds/ (server-side) and wait for Established"
crd_files=(crds/*.yaml)
[[ ${#crd_files[@]} -eq 6 ]] || fail "want 6 CRD files in crds/, found ${#crd_files[@]}"
# --force-conflicts: another test or a Helm install may have applied the same CRDs under another
# field manager; the files in crds/ are the truth.
for attempt in 1 2; do  # the second apply must succeed too: applying is idempotent
  k apply --server-side --force-conflicts --field-manager=gantry-crds -f crds/ >/dev/null ||
    fail "server-side apply of crds/ failed (attempt $attempt)"
done
k wait --for=condition=NamesAccepted --timeout=60s -f crds/ >/dev/null ||
  fail "CRD names were not accepted"
k wait --for=condition=Established --timeout=60s -f crds/ || fail "CRDs did not become Established"
# Discovery cached by the calls above may predate the CRDs on a fresh cluster; start over so that
# the gantry category and short names resolve.
rm -rf "${cache:?}"/*

k create namespace "$ns" >/dev/null

step "good examples pass server-side validation"
for f in "$good"/*.yaml; do
  if out=$(k apply -n "$ns" --dry-run=server -f "$f" 2>&1); then
    echo "ok   $f"
  else
    fail "$f was rejected: $out"
  fi
done

step "bad examples are rejected with their messages"
for f in "$bad"/*.yaml; do
  mapfile -t expected < <(sed -n 's/^# server-error: //p' "$f")
  if [[ ${#expected[@]} -eq 0 ]]; then
    fail "$f has no '# server-error:' line"
    continue
  fi
  if out=$(k apply -n "$ns" --dry-run=server -f "$f" 2>&1); then
    fail "$f was accepted: $out"
    continue
  fi
  ok=1
  for e in "${expected[@]}"; do
    if [[ $out != *"$e"* ]]; then
      fail "$f: the error does not contain '$e'; it was: $out"
      ok=0
    fi
  done
  ((ok)) && echo "ok   $f"
done

step "create the namespaced examples and write their status"
for f in "$good"/*.yaml; do
  [[ $f == */clusteranalysistemplate.yaml ]] && continue  # cluster-scoped: dry run only
  # Sources are created suspended: even with an operator watching this cluster, nothing here may
  # fetch from the network. Owner references go: the garbage collector would delete an object
  # whose owner (a Rollout uid from the example) does not exist.
  patch='{"metadata":{"ownerReferences":null}}'
  if grep -q '^kind: \(GitRepository\|Application\)$' "$f"; then
    patch='{"metadata":{"ownerReferences":null},"spec":{"suspend":true}}'
  fi
  k patch --local -f "$f" --type=merge -p "$patch" -o json |
    k apply -n "$ns" --server-side --field-manager=gantry-crds-test -f - >/dev/null ||
    fail "could not create the objects of $f"
  if grep -q '^status:' "$f"; then
    if out=$(k apply -n "$ns" --server-side --field-manager=gantry-crds-test-status \
      --subresource=status -f "$f" 2>&1); then
      echo "ok   status of $f"
    else
      fail "the status in $f was rejected: $out"
    fi
  fi
done

step "kubectl get gantry lists every kind"
listing=$(k get gantry -n "$ns" 2>&1) || fail "kubectl get gantry failed: $listing"
echo "$listing"
for want in gitrepository.gantry.io/podinfo application.gantry.io/platform rollout.gantry.io/web \
  rollout.gantry.io/api analysistemplate.gantry.io/success-rate \
  analysisrun.gantry.io/web-6d4f8b7c9-2; do
  grep -q "^$want " <<<"$listing" || fail "kubectl get gantry does not list $want"
done
for short in gitrepo app ro at ar cat; do
  k get "$short" -n "$ns" >/dev/null 2>&1 || fail "short name '$short' does not resolve"
done

# expect_columns <resource> <name> <header regex> <row regex>: the table kubectl prints has the
# printer columns in order, and the object's row shows the values its status was given above.
expect_columns() {
  local table
  table=$(k get "$1" "$2" -n "$ns" 2>&1) || {
    fail "kubectl get $1 $2 failed: $table"
    return
  }
  echo "$table"
  grep -Eq "$3" <<<"$(head -n1 <<<"$table")" || fail "$1 columns: want /$3/, got: $table"
  grep -Eq "$4" <<<"$(tail -n +2 <<<"$table")" || fail "$1 $2 row: want /$4/, got: $table"
}

step "printer columns"
expect_columns rollouts.gantry.io web \
  '^NAME +DESIRED +CURRENT +UP-TO-DATE +AVAILABLE +PHASE +STEP +WEIGHT +AGE$' \
  '^web +5 +6 +1 +6 +Paused +5 +50 +[0-9]+s$'
expect_columns applications.gantry.io platform '^NAME +SOURCE +REVISION +SYNC +HEALTH +READY +AGE$' \
  '^platform +platform-config +main@sha1:1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b +Synced +Progressing +Unknown +'
expect_columns gitrepositories.gantry.io podinfo '^NAME +URL +REVISION +READY +STATUS +AGE$' \
  '^podinfo +https://github.com/stefanprodan/podinfo +master@sha1:8d5b6a4f3e2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a +True +stored artifact'
expect_columns analysisruns.gantry.io web-6d4f8b7c9-2 '^NAME +PHASE +AGE$' '^web-6d4f8b7c9-2 +Running +'

step "the scale subresource of a Rollout"
k scale rollouts.gantry.io/worker -n "$ns" --replicas=3 >/dev/null || fail "kubectl scale rollout failed"
replicas=$(k get rollouts.gantry.io worker -n "$ns" -o jsonpath='{.spec.replicas}')
[[ $replicas == 3 ]] || fail "after kubectl scale, spec.replicas is '$replicas', want 3"
scale=$(k get --raw "/apis/gantry.io/v1alpha1/namespaces/$ns/rollouts/web/scale") ||
  fail "GET rollouts/web/scale failed"
for want in '"replicas":5' '"selector":"app=web"'; do
  [[ $scale == *"$want"* ]] || fail "rollouts/web/scale lacks $want: $scale"
done

if ((failures > 0)); then
  echo "crds: $failures failure(s)" >&2
  exit 1
fi
echo "crds: all checks passed"
