#!/usr/bin/env bash
# HAProxy, a real load balancer, in front of izypop3 with `send-proxy` (PROXY v1) and
# `send-proxy-v2` (v2, also in front of the implicit-TLS port, TLS passed through, and on
# its health checks, which send LOCAL). izypop3 trusts only 127.0.0.1 (where HAProxy
# connects from) and must see the real client: clients connect to HAProxy from 127.0.0.2 to
# 127.0.0.7, and the server's log, maxperip, the failed-login delay and the cleartext rule
# (a proxied client is not loopback) follow that address, not HAProxy's.
set -euo pipefail
bin=${1:?usage: serverpop3_haproxy.sh /path/to/izypop3}
command -v haproxy > /dev/null || { echo "FAIL: haproxy is not installed (.ci/deps.sh test installs it)"; exit 1; }
work=$(mktemp -d)
pid=
hapid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "$hapid" ] && kill "$hapid" 2>/dev/null; rm -rf "$work"' EXIT
. "$(dirname "$0")/../support/fake_server.sh"

port=$(free_port)
tlsport=$(free_port)
v1=$(free_port)
v2=$(free_port)
v2tls=$(free_port)
"$bin" method serverpop3 host 127.0.0.1 port "$port" tlsport "$tlsport" password 12345 \
  trustedproxies 127.0.0.1/32 maxperip 1 loglevel debug \
  mimestore.modhandler fake mimestore.count 3 > "$work/server.out" 2> "$work/server.log" &
pid=$!
for _ in $(seq 100); do grep -q "POP3 on port $port" "$work/server.out" 2>/dev/null && break; sleep 0.1; done
grep -q "POP3 on port $port" "$work/server.out" || { cat "$work/server.log"; echo "FAIL: server did not start"; exit 1; }

cat > "$work/haproxy.cfg" <<EOF
global
  maxconn 100
  log stderr format raw local0
defaults
  mode tcp
  log global
  option log-health-checks
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend v1
  bind 127.0.0.1:$v1
  default_backend pop3_v1
frontend v2
  bind 127.0.0.1:$v2
  default_backend pop3_v2
frontend v2tls
  bind 127.0.0.1:$v2tls
  default_backend pop3s_v2
backend pop3_v1
  server izypop3 127.0.0.1:$port send-proxy
backend pop3_v2
  # A layer-7 check waits for the greeting: a bare layer-4 check resets the connection
  # before izypop3 even accepts it, so nothing would reach the server's log.
  option tcp-check
  tcp-check expect string +OK\\ POP3
  server izypop3 127.0.0.1:$port send-proxy-v2 check inter 1s check-send-proxy
backend pop3s_v2
  server izypop3 127.0.0.1:$tlsport send-proxy-v2
EOF
haproxy -c -q -f "$work/haproxy.cfg" || { echo "FAIL: haproxy refused its configuration"; exit 1; }
haproxy -db -f "$work/haproxy.cfg" > "$work/haproxy.log" 2>&1 &
hapid=$!
for _ in $(seq 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $v2tls), 1)" 2>/dev/null && break; sleep 0.1; done

rc=0
python3 - "$v1" "$v2" "$v2tls" "$port" <<'PY' || rc=$?
import socket, ssl, sys, time
v1, v2, v2tls, direct = map(int, sys.argv[1:])
failed = False

def check(ok, what):
    global failed
    print(("PASS: " if ok else "FAIL: ") + what)
    failed |= not ok

class client:
    def __init__(self, port, source, tls=False):
        s = socket.socket()
        s.settimeout(30)
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = ctx.wrap_socket(s, server_hostname="localhost")
        self.s, self.f = s, s.makefile("rb")
    def line(self):
        return self.f.readline().decode(errors="replace").rstrip("\r\n")
    def send(self, text):
        self.s.sendall(text.encode())
    def capa(self):
        self.send("CAPA\r\n")
        assert self.line().startswith("+OK")
        out = []
        while (l := self.line()) not in (".", ""):
            out.append(l)
        return out
    def close(self):
        self.s.close()

# v1 from 127.0.0.2: greeted without an APOP timestamp, no USER: not loopback.
a = client(v1, "127.0.0.2")
greeting = a.line()
check(greeting == "+OK POP3 Server ready", f"v1: greeting for a proxied client has no APOP timestamp ({greeting!r})")
caps = a.capa()
check("USER" not in caps and "STLS" in caps, f"v1: a proxied client is offered STLS and no USER ({caps})")
a.send("USER anyone\r\n")
reply = a.line()
check(reply.startswith("-ERR [AUTH] Cleartext login refused"), f"v1: USER refused in cleartext ({reply!r})")

# maxperip 1 counts 127.0.0.2 (still connected), not HAProxy's 127.0.0.1.
b = client(v2, "127.0.0.2")
reply = b.line()
check(reply == "-ERR [IN-USE] Too many connections from your address", f"v2: a second connection from 127.0.0.2 refused ({reply!r})")
b.close()
c = client(v2, "127.0.0.4")
reply = c.line()
check(reply == "+OK POP3 Server ready", f"v2: a client from 127.0.0.4 behind the same proxy is greeted ({reply!r})")
c.close()
a.close()

# Implicit TLS through HAProxy: the v2 header, then the client's own TLS handshake.
t = client(v2tls, "127.0.0.6", tls=True)
check(t.line().startswith("+OK POP3 Server ready <"), "v2 + TLS: greeted inside TLS, with APOP")
t.send("USER anyone\r\nPASS 12345\r\nSTAT\r\nQUIT\r\n")
replies = [t.line() for _ in range(4)]
check(replies[1] == "+OK You are now logged in" and replies[2].startswith("+OK 3 "),
      f"v2 + TLS: USER/PASS inside TLS logs in ({replies})")
t.close()

# The failed-login delay counts per real client: one failure each from two addresses.
for source in ("127.0.0.5", "127.0.0.7"):
    t = client(v2tls, source, tls=True)
    t.line()
    t.send("USER anyone\r\nPASS wrong\r\n")
    t.line()
    reply = t.line()
    check(reply == "-ERR [AUTH] Invalid login", f"v2 + TLS: wrong password from {source} refused ({reply!r})")
    t.close()

# Directly from 127.0.0.3 (not a trusted proxy): no header expected, a loopback client.
d = client(direct, "127.0.0.3")
check(d.line().startswith("+OK POP3 Server ready <"), "direct: an untrusted loopback peer is greeted at once")
d.send("USER anyone\r\n")
reply = d.line()
check(reply == "+OK User accepted", f"direct: loopback cleartext allowed ({reply!r})")
d.close()
sys.exit(1 if failed else 0)
PY

# The server's own log names the real clients (waited for up to 30 s: on a loaded machine
# HAProxy's 1 s health checks and the log lines come late).
log_has() {
  local what=$1 pattern=$2
  for _ in $(seq 300); do grep -qF -- "$pattern" "$work/server.log" && break; sleep 0.1; done
  if grep -qF -- "$pattern" "$work/server.log"; then echo "PASS: log: $what"; else
    echo "FAIL: log: $what (no line with '$pattern')"; rc=1; fi
}
log_has "v1 client 127.0.0.2 named, HAProxy beside it" "127.0.0.2 via 127.0.0.1]"
log_has "maxperip refusal for 127.0.0.2" "refusing 127.0.0.2: too many connections"
log_has "v2 client 127.0.0.4" "127.0.0.4 via 127.0.0.1]"
log_has "v2 + TLS client 127.0.0.6" "127.0.0.6 via 127.0.0.1]"
log_has "first failure of 127.0.0.5" "127.0.0.5 via 127.0.0.1] failed login; failure 1 "
log_has "first failure of 127.0.0.7, not HAProxy's second" "127.0.0.7 via 127.0.0.1] failed login; failure 1 "
log_has "direct client 127.0.0.3 without a proxy" "127.0.0.3]"
# HAProxy's health checks (check-send-proxy) arrive as LOCAL: the proxy speaks for itself.
log_has "health check as PROXY v2 LOCAL" "127.0.0.1 proxy]"
if grep -q "closing a connection from trusted proxy" "$work/server.log"; then
  echo "FAIL: a PROXY header from HAProxy was refused:"; grep "closing a connection from trusted proxy" "$work/server.log" | head -3; rc=1
fi
[ "$rc" -eq 0 ] || { echo "--- server log"; tail -30 "$work/server.log"; echo "--- haproxy log"; tail -10 "$work/haproxy.log"; }
exit "$rc"
