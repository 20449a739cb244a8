#!/usr/bin/env bash
# Builds the microbenchmarks in release mode and writes their figures to docs/benchmarks.md.
# Figures are throughputs measured side by side in one run on this machine; compare ratios,
# not absolute numbers, across machines.
set -euo pipefail
cd "$(dirname "$0")/../.."
.ci/deps.sh build
cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DIZYPOP3_BENCH=ON >/dev/null
cmake --build build/bench --target bench_codec >/dev/null
out=docs/benchmarks.md
{
  echo "# Benchmarks"
  echo
  echo "Produced by \`tests/bench/run.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $(uname -m))."
  echo "Do not edit by hand; run the script again."
  echo
  echo "## Codec: dot-stuffing encoder and decoder (\`bench_codec\`)"
  echo
  echo "A 1 MiB message of ~70-octet lines, some starting with '.', fed in 64 KiB chunks."
  echo
  echo '```'
  build/bench/tests/bench_codec --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    --benchmark_min_time=0.2 2>/dev/null | grep -E 'Benchmark|----|median'
  echo '```'
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"
