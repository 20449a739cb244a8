#!/usr/bin/env bash
# `izypop3 method serverpop3` on a Maildir, read by python3's poplib and ssl modules:
# - every message arrives byte for byte as RFC 1939 wants it on the wire (CRLF, dot-stuffed,
#   terminated), whatever path the server takes: a big message whose stored octets are
#   already its wire form goes out with sendfile on a plain connection and is read (and
#   encrypted by OpenSSL) under TLS, where this machine has no kernel TLS; a message with
#   LF line ends, one with lines starting with '.', small ones gathered with their status
#   line, TOP of the big one; and a wire-form file touched since it was examined is examined
#   again (a file nobody noted a SHA-256 for is counted anew) and still arrives whole;
# - TLS sessions resume: a client that kept the session of its first connection resumes it
#   on the second (implicit TLS and STLS), and logs in over it.
set -euo pipefail
bin=${1:?usage: serverpop3_wire_and_tls.sh /path/to/izypop3}
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$work/server.err" ] && tail -20 "$work/server.err" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The maildir of alice, as another program delivered it, and the expected wire form of each
# message (what RETR must send between the status line and the terminator).
python3 - "$work" <<'PY'
import os, random, sys
work = sys.argv[1]
cur = f"{work}/mail/alice/cur"
for sub in ("cur", "new", "tmp"):
    os.makedirs(f"{work}/mail/alice/{sub}")
rnd = random.Random(7)
def line(n):
    return "".join(rnd.choice("abcdefghij klmnop") for _ in range(n))
big = "Subject: big\r\n\r\n" + "".join(line(74) + "\r\n" for _ in range(40000))  # 3 MB, wire form
messages = [
    big.encode(),
    b"Subject: lf\n\nline one\nline two\n",
    b"Subject: dots\r\n\r\n.starts with a dot\r\n..two dots\r\n.\r\nend\r\n",
    b"Subject: small\r\n\r\nsmall and already its wire form\r\n",
    ("Subject: touched\r\n\r\n" + "".join(line(60) + "\r\n" for _ in range(4000))).encode(),
]
for n, data in enumerate(messages):
    crlf = data.count(b"\n") - data.count(b"\r\n")
    name = f"{1700000000 + n}.M{n}P1.test,S={len(data)},W={len(data) + crlf}:2,S"
    open(f"{cur}/{name}", "wb").write(data)
    wire = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if not wire.endswith(b"\r\n"):
        wire += b"\r\n"
    wire = b"\r\n".join(b"." + l if l.startswith(b".") else l for l in wire.split(b"\r\n"))
    open(f"{work}/wire{n + 1}", "wb").write(wire)
open(f"{work}/users", "w").write("alice:{PLAIN}secret\n")
PY

port=$(free_port); tlsport=$(free_port)
# loglevel debug: the server says which messages went out with sendfile.
"$bin" method serverpop3 host 127.0.0.1 port "$port" tlsport "$tlsport" users "$work/users" \
  loglevel debug mimestore.modhandler maildir mimestore.path "$work/mail/%u" \
  >"$work/server.out" 2>"$work/server.err" &
pid=$!
for _ in $(seq 100); do grep -q "POP3S on port" "$work/server.out" 2>/dev/null && break; sleep 0.1; done
grep -q "POP3S on port" "$work/server.out" || fail "the server did not start"

python3 - "$work" "$port" "$tlsport" <<'PY'
import glob, os, socket, ssl, sys, time
work, port, tlsport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
failed = []

def check(ok, text):
    print(("PASS: " if ok else "FAIL: ") + text)
    if not ok:
        failed.append(text)

class Client:
    """A POP3 client that keeps the wire octets (poplib would undo the dot-stuffing)."""
    def __init__(self, sock):
        self.s, self.buf = sock, b""
    def read_until(self, end):
        while end not in self.buf:
            chunk = self.s.recv(1 << 16)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        i = self.buf.index(end) + len(end)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out
    def command(self, line):
        self.s.sendall(line.encode() + b"\r\n")
        reply = self.read_until(b"\r\n")
        if not reply.startswith(b"+OK"):
            raise RuntimeError(f"{line}: {reply!r}")
        return reply
    def body(self):
        # The status line's CRLF ends the line before the body; the terminator follows
        # the body's last CRLF.
        raw = self.read_until(b"\r\n.\r\n") if not self.buf.startswith(b".\r\n") else self.read_until(b".\r\n")
        return raw[:-3]
    def login(self):
        self.read_until(b"\r\n")
        self.command("USER alice")
        self.command("PASS secret")

def plain():
    return Client(socket.create_connection(("127.0.0.1", port), timeout=30))

def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx

def retrieve_all(c, label):
    count = int(c.command("STAT").split()[1])
    check(count == 5, f"{label}: STAT lists the 5 messages ({count})")
    for n in range(1, count + 1):
        c.command(f"RETR {n}")
        got = c.body()
        want = open(f"{work}/wire{n}", "rb").read()
        check(got == want, f"{label}: RETR {n} is its wire form byte for byte ({len(got)} octets)")

# Plain: the big message goes out with sendfile, the others are read and converted.
c = plain()
c.login()
retrieve_all(c, "plain")
c.command("TOP 1 3")
top = c.body()
want = b"\r\n".join(open(f"{work}/wire1", "rb").read().split(b"\r\n")[:5]) + b"\r\n"
check(top == want, f"plain: TOP 1 3 is the header, the blank line and 3 body lines ({len(top)} octets)")
c.command("QUIT")

# A wire-form file touched since the log noted it: examined again, still whole.
touched = sorted(glob.glob(f"{work}/mail/alice/cur/*"))[4]
st = os.stat(touched)
os.utime(touched, (st.st_atime, st.st_mtime + 60))
c = plain()
c.login()
c.command("RETR 5")
check(c.body() == open(f"{work}/wire5", "rb").read(), "plain: a wire-form file touched since it was noted arrives whole")
# Names are percent-encoded in the log (',' and '='): the part before the first ',' is not.
stem = os.path.basename(touched).split(",")[0]
notes = [l for l in open(f"{work}/mail/alice/.izypop3-meta.log") if l.startswith(f"wire {stem}%2C")]
check(len(notes) == 2 and all(" form=wire " in l for l in notes),
      f"plain: the touched file was examined again and noted in wire form ({len(notes)} notes)")
c.command("QUIT")

# Implicit TLS: no kernel TLS here, so every body is read and encrypted by OpenSSL.
ctx = tls_context()
raw = socket.create_connection(("127.0.0.1", tlsport), timeout=30)
s = ctx.wrap_socket(raw)
c = Client(s)
c.login()
retrieve_all(c, "TLS")
c.command("QUIT")
first_session = s.session
s.close()
check(first_session is not None, "TLS: the server gave a session to resume")

# Resumption, implicit TLS: the second connection resumes the first one's session.
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", tlsport), timeout=30), session=first_session)
c = Client(s)
c.login()
check(s.session_reused, "TLS: the second connection resumed the session (no full handshake)")
c.command("RETR 4")
check(c.body() == open(f"{work}/wire4", "rb").read(), "TLS: a resumed session serves a message byte for byte")
c.command("QUIT")
s.close()

# Resumption after STLS on the plain port.
def stls(session=None):
    c = plain()
    c.read_until(b"\r\n")
    c.command("STLS")
    s = ctx.wrap_socket(c.s, session=session)
    return s, Client(s)
s, c = stls()
c.command("USER alice"); c.command("PASS secret"); c.command("QUIT")
session = s.session
s.close()
s, c = stls(session)
c.command("USER alice"); c.command("PASS secret")
check(s.session_reused, "STLS: the second connection resumed the session")
c.command("QUIT")
s.close()
sys.exit(1 if failed else 0)
PY

# Which path each message took: sendfile only for the big wire-form ones on plain
# connections (TLS reads them, TOP reads), and never for the small or converted ones.
sent() { grep -c "message $1 sent from its file with sendfile" "$work/server.out" "$work/server.err" | awk -F: '{s += $2} END {print s}'; }
[ "$(sent 1)" -eq 1 ] || fail "message 1 went out with sendfile $(sent 1) times, expected once (plain RETR only)"
[ "$(sent 5)" -eq 2 ] || fail "message 5 went out with sendfile $(sent 5) times, expected twice (plain RETR, before and after it was touched)"
for n in 2 3 4; do
  [ "$(sent $n)" -eq 0 ] || fail "message $n (small or not in wire form) went out with sendfile"
done
echo "PASS: sendfile for the big wire-form messages on plain connections only"
echo "serverpop3_wire_and_tls: all checks passed"
