#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, then
#   1. a release build with g++ (warnings are errors) and every ctest test,
#   2. an AddressSanitizer + UndefinedBehaviorSanitizer build with g++, every ctest test again,
#   3. a ThreadSanitizer build with g++ of the transport and integration tests, run,
#   4. the libFuzzer targets built with clang, each run briefly (IZYPOP3_FUZZ_SECONDS, default
#      20) from the corpus kept in tests/fuzz/corpus (tests/fuzz/run_long.sh is the long run).
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
# -g1 (line tables, no variable info): the sanitizers' reports still name file and line,
# and the heaviest files compile in half the time of -g (libtransport's server.cpp: 76 s
# against 165 s on a loaded 2-core machine).
sanitizer_flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG")
cmake -S . -B build/asan -G Ninja "${sanitizer_flags[@]}" -DIZYPOP3_WERROR=ON \
  -DIZYPOP3_SANITIZE=address,undefined -DIZYPOP3_BENCH=OFF >/dev/null
cmake --build build/asan -j"$jobs"
phase "sanitizer tests"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build/asan --output-on-failure -j"$jobs" --timeout 1800

phase "thread sanitizer build (g++, thread): transport and integration tests"
# Only the two test programs with threads in them: the transport (server, client pool, penalty
# table, work gate) and the integration tests (servers with two I/O threads, the worker pool,
# sessions, delivery and a backup on one maildrop at once). g++ because that is the compiler
# of the other phases; clang 14 compiles Asio's coroutines under TSan too.
cmake -S . -B build/tsan -G Ninja "${sanitizer_flags[@]}" -DIZYPOP3_WERROR=ON \
  -DIZYPOP3_SANITIZE=thread -DIZYPOP3_BENCH=OFF >/dev/null
cmake --build build/tsan -j"$jobs" --target transport_tests integration_tests
phase "thread sanitizer tests"
# The 4 GiB streaming test has no concurrency to look at and takes minutes under TSan; it
# runs in the two phases above.
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  ctest --test-dir build/tsan -L '^(transport_tests|integration_tests)$' -E 'past_4_gib' \
  --output-on-failure -j"$jobs" --timeout 900

phase "fuzz targets (clang, libFuzzer + address+undefined, integer overflow and truncation)"
# Beside ASan and UBSan proper, clang's checks for unsigned wrap-around and implicit integer
# truncation (well defined, but in a parser almost always a bug); the standard library's
# headers are left out of them (tests/fuzz/sanitizer_ignorelist.txt).
CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DIZYPOP3_SANITIZE=address,undefined,unsigned-integer-overflow,unsigned-shift-base,implicit-integer-truncation \
  -DIZYPOP3_FUZZ=ON -DIZYPOP3_BENCH=OFF >/dev/null
cmake --build build/fuzz -j"$jobs" --target fuzzers

phase "fuzz (${IZYPOP3_FUZZ_SECONDS:-20} s per target, from tests/fuzz/corpus)"
dict=tests/fuzz/dict/pop3.dict
for fuzzer in build/fuzz/tests/fuzz_*; do
  [ -x "$fuzzer" ] || continue
  name=$(basename "$fuzzer")
  # New inputs go to a scratch directory (libFuzzer writes to the first one); the
  # repository's corpus is only read.
  corpus=$(mktemp -d)
  kept="tests/fuzz/corpus/${name#fuzz_}"
  args=(-max_total_time="${IZYPOP3_FUZZ_SECONDS:-20}" -rss_limit_mb=2048 -timeout=10
        -artifact_prefix="build/fuzz/$name-")
  [ -f "$dict" ] && args+=(-dict="$dict")
  dirs=("$corpus")
  [ -d "$kept" ] && dirs+=("$kept")
  if ! "$fuzzer" "${args[@]}" "${dirs[@]}" > "build/fuzz/$name.log" 2>&1; then
    tail -50 "build/fuzz/$name.log"
    echo "fuzz target $name failed; the crashing input is named in the log above (build/fuzz/$name-*)"
    exit 1
  fi
  echo "$name: $(grep -Eo '#[0-9]+' "build/fuzz/$name.log" | tail -1) runs, no crash"
  rm -rf "$corpus"
done
echo "all checks passed in ${SECONDS}s"
