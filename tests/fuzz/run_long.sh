#!/usr/bin/env bash
# The long fuzzing run: every target (or the ones named) for SECONDS each, one after the
# other, starting from the corpus kept in the repository (tests/fuzz/corpus/<target>/). New
# inputs go to a scratch directory while the target runs; afterwards the repository corpus
# is replaced by the minimal set (-merge=1) that keeps all features of the old corpus and the
# new inputs, so it stays small. A crash, leak, timeout or sanitizer report stops the run
# with the reproducer under build/fuzz/long/ (or IZYPOP3_FUZZ_OUT).
#
# usage: nice -n 19 tests/fuzz/run_long.sh [SECONDS [TARGET...]]    (default 600 s each)
#   IZYPOP3_FUZZ_RUNS=N   stop a target after N executions, if that comes before SECONDS
#   IZYPOP3_FUZZ_DIR=DIR  the fuzz build (default build/fuzz, made as tests/check.sh does)
#   IZYPOP3_FUZZ_OUT=DIR  logs, reproducers and the table (default DIR/long), so that two runs
#                         over different targets can go on at once
# Prints a Markdown table: executions, seconds, executions per second, coverage (edges,
# "cov") and features ("ft") at the end, corpus files and size after the merge; the same
# table is left in build/fuzz/long/summary.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-600}
shift || true
fuzz=${IZYPOP3_FUZZ_DIR:-build/fuzz}
dict=tests/fuzz/dict/pop3.dict
out=${IZYPOP3_FUZZ_OUT:-$fuzz/long}
mkdir -p "$out"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$fuzz"/tests/fuzz_*; do [ -x "$f" ] && targets+=("${f##*/fuzz_}"); done
fi
[ ${#targets[@]} -gt 0 ] || { echo "run_long: no fuzz targets in $fuzz/tests; build them first (see tests/check.sh)"; exit 1; }

summary="$out/summary.md"
{
  echo "| target | executions | seconds | exec/s | cov | ft | corpus files | corpus KiB |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
} > "$summary"

for name in "${targets[@]}"; do
  fuzzer="$fuzz/tests/fuzz_$name"
  [ -x "$fuzzer" ] || { echo "run_long: no target $fuzzer"; exit 1; }
  corpus="tests/fuzz/corpus/$name"
  mkdir -p "$corpus" "$scratch/$name.new" "$scratch/$name.min"
  args=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
        -artifact_prefix="$out/$name-")
  [ -n "${IZYPOP3_FUZZ_RUNS:-}" ] && args+=(-runs="$IZYPOP3_FUZZ_RUNS")
  [ -f "$dict" ] && args+=(-dict="$dict")
  echo "== $name: up to $seconds s from $(ls "$corpus" | wc -l) corpus files" >&2
  start=$SECONDS
  if ! "$fuzzer" "${args[@]}" "$scratch/$name.new" "$corpus" > "$out/$name.log" 2>&1; then
    tail -40 "$out/$name.log"
    echo "run_long: $name failed; the reproducer is named in $out/$name.log (artifact prefix $out/$name-)"
    exit 1
  fi
  took=$((SECONDS - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$name.log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out/$name.log" | tail -1)
  cov=$(grep -Eo 'cov: [0-9]+' "$out/$name.log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -Eo 'ft: [0-9]+' "$out/$name.log" | tail -1 | cut -d' ' -f2)
  # The smallest set with every feature of the old corpus and of what this run found.
  "$fuzzer" -merge=1 "$scratch/$name.min" "$corpus" "$scratch/$name.new" > "$out/$name.merge.log" 2>&1 || {
    tail -20 "$out/$name.merge.log"; echo "run_long: merging the $name corpus failed"; exit 1; }
  rm -rf "$corpus"
  mkdir -p "$corpus"
  cp "$scratch/$name.min"/* "$corpus"/ 2>/dev/null || true
  files=$(ls "$corpus" | wc -l)
  kib=$(( $(cat "$corpus"/* 2>/dev/null | wc -c) / 1024 ))
  echo "| $name | $execs | $took | $rate | $cov | $ft | $files | $kib |" | tee -a "$summary"
done
echo "run_long: all targets ran without a crash; table in $summary" >&2
