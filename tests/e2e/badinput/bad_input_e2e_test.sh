#!/usr/bin/env bash
# Hostile and broken input end to end: the real `gantry operator` ($GANTRY_BIN, scoped to a
# namespace of this run) against the control plane ($KUBECONFIG), a Git repository on local disk
# (file://) and a local HTTP server posing as Prometheus. Each case must leave the namespace as
# it was and say what is wrong, naming the file and line where there is one:
#
#   Applications, one per path of the same commit (each path also holds a valid ConfigMap that
#   must NOT be applied, since a commit applies all or nothing):
#     malformed    YAML that does not parse                 -> malformed/bad.yaml:<line>
#     duplicate    the same ConfigMap in two files          -> both files named
#     unknown      an object of a kind the server lacks     -> file:line and the kind
#     huge         a file over the loader's 4 MiB limit     -> the file and the limit
#     escape       a symlink to a file outside the checkout -> the link and "outside"
#     rollout      a Rollout with two strategies            -> file:line and the Rollout
#     template     an AnalysisTemplate metric with no provider
#   AnalysisRuns created with kubectl:
#     a successCondition that does not parse    -> Error, the parse error in the measurement
#     a Prometheus answering HTML, not JSON     -> Error naming the answer, nothing else created
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

ns=gantry-badinput-$$-$RANDOM
tmp=$(mktemp -d)
op_pid="" prom_pid=""
k() { kubectl --cache-dir="$tmp/kcache" --request-timeout=20s "$@"; }
cleanup() {
  [[ -n $op_pid ]] && kill -TERM "$op_pid" 2>/dev/null && wait "$op_pid" 2>/dev/null || true
  [[ -n $prom_pid ]] && kill -TERM "$prom_pid" 2>/dev/null || true
  k delete namespace "$ns" --wait=false --ignore-not-found >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
die() { echo "FAIL: $*" >&2; [[ -f $tmp/op.log ]] && tail -40 "$tmp/op.log" >&2; exit 1; }
wait_for() {  # seconds, description, command...
  local secs=$1 what=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { fail "timed out after ${secs}s waiting for: $what"; return 1; }
    sleep 0.3
  done
}

k apply --server-side --force-conflicts -f crds/ >/dev/null
k wait --for=condition=Established --timeout=60s crd/gitrepositories.gantry.io \
  crd/applications.gantry.io crd/rollouts.gantry.io crd/analysistemplates.gantry.io \
  crd/analysisruns.gantry.io >/dev/null
k create namespace "$ns" >/dev/null

# --- the repository: one good path, one path per kind of bad input --------------------------
git init -q --bare -b main "$tmp/app.git"
git clone -q "$tmp/app.git" "$tmp/work" 2>/dev/null
w=$tmp/work
echo "not for the cluster" >"$tmp/outside.yaml"
decoy() {  # dir: a valid ConfigMap beside the bad input; applying it would break all-or-nothing
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: decoy-%s\ndata:\n  k: v\n' "$1" \
    >"$w/$1/0-decoy.yaml"
}
mkdir -p "$w"/{good,malformed,duplicate,unknown,huge,escape,rollout,template}
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: good\ndata:\n  k: v\n' >"$w/good/cm.yaml"
# Line 6 has a flow mapping that never closes.
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\ndata:\n  k: {a: b\n' \
  >"$w/malformed/bad.yaml"
for f in a b; do
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: twice\ndata:\n  from: %s\n' "$f" \
    >"$w/duplicate/$f.yaml"
done
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: before}\n---\napiVersion: frobnicate.example.com/v1\nkind: Frobnicator\nmetadata:\n  name: frob\n' \
  >"$w/unknown/frob.yaml"
{
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: huge\ndata:\n  blob: "'
  head -c $((5 * 1024 * 1024)) /dev/zero | tr '\0' 'x'
  printf '"\n'
} >"$w/huge/big.yaml"
ln -s ../../outside.yaml "$w/escape/link.yaml"   # missing in the checkout: still an escape
ln -s "$tmp/outside.yaml" "$w/escape/abs.yaml"     # exists on this machine
cat >"$w/rollout/rollout.yaml" <<'YAML'
apiVersion: gantry.io/v1alpha1
kind: Rollout
metadata:
  name: two-strategies
spec:
  replicas: 1
  selector: {matchLabels: {app: r}}
  template:
    metadata: {labels: {app: r}}
    spec: {containers: [{name: r, image: registry.invalid/r:1}]}
  strategy:
    canary: {steps: [{setWeight: 20}]}
    blueGreen: {activeService: r-active}
YAML
cat >"$w/template/template.yaml" <<'YAML'
apiVersion: gantry.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: no-provider
spec:
  metrics:
  - name: error-rate
    successCondition: result[0] < 0.01
YAML
for d in malformed duplicate unknown huge escape rollout template; do decoy "$d"; done
git -C "$w" add -A
git -C "$w" -c user.name=e2e -c user.email=e2e@example.invalid commit -q -m "bad input"
git -C "$w" push -q origin HEAD:main
commit=$(git -C "$w" rev-parse HEAD)

# --- the operator --------------------------------------------------------------------------
GANTRY_GIT_CACHE_DIR=$tmp/git-cache "$bin" operator --namespace "$ns" \
  --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 \
  --webhook-bind-address 127.0.0.1:0 --log-level debug >"$tmp/op.log" 2>&1 &
op_pid=$!

app_yaml() {  # name path
  printf -- '---\napiVersion: gantry.io/v1alpha1\nkind: Application\nmetadata: {name: %s, namespace: %s}\nspec: {sourceRef: {kind: GitRepository, name: repo}, path: %s, targetNamespace: %s, interval: 10m, prune: true}\n' \
    "$1" "$ns" "$2" "$ns"
}
{
  printf 'apiVersion: gantry.io/v1alpha1\nkind: GitRepository\nmetadata: {name: repo, namespace: %s}\nspec: {url: "file://%s", interval: 10m}\n' \
    "$ns" "$tmp/app.git"
  app_yaml good good
} | k apply -f - >/dev/null
ready() {  # app status [reason]
  local got
  got=$(k -n "$ns" get application "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}/{.status.conditions[?(@.type=="Ready")].reason}')
  [[ ${got%%/*} == "$2" && (-z ${3:-} || ${got#*/} == "$3") ]]
}
wait_for 60 "the good Application to be Ready" ready good True || die "the operator does not sync"
echo "ok: a good path syncs (the operator works)"

# The namespace before the bad input: every object's kind, name and resourceVersion.
snapshot() {
  k -n "$ns" get configmaps,secrets,services,deployments,replicasets,pods,jobs,rollouts.gantry.io,analysistemplates.gantry.io \
    -o jsonpath='{range .items[*]}{.kind} {.metadata.name} {.metadata.resourceVersion}{"\n"}{end}' |
    sort
}
snapshot >"$tmp/before"

for a in malformed duplicate unknown huge escape rollout template; do app_yaml "$a" "$a"; done |
  k apply -f - >/dev/null
message() { k -n "$ns" get application "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}'; }
# expect APP MESSAGE-PATTERN...: Ready False, every extended regexp found in the message.
expect() {
  local app=$1 msg pattern
  shift
  wait_for 60 "Application $app to be refused" ready "$app" False || return 0
  msg=$(message "$app")
  for pattern in "$@"; do
    grep -Eq -- "$pattern" <<<"$msg" || { fail "$app: message lacks /$pattern/: $msg"; return 0; }
  done
  [[ "$(k -n "$ns" get application "$app" -o jsonpath='{.status.lastAttemptedRevision}')" == "main@sha1:$commit" ]] ||
    fail "$app: lastAttemptedRevision is not the bad commit"
  [[ -z "$(k -n "$ns" get application "$app" -o jsonpath='{.status.lastAppliedRevision}')" ]] ||
    fail "$app: a lastAppliedRevision was recorded"
  echo "ok: $app refused: ${msg:0:220}"
}
expect malformed 'malformed/bad\.yaml:[67]'
expect duplicate 'duplicate/a\.yaml' 'duplicate/b\.yaml' 'ConfigMap'
expect unknown 'unknown/frob\.yaml:5' 'Frobnicator'
expect huge 'huge/big\.yaml' 'limit'
expect escape 'escape/link\.yaml: symlink to \.\./\.\./outside\.yaml leads outside' \
  'escape/abs\.yaml: symlink to .*outside\.yaml leads outside'
expect rollout 'rollout/rollout\.yaml:1' 'Rollout .*two-strategies'
expect template 'template/template\.yaml:1' 'AnalysisTemplate .*no-provider' 'provider'

# --- AnalysisRuns: an expression that does not parse, a Prometheus that answers HTML --------
cat >"$tmp/prom.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<html><body>502 Bad Gateway</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_POST = do_GET
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
python3 "$tmp/prom.py" >"$tmp/prom.port" &
prom_pid=$!
wait_for 10 "the fake Prometheus" test -s "$tmp/prom.port"
prom="http://127.0.0.1:$(cat "$tmp/prom.port")"
run_yaml() {  # name condition
  cat <<YAML
apiVersion: gantry.io/v1alpha1
kind: AnalysisRun
metadata: {name: $1, namespace: $ns}
spec:
  metrics:
  - name: m
    successCondition: "$2"
    consecutiveErrorLimit: 0
    provider:
      prometheus: {address: "$prom", query: "vector(1)"}
YAML
}
{ run_yaml bad-expression 'result[0] >= (0.9'; echo ---; run_yaml not-json 'result[0] >= 0.9'; } |
  k apply -f - >/dev/null
run_done() {
  local p
  p=$(k -n "$ns" get analysisruns.gantry.io "$1" -o jsonpath='{.status.phase}')
  [[ $p == Error || $p == Failed ]]
}
for run in bad-expression not-json; do
  wait_for 60 "AnalysisRun $run to end" run_done "$run" || continue
  k -n "$ns" get analysisruns.gantry.io "$run" -o json >"$tmp/$run.json"
done
check_run() {  # run pattern...
  local run=$1 text pattern
  shift
  [[ -f $tmp/$run.json ]] || return 0
  text=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["status"]; print(s.get("phase"), s.get("message",""), *[m.get("message","") for r in s.get("metricResults",[]) for m in r.get("measurements",[])])' "$tmp/$run.json")
  for pattern in "$@"; do
    grep -Eqi -- "$pattern" <<<"$text" || { fail "$run: status lacks /$pattern/: $text"; return 0; }
  done
  echo "ok: AnalysisRun $run: ${text:0:220}"
}
check_run bad-expression '^Error' 'successCondition|condition' 'parse|expect|unexpected'
check_run not-json '^Error' 'JSON|json' 'prometheus|Prometheus'
kill -0 "$op_pid" 2>/dev/null || fail "the operator died"

# --- nothing changed -----------------------------------------------------------------------
snapshot >"$tmp/after"
if ! diff -u "$tmp/before" "$tmp/after"; then
  fail "the namespace changed while the bad input was refused (diff above)"
fi
k -n "$ns" get configmaps -o name | grep -q decoy && fail "a decoy ConfigMap was applied"
grep -q "not for the cluster" <(k -n "$ns" get configmaps -o yaml) && fail "the symlink target leaked"
((failures == 0)) || { tail -30 "$tmp/op.log" >&2; echo "FAIL: $failures problem(s)"; exit 1; }
echo "PASS"
