#!/usr/bin/env bash
# The izypop3 server as a user runs it, fetched from by real clients (curl, python3 poplib):
# every message each client retrieves must be exactly as long as LIST says, the two
# clients must get identical octets, over plain, STLS and implicit TLS; SIGTERM stops the
# server with exit code 0 and deletes nothing.
set -euo pipefail
bin=${1:?usage: serverpop3_clients.sh /path/to/izypop3}
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

. "$(dirname "$0")/../support/fake_server.sh"
start_fake_server "$bin" "$work" 12
grep -Eq "^TLS certificate SHA-256 fingerprint: ([0-9A-F]{2}:){31}[0-9A-F]{2} " "$work/server.out"

# curl: LIST, then every message by number, plain and over STLS and implicit TLS.
curl -sS -u anyone:12345 "pop3://127.0.0.1:$port/" | tr -d '\r' > "$work/list"
[ "$(wc -l < "$work/list")" -eq 12 ] || { echo "LIST has $(wc -l < "$work/list") lines, want 12"; exit 1; }
while read -r n size; do
  curl -sS -u anyone:12345 "pop3://127.0.0.1:$port/$n" > "$work/curl.$n"
  got=$(stat -c %s "$work/curl.$n")
  [ "$got" -eq "$size" ] || { echo "curl RETR $n: $got octets, LIST says $size"; exit 1; }
  curl -sS -k --ssl-reqd -u anyone:12345 "pop3://127.0.0.1:$port/$n" | cmp - "$work/curl.$n"
  curl -sS -k -u anyone:12345 "pop3s://127.0.0.1:$tlsport/$n" | cmp - "$work/curl.$n"
done < "$work/list"
curl -sS -k --login-options AUTH=CRAM-MD5 -u anyone:12345 "pop3s://127.0.0.1:$tlsport/1" | cmp - "$work/curl.1"
curl -sS -k --login-options AUTH=PLAIN -u anyone:12345 "pop3s://127.0.0.1:$tlsport/1" | cmp - "$work/curl.1"
curl -sS -k --login-options AUTH=LOGIN -u anyone:12345 "pop3s://127.0.0.1:$tlsport/1" | cmp - "$work/curl.1"
if curl -sS -u anyone:wrong "pop3://127.0.0.1:$port/" 2>/dev/null; then
  echo "a wrong password was accepted"; exit 1
fi

# python poplib: USER/PASS, APOP, STLS, TOP, UIDL; octets must equal curl's.
python3 - "$port" "$work" <<'PY'
import poplib, ssl, sys
port, work = int(sys.argv[1]), sys.argv[2]
def check(p, label):
    count, total = p.stat()
    assert count == 12, (label, count)
    uidls = [l.split()[1] for l in p.uidl()[1]]
    assert uidls == [b"guid_%d" % i for i in range(1, 13)], (label, uidls)
    for n in range(1, count + 1):
        _, lines, octets = p.retr(n)
        body = b"\r\n".join(lines) + b"\r\n"
        want = open(f"{work}/curl.{n}", "rb").read()
        assert body == want, (label, n, len(body), len(want))
    top = p.top(1, 0)[1]
    assert top[-1] == b"" and b"" not in top[:-1], (label, top[-3:])
plain = poplib.POP3("127.0.0.1", port, timeout=10)
assert plain.getwelcome().startswith(b"+OK POP3 Server ready <")
plain.user("anyone"); plain.pass_("12345"); check(plain, "USER/PASS"); plain.quit()
apop = poplib.POP3("127.0.0.1", port, timeout=10)
apop.apop("anyone", "12345"); check(apop, "APOP"); apop.quit()
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
stls = poplib.POP3("127.0.0.1", port, timeout=10)
stls.stls(context=ctx); stls.user("anyone"); stls.pass_("12345"); check(stls, "STLS"); stls.quit()
print("poplib: USER/PASS, APOP, STLS ok")
PY

kill -TERM "$pid"
wait "$pid"
grep -q "izypop3 serverpop3: stopped" "$work/server.out"
echo "serverpop3_clients: all checks passed"
