#!/usr/bin/env bash
# Real Git servers on 127.0.0.1 for the git integration tests.
#
#   git_servers.sh start STATE_DIR GIT_PORT HTTP_PORT HTTPS_PORT SSH_PORT
#   git_servers.sh stop  STATE_DIR
#
# `start` serves every bare repository under STATE_DIR/repos (create them before or after
# starting; the servers look them up per request) through:
#   git://127.0.0.1:GIT_PORT/<name>.git                    git daemon
#   http://127.0.0.1:HTTP_PORT/basic/<name>.git             git http-backend, basic auth
#   http://127.0.0.1:HTTP_PORT/bearer/<name>.git            git http-backend, bearer token
#   https://127.0.0.1:HTTPS_PORT/public/<name>.git          TLS with a CA made here
#   https://127.0.0.1:HTTPS_PORT/basic/<name>.git           TLS + basic auth
#   ssh://USER@127.0.0.1:SSH_PORT/STATE_DIR/repos/<name>.git  sshd with a generated key
# and writes STATE_DIR/env (KEY=VALUE lines) with the ports, credentials and file paths the
# tests need. Every server listens on 127.0.0.1 only and writes its pid to STATE_DIR/*.pid;
# `stop` kills exactly those pids. The caller picks free ports (the test binds port 0).
# With GANTRY_OWNER_PID set, a reaper stops the servers once that process is gone, so a test
# that crashes or is killed leaves nothing running.
set -euo pipefail

die() {
  echo "git_servers.sh: $*" >&2
  exit 1
}

# True while process $1 runs. A server whose parent (this script) is gone may linger as a
# zombie when nothing reaps orphans; that counts as stopped.
alive() {
  local stat
  stat=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ -n $stat && $stat != Z* ]]
}

# Waits until something accepts TCP connections on 127.0.0.1:$1 (bash's /dev/tcp).
wait_for_port() {
  local port=$1 name=$2 pidfile=$3
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
      return 0
    fi
    if [[ -f $pidfile ]] && ! alive "$(cat "$pidfile")"; then
      die "${name} exited before listening on ${port}; see ${state}/${name}.log"
    fi
    sleep 0.05
  done
  die "${name} is not listening on 127.0.0.1:${port} after 5s; see ${state}/${name}.log"
}

start() {
  [[ $# == 5 ]] || die "usage: start STATE_DIR GIT_PORT HTTP_PORT HTTPS_PORT SSH_PORT"
  state=$(realpath -m "$1")
  local git_port=$2 http_port=$3 https_port=$4 ssh_port=$5
  mkdir -p "$state/repos" "$state/tls" "$state/ssh" "$state/www"
  # Whatever started before a failure is stopped again.
  trap 'stop "$state" >/dev/null 2>&1' EXIT
  local backend=/usr/lib/git-core/git-http-backend
  [[ -x $backend ]] || die "git http-backend not found at $backend (install git)"

  # Credentials the tests present. Test-only values, never used outside this directory.
  local basic_user=gantry basic_pass=basic-pass-7f3a bearer_token=bearer-token-91c4
  printf '%s:%s\n' "$basic_user" "$basic_pass" >"$state/htpasswd.plain"

  # --- git daemon ---------------------------------------------------------------------
  git daemon --listen=127.0.0.1 --port="$git_port" --reuseaddr --export-all \
    --base-path="$state/repos" --pid-file="$state/git-daemon.pid" "$state/repos" \
    >"$state/git-daemon.log" 2>&1 &

  # --- TLS: a CA and a server certificate for 127.0.0.1 -------------------------------
  (
    cd "$state/tls"
    key=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
    openssl req -x509 "${key[@]}" -days 2 -subj "/CN=Gantry Test CA" \
      -keyout ca.key -out ca.crt -addext basicConstraints=critical,CA:TRUE \
      -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
    openssl req "${key[@]}" -subj "/CN=127.0.0.1" -keyout server.key -out server.csr 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >ext.cnf
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
      -extfile ext.cnf -out server.crt 2>/dev/null
    # A second, unrelated CA: trusting it must not make the server's certificate valid.
    openssl req -x509 "${key[@]}" -days 2 -subj "/CN=Other CA" -keyout other-ca.key \
      -out other-ca.crt 2>/dev/null
  )

  # --- lighttpd: git http-backend over http and https ---------------------------------
  # /bearer goes through a CGI wrapper because lighttpd's mod_auth knows no bearer scheme;
  # the wrapper answers 401 unless the Authorization header carries the token.
  cat >"$state/bearer-backend.sh" <<EOF
#!/bin/sh
if [ "\${HTTP_AUTHORIZATION:-}" != "Bearer ${bearer_token}" ]; then
  printf 'Status: 401 Unauthorized\r\nWWW-Authenticate: Bearer realm="git"\r\n'
  printf 'Content-Type: text/plain\r\n\r\nbad token\n'
  exit 0
fi
exec ${backend}
EOF
  chmod 0755 "$state/bearer-backend.sh"
  cat >"$state/lighttpd.conf" <<EOF
server.modules = ("mod_alias", "mod_setenv", "mod_auth", "mod_authn_file", "mod_cgi",
                   "mod_openssl", "mod_accesslog")
server.document-root = "$state/www"
server.bind = "127.0.0.1"
server.port = $http_port
server.pid-file = "$state/lighttpd.pid"
server.errorlog = "$state/lighttpd.log"
accesslog.filename = "$state/lighttpd-access.log"
server.max-worker = 0
setenv.add-environment = ("GIT_PROJECT_ROOT" => "$state/repos", "GIT_HTTP_EXPORT_ALL" => "1")
\$SERVER["socket"] == "127.0.0.1:$https_port" {
  ssl.engine = "enable"
  ssl.pemfile = "$state/tls/server.crt"
  ssl.privkey = "$state/tls/server.key"
}
\$HTTP["url"] =~ "^/(public|basic)/" {
  alias.url = ("/public/" => "$backend/", "/basic/" => "$backend/")
  cgi.assign = ("" => "")
}
\$HTTP["url"] =~ "^/basic/" {
  auth.backend = "plain"
  auth.backend.plain.userfile = "$state/htpasswd.plain"
  auth.require = ("" => ("method" => "basic", "realm" => "git", "require" => "valid-user"))
}
\$HTTP["url"] =~ "^/bearer/" {
  alias.url = ("/bearer/" => "$state/bearer-backend.sh/")
  cgi.assign = ("" => "")
}
EOF
  lighttpd -tt -f "$state/lighttpd.conf" >"$state/lighttpd-check.log" 2>&1 ||
    die "lighttpd rejected its config: $(cat "$state/lighttpd-check.log")"
  lighttpd -D -f "$state/lighttpd.conf" >>"$state/lighttpd.log" 2>&1 &
  echo $! >"$state/lighttpd.pid"

  # --- sshd with a generated host key and client key ----------------------------------
  local user
  user=$(id -un)
  ssh-keygen -q -t ed25519 -N "" -C "gantry-test-host" -f "$state/ssh/host_ed25519" <<<y >/dev/null
  ssh-keygen -q -t ed25519 -N "" -C "gantry-test-client" -f "$state/ssh/client_ed25519" <<<y \
    >/dev/null
  ssh-keygen -q -t ed25519 -N "" -C "gantry-test-stranger" -f "$state/ssh/stranger_ed25519" \
    <<<y >/dev/null
  cp "$state/ssh/client_ed25519.pub" "$state/ssh/authorized_keys"
  printf '[127.0.0.1]:%s %s\n' "$ssh_port" "$(cut -d' ' -f1,2 "$state/ssh/host_ed25519.pub")" \
    >"$state/ssh/known_hosts"
  # The same host with a key that is not the server's: a client trusting only this must refuse.
  printf '[127.0.0.1]:%s %s\n' "$ssh_port" "$(cut -d' ' -f1,2 "$state/ssh/stranger_ed25519.pub")" \
    >"$state/ssh/wrong_known_hosts"
  cat >"$state/ssh/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $ssh_port
HostKey $state/ssh/host_ed25519
PidFile $state/sshd.pid
AuthorizedKeysFile $state/ssh/authorized_keys
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
AllowUsers $user
PermitUserEnvironment no
AllowTcpForwarding no
X11Forwarding no
PrintMotd no
LogLevel VERBOSE
EOF
  # sshd running as root wants its privilege-separation directory.
  if [[ $(id -u) == 0 ]]; then mkdir -p /run/sshd && chmod 0755 /run/sshd; fi
  /usr/sbin/sshd -t -f "$state/ssh/sshd_config" >"$state/sshd-check.log" 2>&1 ||
    die "sshd rejected its config: $(cat "$state/sshd-check.log")"
  /usr/sbin/sshd -D -e -f "$state/ssh/sshd_config" >"$state/sshd.log" 2>&1 &
  echo $! >"$state/sshd.pid"

  wait_for_port "$git_port" git-daemon "$state/git-daemon.pid"
  wait_for_port "$http_port" lighttpd "$state/lighttpd.pid"
  wait_for_port "$https_port" lighttpd "$state/lighttpd.pid"
  wait_for_port "$ssh_port" sshd "$state/sshd.pid"

  if [[ -n ${GANTRY_OWNER_PID:-} ]]; then
    local self
    self=$(realpath "$0")
    (
      while alive "$GANTRY_OWNER_PID"; do sleep 1; done
      GANTRY_STOPPED_BY_REAPER=1 bash "$self" stop "$state"
      rm -rf "$state"
    ) </dev/null >>"$state/reaper.log" 2>&1 &
    echo $! >"$state/reaper.pid"
  fi

  trap - EXIT
  cat >"$state/env" <<EOF
STATE_DIR=$state
REPO_ROOT=$state/repos
GIT_PORT=$git_port
HTTP_PORT=$http_port
HTTPS_PORT=$https_port
SSH_PORT=$ssh_port
SSH_USER=$user
BASIC_USER=$basic_user
BASIC_PASS=$basic_pass
BEARER_TOKEN=$bearer_token
CA_CRT=$state/tls/ca.crt
OTHER_CA_CRT=$state/tls/other-ca.crt
SSH_CLIENT_KEY=$state/ssh/client_ed25519
SSH_STRANGER_KEY=$state/ssh/stranger_ed25519
SSH_KNOWN_HOSTS=$state/ssh/known_hosts
SSH_WRONG_KNOWN_HOSTS=$state/ssh/wrong_known_hosts
EOF
}

stop() {
  [[ $# == 1 ]] || die "usage: stop STATE_DIR"
  local state pid
  state=$(realpath -m "$1")
  # An explicit stop ends the reaper; the reaper's own stop must not kill itself (bash may
  # exec the stop in the reaper's process).
  if [[ -f $state/reaper.pid && -z ${GANTRY_STOPPED_BY_REAPER:-} ]]; then
    kill "$(cat "$state/reaper.pid")" 2>/dev/null || true
  fi
  rm -f "$state/reaper.pid"
  for name in sshd lighttpd git-daemon; do
    if [[ -f $state/$name.pid ]]; then
      pid=$(cat "$state/$name.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do
        alive "$pid" || break
        sleep 0.05
      done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$state/$name.pid"
    fi
  done
}

cmd=${1:-}
shift || true
case $cmd in
  start) start "$@" ;;
  stop) stop "$@" ;;
  *) die "usage: git_servers.sh start|stop STATE_DIR ..." ;;
esac
