#!/usr/bin/env bash
# `serverpop3 ... http.port PORT`: /metrics, /healthz and /readyz. Scrapes, runs POP3
# sessions with python3 poplib (a good and a bad USER/PASS login, RETR, DELE, QUIT, one over
# the implicit TLS port) and one AUTH PLAIN over a raw socket, scrapes again and checks
# every delta; then one raw session whose octets are counted on the client, so the octet
# counters are checked byte for byte. Each exposition is parsed by python3-prometheus-client
# (a format error fails the test) and checked for HELP/TYPE on every family and cumulative
# histogram buckets. HTTP: 404, 405 with Allow, HEAD, an oversized request, and /readyz
# turning 503 with the reason when the store's folder goes away.
set -euo pipefail
bin=${1:?usage: serverpop3_metrics.sh /path/to/izypop3}
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$work/server.err" ] && tail -20 "$work/server.err" >&2; exit 1; }
# Debian's python3-prometheus-client is in /usr/bin/python3's path; a python3 earlier on PATH
# (pyenv) may not see it.
py=python3
$py -c 'import prometheus_client.parser' 2>/dev/null || py=/usr/bin/python3
$py -c 'import prometheus_client.parser' 2>/dev/null ||
  fail "python3-prometheus-client is missing; run .ci/deps.sh test"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port); tlsport=$(free_port); http=$(free_port)

# A maildir store of one user, so /readyz has a folder to lose.
mkdir -p "$work/mail/alice/new" "$work/mail/alice/cur" "$work/mail/alice/tmp"
for n in 1 2 3; do
  printf 'From: a@example.com\r\nSubject: m%s\r\n\r\nbody %s\r\n' "$n" "$n" > "$work/mail/alice/new/$n.eml"
done

"$bin" method serverpop3 host 127.0.0.1 port "$port" tlsport "$tlsport" http.port "$http" \
  password 12345 mimestore.modhandler maildir mimestore.path "$work/mail/%u" \
  > "$work/server.out" 2> "$work/server.err" &
pid=$!
for _ in $(seq 100); do
  grep -q "HTTP on port $http" "$work/server.out" 2>/dev/null && break
  sleep 0.1
done
grep -q "HTTP on port $http" "$work/server.out" || fail "server did not start with http.port"

version=$("$bin" --version | awk '{print $NF}')
$py - "$port" "$tlsport" "$http" "$work/mail" "$version" <<'PY' || fail "metrics checks failed"
import base64, http.client, os, poplib, socket, ssl, sys
from prometheus_client.parser import text_string_to_metric_families

port, tlsport, hport, mail = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
version = sys.argv[5]
failures = []
def check(cond, what):
    print(("PASS: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)

def get(path, method="GET"):
    c = http.client.HTTPConnection("127.0.0.1", hport, timeout=30)
    c.request(method, path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, dict(r.getheaders()), body

def scrape():
    status, headers, body = get("/metrics")
    assert status == 200, status
    text = body.decode()
    check(headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
          "/metrics has the 0.0.4 exposition content type")
    samples = {}
    families = list(text_string_to_metric_families(text))  # raises on a format error
    for f in families:
        for s in f.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    # HELP and TYPE precede every family's samples; names in the text, not the parser's.
    helps = {l.split()[2] for l in text.splitlines() if l.startswith("# HELP ")}
    types = {l.split()[2]: l.split()[3] for l in text.splitlines() if l.startswith("# TYPE ")}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        name = line.split("{")[0].split(" ")[0]
        base = next((n for n in types if name == n or (types[n] == "histogram" and name in
                     (n + "_bucket", n + "_sum", n + "_count"))), None)
        if base is None or base not in helps:
            failures.append(f"sample {name} has no HELP/TYPE family")
        if types.get(base) == "counter" and not base.endswith("_total"):
            failures.append(f"counter {base} does not end in _total")
    return samples, text

def val(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)

def histogram_ok(text, name):
    series = {}
    for line in text.splitlines():
        if line.startswith(name + "_bucket{"):
            labels, v = line.rsplit(" ", 1)
            key = labels[labels.index("{"):labels.index(",le=")]
            series.setdefault(key, []).append(float(v))
    counts = {}
    for line in text.splitlines():
        if line.startswith(name + "_count{"):
            labels, v = line.rsplit(" ", 1)
            counts[labels[labels.index("{"):-1]] = float(v)
    ok = bool(series)
    for key, values in series.items():
        ok &= values == sorted(values) and values[-1] == counts.get(key)
    return ok

before, text0 = scrape()
check(val(before, "izypop3_build_info", version=version) == 1,
      f"izypop3_build_info{{version=\"{version}\"}} is 1")

# poplib: a good login that retrieves one and deletes one, a bad login, one over TLS.
p = poplib.POP3("127.0.0.1", port, timeout=60)
p.user("alice"); p.pass_("12345")
_, lines, _ = p.retr(1)
p.dele(2)
p.quit()
p = poplib.POP3("127.0.0.1", port, timeout=60)
p.user("alice")
try:
    p.pass_("wrong")
    failures.append("a wrong password was accepted")
except poplib.error_proto:
    pass
p.quit()
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
p = poplib.POP3_SSL("127.0.0.1", tlsport, context=ctx, timeout=60)
tls_version = p.sock.version()
p.user("alice"); p.pass_("12345"); p.stat(); p.quit()
# AUTH PLAIN with an initial response (poplib has no AUTH).
s = socket.create_connection(("127.0.0.1", port), timeout=60)
f = s.makefile("rb")
f.readline()
s.sendall(b"AUTH PLAIN " + base64.b64encode(b"\0alice\x0012345") + b"\r\nQUIT\r\n")
auth_reply = f.readline(); f.readline()
check(auth_reply.startswith(b"+OK"), "AUTH PLAIN logs in")
s.close()

after, text1 = scrape()
def delta(name, **labels):
    return val(after, name, **labels) - val(before, name, **labels)
check(delta("izypop3_connections_accepted_total") == 4, "4 connections accepted")
check(delta("izypop3_sessions_ended_total", reason="quit") == 4, "4 sessions ended by QUIT")
check(val(after, "izypop3_sessions_open") == 0, "no session open")
check(delta("izypop3_logins_total", mechanism="USER", result="ok") == 2, "2 USER/PASS logins ok")
check(delta("izypop3_logins_total", mechanism="USER", result="failed") == 1, "1 USER/PASS login failed")
check(delta("izypop3_logins_total", mechanism="PLAIN", result="ok") == 1, "1 AUTH PLAIN login ok")
check(delta("izypop3_login_failure_delays_total") == 1, "1 failed-login delay applied")
check(delta("izypop3_tls_handshakes_total", result="ok", version=tls_version) == 1,
      f"1 TLS handshake ok with version {tls_version}")
check(delta("izypop3_commands_total", verb="RETR") == 1, "1 RETR counted")
check(delta("izypop3_commands_total", verb="DELE") == 1, "1 DELE counted")
check(delta("izypop3_commands_total", verb="QUIT") == 4, "4 QUIT counted")
check(delta("izypop3_commands_total", verb="PASS") == 3, "3 PASS counted")
check(delta("izypop3_messages_retrieved_total") == 1, "1 message retrieved")
check(delta("izypop3_messages_deleted_total") == 1, "1 message deleted (committed)")
check(len(os.listdir(mail + "/alice/new")) + len(os.listdir(mail + "/alice/cur")) == 2,
      "the store holds 2 messages after the deletion")
check(delta("izypop3_store_operations_total", store="maildir", operation="open_maildrop", result="ok") == 3,
      "3 maildrops opened")
check(delta("izypop3_store_operation_duration_seconds_count", store="maildir", operation="open_message") == 1,
      "1 message opened, in the latency histogram")
check(delta("izypop3_store_operation_duration_seconds_count", store="maildir", operation="commit_deletions") == 1,
      "1 UPDATE in the latency histogram")
check(delta("izypop3_store_operation_duration_seconds_sum", store="maildir", operation="open_maildrop") > 0,
      "the latency histogram's sum grew")
check(histogram_ok(text1, "izypop3_store_operation_duration_seconds"),
      "histogram buckets are cumulative and le=\"+Inf\" equals _count")

# One raw session, its octets counted on this side.
sent = received = 0
s = socket.create_connection(("127.0.0.1", port), timeout=60)
f = s.makefile("rb")
def line():
    global received
    l = f.readline(); received += len(l); return l
line()
for cmd in (b"USER alice\r\n", b"PASS 12345\r\n", b"STAT\r\n", b"NOOP\r\n", b"QUIT\r\n"):
    s.sendall(cmd); sent += len(cmd); line()
s.close()
last, _ = scrape()
check(val(last, "izypop3_received_octets_total") - val(after, "izypop3_received_octets_total") == sent,
      f"received octets grew by exactly the {sent} the client sent")
check(val(last, "izypop3_sent_octets_total") - val(after, "izypop3_sent_octets_total") == received,
      f"sent octets grew by exactly the {received} the client received")
check(delta("izypop3_sent_octets_total") > sum(len(l) for l in lines),
      "sent octets of the poplib sessions exceed the retrieved message")

# HTTP behaviour.
status, _, body = get("/healthz"); check(status == 200 and body == b"ok\n", "/healthz is 200 ok")
status, _, body = get("/readyz"); check(status == 200 and body == b"ready\n", "/readyz is 200 ready")
status, _, _ = get("/nothing"); check(status == 404, "an unknown path is 404")
status, headers, _ = get("/metrics", "POST")
check(status == 405 and headers.get("Allow") == "GET, HEAD", "POST is 405 with Allow: GET, HEAD")
status, headers, body = get("/metrics", "HEAD")
check(status == 200 and body == b"" and int(headers["Content-Length"]) > 1000,
      "HEAD /metrics: a length, no body")
s = socket.create_connection(("127.0.0.1", hport), timeout=30)
s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 20000 + b"\r\n\r\n")
status_line = s.makefile("rb").readline()
s.close()
check(status_line.startswith(b"HTTP/1.1 431 "), f"a 20 KB request header is refused: {status_line!r}")
os.rename(mail, mail + ".gone")
status, _, body = get("/readyz")
check(status == 503 and b"not ready: store maildir cannot be read: " in body and mail.encode() in body,
      f"/readyz is 503 naming the folder when the store is gone: {body!r}")
os.rename(mail + ".gone", mail)
status, _, _ = get("/readyz"); check(status == 200, "/readyz is 200 again once the folder is back")
sys.exit(1 if failures else 0)
PY
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
pid=""
[ "$rc" -eq 0 ] || fail "server exit code $rc on SIGTERM"
echo "PASS: serverpop3_metrics"
