#!/usr/bin/env bash
# The operator SIGKILLed at random moments while an Application syncs 500 objects, 20 times
# (KILLS), never after the commit was applied, over as many commits as that takes:
#   commit A: 500 ConfigMaps (cm-001..cm-500, value "a"), half the kills;
#   commit B: cm-101..cm-600 at value "b" (100 removed: pruned; 100 added; 400 changed);
#   commits C..M while kills are left: the same objects, every value changed.
# Each kill lands 0.3-6 s after the operator started, and the next operator must continue from
# the Application's status. The operator runs at --kube-qps 50 so that a pass of 500 objects
# (a dry run and a write each, several in flight) lasts ~20 s: at the default limits it takes
# 2-3 s, and most kills would land after the commit was applied.
# A watch on ConfigMaps records every event; at the end:
#   - the cluster equals the last commit: exactly cm-101..cm-600 at its value, Ready at it,
#     500 inventory entries without duplicates;
#   - nothing that two commits keep was ever deleted (no wrong prune): the only deletions are
#     the 100 that B removed, once each;
#   - the operator never exited on its own.
# Prints "FIGURE operator-sigkill-sync ...": recovery is the time from a restart to the new
# operator's /readyz (caches synced, controllers running); the time from the last restart to
# Ready at the commit is printed per commit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
name=kill-sync
# shellcheck source=tests/e2e/faults/lib.sh
source tests/e2e/faults/lib.sh
kills_wanted=${KILLS:-20}
objects=${OBJECTS:-500}

install_crds
k create namespace "$ns" >/dev/null

git init -q --bare -b main "$tmp/app.git"
git clone -q "$tmp/app.git" "$tmp/work" 2>/dev/null
g() { git -C "$tmp/work" -c user.name=faults -c user.email=faults@example.invalid "$@"; }
# write_commit VALUE FIRST LAST: ConfigMaps cm-FIRST..cm-LAST, 50 per file.
write_commit() {
  local i
  rm -rf "$tmp/work/app" && mkdir -p "$tmp/work/app"
  for ((i = $2; i <= $3; i++)); do
    printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%03d\ndata:\n  value: "%s"\n' \
      "$i" "$1" >>"$tmp/work/app/cms-$(((i - 1) / 50)).yaml"
  done
  g add -A && g commit -q -m "$1" && g push -q origin HEAD:main
  g rev-parse HEAD
}

applied_is() {
  [[ "$(kn get application app -o jsonpath='{.status.lastAppliedRevision}')" == "main@sha1:$1" ]] &&
    [[ "$(kn get application app -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]]
}

kills=0 recovered=0 worst_ms=0
# sync_with_kills COMMIT N: kills the operator up to N times while COMMIT syncs (never after it
# was applied), then lets the last operator converge.
sync_with_kills() {
  local commit=$1 n=$2 i t0 took
  for ((i = 0; i < n; i++)); do
    # A random moment of the pass: 0.3-6 s covers start-up, fetch, dry run and apply.
    local until=$(($(now_ms) + 300 + RANDOM % 5700))
    while (($(now_ms) < until)) && ! applied_is "$commit"; do sleep 0.2; done
    if applied_is "$commit"; then break; fi
    if ! operator_alive; then fail "the operator exited on its own before kill #$((kills + 1))"; fi
    kill_operator
    kills=$((kills + 1))
    echo "kill #$kills: $(wc -l <"$tmp/cm-events") ConfigMap events so far, applied: $(kn get application app -o jsonpath='{.status.lastAppliedRevision}' | cut -c1-20)"
    sleep_ms_between 0 500
    t0=$(now_ms)
    start_operator "${op_flags[@]}"
    if until_true 60 operator_ready; then
      took=$(($(now_ms) - t0))
      recovered=$((recovered + 1))
      if ((took > worst_ms)); then worst_ms=$took; fi
    else
      fail "restart #$kills: not ready within 60s"
    fi
  done
  t0=$(now_ms)
  until_true 240 applied_is "$commit" || die "not Ready at $commit after the kills: $(kn get application app -o jsonpath='{.status.conditions}')"
  echo "converged on ${commit:0:12} $(($(now_ms) - t0)) ms after the last restart"
}

step "commit A: $objects ConfigMaps"
ca=$(write_commit a 1 "$objects")
sample "$tmp/cm-events" configmaps --output-watch-events -o jsonpath='{.type} {.object.metadata.name}{"\n"}'
op_flags=(--kube-qps 50 --kube-burst 50)
start_operator "${op_flags[@]}"
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
YAML
t_a=$(now_ms)
sync_with_kills "$ca" $((kills_wanted / 2))
echo "commit A: $(($(now_ms) - t_a)) ms with $kills kills"

# Further commits (all values change; B also removes 100 and adds 100) until every kill landed.
value=a
while ((kills < kills_wanted)) && [[ $value != m ]]; do
  value=$(tr 'a-l' 'b-m' <<<"$value")
  step "commit ${value^^}: cm-101..cm-$((objects + 100)) at \"$value\""
  t_b=$(now_ms)
  before=$kills
  last=$(write_commit "$value" 101 $((objects + 100)))
  sync_with_kills "$last" $((kills_wanted - kills))
  echo "commit ${value^^}: $(($(now_ms) - t_b)) ms with $((kills - before)) kills"
done
((kills == kills_wanted)) || fail "only $kills kills landed during syncs"

step "final state"
want=$(for ((i = 101; i <= objects + 100; i++)); do printf 'cm-%03d=%s\n' "$i" "$value"; done)
got=$(kn get configmaps -l app.kubernetes.io/managed-by=gantry \
  -o jsonpath='{range .items[*]}{.metadata.name}={.data.value}{"\n"}{end}' | sort)
if [[ $got != "$want" ]]; then
  fail "managed ConfigMaps differ from the last commit: $(diff <(echo "$want") <(echo "$got") | head -10)"
fi
ids=$(kn get application app -o jsonpath='{range .status.inventory[*]}{.id}{"\n"}{end}')
[[ -z $(sort <<<"$ids" | uniq -d) ]] || fail "duplicate inventory entries"
[[ $(wc -l <<<"$ids") == "$objects" ]] || fail "$(wc -l <<<"$ids") inventory entries, want $objects"
operator_alive || fail "the operator exited on its own"
sleep 1
deleted=$(awk '$2 == "DELETED" {print $3}' "$tmp/cm-events" | sort)
want_deleted=$(for ((i = 1; i <= 100; i++)); do printf 'cm-%03d\n' "$i"; done)
if [[ $deleted != "$want_deleted" ]]; then
  fail "deleted ConfigMaps are not exactly the 100 commit B removed: $(diff <(echo "$want_deleted") <(echo "$deleted") | head -10)"
fi
echo "deletions: $(grep -c . <<<"$deleted"), operator starts: $op_starts"
figure operator-sigkill-sync "$kills" "$recovered" "$worst_ms"
finish
