#!/usr/bin/env bash
# No secret value leaks, end to end. The real `gantry operator` ($GANTRY_BIN, scoped to a
# namespace of this run, debug logging) runs a scenario that uses every kind of secret it
# handles, once with text logs and once (after a restart) with JSON logs:
#   - Git credentials: basic-auth password (http), bearer token (http), SSH private key, each a
#     GitRepository served by tests/integration/git/git_servers.sh;
#   - webhook tokens: GitHub (X-Hub-Signature-256), GitLab (X-Gitlab-Token) and generic
#     (X-Signature), one per GitRepository, each sent both right and wrong;
#   - a Secret in an Application's manifests, edited by hand and shown by `gantry app diff`;
#   - an AnalysisRun arg from a secretKeyRef, sent as a Prometheus bearer header to a local
#     server that only answers when the header is right.
# Then every secret value (and its base64 form) is searched for in both operator logs, all
# Events of the namespace, every Gantry object (spec and status), `gantry app diff` output and
# /metrics: none may appear.
# Also: a webhook body over 1 MiB is answered 413; TLS is verified by default for Git over
# https (a GitRepository without ca.crt is refused as not trusted) and for analysis providers
# (a Prometheus with a self-signed certificate is an Error unless the metric says insecure).
#
# Exit 0 on success, 1 on failure, 77 (skipped) without KUBECONFIG or the Git server tools.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
root=$PWD
if [[ -z ${KUBECONFIG:-} ]]; then
  echo "SKIP: KUBECONFIG is not set (hack/cluster up; eval \"\$(hack/cluster env)\")"
  exit 77
fi
for tool in lighttpd sshd git-http-backend; do
  command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool || -x /usr/lib/git-core/$tool ]] ||
    { echo "SKIP: $tool is not installed (hack/install-deps)"; exit 77; }
done
bin=${GANTRY_BIN:-build/bin/gantry}
[[ -x $bin ]] || { echo "FAIL: $bin is not built" >&2; exit 1; }
bin=$(realpath "$bin")

ns=gantry-secrets-$$-$RANDOM
tmp=$(mktemp -d)
op_pid="" prom_pid="" tls_pid=""
k() { kubectl --cache-dir="$tmp/kcache" --request-timeout=20s "$@"; }
cleanup() {
  [[ -n $op_pid ]] && kill -TERM "$op_pid" 2>/dev/null && wait "$op_pid" 2>/dev/null || true
  [[ -n $prom_pid ]] && kill -TERM "$prom_pid" 2>/dev/null || true
  [[ -n $tls_pid ]] && kill -TERM "$tls_pid" 2>/dev/null || true
  "$root/tests/integration/git/git_servers.sh" stop "$tmp/git" >/dev/null 2>&1 || true
  k delete namespace "$ns" --wait=false --ignore-not-found >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
die() { echo "FAIL: $*" >&2; tail -40 "$tmp"/op-*.log >&2 || true; exit 1; }
wait_for() {  # seconds, description, command...
  local secs=$1 what=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "timed out after ${secs}s waiting for: $what"
    sleep 0.3
  done
}
free_ports() {
  python3 -c 'import socket,sys
s=[socket.socket() for _ in range(int(sys.argv[1]))]
[x.bind(("127.0.0.1",0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))' "$1"
}

k apply --server-side --force-conflicts -f crds/ >/dev/null
k wait --for=condition=Established --timeout=60s crd/gitrepositories.gantry.io \
  crd/applications.gantry.io crd/analysisruns.gantry.io >/dev/null
k create namespace "$ns" >/dev/null

# --- Git servers and the repository ---------------------------------------------------------
read -r git_port http_port https_port ssh_port metrics_port webhook_port <<<"$(free_ports 6)"
GANTRY_OWNER_PID=$$ tests/integration/git/git_servers.sh start "$tmp/git" "$git_port" \
  "$http_port" "$https_port" "$ssh_port" >"$tmp/git-servers.log" 2>&1 ||
  { cat "$tmp/git-servers.log" >&2; die "git servers did not start"; }
# shellcheck disable=SC1091
source "$tmp/git/env"
git init -q --bare -b main "$REPO_ROOT/app.git"
git clone -q "$REPO_ROOT/app.git" "$tmp/work" 2>/dev/null
manifest_secret=manifest-secret-$RANDOM$RANDOM
mkdir -p "$tmp/work/app"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  color: blue\n' \
  >"$tmp/work/app/cm.yaml"
printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: %s\n' \
  "$manifest_secret" >"$tmp/work/app/secret.yaml"
git -C "$tmp/work" add -A
git -C "$tmp/work" -c user.name=e2e -c user.email=e2e@example.invalid commit -q -m secrets
git -C "$tmp/work" push -q origin HEAD:main
git -C "$REPO_ROOT/app.git" update-server-info

github_token=gh-token-$RANDOM$RANDOM
gitlab_token=gl-token-$RANDOM$RANDOM
generic_token=gen-token-$RANDOM$RANDOM
analysis_token=prom-token-$RANDOM$RANDOM
ssh_key_line=$(sed -n 2p "$SSH_CLIENT_KEY")  # a line of the private key's body

k -n "$ns" create secret generic basic-auth --from-literal=username="$BASIC_USER" \
  --from-literal=password="$BASIC_PASS" >/dev/null
k -n "$ns" create secret generic bearer-auth --from-literal=bearerToken="$BEARER_TOKEN" >/dev/null
k -n "$ns" create secret generic ssh-auth --from-file=identity="$SSH_CLIENT_KEY" \
  --from-file=known_hosts="$SSH_KNOWN_HOSTS" >/dev/null
k -n "$ns" create secret generic hook-github --from-literal=token="$github_token" >/dev/null
k -n "$ns" create secret generic hook-gitlab --from-literal=token="$gitlab_token" >/dev/null
k -n "$ns" create secret generic hook-generic --from-literal=token="$generic_token" >/dev/null
k -n "$ns" create secret generic prom --from-literal=token="$analysis_token" >/dev/null

# --- a Prometheus that answers only with the right bearer token ----------------------------
cat >"$tmp/prom.py" <<'PY'
import http.server, ssl, sys
want = "Bearer " + sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.headers.get("Authorization") != want:
            body, code = b'{"status":"error","errorType":"unauthorized","error":"no"}', 401
        else:
            body, code = b'{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1"]}]}}', 200
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_POST = do_GET
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
if len(sys.argv) > 2:  # TLS with the given certificate and key
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[2], sys.argv[3])
    s.socket = ctx.wrap_socket(s.socket, server_side=True)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
python3 "$tmp/prom.py" "$analysis_token" >"$tmp/prom.port" &
prom_pid=$!
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$tmp/self.key" -out "$tmp/self.crt" 2>/dev/null
python3 "$tmp/prom.py" "$analysis_token" "$tmp/self.crt" "$tmp/self.key" >"$tmp/tls.port" &
tls_pid=$!
wait_for 10 "the fake Prometheus servers" bash -c "test -s $tmp/prom.port && test -s $tmp/tls.port"

# --- the operator and the objects ------------------------------------------------------------
start_operator() {  # log format
  GANTRY_GIT_CACHE_DIR=$tmp/git-cache "$bin" operator --namespace "$ns" \
    --metrics-bind-address "127.0.0.1:$metrics_port" --health-probe-bind-address 127.0.0.1:0 \
    --webhook-bind-address "127.0.0.1:$webhook_port" --log-level debug --log-format "$1" \
    >>"$tmp/op-$1.log" 2>&1 &
  op_pid=$!
}
start_operator text

repo() {  # name url secret hook
  printf -- '---\napiVersion: gantry.io/v1alpha1\nkind: GitRepository\nmetadata: {name: %s, namespace: %s}\nspec: {url: "%s", interval: 10m, secretRef: {name: %s}, webhookSecretRef: {name: %s}}\n' \
    "$1" "$ns" "$2" "$3" "$4"
}
{
  repo basic "http://127.0.0.1:$HTTP_PORT/basic/app.git" basic-auth hook-github
  repo bearer "http://127.0.0.1:$HTTP_PORT/bearer/app.git" bearer-auth hook-gitlab
  repo ssh "ssh://$SSH_USER@127.0.0.1:$SSH_PORT$REPO_ROOT/app.git" ssh-auth hook-generic
  # https without ca.crt: the test CA is not in the system trust store, so this must fail.
  printf -- '---\napiVersion: gantry.io/v1alpha1\nkind: GitRepository\nmetadata: {name: untrusted, namespace: %s}\nspec: {url: "https://127.0.0.1:%s/public/app.git", interval: 10m}\n' \
    "$ns" "$HTTPS_PORT"
  printf -- '---\napiVersion: gantry.io/v1alpha1\nkind: Application\nmetadata: {name: app, namespace: %s}\nspec: {sourceRef: {kind: GitRepository, name: basic}, path: app, targetNamespace: %s, interval: 10m, selfHeal: false}\n' \
    "$ns" "$ns"
} | k apply -f - >/dev/null

condition() {  # kind name field
  k -n "$ns" get "$1" "$2" -o jsonpath="{.status.conditions[?(@.type==\"Ready\")].$3}"
}
repo_ready() { [[ "$(condition gitrepositories.gantry.io "$1" status)" == True ]]; }
for r in basic bearer ssh; do wait_for 90 "GitRepository $r Ready" repo_ready "$r"; done
echo "ok: GitRepositories over basic auth, bearer token and SSH are Ready"
wait_for 60 "Application app Ready" bash -c "[[ \$(kubectl -n $ns get application app -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}') == True ]]"
[[ "$(k -n "$ns" get secret db -o jsonpath='{.data.password}' | base64 -d)" == "$manifest_secret" ]] ||
  fail "the manifest's Secret was not applied"
untrusted_failed() { [[ "$(condition gitrepositories.gantry.io untrusted status)" == False ]]; }
wait_for 60 "GitRepository untrusted to fail" untrusted_failed
msg=$(condition gitrepositories.gantry.io untrusted message)
grep -qi "not trusted\|certificate" <<<"$msg" || fail "untrusted https: message does not say why: $msg"
echo "ok: https Git server with an unknown CA refused by default: ${msg:0:160}"

# Webhooks: right and wrong, each provider; a body over the limit.
hook() {  # repo header-line body -> http code
  curl -s -o /dev/null -w '%{http_code}' -X POST -H "$2" --data-binary "$3" \
    "http://127.0.0.1:$webhook_port/hooks/$ns/$1"
}
body='{"ref":"refs/heads/main"}'
hmac() { printf '%s' "$2" | openssl dgst -sha256 -hmac "$1" -r | cut -d' ' -f1; }
[[ $(hook basic "X-Hub-Signature-256: sha256=$(hmac "$github_token" "$body")" "$body") == 202 ]] || fail "GitHub webhook not accepted"
[[ $(hook basic "X-Hub-Signature-256: sha256=$(hmac wrong "$body")" "$body") == 401 ]] || fail "wrong GitHub signature not refused"
[[ $(hook bearer "X-Gitlab-Token: $gitlab_token" "$body") == 202 ]] || fail "GitLab webhook not accepted"
[[ $(hook bearer "X-Gitlab-Token: ${gitlab_token}x" "$body") == 401 ]] || fail "wrong GitLab token not refused"
[[ $(hook ssh "X-Signature: sha256=$(hmac "$generic_token" "$body")" "$body") == 202 ]] || fail "generic webhook not accepted"
[[ $(hook ssh "X-Signature: sha256=$(hmac "$gitlab_token" "$body")" "$body") == 401 ]] || fail "generic webhook with another repo's token not refused"
head -c $((1024 * 1024 + 10)) /dev/zero | tr '\0' 'a' >"$tmp/big-body"
big=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "X-Gitlab-Token: $gitlab_token" \
  --data-binary "@$tmp/big-body" "http://127.0.0.1:$webhook_port/hooks/$ns/bearer")
[[ $big == 413 ]] || fail "a webhook body over 1 MiB answered $big, not 413"
echo "ok: webhooks: right signatures 202, wrong 401, over the limit $big"

# gantry app diff over a hand-edited Secret.
k -n "$ns" patch secret db --type merge -p '{"stringData":{"password":"edited-'"$manifest_secret"'"}}' >/dev/null
set +e
diff_out=$("$bin" app diff app -n "$ns" --timeout 60 2>&1)
diff_rc=$?
set -e
[[ $diff_rc == 1 ]] || fail "gantry app diff exited $diff_rc, expected 1 (changes): $diff_out"
grep -q "=== Secret $ns/db (update)" <<<"$diff_out" || fail "the diff does not show the Secret: $diff_out"

# Analysis: the token from a secretKeyRef as a bearer header; TLS verified by default.
run() {  # name address insecure
  cat <<YAML
---
apiVersion: gantry.io/v1alpha1
kind: AnalysisRun
metadata: {name: $1, namespace: $ns}
spec:
  args:
  - name: token
    valueFrom: {secretKeyRef: {name: prom, key: token}}
  metrics:
  - name: up
    successCondition: "result[0] >= 1"
    consecutiveErrorLimit: 0
    provider:
      prometheus:
        address: "$2"
        query: up
        insecure: $3
        headers: [{key: Authorization, value: "Bearer {{args.token}}"}]
YAML
}
{
  run bearer "http://127.0.0.1:$(cat "$tmp/prom.port")" false
  run selfsigned "https://127.0.0.1:$(cat "$tmp/tls.port")" false
  run optout "https://127.0.0.1:$(cat "$tmp/tls.port")" true
} | k apply -f - >/dev/null
phase() { k -n "$ns" get analysisruns.gantry.io "$1" -o jsonpath='{.status.phase}'; }
for r in bearer selfsigned optout; do
  wait_for 90 "AnalysisRun $r to end" bash -c "[[ \$(kubectl -n $ns get analysisruns.gantry.io $r -o jsonpath='{.status.phase}') =~ ^(Successful|Failed|Error)$ ]]"
done
[[ $(phase bearer) == Successful ]] || fail "the bearer header from a secretKeyRef did not reach Prometheus: $(phase bearer)"
[[ $(phase selfsigned) == Error ]] || fail "a self-signed Prometheus was not refused: $(phase selfsigned)"
k -n "$ns" get analysisruns.gantry.io selfsigned -o jsonpath='{.status.message}' | grep -qi certificate ||
  fail "the self-signed refusal does not mention the certificate"
[[ $(phase optout) == Successful ]] || fail "insecure: true did not skip verification: $(phase optout)"
echo "ok: analysis: bearer header from a secretKeyRef works; self-signed refused unless insecure"

# Restart with JSON logs; the same secrets are used again (fetches, the webhook, the diff).
curl -s "http://127.0.0.1:$metrics_port/metrics" >"$tmp/metrics-text.txt"
kill -TERM "$op_pid"; wait "$op_pid" 2>/dev/null || true
start_operator json
wait_for 30 "the operator's metrics after the restart" curl -sf "http://127.0.0.1:$metrics_port/metrics"
[[ $(hook basic "X-Hub-Signature-256: sha256=$(hmac "$github_token" "$body")" "$body") == 202 ]] || fail "GitHub webhook not accepted after restart"
[[ $(hook bearer "X-Gitlab-Token: ${gitlab_token}x" "$body") == 401 ]] || fail "wrong GitLab token not refused after restart"
"$bin" app sync app -n "$ns" >/dev/null || fail "gantry app sync failed"
set +e
diff_out2=$("$bin" app diff app -n "$ns" --timeout 60 2>&1)
set -e
for r in basic bearer ssh; do wait_for 90 "GitRepository $r Ready after restart" repo_ready "$r"; done
grep -q '"level"' "$tmp/op-json.log" || fail "the second operator did not log JSON"
curl -s "http://127.0.0.1:$metrics_port/metrics" >"$tmp/metrics-json.txt"

# --- the search -------------------------------------------------------------------------------
k -n "$ns" get events -o yaml >"$tmp/events.yaml"
k -n "$ns" get gitrepositories.gantry.io,applications.gantry.io,analysisruns.gantry.io -o yaml \
  >"$tmp/gantry-objects.yaml"
printf '%s\n%s\n' "$diff_out" "$diff_out2" >"$tmp/diff.txt"
grep -q "$ns" "$tmp/events.yaml" || fail "no Events recorded (the search would prove nothing)"
debug_lines=$(grep -c 'debug' "$tmp/op-text.log" || true)
((debug_lines > 0)) || fail "no debug lines in the text log (the search would prove nothing)"
declare -A secrets=(
  [basic-auth password]=$BASIC_PASS [bearer token]=$BEARER_TOKEN [ssh private key]=$ssh_key_line
  [github webhook token]=$github_token [gitlab webhook token]=$gitlab_token
  [generic webhook token]=$generic_token [manifest Secret]=$manifest_secret
  [analysis secretKeyRef]=$analysis_token
)
files=("$tmp/op-text.log" "$tmp/op-json.log" "$tmp/events.yaml" "$tmp/gantry-objects.yaml"
       "$tmp/metrics-text.txt" "$tmp/metrics-json.txt" "$tmp/diff.txt")
for what in "${!secrets[@]}"; do
  value=${secrets[$what]}
  [[ ${#value} -ge 8 ]] || { fail "secret $what is too short to search for"; continue; }
  b64=$(printf '%s' "$value" | base64 -w0)
  for f in "${files[@]}"; do
    if grep -qF -e "$value" -e "${b64%%=*}" "$f"; then
      fail "$what appears in $(basename "$f"): $(grep -F -e "$value" -e "${b64%%=*}" "$f" | head -2 | cut -c1-300)"
    fi
  done
done
echo "searched $(cat "${files[@]}" | wc -l) lines ($(wc -l <"$tmp/op-text.log") text log, $(wc -l <"$tmp/op-json.log") JSON log) for ${#secrets[@]} secrets"
((failures == 0)) || { echo "FAIL: $failures problem(s)"; exit 1; }
echo "PASS"
