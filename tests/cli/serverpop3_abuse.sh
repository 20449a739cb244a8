#!/usr/bin/env bash
# The izypop3 server against hostile or broken clients (SECURITY.md S01, S07, S08, S10, S11,
# S12, S22, S21's bounded memory, graceful shutdown), on loopback with raw sockets:
#   server A (timeout 3): an endless line without CRLF, a 1 MB line, a NUL octet, 10,000
#     pipelined commands in one write, a silent client and a slowloris (one byte a second),
#     "STLS\r\nCAPA\r\n" in one write, failed logins from one address (growing delay);
#   server B (maxconnections 25): 20 clients that send RETR of the 5 MB message and never read
#     plus one that pipelines 10,000 RETRs and never reads (server RSS growth stays < 64 MB),
#     the connection limit, then SIGTERM with all those sessions open and one with DELE pending:
#     exit 0, the sessions are told nothing was deleted, and the log says deleted=0.
# Each check prints PASS or FAIL; the script exits non-zero if any check fails.
# Only lower bounds on time are asserted (a loaded machine makes things slower, never faster).
set -euo pipefail
bin=${1:?usage: serverpop3_abuse.sh /path/to/izypop3}
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# start_server NAME KEY VALUE...: starts izypop3 serverpop3 on a free port; sets port_NAME, pid_NAME.
port_a='' pid_a='' port_b='' pid_b=''
# Under AddressSanitizer freed memory waits in a quarantine (256 MB by default) before reuse,
# which the RSS bound below would count as growth; a small quarantine keeps the bound
# meaningful there and changes nothing for an ordinary build.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"
start_server() {
  local name=$1; shift
  local p; p=$(free_port)
  "$bin" method serverpop3 host 127.0.0.1 port "$p" password 12345 mimestore.modhandler fake \
    mimestore.count 12 "$@" > "$work/$name.out" 2> "$work/$name.err" &
  local sp=$!
  pids+=("$sp")
  for _ in $(seq 100); do
    grep -q "POP3 on port $p" "$work/$name.out" 2>/dev/null && break
    sleep 0.1
  done
  grep -q "POP3 on port $p" "$work/$name.out" || { cat "$work/$name.err"; echo "FAIL: server $name did not start"; exit 1; }
  printf -v "port_$name" '%s' "$p"
  printf -v "pid_$name" '%s' "$sp"
}

status=0
# STLS is offered on the plain port when TLS is configured; a tlsport makes the server
# generate its self-signed certificate.
start_server a timeout 3 tlsport "$(free_port)"

# The slowloris runs in the background while the other checks of server A go on.
python3 - "$port_a" > "$work/slowloris.result" 2>&1 <<'PY' &
import socket, sys, time
# One byte a second of a command that never ends. With 'timeout 3' a server that bounds the
# time a client may take for one command line closes this well within 30 s; one that only
# resets an idle timer on every byte keeps it open forever (a slot held by a trickle).
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), timeout=30)
greeting = s.recv(4096)
start = time.time()
closed = False
try:
    s.settimeout(0.01)
    while time.time() - start < 30:
        s.sendall(b"N")
        try:
            if s.recv(4096) == b"":
                closed = True
                break
        except socket.timeout:
            pass
        time.sleep(1)
except OSError:
    closed = True
took = time.time() - start
if closed:
    print(f"PASS: slowloris (one byte a second, timeout 3): closed after {took:.1f} s")
else:
    print(f"FAIL: slowloris (one byte a second, timeout 3): connection still open after {took:.1f} s "
          "(expected the server to close a command line that takes longer than 'timeout')")
    sys.exit(1)
PY
slowloris=$!

python3 - "$port_a" <<'PY' || status=1
import socket, ssl, sys, time
port = int(sys.argv[1])
failed = False

def check(name):
    def wrap(fn):
        global failed
        try:
            detail = fn()
            print(f"PASS: {name}" + (f": {detail}" if detail else ""))
        except Exception as e:
            failed = True
            print(f"FAIL: {name}: {type(e).__name__}: {e}")
        return fn
    return wrap

def connect():
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    f = s.makefile("rb")
    g = f.readline()
    assert g.startswith(b"+OK"), f"greeting {g!r}"
    return s, f

def still_serves():
    s, f = connect()
    s.sendall(b"USER u\r\nPASS 12345\r\nSTAT\r\nQUIT\r\n")
    replies = [f.readline() for _ in range(4)]
    assert replies[2].startswith(b"+OK 12 "), f"a new client after the abuse got {replies!r}"
    s.close()

def reply_or_close(f):
    """The next reply line, or b'' if the server closed the connection."""
    try:
        return f.readline()
    except (ConnectionResetError, BrokenPipeError):
        return b""

@check("endless line without CRLF (10 MB): one -ERR or a close, then the server still serves")
def _():
    s, f = connect()
    try:
        s.sendall(b"A" * 10_000_000)
    except (ConnectionResetError, BrokenPipeError):
        pass
    r = reply_or_close(f)
    assert r == b"" or r.startswith(b"-ERR"), f"answer {r!r}"
    if r:
        # When the line finally ends the session goes on with the next command: exactly one
        # -ERR for the whole line, none per buffered chunk of it.
        s.sendall(b"\r\nCAPA\r\n")
        r2 = f.readline()
        assert r2 == b"+OK Capability list follows\r\n", f"after the long line: {r2!r}"
    s.close()
    still_serves()
    return f"answered {r.strip()!r}"

@check("1 MB command line: -ERR or a close, then the server still serves")
def _():
    s, f = connect()
    try:
        s.sendall(b"N" * 1_000_000 + b"\r\n")
    except (ConnectionResetError, BrokenPipeError):
        pass
    r = reply_or_close(f)
    assert r == b"" or r.startswith(b"-ERR"), f"answer {r!r}"
    if r:
        s.sendall(b"CAPA\r\n")
        r2 = f.readline()
        assert r2 == b"+OK Capability list follows\r\n", f"after the 1 MB line: {r2!r}"
    s.close()
    still_serves()
    return f"answered {r.strip()!r}"

@check("NUL octet in a command: -ERR, not executed")
def _():
    s, f = connect()
    s.sendall(b"CA\0PA\r\n")
    r = f.readline()
    assert r.startswith(b"-ERR"), f"answer {r!r}"
    s.close()

@check("10,000 pipelined NOOPs in one write: 10,000 +OK in order, then QUIT")
def _():
    s, f = connect()
    s.sendall(b"USER u\r\nPASS 12345\r\n" + b"NOOP\r\n" * 10000 + b"QUIT\r\n")
    data = f.read()
    lines = data.split(b"\r\n")
    assert lines[-1] == b"", f"output does not end in CRLF: {data[-40:]!r}"
    lines = lines[:-1]
    assert len(lines) == 10003, f"{len(lines)} reply lines, want 10003"
    assert lines[0].startswith(b"+OK") and lines[1].startswith(b"+OK"), lines[:2]
    assert all(l == b"+OK" for l in lines[2:10002]), "a NOOP reply is not exactly +OK"
    assert lines[10002].startswith(b"+OK"), lines[10002]
    s.close()

@check("silent client: closed at the idle timeout (timeout 3) with -ERR (S07)")
def _():
    s, f = connect()
    start = time.time()
    r = f.readline()
    took = time.time() - start
    assert r.startswith(b"-ERR"), f"answer {r!r}"
    assert f.readline() == b"", "connection still open after the autologout reply"
    assert took >= 2.5, f"closed after {took:.1f} s, before the 3 s timeout"
    s.close()
    return f"after {took:.1f} s: {r.strip()!r}"

@check("STLS\\r\\nCAPA\\r\\n in one write: only +OK in plaintext, no stale reply inside TLS (S01)")
def _():
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    line = b""
    while not line.endswith(b"\r\n"):
        line += s.recv(1)
    assert line.startswith(b"+OK"), f"greeting {line!r}"
    s.sendall(b"STLS\r\nCAPA\r\n")
    line = b""
    while not line.endswith(b"\r\n"):      # byte by byte: nothing beyond the STLS reply is read
        line += s.recv(1)
    assert line.startswith(b"+OK"), f"STLS answer {line!r}"
    s.settimeout(1.5)
    try:
        plain = s.recv(4096, socket.MSG_PEEK)
    except (socket.timeout, TimeoutError):
        plain = b""
    assert plain == b"", f"more plaintext after the STLS reply (the CAPA was answered?): {plain!r}"
    s.settimeout(30)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    t = ctx.wrap_socket(s)
    t.settimeout(1.5)
    try:
        stale = t.recv(4096)
    except (socket.timeout, TimeoutError):
        stale = b""
    assert stale == b"", f"a stale reply arrived inside TLS: {stale!r}"
    t.settimeout(30)
    t.sendall(b"NOOP\r\n")                  # pre-auth NOOP: its own -ERR, not a CAPA listing
    r = t.recv(4096)
    assert r.startswith(b"-ERR") and b"Capability" not in r, f"NOOP answer {r!r}"
    t.sendall(b"CAPA\r\n")
    data = b""
    while not data.endswith(b"\r\n.\r\n"):
        d = t.recv(4096)
        assert d, "closed while reading CAPA"
        data += d
    assert data.startswith(b"+OK") and b"\r\nSTLS\r\n" not in data, f"CAPA inside TLS: {data!r}"
    t.close()

@check("failed logins from one address: each failure waits longer (>= 2, 4, 8 s); the right password still works")
def _():
    took = []
    for i in range(3):
        s, f = connect()
        s.sendall(b"USER u\r\n")
        assert f.readline().startswith(b"+OK")
        start = time.time()
        s.sendall(b"PASS wrong\r\n")
        r = f.readline()
        took.append(time.time() - start)
        assert r.startswith(b"-ERR"), f"wrong password answered {r!r}"
        s.close()
    for i, (got, least) in enumerate(zip(took, (1.9, 3.9, 7.9))):
        assert got >= least, f"failure {i + 1} answered after {got:.2f} s, want >= {least} s (delays {took})"
    still_serves()
    return "delays " + ", ".join(f"{t:.1f} s" for t in took)

sys.exit(1 if failed else 0)
PY

wait "$slowloris" || status=1
cat "$work/slowloris.result"

kill -TERM "$pid_a"
if wait "$pid_a"; then echo "PASS: server A exits 0 on SIGTERM"; else echo "FAIL: server A exit code $? on SIGTERM"; status=1; fi

# Server B: memory with clients that never read, the connection limit, SIGTERM mid-session.
start_server b maxconnections 25
python3 - "$port_b" "$pid_b" "$work/b.err" <<'PY' || status=1
import os, signal, socket, sys, time
port, pid, log = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
failed = False

def report(ok, text):
    global failed
    failed |= not ok
    print(("PASS: " if ok else "FAIL: ") + text)

def rss_kb():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

def connect(rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(30)
    s.connect(("127.0.0.1", port))
    return s, s.makefile("rb")

def login(s, f, user):
    assert f.readline().startswith(b"+OK")
    s.sendall(b"USER %s\r\nPASS 12345\r\n" % user)
    assert f.readline().startswith(b"+OK") and f.readline().startswith(b"+OK")

before = rss_kb()
stuck = []
for i in range(20):
    s, f = connect(4096)
    login(s, f, b"reader%d" % i)
    s.sendall(b"RETR 6\r\n")          # guid_6 is the 5 MB message of the fake store
    stuck.append((s, f))
s, f = connect(4096)
login(s, f, b"pipeliner")
s.sendall(b"RETR 1\r\n" * 10000)     # 10,000 replies (S22), never read
stuck.append((s, f))
peak = before
for _ in range(6):
    time.sleep(0.5)
    peak = max(peak, rss_kb())
growth_mb = (peak - before) / 1024
report(growth_mb < 64, f"21 clients that never read (20 x RETR of 5 MB, 10,000 pipelined RETRs): "
       f"server RSS {before // 1024} MB -> peak {peak // 1024} MB (growth {growth_mb:.1f} MB, bound 64 MB)")

# maxconnections 25: 21 are open; 4 more fit, the next is refused, and a slot freed is reused.
extra = []
for i in range(4):
    s, f = connect()
    g = f.readline()
    report(g.startswith(b"+OK"), f"connection {22 + i} of 25 is greeted: {g.strip()!r}")
    extra.append((s, f))
s, f = connect()
g = f.readline()
report(g.startswith(b"-ERR") and f.readline() == b"",
       f"connection 26 over maxconnections 25 is refused and closed: {g.strip()!r}")
s.close()
extra.pop()[0].close()
greeted = b""
for _ in range(100):                  # the server learns of the close asynchronously
    s, f = connect()
    greeted = f.readline()
    if greeted.startswith(b"+OK"):
        break
    s.close()
    time.sleep(0.1)
report(greeted.startswith(b"+OK"), "a freed slot is given to a new client")
s.close()

# SIGTERM with sessions open, one of them with deletions pending.
extra.pop()[0].close()
time.sleep(0.5)
s, f = connect()
login(s, f, b"deleter")
s.sendall(b"DELE 1\r\nDELE 2\r\n")
ok = f.readline().startswith(b"+OK") and f.readline().startswith(b"+OK")
report(ok, "DELE 1 and DELE 2 accepted before SIGTERM")
os.kill(pid, signal.SIGTERM)
rest = f.read()
report(rest.startswith(b"-ERR") and b"nothing was deleted" in rest,
       f"the session with deletions pending is told on SIGTERM: {rest.strip()!r}")
deadline = time.time() + 60
while time.time() < deadline and os.path.exists(f"/proc/{pid}") and \
        open(f"/proc/{pid}/stat").read().split()[2] != "Z":
    time.sleep(0.1)
for s, f in stuck + extra:
    s.close()
lines = [l for l in open(log) if "user=deleter " in l and "session end" in l]
report(len(lines) == 1 and "reason=server shutdown" in lines[0] and "deleted=0" in lines[0],
       f"the log shows the deleter's session ended by shutdown with deleted=0: {lines!r}")
sys.exit(1 if failed else 0)
PY
if wait "$pid_b"; then
  echo "PASS: server B exits 0 on SIGTERM with sessions open (21 of them stuck writing)"
else
  echo "FAIL: server B exit code $? on SIGTERM with sessions open"; status=1
fi
grep -q "izypop3 serverpop3: stopped" "$work/b.out" || { echo "FAIL: server B did not print its stop line"; status=1; }

exit "$status"
