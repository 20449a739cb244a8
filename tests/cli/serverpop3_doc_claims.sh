#!/usr/bin/env bash
# What docs/cli.md says of serverpop3's port and allowplaintext keys, checked against the
# server: STLS is offered on `port` only with a certificate (tls.cert, or the self-signed one
# tlsport makes), and allowplaintext covers AUTH LOGIN as well as USER/PASS and AUTH PLAIN
# for a client that is not on loopback (this machine's own non-loopback address is used), and
# `apop false` leaves the timestamp out of the greeting and refuses APOP.
# usage: bash serverpop3_doc_claims.sh /path/to/izypop3
set -euo pipefail
bin=${1:?usage: serverpop3_doc_claims.sh /path/to/izypop3}
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start() {  # start ARGS...: serverpop3 with password 12345 on $port; sets pid
  [ -z "$pid" ] || { kill "$pid"; wait "$pid" 2>/dev/null || true; }
  "$bin" method serverpop3 port "$port" password 12345 mimestore.count 1 "$@" \
    >"$work/server.out" 2>"$work/server.err" &
  pid=$!
  for _ in $(seq 100); do
    grep -q "POP3 on port $port" "$work/server.out" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "server did not start: $(cat "$work/server.err")"
}

# talk HOST: on one connection greeting, CAPA and STLS; on another AUTH LOGIN with base64 user
# and password. Prints "capa=<caps>", "stls=<reply>" and "login=<final reply>".
talk() {
  python3 - "$1" "$port" <<'PY'
import base64, socket, sys
def connect():
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
    f = s.makefile("rb")
    line = lambda: f.readline().decode().rstrip("\r\n")
    send = lambda t: s.sendall(t.encode() + b"\r\n")
    line()
    return line, send
line, send = connect()
send("CAPA"); caps = []
assert line().startswith("+OK")
while (l := line()) != ".":
    caps.append(l)
print("capa=" + "|".join(caps))
send("STLS")
print("stls=" + line())
line, send = connect()
send("AUTH LOGIN")
r = line()
if r.startswith("+ "):
    send(base64.b64encode(b"alice").decode()); line()
    send(base64.b64encode(b"12345").decode()); r = line()
print("login=" + r)
PY
}

port=$(free_port)
start host 127.0.0.1
grep -q "POP3 on port $port (STLS off)" "$work/server.out" || fail "banner: $(cat "$work/server.out")"
talk 127.0.0.1 >"$work/t"
grep -q '^capa=.*STLS' "$work/t" && fail "STLS offered without a certificate: $(cat "$work/t")"
grep -q '^stls=-ERR' "$work/t" || fail "STLS without a certificate: $(cat "$work/t")"
echo "PASS: without a certificate, port offers no STLS and refuses it"

tlsport=$(free_port)
start host 127.0.0.1 tlsport "$tlsport"
grep -q "POP3 on port $port (STLS on)" "$work/server.out" || fail "banner with tlsport: $(cat "$work/server.out")"
talk 127.0.0.1 >"$work/t"
grep -q '^capa=.*|STLS' "$work/t" || fail "no STLS in CAPA with tlsport: $(cat "$work/t")"
grep -q '^stls=+OK' "$work/t" || fail "STLS with tlsport: $(cat "$work/t")"
echo "PASS: with tlsport's self-signed certificate, port offers STLS"

# A client that is not on loopback: this machine's first non-loopback IPv4 address.
addr=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -m1 -E '^[0-9]+\.' || true)
[ -n "$addr" ] || fail "this machine has no non-loopback IPv4 address; the allowplaintext check connects to one"
start host "$addr"
talk "$addr" >"$work/t"
grep -q '^capa=.*SASL[^|]* LOGIN' "$work/t" && fail "LOGIN offered to a non-loopback peer without TLS: $(cat "$work/t")"
grep -q '^login=-ERR' "$work/t" || fail "AUTH LOGIN without TLS from $addr: $(cat "$work/t")"
start host "$addr" allowplaintext true
talk "$addr" >"$work/t"
grep -q '^capa=.*SASL[^|]* LOGIN' "$work/t" || fail "allowplaintext true: no LOGIN in CAPA: $(cat "$work/t")"
grep -q '^login=+OK' "$work/t" || fail "allowplaintext true: AUTH LOGIN from $addr: $(cat "$work/t")"
echo "PASS: allowplaintext decides AUTH LOGIN for a peer at $addr"
# apop_try: the greeting, then APOP alice with the digest of the greeting's timestamp (or of
# a made-up one when there is none). Prints "greeting=<line>" and "apop=<reply>".
apop_try() {
  python3 - "$port" <<'PY'
import hashlib, re, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
f = s.makefile("rb")
greeting = f.readline().decode().rstrip("\r\n")
m = re.search(r"<[^>]*>", greeting)
stamp = m.group(0) if m else "<1.2@example.org>"
s.sendall(("APOP alice " + hashlib.md5((stamp + "12345").encode()).hexdigest() + "\r\n").encode())
print("greeting=" + greeting)
print("apop=" + f.readline().decode().rstrip("\r\n"))
PY
}
start host 127.0.0.1
apop_try >"$work/t"
grep -q '^greeting=+OK POP3 Server ready <.*@.*>$' "$work/t" || fail "apop default: no timestamp: $(cat "$work/t")"
grep -q '^apop=+OK' "$work/t" || fail "apop default: APOP refused: $(cat "$work/t")"
start host 127.0.0.1 apop false
apop_try >"$work/t"
grep -qx 'greeting=+OK POP3 Server ready' "$work/t" || fail "apop false: greeting: $(cat "$work/t")"
grep -qx 'apop=-ERR APOP is turned off on this server; use USER/PASS or AUTH' "$work/t" \
  || fail "apop false: APOP: $(cat "$work/t")"
echo "PASS: apop false takes the timestamp out of the greeting and refuses APOP"
echo "serverpop3_doc_claims: all checks passed"
