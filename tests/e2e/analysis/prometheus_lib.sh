# A real Prometheus (Debian's `prometheus`) scraping the test-controlled exporter (exporter.py),
# both on 127.0.0.1, for analysis end-to-end tests, benchmarks and demos. Source this file:
#
#   source tests/e2e/analysis/prometheus_lib.sh
#   exporter_start "$dir" --service web      # sets EXPORTER_PID, EXPORTER_PORT, EXPORTER_URL
#   prometheus_start "$dir" "127.0.0.1:$EXPORTER_PORT"
#                                            # sets PROMETHEUS_PID, PROMETHEUS_PORT, PROMETHEUS_URL
#   prometheus_wait_for 'http_requests_total{service="web"}' 30
#   exporter_set bad                         # or good, or error-rate?value=0.2 (&service=web)
#   prometheus_stop; exporter_stop           # or leave them to prometheus_cleanup in a trap
#
# $dir is a scratch directory the caller owns (logs and the TSDB go below it). The scrape
# interval is $PROMETHEUS_SCRAPE_INTERVAL (default 1s). With PROMETHEUS_BASIC_AUTH=user:password
# set before prometheus_start, Prometheus answers only requests with those credentials (its
# --web.config.file; the helpers here send them). Each function returns non-zero with a
# message on stderr (and the log's tail) when something does not come up; nothing here exits.

PROMETHEUS_SCRAPE_INTERVAL=${PROMETHEUS_SCRAPE_INTERVAL:-1s}
EXPORTER_PY="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/exporter.py"

_prom_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

_prom_curl() {
  if [[ -n ${PROMETHEUS_BASIC_AUTH:-} ]]; then
    curl -fsS -u "$PROMETHEUS_BASIC_AUTH" "$@"
  else
    curl -fsS "$@"
  fi
}

# exporter_start DIR [exporter.py args...]
exporter_start() {
  local dir=$1
  shift
  mkdir -p "$dir"
  rm -f "$dir/exporter.port"
  python3 "$EXPORTER_PY" --port 0 --port-file "$dir/exporter.port" "$@" >"$dir/exporter.log" 2>&1 &
  EXPORTER_PID=$!
  local i
  for i in $(seq 100); do
    [[ -s $dir/exporter.port ]] && break
    kill -0 "$EXPORTER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [[ ! -s $dir/exporter.port ]]; then
    echo "exporter.py did not start; its log:" >&2
    cat "$dir/exporter.log" >&2
    return 1
  fi
  EXPORTER_PORT=$(cat "$dir/exporter.port")
  EXPORTER_URL="http://127.0.0.1:$EXPORTER_PORT"
}

# exporter_set good|bad|error-rate?value=R [service]
exporter_set() {
  local path=$1 sep='?'
  [[ $path == *'?'* ]] && sep='&'
  [[ -n ${2:-} ]] && path="$path${sep}service=$2"
  curl -fsS -X POST "$EXPORTER_URL/$path" >/dev/null
}

exporter_stop() {
  if [[ -n ${EXPORTER_PID:-} ]]; then
    kill -TERM "$EXPORTER_PID" 2>/dev/null || true
    wait "$EXPORTER_PID" 2>/dev/null || true
    EXPORTER_PID=""
  fi
  return 0
}

# prometheus_start DIR TARGET... (host:port of each scrape target)
prometheus_start() {
  local dir=$1
  shift
  command -v prometheus >/dev/null || {
    echo "prometheus is not installed (hack/install-deps installs Debian's package)" >&2
    return 1
  }
  mkdir -p "$dir/prometheus"
  PROMETHEUS_LOG_DIR="$dir/prometheus"
  local targets="" t
  for t in "$@"; do targets+="'$t',"; done
  cat >"$dir/prometheus/prometheus.yml" <<YAML
global:
  scrape_interval: $PROMETHEUS_SCRAPE_INTERVAL
  evaluation_interval: $PROMETHEUS_SCRAPE_INTERVAL
scrape_configs:
  - job_name: exporter
    static_configs:
      - targets: [${targets%,}]
YAML
  local web_config=()
  if [[ -n ${PROMETHEUS_BASIC_AUTH:-} ]]; then
    # bcrypt at the lowest cost: Prometheus checks it on every request.
    local hash
    hash=$(python3 -W ignore -c 'import crypt, sys
print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))' \
      "${PROMETHEUS_BASIC_AUTH#*:}") || { echo "cannot bcrypt the password (python3 crypt)" >&2; return 1; }
    printf 'basic_auth_users:\n  %s: %s\n' "${PROMETHEUS_BASIC_AUTH%%:*}" "$hash" \
      >"$dir/prometheus/web.yml"
    web_config=(--web.config.file="$dir/prometheus/web.yml")
  fi
  local attempt i
  for attempt in 1 2 3; do
    PROMETHEUS_PORT=$(_prom_free_port)
    prometheus --config.file="$dir/prometheus/prometheus.yml" \
      --storage.tsdb.path="$dir/prometheus/data" "${web_config[@]}" \
      --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" >>"$dir/prometheus/prometheus.log" 2>&1 &
    PROMETHEUS_PID=$!
    PROMETHEUS_URL="http://127.0.0.1:$PROMETHEUS_PORT"
    for i in $(seq 300); do
      _prom_curl -o /dev/null "$PROMETHEUS_URL/-/ready" 2>/dev/null && return 0
      kill -0 "$PROMETHEUS_PID" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$PROMETHEUS_PID" 2>/dev/null || true
    wait "$PROMETHEUS_PID" 2>/dev/null || true
    PROMETHEUS_PID=""
  done
  echo "prometheus did not become ready on 127.0.0.1; its log ends:" >&2
  tail -20 "$dir/prometheus/prometheus.log" >&2
  return 1
}

prometheus_stop() {
  if [[ -n ${PROMETHEUS_PID:-} ]]; then
    kill -TERM "$PROMETHEUS_PID" 2>/dev/null || true
    wait "$PROMETHEUS_PID" 2>/dev/null || true
    PROMETHEUS_PID=""
  fi
  return 0
}

# prometheus_query EXPR: the /api/v1/query answer (JSON) on stdout.
prometheus_query() {
  _prom_curl --max-time 5 "$PROMETHEUS_URL/api/v1/query" --data-urlencode "query=$1"
}

# prometheus_value EXPR: the first sample's value ("" when the vector is empty).
prometheus_value() {
  prometheus_query "$1" | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
if isinstance(r, list):
    print(r[0]["value"][1] if r else "")
else:
    print(r[1])'
}

# prometheus_wait_for EXPR SECONDS: until EXPR has a sample (the target was scraped).
prometheus_wait_for() {
  local deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    [[ -n $(prometheus_value "$1" 2>/dev/null) ]] && return 0
    sleep 0.5
  done
  echo "prometheus has no sample of $1 after $2s; its log ends:" >&2
  tail -10 "$PROMETHEUS_LOG_DIR/prometheus.log" 2>/dev/null >&2
  return 1
}

# prometheus_cleanup: for an EXIT trap.
prometheus_cleanup() {
  prometheus_stop
  exporter_stop
}
