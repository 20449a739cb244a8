#!/usr/bin/env bash
# Bearer tokens on the server (XOAUTH2, OAUTHBEARER): serverpop3 with oauth2.introspect
# against an RFC 7662 introspection endpoint this script starts (python3 http.server over TLS
# with a throw-away CA, HTTP Basic client credentials from oauth2.clientsecreteval), then
# with oauth2.command. Our own clientpop3 logs in over TLS with `auth xoauth2` and
# `auth oauthbearer` (the token from passeval) and backs the mailbox up; a made-up token, an
# inactive one, one past its exp and someone else's are refused; python3 checks the RFC 7628
# JSON error challenge byte for byte; an active token is introspected once and then
# remembered; the mechanisms are advertised only where PLAIN is; the endpoint going away is
# -ERR [SYS/TEMP].
# The raw exchanges come from their own loopback addresses (127.0.0.N), so the per-address
# failed-login penalty stays at its first 2 s instead of doubling.
set -euo pipefail
bin=${1:?usage: serverpop3_oauth2.sh /path/to/izypop3}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
pid=""
idp=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  if [ -n "$idp" ]; then kill "$idp" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$work/server.err" ] && tail -20 "$work/server.err" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

python3 "$root/tests/support/test_ca.py" "$work"

# --- the introspection endpoint -------------------------------------------------------------
cat > "$work/idp.py" <<'PY'
import base64, json, ssl, sys, time, urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer
work = sys.argv[1]
now = int(time.time())
tokens = {
    "alice-token": {"active": True, "username": "alice", "sub": "id-alice", "exp": now + 3600},
    "bob-token": {"active": True, "username": "bob", "exp": now + 3600},
    "revoked-token": {"active": False},
    "stale-token": {"active": True, "username": "alice", "exp": now - 60},
}
want_auth = "Basic " + base64.b64encode(b"pop3-server:s3cr%3At").decode()
class handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        form = urllib.parse.parse_qs(body)
        token = form.get("token", [""])[0]
        with open(f"{work}/idp.log", "a") as log:
            log.write(f"{self.path} {token} {self.headers.get('Content-Type')}\n")
        if self.headers.get("Authorization") != want_auth:
            self.send_response(401); self.end_headers(); return
        answer = json.dumps(tokens.get(token, {"active": False})).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
    def log_message(self, *args):
        pass
srv = HTTPServer(("127.0.0.1", 0), handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(f"{work}/server.pem", f"{work}/server.key")
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
PY
python3 "$work/idp.py" "$work" > "$work/idp.port" 2> "$work/idp.err" &
idp=$!
for _ in $(seq 100); do [ -s "$work/idp.port" ] && break; sleep 0.1; done
idp_port=$(cat "$work/idp.port")
[ -n "$idp_port" ] || fail "the introspection endpoint did not start: $(cat "$work/idp.err")"

start_server() {  # extra serverpop3 keys
  port=$(free_port)
  tlsport=$(free_port)
  "$bin" method serverpop3 host 127.0.0.1 port "$port" tlsport "$tlsport" \
    mimestore.modhandler fake mimestore.count 3 "$@" > "$work/server.out" 2> "$work/server.err" &
  pid=$!
  for _ in $(seq 100); do
    grep -q "POP3 on port $port" "$work/server.out" 2>/dev/null && break
    sleep 0.1
  done
  grep -q "POP3 on port $port" "$work/server.out" || fail "server did not start"
  sha256=$(sed -n 's/^TLS certificate SHA-256 fingerprint: \([0-9A-F:]*\) .*/\1/p' "$work/server.out")
  [ -n "$sha256" ] || fail "no TLS fingerprint printed"
}
stop_server() { kill "$pid"; wait "$pid" || true; pid=""; }

backup() {  # NAME ADDRESS MECHANISM TOKEN: clientpop3 over TLS into $work/NAME; sets rc
  rc=0
  "$bin" method clientpop3 ip "$2" port "$tlsport" tls true tls.fingerprint "$sha256" \
    user alice auth "$3" passeval "echo $4" cmd retr mimestore.modhandler localfs \
    mimestore.path "$work/$1" mimestore.create true > "$work/$1.out" 2> "$work/$1.err" || rc=$?
}
expect_backup() {  # NAME ADDRESS MECHANISM TOKEN
  backup "$@"
  [ "$rc" -eq 0 ] || fail "$3 with $4: exit $rc: $(cat "$work/$1.err")"
  n=$(find "$work/$1" -type f -name '*.eml' | wc -l)
  [ "$n" -eq 3 ] || fail "$3 with $4: $n messages stored, expected 3 ($(ls -R "$work/$1"))"
}
expect_refused() {  # NAME ADDRESS MECHANISM TOKEN
  backup "$@"
  [ "$rc" -eq 4 ] || fail "$3 with $4: exit $rc, expected 4 (authentication): $(cat "$work/$1.err")"
  grep -q "Invalid login" "$work/$1.err" || fail "$3 with $4: $(cat "$work/$1.err")"
}

# Raw exchanges over TLS from a chosen loopback address: prints every server line.
cat > "$work/raw.py" <<'PY'
import socket, ssl, sys
src, port, lines = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), 60, (src, 0)))
f = s.makefile("rb")
f.readline()
for l in lines:
    s.sendall(l.encode() + b"\r\n")
    while True:
        r = f.readline().decode().rstrip("\r\n")
        print(r)
        if not r.startswith("+OK Capability") and not r.startswith("+OK Supported"):
            break
        while r != ".":
            r = f.readline().decode().rstrip("\r\n")
            print(r)
        break
PY
xo() { python3 -c 'import base64,sys; print(base64.b64encode(("user=%s\x01auth=Bearer %s\x01\x01" % (sys.argv[1], sys.argv[2])).encode()).decode())' "$1" "$2"; }
ob() { python3 -c 'import base64,sys; print(base64.b64encode(("n,a=%s,\x01auth=Bearer %s\x01\x01" % (sys.argv[1], sys.argv[2])).encode()).decode())' "$1" "$2"; }
b64() { printf '%s' "$1" | base64 -w0; }

echo "s3cr:t" > "$work/client-secret"
start_server oauth2.introspect "https://localhost:$idp_port/introspect" \
  oauth2.cafile "$work/ca.pem" oauth2.clientid pop3-server \
  oauth2.clientsecreteval "cat $work/client-secret" allowplaintext false

# Advertised on the TLS port, not on the plain one (allowplaintext false: the PLAIN rule).
python3 - "$port" "$tlsport" > "$work/capa" <<'PY'
import poplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
plain = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=60).capa()
tls = poplib.POP3_SSL("127.0.0.1", int(sys.argv[2]), timeout=60, context=ctx).capa()
print("plain", plain.get("SASL")); print("tls", tls.get("SASL"))
PY
grep -qx "plain None" "$work/capa" || fail "plain port CAPA: $(cat "$work/capa")"
grep -qx "tls \['OAUTHBEARER', 'XOAUTH2'\]" "$work/capa" || fail "TLS port CAPA: $(cat "$work/capa")"

# Our client, both mechanisms, both XOAUTH2 forms.
expect_backup store-xoauth2 127.0.0.1 xoauth2 alice-token
expect_backup store-oauthbearer 127.0.0.1 oauthbearer alice-token
rc=0
"$bin" method clientpop3 ip 127.0.0.1 port "$tlsport" tls true tls.fingerprint "$sha256" \
  user alice auth xoauth2 oauth2.twostep true passeval "echo alice-token" cmd stat \
  > "$work/twostep.out" 2> "$work/twostep.err" || rc=$?
[ "$rc" -eq 0 ] || fail "two-step XOAUTH2: exit $rc: $(cat "$work/twostep.err")"
# Three logins with alice-token, one introspection: the answer is kept until its exp.
n=$(grep -c " alice-token application/x-www-form-urlencoded$" "$work/idp.log")
[ "$n" -eq 1 ] || fail "alice-token introspected $n times, expected once: $(cat "$work/idp.log")"
grep -q "^/introspect " "$work/idp.log" || fail "request path: $(cat "$work/idp.log")"

# Refused, through our client: a made-up token.
expect_refused refused-1 127.0.0.1 xoauth2 made-up-token
[ -z "$(find "$work/refused-1" -name '*.eml' 2>/dev/null)" ] || fail "a refused login stored mail"

# Refused, byte for byte: the error challenge (RFC 7628 section 3.2.2; Google's form for
# XOAUTH2), the client's dummy answer, then -ERR [AUTH]. Made up, inactive, past its exp,
# someone else's; at once, each from its own address.
python3 "$work/raw.py" 127.0.0.21 "$tlsport" "AUTH XOAUTH2 $(xo alice made-up-token)" "" > "$work/raw-1" &
raw1=$!
python3 "$work/raw.py" 127.0.0.22 "$tlsport" "AUTH OAUTHBEARER $(ob alice revoked-token)" "AQ==" > "$work/raw-2" &
raw2=$!
python3 "$work/raw.py" 127.0.0.23 "$tlsport" "AUTH XOAUTH2 $(xo alice stale-token)" "" > "$work/raw-3" &
raw3=$!
python3 "$work/raw.py" 127.0.0.24 "$tlsport" "AUTH OAUTHBEARER $(ob alice bob-token)" "AQ==" > "$work/raw-4" &
raw4=$!
wait "$raw1" "$raw2" "$raw3" "$raw4"
printf '+ %s\n%s\n' "$(b64 '{"status":"401","schemes":"bearer"}')" "-ERR [AUTH] Invalid login" > "$work/want-xo"
printf '+ %s\n%s\n' "$(b64 '{"status":"invalid_token"}')" "-ERR [AUTH] Invalid login" > "$work/want-ob"
cmp "$work/raw-1" "$work/want-xo" || fail "made-up token: $(cat "$work/raw-1")"
cmp "$work/raw-2" "$work/want-ob" || fail "inactive token: $(cat "$work/raw-2")"
cmp "$work/raw-3" "$work/want-xo" || fail "token past its exp: $(cat "$work/raw-3")"
cmp "$work/raw-4" "$work/want-ob" || fail "someone else's token: $(cat "$work/raw-4")"
grep -q "bearer token refused: the introspection endpoint says it is not active" \
  "$work/server.err" || fail "no log line for the inactive token"

# The endpoint gone: no verdict, a temporary failure (not a failed login).
kill "$idp"; wait "$idp" 2>/dev/null || true; idp=""
python3 "$work/raw.py" 127.0.0.25 "$tlsport" "AUTH XOAUTH2 $(xo alice other-token)" > "$work/raw-down"
grep -qx -- "-ERR \[SYS/TEMP\] Authentication is temporarily unavailable; try again later" \
  "$work/raw-down" || fail "endpoint down: $(cat "$work/raw-down")"
grep -q "token introspection at https://localhost:$idp_port/introspect failed" "$work/server.err" ||
  fail "no log line for the failed introspection"
stop_server

# --- oauth2.command ---------------------------------------------------------------------
cat > "$work/tokens.sh" <<'SH'
#!/bin/sh
read -r token
case "$token" in
  cmd-token-alice) echo alice ;;
  cmd-token-later) exit 75 ;;
  *) exit 1 ;;
esac
SH
chmod +x "$work/tokens.sh"
start_server oauth2.command "$work/tokens.sh"
expect_backup store-command 127.0.0.1 oauthbearer cmd-token-alice
expect_backup store-command-x 127.0.0.1 xoauth2 cmd-token-alice
expect_refused refused-5 127.0.0.1 xoauth2 cmd-token-bad
python3 "$work/raw.py" 127.0.0.26 "$tlsport" "AUTH XOAUTH2 $(xo alice cmd-token-later)" > "$work/raw-later"
grep -qx -- "-ERR \[SYS/TEMP\] Authentication is temporarily unavailable; try again later" \
  "$work/raw-later" || fail "command exit 75: $(cat "$work/raw-later")"
# Without users or password, no password login is offered at all.
python3 "$work/raw.py" 127.0.0.1 "$tlsport" "AUTH" > "$work/raw-mechs"
printf '+OK Supported mechanisms follow\nOAUTHBEARER\nXOAUTH2\n.\n' > "$work/want-mechs"
cmp "$work/raw-mechs" "$work/want-mechs" || fail "mechanisms: $(cat "$work/raw-mechs")"
stop_server
echo "PASS serverpop3_oauth2"
