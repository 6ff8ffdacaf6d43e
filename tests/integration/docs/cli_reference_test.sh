#!/usr/bin/env bash
# docs/cli.md documents exactly the commands, usage lines and flags of the gantry binary
# ($GANTRY_BIN, default build/bin/gantry), read from its --help (cli_reference.py). Exit 0 or 1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
bin=${GANTRY_BIN:-build/bin/gantry}
[[ -x $bin ]] || { echo "FAIL: $bin is not built" >&2; exit 1; }
python3 tests/integration/docs/cli_reference.py "$bin" docs/cli.md
