#!/usr/bin/env bash
# Our POP3 server against Dovecot, side by side in one run, measured by one tool
# (`izypop3 method test testtype load`): sessions per second for log-in-and-quit, MB/s for
# 50 clients retrieving the whole maildrop (99 messages, 5.2 MiB), plain and TLS, and the
# memory each idle logged-in connection costs. Both serve the same messages: the fake
# store's, delivered into Dovecot's Maildir by Dovecot's own LDA. Dovecot runs in its
# high-performance login mode (login processes serve many connections) so that it is
# measured at its best. Writes the "Servers" section of docs/benchmarks.md.
# usage: tests/bench/servers.sh [seconds per run, default 8]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-8}
.ci/deps.sh test
# IZYPOP3_BIN: an izypop3 already built in release mode, instead of building one here.
if [ -z "${IZYPOP3_BIN:-}" ]; then
  cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DIZYPOP3_BENCH=ON >/dev/null
  cmake --build build/bench --target izypop3 >/dev/null
fi
bin=${IZYPOP3_BIN:-$PWD/build/bench/apps/izypop3/izypop3}
ulimit -n "$(ulimit -Hn)"  # the idle runs hold thousands of sockets

work=$(mktemp -d /tmp/izypop3-bench.XXXXXX)
chmod 755 "$work"
ours=
cleanup() {
  # The raw reports stay for a look at what went wrong.
  mkdir -p build/bench/servers && cp "$work"/*.json "$work"/*.err build/bench/servers/ 2>/dev/null
  [ -n "$ours" ] && kill "$ours" 2>/dev/null
  tests/support/private_dovecot.sh stop "$work/dovecot" || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_ours() {
  port=$(free_port); tlsport=$(free_port)
  "$bin" method serverpop3 host 127.0.0.1 port "$port" tlsport "$tlsport" password bench \
    maxconnections 20000 maxperip 20000 loglevel error >"$work/ours.out" 2>"$work/ours.err" &
  ours=$!
  for _ in $(seq 100); do grep -q "POP3 on port" "$work/ours.out" 2>/dev/null && break; sleep 0.1; done
  fingerprint=$(sed -n 's/^TLS certificate SHA-256 fingerprint: \([0-9A-F:]*\).*/\1/p' "$work/ours.out")
}
stop_ours() { kill "$ours"; wait "$ours" 2>/dev/null || true; ours=; }

# Dovecot with the same 99 messages, fetched from our server and delivered by its LDA.
start_ours
mkdir -p "$work/msgs"
python3 - "$port" "$work/msgs" <<'PY'
import poplib, sys
p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=30)
p.user("export"); p.pass_("bench")
for n in range(1, p.stat()[0] + 1):
    lines = p.retr(n)[1]
    open(f"{sys.argv[2]}/{n:03d}.eml", "wb").write(b"\n".join(lines) + b"\n")
p.quit()
PY
stop_ours
export PRIVATE_DOVECOT_EXTRA='default_process_limit = 2000
default_client_limit = 20000
service pop3-login {
  service_count = 0
  process_min_avail = 2
}
# 50 clients log in as one user from one address; the default of 10 would refuse most.
protocol pop3 {
  mail_max_userip_connections = 100000
}'
tests/support/private_dovecot.sh start "$work/dovecot" bench bench >/dev/null
for f in "$work"/msgs/*.eml; do tests/support/private_dovecot.sh deliver "$work/dovecot" bench "$f"; done
. "$work/dovecot/ports.env"
dovecot_fp=$(openssl x509 -in "$work/dovecot/cert.pem" -noout -fingerprint -sha256 | cut -d= -f2)

# load NAME ARGS...: one run of the load tool, its JSON kept as $work/NAME.json.
load() {
  local name=$1; shift
  "$bin" method test testtype load format json duration "$secs" sessions 0 "$@" \
    >"$work/$name.json" 2>"$work/$name.err" || true
}
# rss_during NAME PATTERN ARGS...: an idle run; total RSS (MB) of the processes whose
# command line matches PATTERN, sampled while the connections are held.
rss_total() { ps -eo rss=,args= | awk -v pat="$1" '$0 ~ pat { s += $1 } END { printf "%.1f", s / 1024 }'; }
idle() {
  local name=$1 pattern=$2; shift 2
  local before; before=$(rss_total "$pattern")
  # Logging thousands in takes a while (Dovecot forks a process per session): hold for
  # 30 s and sample after 25.
  "$bin" method test testtype load format json duration 30 sessions 0 mode idle "$@" \
    >"$work/$name.json" 2>"$work/$name.err" &
  local loader=$!
  sleep 25
  local during; during=$(rss_total "$pattern")
  wait "$loader" || true
  echo "$before $during" >"$work/$name.rss"
}

start_ours
load ours-login ip 127.0.0.1 port "$port" user 'b%n' pass bench clients 50 mode login starttls false
load dovecot-login ip 127.0.0.1 port "$POP3_PORT" user bench pass bench clients 50 mode login starttls false
load ours-login-tls ip 127.0.0.1 port "$tlsport" user 'b%n' pass bench clients 50 mode login tls true tls.fingerprint "$fingerprint"
load dovecot-login-tls ip 127.0.0.1 port "$POP3S_PORT" user bench pass bench clients 50 mode login tls true tls.fingerprint "$dovecot_fp"
load ours-retr ip 127.0.0.1 port "$port" user 'b%n' pass bench clients 50 mode retrall starttls false
load dovecot-retr ip 127.0.0.1 port "$POP3_PORT" user bench pass bench clients 50 mode retrall starttls false
load ours-retr-tls ip 127.0.0.1 port "$tlsport" user 'b%n' pass bench clients 50 mode retrall tls true tls.fingerprint "$fingerprint"
load dovecot-retr-tls ip 127.0.0.1 port "$POP3S_PORT" user bench pass bench clients 50 mode retrall tls true tls.fingerprint "$dovecot_fp"
stop_ours
start_ours
idle ours-idle-500 " $bin method serverpop3" ip 127.0.0.1 port "$port" user 'i%n' pass bench clients 500 starttls false
stop_ours
start_ours
idle ours-idle-5000 " $bin method serverpop3" ip 127.0.0.1 port "$port" user 'i%n' pass bench clients 5000 starttls false
stop_ours
idle dovecot-idle-500 " dovecot" ip 127.0.0.1 port "$POP3_PORT" user bench pass bench clients 500 starttls false

section=$(mktemp)
python3 - "$work" "$secs" >"$section" <<'PY'
import json, sys, os, subprocess
work, secs = sys.argv[1], sys.argv[2]
def r(name):
    try:
        return json.load(open(f"{work}/{name}.json"))
    except Exception as e:
        err = open(f"{work}/{name}.err").read().strip().splitlines()
        return {"error": (err[-1] if err else str(e))}
def row(label, name, key, unit):
    d = r(name)
    if "error" in d:
        return f"| {label} | failed: {d['error']} |"
    extra = f"{d['failed']} failed ({', '.join(f'{k} {v}' for k, v in d['errors'].items())})" if d["failed"] else "0 failed"
    return f"| {label} | {d[key]:.1f} {unit} | p50 {d['latencyMs']['p50']:.1f} ms, p99 {d['latencyMs']['p99']:.1f} ms, {extra} |"
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
print("## Servers: izypop3 serverpop3 against Dovecot")
print()
print(f"Written by `tests/bench/servers.sh` on {subprocess.run(['date','-u','+%Y-%m-%d'],capture_output=True,text=True).stdout.strip()} "
      f"({os.cpu_count()} cores, {cpu}); {secs} s per run; the load tool, both servers and")
print("Dovecot's helper processes share the same cores, so compare the two columns of a row.")
print("Both serve the fake store's 99 messages (5.2 MiB, one of them 5 MiB). 50 clients.")
print()
print("| run | izypop3 | | Dovecot 2.3 | |")
print("|---|---|---|---|---|")
for label, ours, dove, key, unit in [
    ("log in, STAT, QUIT (plain)", "ours-login", "dovecot-login", "sessionsPerSecond", "sessions/s"),
    ("log in, STAT, QUIT (TLS)", "ours-login-tls", "dovecot-login-tls", "sessionsPerSecond", "sessions/s"),
    ("retrieve all 99 (plain)", "ours-retr", "dovecot-retr", "megabytesPerSecond", "MB/s"),
    ("retrieve all 99 (TLS)", "ours-retr-tls", "dovecot-retr-tls", "megabytesPerSecond", "MB/s"),
]:
    a = row(label, ours, key, unit).split("|")[2:4]
    b = row(label, dove, key, unit).split("|")[2:4]
    print(f"| {label} |{a[0]}|{a[1]}|{b[0]}|{b[1]}|")
print()
print("Memory of idle logged-in connections (RSS of all the server's processes while the")
print("connections are held, minus before):")
print()
print("| server | connections held | RSS before | RSS while held | per connection |")
print("|---|---|---|---|---|")
for label, name in [("izypop3", "ours-idle-500"), ("izypop3", "ours-idle-5000"), ("Dovecot", "dovecot-idle-500")]:
    d = r(name)
    before, during = (float(x) for x in open(f"{work}/{name}.rss").read().split())
    held = d.get("heldPeak", 0)
    per = f"{(during - before) * 1024 / held:.1f} KiB" if held else "n/a"
    print(f"| {label} | {held} | {before:.1f} MB | {during:.1f} MB | {per} |")
print()
print("Command: `tests/bench/servers.sh " + secs + "`")
PY
python3 tests/bench/replace_section.py docs/benchmarks.md "## Servers: izypop3 serverpop3 against Dovecot" "$section"
cat "$section"
rm -f "$section"
