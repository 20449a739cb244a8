#!/usr/bin/env bash
# Writes the "Load report" section of docs/benchmarks.md: one `report FILE` page of a short
# run against our own server in this process (login and retrall, plain), kept as
# docs/images/load-report.html, with a picture of it taken by headless Chromium
# (docs/images/load-report.png) so a reader sees it without running anything.
# usage: tests/bench/load_report.sh [/path/to/izypop3]   (default build/release/apps/izypop3/izypop3)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-build/release/apps/izypop3/izypop3}
[ -x "$bin" ] || { echo "load_report.sh: build izypop3 first (cmake --build build/release)"; exit 1; }
command -v chromium >/dev/null || { echo "load_report.sh: chromium is missing (.ci/deps.sh test)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p docs/images
"$bin" method test testtype load clients 20 sessions 0 duration 8 mode retrall starttls false \
  mimestore.count 20 report docs/images/load-report.html > "$work/text"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$work/profile" \
  --window-size=840,2000 --screenshot="$work/shot.png" "file://$PWD/docs/images/load-report.html" \
  2>/dev/null
mv "$work/shot.png" docs/images/load-report.png
{
  echo "## Load report: one run as a page"
  echo
  echo "Written by \`tests/bench/load_report.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores, shared"
  echo "with other work, so the figures say little; the page is what this section shows)."
  echo "\`method test testtype load ... report FILE\` writes the run as one HTML file with"
  echo "nothing outside it (inline SVG, no script): sessions and megabytes per second over the"
  echo "run, session and login latency histograms with p50/p90/p99 marked, errors by kind and"
  echo "the settings. This one is [docs/images/load-report.html](images/load-report.html):"
  echo
  echo '```'
  echo "izypop3 method test testtype load clients 20 sessions 0 duration 8 mode retrall starttls false mimestore.count 20 report run.html"
  cat "$work/text"
  echo '```'
  echo
  echo "![The load report of that run, as headless Chromium renders it](images/load-report.png)"
} > "$work/section"
python3 tests/bench/replace_section.py docs/benchmarks.md "## Load report: one run as a page" "$work/section"
echo "wrote docs/images/load-report.{html,png} and the Load report section of docs/benchmarks.md"
