#!/usr/bin/env bash
# What /metrics costs the POP3 side: one server (fake store, http.port on), the load tool in
# `mode login` (the shortest sessions, so the per-command counting weighs most), in
# alternating runs without and with a scraper that fetches /metrics 10 times a second
# (Prometheus' usual interval is 15 s: this is 150 times that). The server's CPU includes
# rendering the scrapes. Writes the "Metrics" section of docs/benchmarks.md.
#
# usage: tests/bench/metrics.sh [seconds per run, default 6] [pairs of runs, default 3]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-6}
pairs=${2:-3}
# IZYPOP3_BIN: an izypop3 already built in release mode, instead of building one here.
if [ -z "${IZYPOP3_BIN:-}" ]; then
  cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DIZYPOP3_BENCH=ON >/dev/null
  cmake --build build/bench --target izypop3 >/dev/null
fi
bin=${IZYPOP3_BIN:-$PWD/build/bench/apps/izypop3/izypop3}
readonly clients=20
work=$(mktemp -d /tmp/izypop3-bench.XXXXXX)
pid=""; scraper=""
cleanup() {
  [ -n "$scraper" ] && kill "$scraper" 2>/dev/null || true
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

port=$(free_port); http=$(free_port)
"$bin" method serverpop3 host 127.0.0.1 port "$port" http.port "$http" password bench \
  mimestore.modhandler fake mimestore.count 10 threads 1 loglevel error \
  >"$work/server.out" 2>"$work/server.err" &
pid=$!
for _ in $(seq 100); do grep -q "HTTP on port" "$work/server.out" 2>/dev/null && break; sleep 0.1; done

# run NAME: one load run, its JSON in $work/NAME.json.
run() {
  "$bin" method test testtype load format json ip 127.0.0.1 port "$port" pass bench \
    starttls false clients "$clients" user 'u%n' sessions 0 duration "$secs" mode login \
    serverpid "$pid" >"$work/$1.json" 2>"$work/$1.err"
}
for i in $(seq "$pairs"); do
  run "plain$i"
  python3 - "$http" "$work/scrapes$i" <<'PY' &
import sys, time, urllib.request
url, n = f"http://127.0.0.1:{sys.argv[1]}/metrics", 0
end = time.monotonic() + 3600
while time.monotonic() < end:
    urllib.request.urlopen(url, timeout=10).read()
    n += 1
    open(sys.argv[2], "w").write(str(n))
    time.sleep(0.1)
PY
  scraper=$!
  run "scraped$i"
  kill "$scraper"; wait "$scraper" 2>/dev/null || true; scraper=""
done
size=$(curl -s "http://127.0.0.1:$http/metrics" | wc -c)
# The cost of one scrape alone: 2,000 in a row on one keep-alive connection, no POP3 load.
python3 tests/bench/proc_usage.py "$pid" >"$work/scrape.before"
python3 - "$http" <<'PY'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
for _ in range(2000):
    c.request("GET", "/metrics"); c.getresponse().read()
PY
python3 tests/bench/proc_usage.py "$pid" >"$work/scrape.after"

python3 - "$work" "$pairs" "$secs" "$clients" "$size" >"$work/section.md" <<'PY'
import json, sys, statistics
work, pairs, secs, clients, size = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
scrape_us = 1e6 * (json.load(open(f"{work}/scrape.after"))["cpu_s"] -
                   json.load(open(f"{work}/scrape.before"))["cpu_s"]) / 2000
order = []
for i in range(1, pairs + 1):
    order += [("plain", i), ("scraped", i)]
rows = {"plain": [], "scraped": []}
for kind, i in order:
    r = json.load(open(f"{work}/{kind}{i}.json"))
    # The load tool reports the server's CPU over the run (serverpid).
    rows[kind].append((r["sessionsPerSecond"], 1000 * r["server"]["cpuSeconds"] / max(r["completed"], 1),
                       r["latencyMs"]["p50"], r["failed"]))
print("## Metrics: what a scraper costs the POP3 side\n")
print("Written by `tests/bench/metrics.sh`. One server (`threads 1`, fake store, `http.port` on),")
print(f"the load tool with {clients} clients in `mode login` for {secs} s per run, runs alternating")
print("without and with a scraper fetching `/metrics` 10 times a second (150 times Prometheus'")
print(f"usual 15 s). One exposition is {size} octets. Server CPU includes rendering the scrapes.\n")
print("| run | sessions/s | server CPU ms/session | p50 latency ms | failed |")
print("|---|---:|---:|---:|---:|")
for kind, i in order:
    s, c, p, f = rows[kind][i - 1]
    print(f"| {kind} {i} | {s:.0f} | {c:.3f} | {p:.2f} | {f} |")
med = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)) for k, v in rows.items()}
d_rate = 100 * (med["scraped"][0] - med["plain"][0]) / med["plain"][0]
d_cpu = 100 * (med["scraped"][1] - med["plain"][1]) / med["plain"][1]
spread = max(x[1] for x in rows["plain"]) / min(x[1] for x in rows["plain"]) - 1
print(f"\nMedians: {med['plain'][0]:.0f} sessions/s without, {med['scraped'][0]:.0f} with the scraper "
      f"({d_rate:+.1f} %); server CPU per session {d_cpu:+.1f} %. The server CPU per session of the "
      f"runs without a scraper differs among themselves by up to {100 * spread:.1f} % on this shared "
      "machine: a difference smaller than that is not a measured cost.")
print(f"\nOne scrape alone (2,000 in a row on one keep-alive connection, no POP3 load) costs the "
      f"server {scrape_us:.0f} µs of CPU: at Prometheus' 15 s interval, {scrape_us / 15 / 1e4:.4f} % "
      "of one core.")
print("\nSessions per second here are bounded by the load tool and by what else runs on the "
      "shared machine, so they move between runs either way; the server's CPU per session is the "
      "figure to compare.\n")
print(f"Command: `tests/bench/metrics.sh {secs} {pairs}`")
PY
python3 tests/bench/replace_section.py docs/benchmarks.md \
  "## Metrics: what a scraper costs the POP3 side" "$work/section.md"
cat "$work/section.md"
