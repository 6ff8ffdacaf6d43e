#!/usr/bin/env bash
# Builds the peers Gantry is benchmarked against into <repo>/.cache/bin/peers from the Go modules
# beside this script, one module per controller so that each is linked with exactly the
# dependency versions its own release pinned (see README.md):
#
#   bench/peers/build.sh [--force] [group ...]
#     groups: source-controller kustomize-controller argo-rollouts; `flux` names the first two
#     (default: all)
#
# A group is rebuilt only when its stamp (.cache/bin/peers/.stamp-<group>) does not match the
# hash of its go.mod, go.sum, ldflags, package, Go version and platform, or its binary is missing.
# When every stamp matches this script never runs `go`, so a second run costs milliseconds. The Go
# build cache is the user's default one, shared with tests/cluster/build.sh.
#
# A group that fails to build leaves .cache/bin/peers/.failed-<group> holding the command and the
# tail of its error output; the bench adapters report that file as the reason the peer is
# unavailable. A later successful build removes it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin_dir=${GANTRY_PEERS_BIN_DIR:-$repo/.cache/bin/peers}

argo_rollouts_version=1.8.5

# group_<name> sets: module (dir beside this script), ldflags, pkg (import path) and binary.
group_source-controller() {
  module=source-controller
  ldflags="-s -w"   # as upstream's Makefile; the controller reports no linked-in version
  pkg=github.com/fluxcd/source-controller
  binary=source-controller
}
group_kustomize-controller() {
  module=kustomize-controller
  ldflags="-s -w"
  pkg=github.com/fluxcd/kustomize-controller
  binary=kustomize-controller
}
group_argo-rollouts() {
  module=argo-rollouts
  local v=github.com/argoproj/argo-rollouts/utils/version
  # The variables upstream's Makefile sets, so the controller logs its real release.
  ldflags="-s -w -X $v.version=$argo_rollouts_version -X $v.gitTreeState=clean"
  ldflags+=" -X $v.buildDate=2026-01-01T00:00:00Z"
  pkg=github.com/argoproj/argo-rollouts/cmd/rollouts-controller
  binary=rollouts-controller
}
all_groups=(source-controller kustomize-controller argo-rollouts)

find_go() {
  if command -v go >/dev/null; then command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then echo /usr/local/go/bin/go
  else echo "build.sh: go not found (need Go >= 1.26 on PATH or in /usr/local/go)" >&2; return 1
  fi
}

# Read from GOROOT/VERSION rather than `go env`, so that an up-to-date tree costs no go run.
go_version() {
  local goroot
  goroot=$(dirname "$(dirname "$(readlink -f "$1")")")
  if [[ -r $goroot/VERSION ]]; then head -n1 "$goroot/VERSION"; else "$1" env GOVERSION; fi
}

# Upstream releases these controllers as static binaries built with CGO_ENABLED=0; so do we.
cgo=0

stamp_key() {  # -> hash of everything that decides the binary's content
  {
    cat "$here/$module/go.mod" "$here/$module/go.sum"
    printf '%s\n' "ldflags=$ldflags" "pkg=$pkg" "go=$(go_version "$go")" "cgo=$cgo"
    printf '%s\n' "arch=$(uname -sm)"
  } | sha256sum | cut -d' ' -f1
}

build_group() {  # group -> 0 built or current, 1 failed (reason in .failed-<group>)
  local group=$1 key start log status=0
  "group_$group"
  key=$(stamp_key)
  if [[ $force == 0 && -x $bin_dir/$binary && -f $bin_dir/.stamp-$group &&
        $(<"$bin_dir/.stamp-$group") == "$key" ]]; then
    return 0
  fi
  # Build into a scratch file and move it into place only on success, so an interrupted build
  # never leaves a half-written binary next to a stamp that claims it is current.
  scratch=$(mktemp -d "$bin_dir/.build-$group.XXXXXX")
  log=$scratch/build.log
  local cmd=(env CGO_ENABLED=$cgo "$go" build -trimpath -buildvcs=false -ldflags "$ldflags"
             -o "$scratch/$binary" "$pkg")
  echo "build.sh: building $group ($pkg) ..." >&2
  start=$SECONDS
  (cd "$here/$module" && "${cmd[@]}") >"$log" 2>&1 || status=$?
  if ((status != 0)); then
    cat "$log" >&2
    {
      echo "cd bench/peers/$module && CGO_ENABLED=$cgo $(printf '%q ' "${cmd[@]:2}")exited $status:"
      tail -n 20 "$log"
    } >"$bin_dir/.failed-$group"
    rm -rf "$scratch"
    scratch=""
    echo "build.sh: $group failed after $((SECONDS - start))s; reason in $bin_dir/.failed-$group" >&2
    return 1
  fi
  mv -f "$scratch/$binary" "$bin_dir/$binary"
  rm -rf "$scratch" "$bin_dir/.failed-$group"
  scratch=""
  echo "$key" >"$bin_dir/.stamp-$group"
  echo "build.sh: built $group in $((SECONDS - start))s" >&2
}

main() {
  force=0
  local groups=() g failed=0
  for g in "$@"; do
    case $g in
      --force) force=1 ;;
      source-controller | kustomize-controller | argo-rollouts) groups+=("$g") ;;
      flux) groups+=(source-controller kustomize-controller) ;;
      *)
        echo "usage: $0 [--force] [flux|source-controller|kustomize-controller|argo-rollouts ...]" >&2
        exit 2
        ;;
    esac
  done
  ((${#groups[@]})) || groups=("${all_groups[@]}")
  go=$(find_go)
  mkdir -p "$bin_dir"
  scratch=""
  trap '[[ -z $scratch ]] || rm -rf "$scratch"' EXIT
  # Every group is attempted even when one fails, so one broken peer never hides another.
  for g in "${groups[@]}"; do build_group "$g" || failed=1; done
  return $failed
}

main "$@"
