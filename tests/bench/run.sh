#!/usr/bin/env bash
# Builds the codec microbenchmarks in release mode and writes their figures to the "Codec"
# section of docs/benchmarks.md (other sections belong to other scripts and are kept).
# Figures are throughputs measured side by side in one run on this machine; compare ratios
# (codec against the plain copy), not absolute numbers, across machines.
set -euo pipefail
cd "$(dirname "$0")/../.."
.ci/deps.sh build
cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DIZYPOP3_BENCH=ON >/dev/null
cmake --build build/bench --target bench_codec >/dev/null
section=$(mktemp)
trap 'rm -f "$section"' EXIT
{
  echo "## Codec: dot-stuffing encoder and decoder"
  echo
  echo "Written by \`tests/bench/run.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $(uname -m),"
  echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))."
  echo "A 1 MiB message of ~70-octet lines, one in twenty starting with '.', fed in 64 KiB"
  echo "chunks into a reused buffer; \`copy_baseline\` copies the same chunks and is the floor."
  echo "Medians of 5 repetitions."
  echo
  echo '```'
  build/bench/tests/bench_codec --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    --benchmark_min_time=0.2 2>/dev/null | grep -E '^Benchmark|^----|_median'
  echo '```'
} > "$section"
python3 tests/bench/replace_section.py docs/benchmarks.md \
  "## Codec: dot-stuffing encoder and decoder" "$section"
echo "wrote the Codec section of docs/benchmarks.md"
