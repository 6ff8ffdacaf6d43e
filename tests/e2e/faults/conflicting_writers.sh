#!/usr/bin/env bash
# Another writer (a person with kubectl, another controller) edits the objects Gantry manages,
# as fast as it can, for STORM_SECONDS (default 20) while a commit syncs and a canary rolls out:
#   - a field Gantry owns (a managed ConfigMap's data.value, with kubectl patch);
#   - fields it does not own (a label and a data key of another ConfigMap, server-side applied
#     with field manager "intruder");
#   - the Application and the Rollout themselves (annotations), which moves their
#     resourceVersions under Gantry's status writes: 409 Conflict after 409 Conflict.
# Afterwards:
#   - Gantry converged: the Application Ready at the new commit with its owned fields restored,
#     the Rollout Healthy at the new revision;
#   - it never overwrote what it does not own: the intruder's label and data key hold the
#     intruder's last values;
#   - it did not hot-loop: its reconciles per second over the storm (from the operator's own
#     gantry_reconcile_total) stay within a few per edit the intruder made, and the API
#     requests they imply within the client's rate limit (--kube-qps).
# Prints "FIGURE conflicting-writers injected=<edits> recovered=1 worst_ms=<convergence>".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
name=conflicts
# shellcheck source=tests/e2e/faults/lib.sh
source tests/e2e/faults/lib.sh
storm_seconds=${STORM_SECONDS:-20}

install_crds
k create namespace "$ns" >/dev/null

git init -q --bare -b main "$tmp/app.git"
git clone -q "$tmp/app.git" "$tmp/work" 2>/dev/null
g() { git -C "$tmp/work" -c user.name=faults -c user.email=faults@example.invalid "$@"; }
write_commit() {
  local i
  rm -rf "$tmp/work/app" && mkdir -p "$tmp/work/app"
  for ((i = 1; i <= 10; i++)); do
    printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%02d\ndata:\n  value: "%s"\n' \
      "$i" "$1" >>"$tmp/work/app/cms.yaml"
  done
  g add -A && g commit -q -m "$1" && g push -q origin HEAD:main
  g rev-parse HEAD
}
c1=$(write_commit one)
start_operator
kn apply -f - >/dev/null <<YAML
apiVersion: gantry.io/v1alpha1
kind: GitRepository
metadata: {name: repo}
spec: {url: "file://$tmp/app.git", interval: 2s}
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
---
apiVersion: v1
kind: Service
metadata: {name: web-stable}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-canary}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: gantry.io/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: "registry.local/web:1"}]}
  strategy:
    canary:
      stableService: web-stable
      canaryService: web-canary
      scaleDownDelaySeconds: 1
      steps:
      - setWeight: 34
      - pause: {duration: 3s}
      - setWeight: 67
      - pause: {duration: 3s}
YAML
applied_is() {
  [[ "$(kn get application app -o jsonpath='{.status.lastAppliedRevision}')" == "main@sha1:$1" ]] &&
    [[ "$(kn get application app -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]]
}
field() { kn get rollouts.gantry.io web -o jsonpath="$1" 2>/dev/null; }
until_true 90 applied_is "$c1" || die "commit one not applied"
until_true 90 eval '[[ $(field "{.status.phase}") == Healthy ]]' || die "the Rollout is not Healthy"

reconciles() { metric gantry_reconcile_total; }
errors() { metric 'gantry_reconcile_total{controller="application",result="error"'; }

# The intruder (intruder.py) writes straight to the API over one keep-alive connection with the
# kubeconfig's credentials: kubectl's start-up would slow it down to a few writes a second.
kubectl config view --raw --minify -o json >"$tmp/kc.json"
api=$(jq -r '.clusters[0].cluster.server' "$tmp/kc.json")
jq -r '.clusters[0].cluster["certificate-authority-data"]' "$tmp/kc.json" | base64 -d >"$tmp/ca.crt"
jq -r '.users[0].user["client-certificate-data"]' "$tmp/kc.json" | base64 -d >"$tmp/client.crt"
jq -r '.users[0].user["client-key-data"]' "$tmp/kc.json" | base64 -d >"$tmp/client.key"
rm -f "$tmp/kc.json"
intruder() {
  python3 "$faults_dir/intruder.py" "$api" "$tmp/ca.crt" "$tmp/client.crt" "$tmp/client.key" \
    "$ns" "$storm_seconds" "$tmp/edits"
}

step "storm: ${storm_seconds}s of edits while commit two syncs and revision 2 rolls out"
r0=$(reconciles)
t0=$(now_ms)
intruder &
intruder_pid=$!
bg_pids+=("$intruder_pid")
sleep 2
c2=$(write_commit two)
"$bin" rollout set-image web app=registry.local/web:2 -n "$ns" >/dev/null
wait "$intruder_pid" || true
storm_ms=$(($(now_ms) - t0))
r1=$(reconciles)
edits=$(cat "$tmp/edits")
# Each intruder round writes 4 objects; the last values it wrote:
last="i$edits"
echo "intruder: $edits rounds ($((edits * 4)) writes) in $storm_ms ms"

step "convergence"
t1=$(now_ms)
until_true 60 applied_is "$c2" || fail "commit two not applied after the storm"
healed() { [[ $(kn get configmap cm-01 -o jsonpath='{.data.value}') == two ]]; }
until_true 30 healed || fail "Gantry did not restore the field it owns (cm-01 data.value: $(kn get configmap cm-01 -o jsonpath='{.data.value}'))"
rev2() { [[ $(field '{.status.phase}') == Healthy && $(field '{.spec.template.spec.containers[0].image}') == *:2 &&
  $(field '{.status.stableRS}') == "$(field '{.status.currentPodHash}')" ]]; }
until_true 90 rev2 || fail "revision 2 did not complete after the storm: $(field '{.status.message}')"
converge_ms=$(($(now_ms) - t1))
sleep 2
cm2=$(kn get configmap cm-02 -o json)
[[ $(jq -r '.metadata.labels.intruder' <<<"$cm2") == "$last" ]] ||
  fail "the intruder's label was overwritten: $(jq -c '.metadata.labels' <<<"$cm2") (want $last)"
[[ $(jq -r '.data.extra' <<<"$cm2") == "$last" ]] ||
  fail "the intruder's data key was overwritten: $(jq -c '.data' <<<"$cm2") (want $last)"
[[ $(jq -r '.data.value' <<<"$cm2") == two ]] || fail "cm-02's owned field is not Gantry's: $(jq -c '.data' <<<"$cm2")"
[[ $(kn get application app -o jsonpath='{.metadata.annotations.intruder}') == "$last" ]] ||
  fail "the intruder's annotation on the Application was lost"
[[ $(kn get rollouts.gantry.io web -o jsonpath='{.metadata.annotations.intruder}') == "$last" ]] ||
  fail "the intruder's annotation on the Rollout was lost"
[[ $(kn get rs -o name | wc -l) == 2 ]] || fail "$(kn get rs -o name | wc -l) ReplicaSets for 2 revisions"

step "rate"
conflicts=$(grep -c "Conflict" "$tmp/operator.log" || true)
rate=$(((r1 - r0) * 1000 / storm_ms))
writes_per_s=$((edits * 4 * 1000 / storm_ms))
echo "reconciles during the storm: $((r1 - r0)) ($rate/s; the intruder wrote $writes_per_s objects/s), application errors: $(errors), conflicts logged: $conflicts"
# Without hot-looping, reconciles follow the events (a few per edit, deduplicated while
# queued) plus the rollout's own steps; a hot loop runs hundreds per second.
bound=$((writes_per_s * 3 + 10))
((rate <= bound)) || fail "$rate reconciles/s during the storm (bound $bound/s): a hot loop"
operator_alive || fail "the operator exited"
figure conflicting-writers "$((edits * 4))" "$((failures == 0 ? 1 : 0))" "$converge_ms"
finish
