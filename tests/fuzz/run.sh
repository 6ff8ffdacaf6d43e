#!/usr/bin/env bash
# Runs one libFuzzer target for a while:
#
#   tests/fuzz/run.sh TARGET [SECONDS]      e.g. tests/fuzz/run.sh fuzz_expression 60
#
# Targets: one per directory in tests/fuzz/corpus (sources in tests/fuzz/<topic>/); hack/fuzz
# (make fuzz) runs them all.
# Configures build-fuzz once with clang++, ASan, UBSan and libFuzzer (GANTRY_FUZZ_BUILD_DIR
# overrides the directory), builds the target, and fuzzes starting from the seeds in
# tests/fuzz/corpus/TARGET. New interesting inputs go to BUILD/fuzz/TARGET/corpus, never into the
# seeds; a crash is saved under BUILD/fuzz/TARGET/artifacts/ and the script exits non-zero.
# Reproduce one with: BUILD/bin/TARGET path/to/crash-file
set -euo pipefail
cd "$(dirname "$0")/../.."

target=${1:?usage: tests/fuzz/run.sh TARGET [SECONDS]}
seconds=${2:-60}
build_dir=${GANTRY_FUZZ_BUILD_DIR:-build-fuzz}
seeds=tests/fuzz/corpus/$target
if [[ ! -d $seeds ]]; then
  echo "run.sh: no seed corpus $seeds; targets: $(ls tests/fuzz/corpus | tr '\n' ' ')" >&2
  exit 2
fi
command -v clang++ >/dev/null || { echo "run.sh: clang++ not found; run hack/install-deps" >&2; exit 2; }

if [[ ! -f $build_dir/build.ninja ]] || ! grep -q '^GANTRY_FUZZ:BOOL=ON' "$build_dir/CMakeCache.txt"; then
  CC=clang CXX=clang++ cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DGANTRY_FUZZ=ON -DGANTRY_SANITIZE=ON -DGANTRY_BUILD_BENCH=OFF
fi
cmake --build "$build_dir" --target "$target" -j 2

work=$build_dir/fuzz/$target
mkdir -p "$work/corpus" "$work/artifacts"
args=(-max_total_time="$seconds" -artifact_prefix="$work/artifacts/" -print_final_stats=1
      -max_len=8192 -timeout=10 -rss_limit_mb=2048)
for dict in tests/fuzz/*/"$target.dict"; do
  if [[ -f $dict ]]; then args+=(-dict="$dict"); fi
done
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
exec "$build_dir/bin/$target" "${args[@]}" "$work/corpus" "$seeds"
