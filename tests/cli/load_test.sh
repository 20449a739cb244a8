#!/usr/bin/env bash
# `izypop3 method test testtype load` as a user runs it: small runs in each mode against our
# server in this process and against a separate `serverpop3` process, each of which must
# end with zero errors and the counts it was asked for. Speed is not asserted here (see
# tests/bench); only that the tool does what it says and fails when sessions fail.
# Each run is bounded by timeout(1): a hang fails with exit code 124 instead of stalling ctest.
# usage: bash load_test.sh /path/to/izypop3
set -u
bin=${1:?usage: bash load_test.sh /path/to/izypop3}
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# json_check FILE PYTHON-ASSERTIONS: the report is JSON and the assertions on `r` hold.
json_check() {
    python3 - "$1" "$2" <<'PY' || fail "$2: $(cat "$1")"
import json, sys
r = json.load(open(sys.argv[1]))
exec(sys.argv[2])
PY
}

# 1. In-process server, each mode, JSON.
timeout 120 "$bin" method test testtype load clients 8 sessions 200 mode login format json \
    >"$work/login.json" 2>"$work/err"
code=$?
[ "$code" -eq 0 ] || fail "login run: exit code $code: $(tail -3 "$work/err")"
json_check "$work/login.json" 'assert r["completed"] == 200 and r["failed"] == 0 and r["errors"] == {}, r
g = r["generator"]
assert g["threads"] == 1 and g["cpuSeconds"] > 0, r
assert abs(g["cpuMsPerSession"] - g["cpuSeconds"] * 1000 / 200) < 0.01, r
assert 0 < g["busyPercent"] <= 100 * g["threads"] + 5, r'

# One client on a pool of several threads: every session must still run (a pool thread with
# no session at the start once returned, and the session later placed on it never ran).
timeout 120 "$bin" method test testtype load clients 1 sessions 9 format json >"$work/one.json" 2>"$work/err"
code=$?
[ "$code" -eq 0 ] || fail "one-client run: exit code $code: $(tail -3 "$work/err")"
json_check "$work/one.json" 'assert r["completed"] == 9 and r["failed"] == 0, r'

timeout 120 "$bin" method test testtype load clients 3 sessions 6 mode retrall tls true mimestore.count 12 \
    format json >"$work/retr.json" 2>"$work/err"
code=$?
[ "$code" -eq 0 ] || fail "retrall run: exit code $code: $(tail -3 "$work/err")"
# The fake store's first 12 messages are 26,341 octets in the wire form the client counts.
json_check "$work/retr.json" 'assert r["completed"] == 6 and r["failed"] == 0, r
assert r["octets"] % 6 == 0 and r["octets"] // 6 > 5000000, r'

# Six seconds: under AddressSanitizer on a loaded 2-core machine, 60 STLS handshakes and
# logins have taken more than two, and the check needs every session held before the end.
timeout 120 "$bin" method test testtype load clients 60 sessions 0 duration 6 mode idle starttls true \
    format json >"$work/idle.json" 2>"$work/err"
code=$?
[ "$code" -eq 0 ] || fail "idle run: exit code $code: $(tail -3 "$work/err")"
json_check "$work/idle.json" 'assert r["heldPeak"] == 60 and r["cutShort"] == 60 and r["failed"] == 0, r
assert 0 < r["allLoggedInSeconds"] < r["seconds"], r'

# 2. The text report has every line a person reads.
timeout 120 "$bin" method test testtype load clients 2 sessions 4 >"$work/text" 2>"$work/err"
code=$?
[ "$code" -eq 0 ] || fail "text run: exit code $code"
for pattern in '^load: 2 clients, mode login, 127\.0\.0\.1:[0-9]+ \(STLS when offered\)$' \
               '^sessions: 4 completed, 0 failed, 0 cut short by the end of the run, in [0-9.]+ s: [0-9.]+ sessions/s$' \
               '^latency ms: p50 [0-9.]+  p90 [0-9.]+  p99 [0-9.]+  max [0-9.]+$' \
               '^errors: none$' \
               '^load generator: CPU [0-9.]+ s, [0-9.]+ ms a session, busy [0-9]+% of its 1 thread' \
               '^server: VmRSS [0-9.]+ MB, peak [0-9.]+ MB, CPU [0-9.]+ s during the run$'; do
    grep -Eq "$pattern" "$work/text" || fail "text report lacks /$pattern/: $(cat "$work/text")"
done

# 3. A separate server process, with its memory and CPU reported; then a wrong password
#    fails every session (after the server's failed-login delay), exit code 1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
"$bin" method serverpop3 host 127.0.0.1 port "$port" password 12345 mimestore.count 5 \
    >"$work/server.out" 2>"$work/server.err" &
pid=$!
for _ in $(seq 100); do
    grep -q "POP3 on port $port" "$work/server.out" 2>/dev/null && break
    sleep 0.1
done
timeout 120 "$bin" method test testtype load ip 127.0.0.1 port "$port" user 'u%n' pass 12345 clients 4 \
    sessions 40 mode retrall starttls false serverpid "$pid" format json >"$work/ext.json" 2>"$work/err"
code=$?
[ "$code" -eq 0 ] || fail "external server run: exit code $code: $(tail -3 "$work/err")"
json_check "$work/ext.json" 'assert r["completed"] == 40 and r["failed"] == 0, r
assert r["server"]["rssMb"] > 0 and r["server"]["cpuSeconds"] >= 0, r'
timeout 120 "$bin" method test testtype load ip 127.0.0.1 port "$port" user u pass wrong clients 2 \
    sessions 2 duration 60 starttls false format json >"$work/bad.json" 2>"$work/err"
code=$?
[ "$code" -eq 1 ] || fail "wrong password: exit code $code, expected 1"
json_check "$work/bad.json" 'assert r["completed"] == 0 and r["failed"] == 2, r
assert r["errors"] == {"session_failed": 2}, r'
kill "$pid"
wait "$pid" 2>/dev/null
pid=

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "load_test: all checks passed"
