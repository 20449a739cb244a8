#!/usr/bin/env bash
# Our POP3 server against tuned Dovecot, side by side in one run, on the same machine, the
# same Maildirs, the same users file and the same certificate, measured by one load tool
# (`izypop3 method test testtype load`, which reports its own CPU too). Writes the
# "Servers" section of docs/benchmarks.md.
#
# - Data: users u1..u10000 (password bench) in one Dovecot passwd-file that both servers
#   read; u1..u200 have Maildirs of 20 messages of about 4 KB, with LF line ends and
#   Dovecot's LDA file names, and u201..u10000 hard links to them; users biglf and bigcrlf
#   have 20 messages of 10 MB, with LF (as Dovecot's LDA stores mail) and CRLF line ends
#   (as `izypop3 method clientpop3` stores what it fetches).
# - Dovecot 2.3 tuned the way its documentation advises for many short sessions: login
#   processes that serve many connections (pop3-login service_count 0), pop3 processes
#   reused for many sessions (service_count 1000), at least two of each waiting
#   (process_min_avail 2), process and client limits raised, the per-user+IP connection
#   limit lifted.
# - Server CPU per session: user + system time of all the server's processes (Dovecot's
#   master, login, auth, pop3, log, anvil, ... and the ones that ended) from /proc, over
#   the run, divided by the sessions completed. The load tool's own CPU is printed beside.
# - pop3_floor.c, the least a POP3 server can do for the same session (it checks nothing),
#   is measured the same way: the machine's limit for CPU per session. tls_footprint.c
#   measures what OpenSSL itself needs per idle TLS connection and per full handshake.
# - Big messages are read by pop3_reader.c, a client that only looks for terminators, so
#   that the server, not the client, is what limits the rate.
#
# usage: tests/bench/servers.sh [seconds per timed run, default 8]
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
ulimit -n "$(ulimit -Hn)"  # 10,000 connections held at once

readonly users=10000 distinct=200 clients=50 many=2000 idle_ours=10000 idle_dovecot=1000
work=$(mktemp -d /tmp/izypop3-bench.XXXXXX)
chmod 755 "$work"  # Dovecot's processes run as other users and must enter it
ours= floor= ours_started=
cleanup() {
  # The raw reports stay for a look at what went wrong.
  rm -rf build/bench/servers
  mkdir -p build/bench/servers
  cp "$work"/*.json "$work"/*.err "$work"/*.usage "$work"/*.out build/bench/servers/ 2>/dev/null || true
  [ -n "$ours" ] && kill "$ours" 2>/dev/null
  [ -n "$floor" ] && kill "$floor" 2>/dev/null
  tests/support/private_dovecot.sh stop "$work/dovecot" || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
uptime | sed 's/^ *//' >"$work/machine.out"
top -bn1 -o %CPU | sed -n '7,12p' >>"$work/machine.out"

# ---- data and servers ---------------------------------------------------------------------
started=$(date +%s)
mkdir -p "$work/dovecot/mail"
python3 tests/bench/make_maildirs.py "$work/dovecot/mail" "$work/users" --users "$users" \
  --distinct "$distinct" --messages 20 --size 4096 \
  --big biglf:20:10000000:lf --big bigcrlf:20:10000000:crlf
export PRIVATE_DOVECOT_USERS=$work/users
export PRIVATE_DOVECOT_EXTRA='default_process_limit = 20000
default_client_limit = 40000
default_vsz_limit = 0
service pop3-login {
  service_count = 0
  process_min_avail = 2
}
service pop3 {
  service_count = 1000
  process_min_avail = 2
}
protocol pop3 {
  mail_max_userip_connections = 100000
}'
tests/support/private_dovecot.sh start "$work/dovecot" u1 bench >/dev/null
. "$work/dovecot/ports.env"
dovecot_pid=$(cat "$work/dovecot/run/master.pid")
fingerprint=$(openssl x509 -in "$work/dovecot/cert.pem" -noout -fingerprint -sha256 | cut -d= -f2)

port=$(free_port); tlsport=$(free_port)
ours_cmd=(method serverpop3 host 127.0.0.1 port "$port" tlsport "$tlsport" users "$work/users"
          tls.cert "$work/dovecot/cert.pem" tls.key "$work/dovecot/key.pem"
          maxconnections 20000 maxperip 20000 loglevel error
          mimestore.modhandler maildir mimestore.path "$work/dovecot/mail/%u")
# (re)start_ours: a fresh server process (the idle runs measure memory from a fresh start).
start_ours() {
  if [ -n "$ours" ]; then kill "$ours"; wait "$ours" 2>/dev/null || true; fi
  : >"$work/ours.out"
  "$bin" "${ours_cmd[@]}" >"$work/ours.out" 2>>"$work/ours.err" &
  ours=$!
  for _ in $(seq 100); do grep -q "POP3 on port" "$work/ours.out" 2>/dev/null && break; sleep 0.1; done
  grep -q "POP3 on port" "$work/ours.out" || { cat "$work/ours.err" >&2; echo "servers.sh: izypop3 did not start" >&2; exit 1; }
}
start_ours

for tool in pop3_floor pop3_reader tls_footprint; do
  cc -O2 -o "$work/$tool" "tests/bench/$tool.c" -lssl -lcrypto
done
floor_port=$(free_port)
"$work/pop3_floor" "$floor_port" "$work/dovecot/mail" >"$work/floor.out" &
floor=$!
for _ in $(seq 50); do grep -q ready "$work/floor.out" 2>/dev/null && break; sleep 0.1; done

# load NAME PORT TLS ARGS...: one load run, JSON kept as $work/NAME.json.
load() {
  local name=$1 p=$2 tls=$3; shift 3
  local t=(starttls false)
  [ "$tls" = tls ] && t=(tls true tls.fingerprint "$fingerprint")
  "$bin" method test testtype load format json ip 127.0.0.1 port "$p" pass bench "${t[@]}" "$@" \
    >"$work/$name.json" 2>"$work/$name.err" || true
}
# measure NAME ROOT_PID PORT TLS ARGS...: a load run between two samples of the server's
# process tree and of the machine.
measure() {
  local name=$1 pid=$2; shift 2
  python3 tests/bench/proc_usage.py "$pid" >"$work/$name.before.usage"
  load "$name" "$@"
  python3 tests/bench/proc_usage.py "$pid" >"$work/$name.after.usage"
}
# big NAME ROOT_PID PORT TLS USER: pop3_reader fetches USER's maildrop twice.
big() {
  local name=$1 pid=$2 p=$3 tls=$4 user=$5 t=()
  [ "$tls" = tls ] && t=(--tls)
  python3 tests/bench/proc_usage.py "$pid" >"$work/$name.before.usage"
  "$work/pop3_reader" --port "$p" "${t[@]}" --user "$user" --pass bench --sessions 2 \
    >"$work/$name.json" 2>"$work/$name.err" || true
  python3 tests/bench/proc_usage.py "$pid" >"$work/$name.after.usage"
}
# idle NAME SERVER PORT TLS COUNT HOLD: on a freshly started SERVER (ours or dovecot), COUNT
# connections logged in and held for HOLD s; its memory is sampled before and 5 s before
# the end.
idle() {
  local name=$1 server=$2 p=$3 tls=$4 count=$5 hold=$6 pid
  if [ "$server" = ours ]; then
    start_ours
    pid=$ours
  else
    tests/support/private_dovecot.sh restart "$work/dovecot"
    pid=$(cat "$work/dovecot/run/master.pid")
    dovecot_pid=$pid
  fi
  sleep 2  # Dovecot starts its process_min_avail processes
  python3 tests/bench/proc_usage.py "$pid" >"$work/$name.before.usage"
  load "$name" "$p" "$tls" user 'u%n' clients "$count" sessions 0 duration "$hold" mode idle &
  local loader=$!
  sleep $((hold - 5))
  python3 tests/bench/proc_usage.py "$pid" >"$work/$name.during.usage"
  wait "$loader" || true
}

# ---- warm-up: every maildrop used once, so that no run pays for first-time work ------------
# (Dovecot builds its index files, izypop3 notes each file's wire size in its log.)
for target in "$port" "$POP3_PORT"; do
  load warm "$target" plain user 'u%n' clients "$many" sessions "$many" duration 300 mode login
  load warm "$target" plain user 'u%n' clients "$clients" sessions 200 duration 60 mode retrall
  load warm "$target" plain user biglf clients 1 sessions 1 duration 120 mode retrall
  load warm "$target" plain user bigcrlf clients 1 sessions 1 duration 120 mode retrall
done
load warm "$port" plain user 'u%n' clients "$idle_ours" sessions "$idle_ours" duration 300 mode login
load warm "$POP3_PORT" plain user 'u%n' clients "$idle_dovecot" sessions "$idle_dovecot" duration 300 mode login
load warm "$floor_port" plain user 'u%n' clients "$clients" sessions 200 duration 60 mode retrall
prepared=$(( $(date +%s) - started ))
uptime | sed 's/^ *//' >"$work/machine-runs.out"

# ---- the runs, each kind on both servers in turn --------------------------------------------
session=(user 'u%n' sessions 0 duration "$secs" mode retrall)
measure ours-plain "$ours" "$port" plain clients "$clients" "${session[@]}"
measure dovecot-plain "$dovecot_pid" "$POP3_PORT" plain clients "$clients" "${session[@]}"
measure floor-plain "$floor" "$floor_port" plain clients "$clients" "${session[@]}"
measure ours-tls "$ours" "$tlsport" tls clients "$clients" "${session[@]}"
measure dovecot-tls "$dovecot_pid" "$POP3S_PORT" tls clients "$clients" "${session[@]}"
measure ours-many "$ours" "$port" plain clients "$many" user 'u%n' sessions 0 duration $((secs * 2)) mode retrall
measure dovecot-many "$dovecot_pid" "$POP3_PORT" plain clients "$many" user 'u%n' sessions 0 duration $((secs * 2)) mode retrall
for ends in lf crlf; do
  for mode in plain tls; do
    if [ "$mode" = plain ]; then p_ours=$port p_dove=$POP3_PORT; else p_ours=$tlsport p_dove=$POP3S_PORT; fi
    big "ours-big$ends-$mode" "$ours" "$p_ours" "$mode" "big$ends"
    big "dovecot-big$ends-$mode" "$dovecot_pid" "$p_dove" "$mode" "big$ends"
  done
done
"$work/tls_footprint" "$work/dovecot/cert.pem" "$work/dovecot/key.pem" 2000 >"$work/tls_footprint.json"
idle ours-idle-plain ours "$port" plain "$idle_ours" 30
idle ours-idle-tls ours "$tlsport" tls "$idle_ours" 40
idle dovecot-idle-plain dovecot "$POP3_PORT" plain "$idle_dovecot" 40
idle dovecot-idle-tls dovecot "$POP3S_PORT" tls "$idle_dovecot" 40

# ---- the section -------------------------------------------------------------------------------
q() { local out; printf -v out '%q ' "$@"; out=${out//"$work"/\$WORK}; echo "${out% }"; }
{
  echo "# data (WORK: a temporary directory)"
  echo "python3 tests/bench/make_maildirs.py \$WORK/dovecot/mail \$WORK/users --users $users --distinct $distinct --messages 20 --size 4096 --big biglf:20:10000000:lf --big bigcrlf:20:10000000:crlf"
  echo "# Dovecot (PRIVATE_DOVECOT_USERS=\$WORK/users, PRIVATE_DOVECOT_EXTRA as above)"
  echo "tests/support/private_dovecot.sh start \$WORK/dovecot u1 bench"
  echo "# izypop3"
  echo "izypop3 $(q "${ours_cmd[@]}" | sed "s/port $port/port PORT/; s/tlsport $tlsport/tlsport TLSPORT/")"
  echo "# the floor"
  echo "cc -O2 -o pop3_floor tests/bench/pop3_floor.c && ./pop3_floor FLOORPORT \$WORK/dovecot/mail"
  echo "# a timed run (plain; TLS: tls true tls.fingerprint FP instead of starttls false)"
  echo "izypop3 method test testtype load format json ip 127.0.0.1 port PORT pass bench starttls false clients $clients user 'u%n' sessions 0 duration $secs mode retrall"
  echo "# 2,000 clients: clients $many ... duration $((secs * 2))"
  echo "# idle, each on a freshly started server: user 'u%n' clients $idle_ours sessions 0 duration 30 (TLS 40) mode idle (Dovecot: $idle_dovecot, 40 s)"
  echo "# 20 x 10 MB: cc -O2 -o pop3_reader tests/bench/pop3_reader.c -lssl -lcrypto"
  echo "pop3_reader --port PORT [--tls] --user biglf|bigcrlf --pass bench --sessions 2"
  echo "# OpenSSL alone: cc -O2 -o tls_footprint tests/bench/tls_footprint.c -lssl -lcrypto"
  echo "tls_footprint \$WORK/dovecot/cert.pem \$WORK/dovecot/key.pem 2000"
} >"$work/commands.txt"

section=$(mktemp)
python3 - "$work" "$secs" "$prepared" "$PRIVATE_DOVECOT_EXTRA" >"$section" <<'PY'
import json, os, subprocess, sys
work, secs, prepared, extra = sys.argv[1:5]

def report(name):
    try:
        return json.load(open(f"{work}/{name}.json"))
    except Exception as e:
        err = open(f"{work}/{name}.err").read().strip().splitlines() if os.path.exists(f"{work}/{name}.err") else []
        return {"error": err[-1] if err else f"no report ({e})"}

def usage(name, when):
    return json.load(open(f"{work}/{name}.{when}.usage"))

def busy(a, b):
    total = b["total_ticks"] - a["total_ticks"]
    return 100.0 * (1 - (b["idle_ticks"] - a["idle_ticks"]) / total) if total else 0.0

def failed_text(r):
    if r["failed"] == 0:
        return "0"
    kinds = ", ".join(f"{k} {v}" for k, v in r["errors"].items())
    return f"{r['failed']} ({kinds}; first: {r['firstError']})".replace("|", "\\|")

def timed(name):
    """sessions/s, server CPU ms/session, generator, latency, failures, machine busy."""
    r = report(name)
    if "error" in r:
        return None, r["error"]
    a, b = usage(name, "before"), usage(name, "after")
    done = max(1, r["completed"])
    return {
        "rate": r["sessionsPerSecond"], "mbs": r["megabytesPerSecond"],
        "server_ms": 1000.0 * (b["cpu_s"] - a["cpu_s"]) / done,
        "gen_ms": r["generator"]["cpuMsPerSession"], "gen_busy": r["generator"]["busyPercent"],
        "p50": r["latencyMs"]["p50"], "p99": r["latencyMs"]["p99"], "failed": failed_text(r),
        "completed": r["completed"], "busy": busy(a, b),
    }, None

def cell(name, fmt):
    v, err = timed(name)
    return fmt(v) if v else f"run failed: {err}"

cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                     capture_output=True, text=True).stdout.strip()
date = subprocess.run(["date", "-u", "+%Y-%m-%d %H:%M UTC"], capture_output=True, text=True).stdout.strip()
dovecot = subprocess.run(["dovecot", "--version"], capture_output=True, text=True).stdout.split()[0]
machine = open(f"{work}/machine.out").read().splitlines()
machine_runs = open(f"{work}/machine-runs.out").read().strip()
out = []
p = out.append
p("## Servers: izypop3 serverpop3 against Dovecot")
p("")
p(f"Written by `tests/bench/servers.sh {secs}` on {date} ({os.cpu_count()} cores, {cpu}); "
  f"Dovecot {dovecot}, tuned (below). Both servers, the load tool and pop3_floor share the")
p("same cores; compare the columns of a row, measured minutes apart in one run.")
p("")
p(f"What the machine was doing: at the start `{machine[0]}`; when the timed runs began (after "
  f"{prepared} s of setting up and warming up) `{machine_runs}`. *busy* is how much of both")
p("cores was in use during a run, whoever used it (other engineers build on this machine).")
p("")
p("Data: one Dovecot passwd-file, read by both servers, with users u1..u10000; u1..u200 have")
p("Maildirs of 20 messages of about 4 KB (LF line ends, Dovecot's LDA file names), u201..u10000")
p("hard links to them. Every maildrop was used once before the runs (Dovecot built its indexes,")
p("izypop3 noted the files' wire sizes). Both servers use the same ECDSA P-256 certificate.")
p("A session: connect (TLS: a full handshake), USER/PASS, STAT, RETR 1..20 (pipelined),")
p("QUIT. *server CPU* is user + system time of all of the server's processes, from /proc,")
p("per completed session; *load tool* is the generator's own CPU per session (and how busy its")
p("one thread was).")
p("")
p(f"### {50} clients, {secs} s")
p("")
p("| server | mode | sessions/s | server CPU ms/session | load tool ms/session | p50 / p99 ms | failed | busy |")
p("|---|---|---|---|---|---|---|---|")
for label, name, mode in [("izypop3", "ours-plain", "plain"), ("Dovecot", "dovecot-plain", "plain"),
                          ("pop3_floor", "floor-plain", "plain"),
                          ("izypop3", "ours-tls", "TLS"), ("Dovecot", "dovecot-tls", "TLS")]:
    v, err = timed(name)
    if not v:
        p(f"| {label} | {mode} | run failed: {err} | | | | | |")
        continue
    p(f"| {label} | {mode} | {v['rate']:.1f} | {v['server_ms']:.3f} | {v['gen_ms']:.3f} ({v['gen_busy']:.0f}%) | "
      f"{v['p50']:.1f} / {v['p99']:.1f} | {v['failed']} | {v['busy']:.0f}% |")
p("")
ratios = []
for mode, o, d in [("plain", "ours-plain", "dovecot-plain"), ("TLS", "ours-tls", "dovecot-tls")]:
    vo, _ = timed(o)
    vd, _ = timed(d)
    if vo and vd:
        ratios.append(f"{mode}: izypop3 {vd['server_ms'] / vo['server_ms']:.1f}× less CPU per session, "
                      f"{vo['rate'] / vd['rate']:.1f}× the sessions/s")
vo, _ = timed("ours-plain")
vf, _ = timed("floor-plain")
if vo and vf:
    ratios.append(f"izypop3 plain uses {vo['server_ms'] / vf['server_ms']:.1f}× the CPU of pop3_floor")
p("Ratios: " + "; ".join(ratios) + ".")
p("")
p(f"### 2,000 clients, {int(secs) * 2} s (plain)")
p("")
p("| server | sessions completed | sessions/s | failed | p50 / p99 ms | server CPU ms/session |")
p("|---|---|---|---|---|---|")
for label, name in [("izypop3", "ours-many"), ("Dovecot", "dovecot-many")]:
    v, err = timed(name)
    if not v:
        p(f"| {label} | run failed: {err} | | | | |")
        continue
    p(f"| {label} | {v['completed']} | {v['rate']:.1f} | {v['failed']} | {v['p50']:.1f} / {v['p99']:.1f} | {v['server_ms']:.3f} |")
p("")
p("### One client, 20 messages of 10 MB, read twice by pop3_reader")
p("")
p("| server | stored line ends | mode | MB/s | server CPU ms/MB | reader CPU ms/MB | busy |")
p("|---|---|---|---|---|---|---|")
for ends, note in [("lf", "LF (Dovecot's LDA)"), ("crlf", "CRLF (izypop3's backups)")]:
    for mode in ["plain", "tls"]:
        for label, who in [("izypop3", "ours"), ("Dovecot", "dovecot")]:
            name = f"{who}-big{ends}-{mode}"
            r = report(name)
            if "error" in r:
                p(f"| {label} | {note} | {mode} | run failed: {r['error']} | | | |")
                continue
            a, b = usage(name, "before"), usage(name, "after")
            mb = r["octets"] / 1e6
            p(f"| {label} | {note} | {'TLS' if mode == 'tls' else 'plain'} | {r['megabytesPerSecond']:.0f} | "
              f"{1000 * (b['cpu_s'] - a['cpu_s']) / mb:.2f} | {1000 * r['cpuSeconds'] / mb:.2f} | {busy(a, b):.0f}% |")
p("")
p("MB/s are 10^6 octets of message bodies a second as the reader received them (dot-stuffed,")
p("as on the wire). The reader only looks for terminators (256 KiB reads, memmem), so its")
p("CPU per MB beside the server's shows which of the two the machine was busy with.")
p("")
p("### Idle logged-in connections")
p("")
p("| server | mode | held | all logged in after | PSS before | PSS while held | per connection | processes |")
p("|---|---|---|---|---|---|---|---|")
for label, name, mode in [("izypop3", "ours-idle-plain", "plain"), ("izypop3", "ours-idle-tls", "TLS"),
                          ("Dovecot", "dovecot-idle-plain", "plain"), ("Dovecot", "dovecot-idle-tls", "TLS")]:
    r = report(name)
    if "error" in r:
        p(f"| {label} | {mode} | run failed: {r['error']} | | | | | |")
        continue
    a, d = usage(name, "before"), usage(name, "during")
    held = r["heldPeak"]
    per = f"{(d['pss_kib'] - a['pss_kib']) / held:.1f} KiB" if held else "n/a"
    t = r.get("allLoggedInSeconds")
    when = f"{t:.2f} s" if t is not None else f"not all ({held} at most)"
    p(f"| {label} | {mode} | {held} | {when} | {a['pss_kib'] / 1024:.1f} MiB | {d['pss_kib'] / 1024:.1f} MiB | {per} | {d['procs']} |")
p("")
p("PSS (proportional set size) sums the server's processes' memory with shared pages counted")
p("once in all; sampled 5 s before the connections were let go, on a server started afresh")
p("for the run. Dovecot holds one pop3 process per logged-in connection, so it was given 1,000")
p("connections, not 10,000.")
p("")
try:
    fp = json.load(open(f"{work}/tls_footprint.json"))
    p(f"OpenSSL alone (tests/bench/tls_footprint.c, the same certificate): an idle server connection")
    p(f"keeps {fp['serverKibPerConnection']:.1f} KiB after a full TLS 1.3 handshake with its record buffers freed;")
    p(f"one full handshake costs {fp['serverHandshakeMs']:.2f} ms of CPU on the server side and")
    p(f"{fp['clientHandshakeMs']:.2f} ms on the client side, so {int(10000 * (fp['serverHandshakeMs'] + fp['clientHandshakeMs']) / 1000)} s of CPU for 10,000 logins over TLS when both")
    p(f"ends share this machine, {10000 * (fp['serverHandshakeMs'] + fp['clientHandshakeMs']) / 1000 / os.cpu_count():.1f} s on its {os.cpu_count()} cores at the least.")
except Exception as e:
    p(f"tls_footprint failed: {e}")
p("")
p("Dovecot's tuning, added to tests/support/private_dovecot.sh's configuration:")
p("")
p("```")
p(extra)
p("```")
p("")
p("Commands:")
p("")
p("```")
p(open(f"{work}/commands.txt").read().rstrip("\n"))
p("```")
print("\n".join(out))
PY
python3 tests/bench/replace_section.py docs/benchmarks.md "## Servers: izypop3 serverpop3 against Dovecot" "$section"
cat "$section"
rm -f "$section"
