#!/usr/bin/env bash
# The runtime stage of the Dockerfile must install a package for every shared library that
# build/bin/gantry links directly (apt installs what those need in turn), and nothing else: a
# missing one makes the image die with "cannot open shared object file", an extra one only
# makes it bigger. No Docker engine runs here, so this checks the package list against the
# binary's NEEDED entries, resolved to files by ldd and to packages by dpkg.
set -euo pipefail
bin=${GANTRY_BIN:?GANTRY_BIN must point at build/bin/gantry}
dockerfile=${1:-Dockerfile}

# Packages of the Debian base image (bookworm-slim) that need not be listed.
base='^(libc6|libstdc\+\+6|libgcc-s1)$'
# Listed for what the binary does at run time rather than for linking.
not_libraries='^(ca-certificates)$'

runtime=$(awk '/^FROM .* AS runtime/{r=1} r' "$dockerfile" |
  sed -n '/apt-get install/,/rm -rf/p' | tr ' \\' '\n\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' |
  grep -vE '^(apt-get|install|rm|rf|useradd)$' | sort -u)
[[ -n $runtime ]] || { echo "FAIL: no runtime packages found in $dockerfile"; exit 1; }

declare -A path_of
while read -r lib path; do path_of[$lib]=$path; done < <(ldd "$bin" | awk '/=>/ {print $1, $3}')

failed=0
needed_pkgs=()
for lib in $(readelf -d "$bin" | awk -F'[][]' '/NEEDED/ {print $2}'); do
  path=${path_of[$lib]:-}
  [[ -n $path && $path != not ]] || { echo "FAIL: $lib is not found by ldd"; failed=1; continue; }
  pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1) ||
    pkg=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1) || true
  [[ -n $pkg ]] || { echo "FAIL: $lib ($path) belongs to no Debian package"; failed=1; continue; }
  needed_pkgs+=("$pkg")
  [[ $pkg =~ $base ]] && continue
  if ! grep -qx "$pkg" <<<"$runtime"; then
    echo "FAIL: gantry links $lib from package $pkg, which the runtime stage does not install"
    failed=1
  fi
done
for pkg in $runtime; do
  [[ $pkg =~ $not_libraries ]] && continue
  if ! printf '%s\n' "${needed_pkgs[@]}" | grep -qx "$pkg"; then
    echo "FAIL: the runtime stage installs $pkg, but gantry links no library from it"
    failed=1
  fi
done

# The kubectl plugin: a link named kubectl-gantry beside the binary, in the image as in the build.
runtime_stage=$(awk '/^FROM .* AS runtime/{r=1} r' "$dockerfile")
if ! grep -qE '^RUN ln -s gantry /usr/local/bin/kubectl-gantry$' <<<"$runtime_stage"; then
  echo "FAIL: the runtime stage does not link /usr/local/bin/kubectl-gantry to gantry"
  failed=1
fi
grep -qE '^COPY --from=build /src/build/bin/gantry /usr/local/bin/gantry$' <<<"$runtime_stage" ||
  { echo "FAIL: the runtime stage does not copy the binary to /usr/local/bin/gantry"; failed=1; }
plugin=$(dirname "$bin")/kubectl-gantry
if [[ $(readlink "$plugin" 2>/dev/null) != gantry ]]; then
  echo "FAIL: $plugin is not a link to gantry"
  failed=1
elif ! "$plugin" --help 2>&1 | grep -q 'kubectl gantry'; then
  echo "FAIL: run as kubectl-gantry, the binary does not present itself as 'kubectl gantry'"
  failed=1
fi

((failed == 0)) || exit 1
echo "runtime stage installs exactly the packages of the ${#needed_pkgs[@]} libraries $bin links"
