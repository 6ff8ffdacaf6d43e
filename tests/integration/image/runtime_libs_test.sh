#!/usr/bin/env bash
# The runtime stage of the Dockerfile must install a package for every shared library that
# build/bin/gantry links, or the image starts and dies with "cannot open shared object file".
# No Docker engine runs here, so this checks the package list against ldd of the real binary.
set -euo pipefail
bin=${GANTRY_BIN:?GANTRY_BIN must point at build/bin/gantry}
dockerfile=${1:-Dockerfile}

# Packages of a Debian base image (bookworm-slim) that need not be listed.
base='^(libc6|libstdc\+\+6|libgcc-s1|zlib1g|libzstd1|liblzma5|libbz2-1.0|libcrypt1|libgcrypt20|libgpg-error0|libsystemd0|liblz4-3|libcap2|libselinux1|libpcre2-8-0|libtinfo6|libudev1|libacl1|libattr1|libaudit1|libdb5.3|libpam0g|libsemanage2|libsepol2|libmd0|libdebconfclient0)$'

runtime=$(awk '/^FROM .* AS runtime/{r=1} r' "$dockerfile" |
  sed -n '/apt-get install/,/rm -rf/p' | tr ' \\' '\n\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' |
  grep -vE '^(apt-get|install|rm|rf|useradd|ca-certificates)$' | sort -u)
[[ -n $runtime ]] || { echo "FAIL: no runtime packages found in $dockerfile"; exit 1; }

missing=0
checked=0
while read -r lib path; do
  [[ -n $path && $path != "not" ]] || { echo "FAIL: $lib is not found by ldd"; missing=1; continue; }
  real=$(readlink -f "$path")
  pkg=$(dpkg -S "$real" 2>/dev/null | head -1 | cut -d: -f1) ||
    pkg=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1) || true
  if [[ -z $pkg ]]; then
    echo "FAIL: $lib ($real) belongs to no Debian package"
    missing=1
    continue
  fi
  checked=$((checked + 1))
  if [[ $pkg =~ $base ]]; then continue; fi
  if ! grep -qx "$pkg" <<<"$runtime"; then
    echo "FAIL: gantry links $lib from package $pkg, which the runtime stage does not install"
    missing=1
  fi
done < <(ldd "$bin" | awk '/=>/ {print $1, $3}')

if ((missing)); then exit 1; fi
echo "runtime stage covers all $checked shared libraries of $bin"
