#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, then
#   1. a release build with g++ (warnings are errors) and every ctest test,
#   2. an AddressSanitizer + UndefinedBehaviorSanitizer build with g++, every ctest test again,
#   3. the libFuzzer targets built with clang, each run briefly (IZYPOP3_FUZZ_SECONDS, default 20).
# Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/deps.sh test
jobs=$(nproc)
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"

phase() { echo "== $1 (at ${SECONDS}s)"; }
phase "release build (g++)"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DIZYPOP3_WERROR=ON >/dev/null
cmake --build build/release -j"$jobs"
phase "release tests"
ctest --test-dir build/release --output-on-failure -j"$jobs" --timeout 900

phase "sanitizer build (g++, address+undefined)"
# g++ rather than clang here: clang 14 cannot compile Asio coroutines with sanitizers
# ("Cannot represent a difference across sections").
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIZYPOP3_WERROR=ON \
  -DIZYPOP3_SANITIZE=address,undefined -DIZYPOP3_BENCH=OFF >/dev/null
cmake --build build/asan -j"$jobs"
phase "sanitizer tests"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build/asan --output-on-failure -j"$jobs" --timeout 1800

phase "fuzz targets (clang, libFuzzer + address+undefined)"
CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DIZYPOP3_SANITIZE=address,undefined -DIZYPOP3_FUZZ=ON -DIZYPOP3_BENCH=OFF >/dev/null
cmake --build build/fuzz -j"$jobs" --target fuzzers

phase "fuzz (${IZYPOP3_FUZZ_SECONDS:-20} s per target)"
dict=tests/fuzz/dict/pop3.dict
for fuzzer in build/fuzz/tests/fuzz_*; do
  [ -x "$fuzzer" ] || continue
  name=$(basename "$fuzzer")
  corpus=$(mktemp -d)
  args=(-max_total_time="${IZYPOP3_FUZZ_SECONDS:-20}" -rss_limit_mb=2048 -timeout=10)
  [ -f "$dict" ] && args+=(-dict="$dict")
  if ! "$fuzzer" "${args[@]}" "$corpus" > "build/fuzz/$name.log" 2>&1; then
    tail -50 "build/fuzz/$name.log"
    echo "fuzz target $name failed; the crashing input is in the log above"
    exit 1
  fi
  echo "$name: $(grep -Eo '#[0-9]+' "build/fuzz/$name.log" | tail -1) runs, no crash"
  rm -rf "$corpus"
done
echo "all checks passed in ${SECONDS}s"
