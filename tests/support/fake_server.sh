# Sourced by the interop tests: our serverpop3 on the fake store, on free loopback ports,
# and the reference every client's messages are compared with.
#
#   . tests/support/fake_server.sh
#   start_fake_server BIN WORK COUNT   starts `serverpop3 ... password 12345` with COUNT fake
#                                      messages on a plain port (STLS) and an implicit-TLS
#                                      port; sets port, tlsport, pid and sha256 (the
#                                      certificate fingerprint the server printed, AA:BB:..)
#   fetch_certificate WORK             the certificate on the TLS port into WORK/cert.pem,
#                                      after checking it is the one the server printed
#   write_reference WORK COUNT         WORK/want/N = message N as python poplib RETR returns
#                                      it, each exactly as long as LIST says and free of
#                                      bare CR (so a client's CRLF -> LF is unambiguous)
# The caller's EXIT trap must kill "$pid".

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_fake_server() {
  local bin=$1 work=$2 count=$3
  port=$(free_port)
  tlsport=$(free_port)
  "$bin" method serverpop3 host 127.0.0.1 port "$port" tlsport "$tlsport" password 12345 \
    mimestore.modhandler fake mimestore.count "$count" > "$work/server.out" 2> "$work/server.err" &
  pid=$!
  for _ in $(seq 100); do
    grep -q "POP3 on port $port" "$work/server.out" 2>/dev/null && break
    sleep 0.1
  done
  grep -q "POP3 on port $port" "$work/server.out" || {
    cat "$work/server.err"; echo "FAIL: server did not start"; exit 1; }
  sha256=$(sed -n 's/^TLS certificate SHA-256 fingerprint: \(\([0-9A-F]\{2\}:\)\{31\}[0-9A-F]\{2\}\) .*/\1/p' "$work/server.out")
  [ -n "$sha256" ] || { echo "FAIL: no TLS fingerprint printed"; exit 1; }
}

fetch_certificate() {
  local work=$1 got
  echo | timeout 30 openssl s_client -connect "127.0.0.1:$tlsport" 2> /dev/null | openssl x509 > "$work/cert.pem"
  got=$(openssl x509 -in "$work/cert.pem" -noout -sha256 -fingerprint | sed 's/^.*=//')
  [ "$got" = "$sha256" ] || {
    echo "FAIL: certificate on the wire has SHA-256 $got, server printed $sha256"; exit 1; }
}

write_reference() {
  mkdir -p "$1/want"
  python3 - "$port" "$1/want" "$2" <<'PY'
import poplib, sys
port, out, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
p = poplib.POP3("127.0.0.1", port, timeout=60)
p.user("anyone"); p.pass_("12345")
sizes = {int(l.split()[0]): int(l.split()[1]) for l in p.list()[1]}
assert len(sizes) == count, sizes
for n, size in sizes.items():
    _, lines, _ = p.retr(n)
    body = b"\r\n".join(lines) + b"\r\n"
    # poplib turns a bare LF into CRLF, which this length check would catch.
    assert len(body) == size, (n, len(body), size)
    assert b"\r" not in body.replace(b"\r\n", b"\n"), f"message {n} has a bare CR"
    open(f"{out}/{n}", "wb").write(body)
p.quit()
PY
}

# expect_empty_maildrop LABEL: a fresh session sees STAT 0 0; prints PASS/FAIL, returns 1 on FAIL.
expect_empty_maildrop() {
  python3 - "$port" "$1" <<'PY'
import poplib, sys
p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=60)
p.user("anyone"); p.pass_("12345")
count, size = p.stat()
p.quit()
if (count, size) != (0, 0):
    print(f"FAIL: after {sys.argv[2]} a fresh session sees STAT {count} {size}, want 0 0")
    sys.exit(1)
print(f"PASS: after {sys.argv[2]} a fresh session sees an empty maildrop")
PY
}

# stop_fake_server: SIGTERM must end the server with exit code 0; prints PASS/FAIL, returns 1 on FAIL.
stop_fake_server() {
  kill -TERM "$pid"
  local rc=0
  wait "$pid" || rc=$?
  pid=
  if [ "$rc" -eq 0 ]; then echo "PASS: server exits 0 on SIGTERM"; return 0; fi
  echo "FAIL: server exit code $rc on SIGTERM"
  return 1
}
