#!/usr/bin/env bash
# Builds the binaries of the local control plane into <repo>/.cache/bin from the Go modules
# beside this script. Each module pins one tool (see its go.mod `tool` lines); tools whose
# dependencies would fight the Kubernetes pins live in their own module.
#
#   tests/cluster/build.sh [--force] [group ...]     groups: k8s etcd kwok helm (default: all)
#
# A group is rebuilt only when its stamp (.cache/bin/.stamp-<group>) does not match the hash of
# its go.mod, go.sum, ldflags, package list, Go version and CGO setting, or a binary is missing.
# When every stamp matches, this script never runs `go`, so a second run takes milliseconds.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin_dir=${GANTRY_BIN_DIR:-$repo/.cache/bin}

k8s_version=v1.36.3
helm_version=v3.22.0

# Version stamps so `kubectl version` and GET /version report the pinned release rather than
# v0.0.0-master: tests and the operator's discovery code compare against it.
k8s_version_ldflags() {
  local pkg flags=""
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=36"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=2026-01-01T00:00:00Z"
  done
  echo "-s -w$flags"
}

# group_<name> sets: module (dir under tests/cluster), ldflags, and pkgs ("importpath=binary").
group_k8s() {
  module=k8s
  ldflags=$(k8s_version_ldflags)
  pkgs=(k8s.io/kubernetes/cmd/kube-apiserver=kube-apiserver
        k8s.io/kubernetes/cmd/kube-controller-manager=kube-controller-manager
        k8s.io/kubernetes/cmd/kube-scheduler=kube-scheduler
        k8s.io/kubernetes/cmd/kubectl=kubectl)
}
group_etcd() {
  module=etcd
  ldflags="-s -w"
  pkgs=(go.etcd.io/etcd/server/v3=etcd)
}
group_kwok() {
  module=kwok
  ldflags="-s -w"   # kwok's version lives in its source (pkg/consts.Version)
  pkgs=(sigs.k8s.io/kwok/cmd/kwok=kwok)
}
group_helm() {
  module=helm
  # chartutil's default capabilities (used by `helm template` without a cluster) follow the
  # cluster we run, not the client-go helm was built with.
  ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version"
  ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  ldflags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1"
  ldflags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=36"
  ldflags+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1"
  ldflags+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=36"
  pkgs=(helm.sh/helm/v3/cmd/helm=helm)
}
all_groups=(k8s etcd kwok helm)

find_go() {
  if command -v go >/dev/null; then command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then echo /usr/local/go/bin/go
  else echo "build.sh: go not found (need Go >= 1.26 on PATH or in /usr/local/go)" >&2; return 1
  fi
}

# The Go version is read from GOROOT/VERSION rather than `go env`, so that an up-to-date tree
# costs no go invocation at all.
go_version() {
  local goroot
  goroot=$(dirname "$(dirname "$(readlink -f "$1")")")
  if [[ -r $goroot/VERSION ]]; then head -n1 "$goroot/VERSION"; else "$1" env GOVERSION; fi
}

# Go enables cgo by default only when a C compiler is found; make that choice explicit so the
# stamp changes when it does.
cgo_setting() {
  if [[ -n ${CGO_ENABLED:-} ]]; then echo "$CGO_ENABLED"
  elif command -v "${CC:-gcc}" >/dev/null; then echo 1
  else echo 0
  fi
}

stamp_key() {  # group -> hash of everything that decides the binaries' content
  {
    cat "$here/$module/go.mod" "$here/$module/go.sum"
    printf '%s\n' "ldflags=$ldflags" "pkgs=${pkgs[*]}" "go=$(go_version "$go")"
    printf '%s\n' "cgo=$(cgo_setting)" "arch=$(uname -sm)"
  } | sha256sum | cut -d' ' -f1
}

up_to_date() {  # group key -> 0 when the stamp matches and every binary exists
  local stamp=$bin_dir/.stamp-$1 p
  [[ -f $stamp && $(<"$stamp") == "$2" ]] || return 1
  for p in "${pkgs[@]}"; do [[ -x $bin_dir/${p#*=} ]] || return 1; done
}

# `go build -o dir/` names a binary after the last element of its import path, skipping a
# major-version suffix (go.etcd.io/etcd/server/v3 -> server).
go_default_name() {
  local base=${1##*/}
  [[ $base =~ ^v[0-9]+$ ]] && base=$(basename "$(dirname "$1")")
  echo "$base"
}

build_group() {  # group
  local group=$1 key p paths=() start
  "group_$group"
  key=$(stamp_key)
  if [[ $force == 0 ]] && up_to_date "$group" "$key"; then
    return 0
  fi
  for p in "${pkgs[@]}"; do paths+=("${p%%=*}"); done
  # Build into a scratch dir and move into place only on success, so an interrupted build never
  # leaves a half-written binary next to a stamp that claims it is current. One `go build` per
  # group: the package graph is loaded once and the links run in parallel.
  scratch=$(mktemp -d "$bin_dir/.build-$group.XXXXXX")
  echo "build.sh: building $group (${paths[*]}) ..." >&2
  start=$SECONDS
  (cd "$here/$module" &&
    CGO_ENABLED=$(cgo_setting) "$go" build -trimpath -buildvcs=false -ldflags "$ldflags" \
      -o "$scratch/" "${paths[@]}")
  for p in "${pkgs[@]}"; do
    mv -f "$scratch/$(go_default_name "${p%%=*}")" "$bin_dir/${p#*=}"
  done
  rm -rf "$scratch"
  scratch=""
  echo "$key" >"$bin_dir/.stamp-$group"
  echo "build.sh: built $group in $((SECONDS - start))s" >&2
}

main() {
  force=0
  local groups=() g
  for g in "$@"; do
    case $g in
      --force) force=1 ;;
      k8s | etcd | kwok | helm) groups+=("$g") ;;
      *) echo "usage: $0 [--force] [k8s|etcd|kwok|helm ...]" >&2; exit 2 ;;
    esac
  done
  ((${#groups[@]})) || groups=("${all_groups[@]}")
  go=$(find_go)
  mkdir -p "$bin_dir"
  scratch=""
  trap '[[ -z $scratch ]] || rm -rf "$scratch"' EXIT
  for g in "${groups[@]}"; do build_group "$g"; done
}

main "$@"
