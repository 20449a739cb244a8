#!/usr/bin/env bash
# Seeds tests/fuzz/corpus/<target>/ for every fuzz target: the inputs the server transcript
# tests feed (core_tests run with IZYPOP3_FUZZ_SEEDS, written by server_transcript.hpp in
# the server_session layout) and the hand-picked inputs of tests/fuzz/seeds.py for the other
# targets. Each target merges them with -merge=1, so only inputs that add coverage are kept.
# usage: tests/fuzz/seed_corpus.sh [RELEASE_BUILD [FUZZ_BUILD]]   (build/release, build/fuzz)
set -euo pipefail
cd "$(dirname "$0")/../.."
release=${1:-build/release}
fuzz=${2:-build/fuzz}
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
IZYPOP3_FUZZ_SEEDS="$seeds" "$release/tests/core_tests" --gtest_filter='ServerSession.*' \
  > "$seeds/core_tests.log" || { tail -20 "$seeds/core_tests.log"; echo "seed_corpus: core_tests failed"; exit 1; }
python3 tests/fuzz/seeds.py "$seeds"
for fuzzer in "$fuzz"/tests/fuzz_*; do
  [ -x "$fuzzer" ] || continue
  name=${fuzzer##*/fuzz_}
  mkdir -p "tests/fuzz/corpus/$name" "$seeds/$name"
  before=$(ls "tests/fuzz/corpus/$name" | wc -l)
  "$fuzzer" -merge=1 "tests/fuzz/corpus/$name" "$seeds/$name" > "$seeds/$name.log" 2>&1 || {
    tail -20 "$seeds/$name.log"; echo "seed_corpus: merging into $name failed"; exit 1; }
  echo "$name: $(ls "$seeds/$name" | wc -l) seeds, corpus $before -> $(ls "tests/fuzz/corpus/$name" | wc -l) files"
done
