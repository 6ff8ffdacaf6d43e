# Helpers shared by the leader-election e2e scripts, sourced after they set $tmp: every operator
# NAME they start logs to $tmp/NAME.log.
step() { echo "=== $*"; }
now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# identity NAME: the leader-election identity NAME announced.
identity() { sed -nE 's/.*leader election: ([^ ]+) waiting for lease.*/\1/p' "$tmp/$1.log" | head -1; }
# wait_log NAME PATTERN SECONDS: waits for PATTERN (grep -E) in NAME's log; 1 on timeout.
wait_log() {
  local deadline=$(($(now_ms) + $3 * 1000))
  until grep -qsE -- "$2" "$tmp/$1.log"; do
    (($(now_ms) < deadline)) || return 1
    sleep 0.05
  done
}
# dump NAME...: the last $DUMP_LINES (default 20) lines of each log.
dump() {
  local n lines=${DUMP_LINES:-20}
  for n in "$@"; do
    echo "--- $n log (last $lines lines)"
    tail -"$lines" "$tmp/$n.log"
  done
}
