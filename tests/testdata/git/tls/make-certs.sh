#!/usr/bin/env bash
# Regenerates the certificates tests/unit/git/tls_verify_test.cc checks. Private keys are
# thrown away; the tests only verify. Validity: 20 years from the day this ran (2026-11-29);
# the tests pin their clock inside that window.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
days=7300
ca_ext="basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign"

ca() {  # ca NAME SUBJECT [ISSUER]
  local name=$1 subj=$2 issuer=${3:-}
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$subj" \
    -keyout "$tmp/$name.key" -out "$tmp/$name.csr" 2>/dev/null
  printf "$ca_ext\n" >"$tmp/$name.ext"
  if [[ -z $issuer ]]; then
    openssl x509 -req -in "$tmp/$name.csr" -signkey "$tmp/$name.key" -days $days \
      -extfile "$tmp/$name.ext" -out "$name.crt" 2>/dev/null
  else
    openssl x509 -req -in "$tmp/$name.csr" -CA "$issuer.crt" -CAkey "$tmp/$issuer.key" \
      -CAcreateserial -CAserial "$tmp/serial" -days $days -extfile "$tmp/$name.ext" \
      -out "$name.crt" 2>/dev/null
  fi
}

leaf() {  # leaf NAME ISSUER EXTENDED_KEY_USAGE
  local name=$1 issuer=$2 eku=$3
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
    -keyout "$tmp/$name.key" -out "$tmp/$name.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:git.example.test\nbasicConstraints=CA:FALSE\nextendedKeyUsage=%s\n' \
    "$eku" >"$tmp/$name.ext"
  openssl x509 -req -in "$tmp/$name.csr" -CA "$issuer.crt" -CAkey "$tmp/$issuer.key" \
    -CAcreateserial -CAserial "$tmp/serial" -days $days -extfile "$tmp/$name.ext" \
    -outform DER -out "$name.der" 2>/dev/null
}

ca ca "/CN=Gantry Test Root CA"
ca intermediate "/CN=Gantry Test Intermediate CA" ca
ca other-ca "/CN=Some Other CA"
leaf server ca serverAuth
leaf chained-server intermediate serverAuth
leaf client-only ca clientAuth
rm -f ./*.srl
