#!/usr/bin/env bash
# Keeps a code review true: webhook secrets are compared in constant time.
#   - ConstantTimeEquals (operator/reconcilers/webhook_receiver.cc) compares with OpenSSL's
#     CRYPTO_memcmp, whose time does not depend on where the inputs differ;
#   - nothing in that file compares a token, a signature or a digest with ==, !=, compare(),
#     strcmp or memcmp: every such comparison goes through ConstantTimeEquals;
#   - each of the three providers' checks calls ConstantTimeEquals.
# A plain `==` on a secret leaks through timing how many leading bytes an attacker guessed.
# REVIEW_FILE checks another file (to see the test fail on a planted `==`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
python3 - "${REVIEW_FILE:-operator/reconcilers/webhook_receiver.cc}" <<'PY'
import re, sys
path = sys.argv[1]
src = open(path).read()
problems = []
m = re.search(r"bool ConstantTimeEquals\([^)]*\)\s*\{(.*?)\n\}", src, re.S)
if not m:
    problems.append("no definition of ConstantTimeEquals")
elif "CRYPTO_memcmp(" not in m.group(1):
    problems.append("ConstantTimeEquals does not use CRYPTO_memcmp")
secret = r"(token|given|digest|signature|expected|HmacSha256Hex\([^()]*\)|Sha256Digest\([^()]*\))"
for n, line in enumerate(src.splitlines(), 1):
    code = line.split("//")[0]
    if re.search(secret + r"\s*(==|!=)|(==|!=)\s*" + secret + r"\b", code) or \
       re.search(r"\b(strcmp|strncmp|memcmp|bcmp)\(", code) or \
       re.search(secret + r"\.compare\(", code):
        problems.append(f"{path}:{n}: a secret compared without ConstantTimeEquals: {line.strip()}")
calls = len(re.findall(r"ConstantTimeEquals\(", src))
if calls < 3:  # the definition, the GitLab token, the HMAC of GitHub/generic
    problems.append(f"ConstantTimeEquals is called {calls - 1} time(s); want the token and HMAC checks")
for p in problems:
    print("FAIL:", p)
if problems:
    sys.exit(1)
print("ok: webhook secrets are compared only through ConstantTimeEquals (CRYPTO_memcmp)")
PY
