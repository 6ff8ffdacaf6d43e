#!/usr/bin/env bash
# sample.sh FILE CACHE_DIR KUBECTL-ARGS...: runs `kubectl KUBECTL-ARGS --watch` again and again
# (a watch ends when the API server restarts) and appends every line it prints to FILE as
# "<epoch_ms> <line>". Started by lib.sh's sample() in a process group of its own.
file=$1 cache=$2
shift 2
while true; do
  kubectl --cache-dir="$cache" "$@" --watch 2>>"$file.err" |
    while IFS= read -r line; do echo "$((${EPOCHREALTIME/./} / 1000)) $line"; done >>"$file"
  sleep 0.5
done
