#!/usr/bin/env bash
# Checklist rows of ../shared/SECURITY.md that no other test covered (see docs/security.md):
#   S06  TLS 1.0 and 1.1 ClientHellos are refused on the implicit-TLS port and after STLS;
#        TLS 1.2 still works
#   S07  a silent TLS connection, half a ClientHello on the TLS port and half a ClientHello
#        after STLS are closed at the handshake timeout (tls.timeout, 3 s here, not the 30 s
#        default nor the 20 s idle timeout), and their per-address slots are then given to a
#        new client
#   S14  maxperip N: the N+1st connection from one address gets -ERR [IN-USE]; of N
#        connections logging in as one user only one gets the maildrop, the rest -ERR [IN-USE]
#   C04  a certificate for another host, an expired one, a self-signed one and one with a NUL
#        in its CN or in its DNS subject alternative name are refused (exit 3) by clientpop3 with tls.cafile; the same servers are
#        accepted only with tls.verify false or the right tls.fingerprint
#   C05  +OK to STLS and then silence: clientpop3 gives up at 'timeout' (exit 3)
#   C15  a backup SIGKILLed after storing a message and before its DELE is answered, run
#        again (query all, delete true): every message stored once, byte for byte, and all
#        deleted on the server
#   C16  a store write that fails (EFBIG from RLIMIT_FSIZE): that message is not DELEted, the
#        others are, no partial file is left, and the next run stores and deletes it
#   C18  -ERR to QUIT, or the connection dropped instead of a QUIT answer: nothing is reported
#        as deleted; the next run sends DELE again
#   C19  a second backup of one account into one store while the first runs: refused
#   C20  100 KB of server text: the client stops at its line cap and prints a short error; a
#        4000-octet -ERR text is printed cut short and with control octets escaped
# Each check prints "ok <row> ..." or "FAIL <row>: ..."; all checks run, and the script exits
# non-zero if any failed. The S07 handshake timeouts run in the background while the other
# checks go on.
set -euo pipefail
bin=${1:?usage: security_rows.sh /path/to/izypop3}
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

# clientpop3's one-run-per-account-and-store locks (C19) go here, not into the user's.
export IZYPOP3_LOCK_DIR=$work/locks
status=0
ok() { echo "ok $*"; }
bad() { echo "FAIL $*"; status=1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_server NAME KEY VALUE...: serverpop3 on 127.0.0.1; sets port_NAME (and tls_NAME when
# a tlsport is given) once it listens.
start_server() {
  local name=$1; shift
  local p; p=$(free_port)
  "$bin" method serverpop3 host 127.0.0.1 port "$p" password 12345 "$@" \
    > "$work/$name.out" 2> "$work/$name.err" &
  pids+=("$!")
  for _ in $(seq 100); do
    grep -q "POP3 on port $p" "$work/$name.out" 2>/dev/null && break
    sleep 0.1
  done
  grep -q "POP3 on port $p" "$work/$name.out" ||
    { cat "$work/$name.err"; echo "FAIL: serverpop3 $name did not start"; exit 1; }
  printf -v "port_$name" '%s' "$p"
  local t; t=$(sed -n 's/.*POP3S on port \([0-9]*\).*/\1/p' "$work/$name.out")
  printf -v "tls_$name" '%s' "$t"
}

# ---- certificates (C04): a CA, and server certificates good and bad in one way each.
python3 - "$work" <<'PY' || { echo "FAIL: cannot make the test certificates (python3 cryptography)"; exit 1; }
import datetime, sys
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
d = sys.argv[1]
now = datetime.datetime.now(datetime.timezone.utc)
day = datetime.timedelta(days=1)

def key():
    return ec.generate_private_key(ec.SECP256R1())

def save(name, cert, k):
    open(f"{d}/{name}.pem", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
    open(f"{d}/{name}.key", "wb").write(k.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))

def cert(subject_cn, k, issuer_name, issuer_key, start, end, sans, ca=False):
    b = (x509.CertificateBuilder()
         .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)]))
         .issuer_name(issuer_name).public_key(k.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(start).not_valid_after(end)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]),
                            critical=False)
    return b.sign(issuer_key, hashes.SHA256())

ca_key = key()
ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "izypop3 test CA")])
ca = cert("izypop3 test CA", ca_key, ca_name, ca_key, now - day, now + 30 * day, [], ca=True)
save("ca", ca, ca_key)
k = key(); save("good", cert("localhost", k, ca_name, ca_key, now - day, now + 30 * day, ["localhost"]), k)
k = key(); save("wronghost", cert("other.example", k, ca_name, ca_key, now - day, now + 30 * day, ["other.example"]), k)
k = key(); save("expired", cert("localhost", k, ca_name, ca_key, now - 400 * day, now - 30 * day, ["localhost"]), k)
k = key()
own = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
save("selfsigned", cert("localhost", k, own, k, now - day, now + 30 * day, ["localhost"]), k)
# No SAN, so a client falls back to the CN; the NUL must not let "localhost" match.
k = key(); save("nulcn", cert("localhost\0.evil.example", k, ca_name, ca_key, now - day, now + 30 * day, []), k)
# The same NUL in a subject alternative name, where a client looks first.
k = key(); save("nulsan", cert("localhost", k, ca_name, ca_key, now - day, now + 30 * day, ["localhost\0.evil.example"]), k)
PY

for c in good wronghost expired selfsigned nulcn nulsan; do
  start_server "$c" tlsport "$(free_port)" tls.cert "$work/$c.pem" tls.key "$work/$c.key" \
    mimestore.count 3
done
# S07 runs against its own server: the per-address limit must count only its connections.
start_server s07 timeout 20 tls.timeout 3 maxperip 3 tlsport "$(free_port)" mimestore.count 3
start_server s14 maxperip 10 mimestore.count 3

# ---- S07, in the background: it waits out the 3 s handshake timeout.
python3 - "$port_s07" "$tls_s07" > "$work/s07.result" 2>&1 <<'PY' &
import socket, ssl, sys, time
plain, tls = int(sys.argv[1]), int(sys.argv[2])

def client_hello():
    # What a real TLS client sends first; half of it leaves the server waiting for the rest.
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    out = ssl.MemoryBIO()
    obj = ctx.wrap_bio(ssl.MemoryBIO(), out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()

half = client_hello()
half = half[: len(half) // 2]
held = []
s = socket.create_connection(("127.0.0.1", tls), timeout=60); held.append(("silent TLS port", s))
s = socket.create_connection(("127.0.0.1", tls), timeout=60); s.sendall(half)
held.append(("half ClientHello on the TLS port", s))
s = socket.create_connection(("127.0.0.1", plain), timeout=60)
f = s.makefile("rb")
assert f.readline().startswith(b"+OK")
s.sendall(b"STLS\r\n")
assert f.readline().startswith(b"+OK"), "STLS refused"
s.sendall(half)
held.append(("half ClientHello after STLS", s))
start = time.time()

failed = False
s = socket.create_connection(("127.0.0.1", plain), timeout=10)
g = s.makefile("rb").readline()
if not g.startswith(b"-ERR [IN-USE]"):
    failed = True
    print(f"FAIL S07: with 3 handshakes pending and maxperip 3 a 4th connection got {g!r}, want -ERR [IN-USE]")
s.close()

def closed_by_server(s):
    """True once the server closes (EOF or reset); False if it is still open at 60 s."""
    try:
        while s.recv(4096):      # a TLS alert may come first; only the close matters
            pass
        return True
    except ConnectionResetError:
        return True
    except (socket.timeout, TimeoutError):
        return False

for what, s in held:
    closed = closed_by_server(s)
    took = time.time() - start
    if not closed:
        failed = True
        print(f"FAIL S07: {what}: still open after {took:.1f} s")
    elif took < 2.5:
        failed = True
        print(f"FAIL S07: {what}: closed after {took:.1f} s, before any timeout could apply")
    elif took > 15:
        failed = True
        print(f"FAIL S07: {what}: closed after {took:.1f} s, not at tls.timeout 3")
    else:
        print(f"ok S07 {what}: closed after {took:.1f} s")

# The slots are free again: a new connection from the same address is greeted.
greeted = b""
for _ in range(50):
    s = socket.create_connection(("127.0.0.1", plain), timeout=10)
    greeted = s.makefile("rb").readline()
    s.close()
    if greeted.startswith(b"+OK"):
        break
    time.sleep(0.1)
if greeted.startswith(b"+OK"):
    print("ok S07 slots freed: a new connection is greeted after the timeouts")
else:
    failed = True
    print(f"FAIL S07: after the timeouts a new connection got {greeted!r}, want +OK")
sys.exit(1 if failed else 0)
PY
s07=$!

# ---- S06: old protocol versions. SECLEVEL=0 lets openssl's client offer them at all, so a
# refusal is the server's (an alert "protocol version" comes back).
for v in tls1 tls1_1; do
  for how in implicit stls; do
    if [ "$how" = implicit ]; then
      o=$(timeout 10 openssl s_client -connect "127.0.0.1:$tls_good" "-$v" -cipher 'DEFAULT:@SECLEVEL=0' < /dev/null 2>&1 || true)
    else
      o=$(timeout 10 openssl s_client -connect "127.0.0.1:$port_good" -starttls pop3 "-$v" -cipher 'DEFAULT:@SECLEVEL=0' < /dev/null 2>&1 || true)
    fi
    if grep -q 'alert protocol version' <<< "$o" && grep -q 'Cipher is (NONE)' <<< "$o"; then
      ok "S06 $v ($how) refused with a protocol-version alert"
    else
      bad "S06: $v ($how) was not refused: $(grep -E 'alert|Cipher is|Protocol' <<< "$o" | head -5)"
    fi
  done
done
o=$(printf 'QUIT\r\n' | timeout 10 openssl s_client -connect "127.0.0.1:$tls_good" -tls1_2 -quiet 2>/dev/null || true)
if grep -q '^+OK' <<< "$o"; then ok "S06 TLS 1.2 still works"; else bad "S06: TLS 1.2 failed: $o"; fi

# ---- S14: connections per address, and one maildrop per user.
python3 - "$port_s14" <<'PY' || status=1
import socket, sys, time
port = int(sys.argv[1])
conns = []
for i in range(10):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    f = s.makefile("rb")
    g = f.readline()
    if not g.startswith(b"+OK"):
        print(f"FAIL S14: connection {i + 1} of maxperip 10 got {g!r}"); sys.exit(1)
    conns.append((s, f))
s = socket.create_connection(("127.0.0.1", port), timeout=10)
f = s.makefile("rb")
g = f.readline()
if not (g.startswith(b"-ERR [IN-USE]") and f.readline() == b""):
    print(f"FAIL S14: the 11th connection from one address got {g!r}, want -ERR [IN-USE] and close"); sys.exit(1)
print(f"ok S14 11th connection from one address refused: {g.strip().decode()}")
answers = []
for s, f in conns:
    s.sendall(b"USER same\r\nPASS 12345\r\n")
    f.readline()
    answers.append(f.readline())
    time.sleep(0.05)  # in order, so the first login is the one that wins
won = [a for a in answers if a.startswith(b"+OK")]
in_use = [a for a in answers if a.startswith(b"-ERR [IN-USE]")]
if len(won) == 1 and answers[0].startswith(b"+OK") and len(in_use) == 9:
    print(f"ok S14 10 logins of one user from one address: 1 +OK, 9 {in_use[0].strip().decode()}")
else:
    print(f"FAIL S14: 10 logins of one user: {answers!r}"); sys.exit(1)
PY

# ---- C04: certificate checks (exit 3 = connection failed, before any login).
client() { "$bin" method clientpop3 user u pass 12345 cmd stat timeout 10 "$@"; }
fp() { openssl x509 -in "$work/$1.pem" -noout -fingerprint -sha256 | cut -d= -f2; }
rc=0; client ip localhost port "$tls_good" tls true tls.cafile "$work/ca.pem" > "$work/c.out" 2> "$work/c.err" || rc=$?
if [ "$rc" -eq 0 ] && grep -q '^3 messages' "$work/c.out"; then
  ok "C04 a certificate for localhost from the CA is accepted"
else
  bad "C04: the good certificate failed: exit $rc $(cat "$work/c.out" "$work/c.err")"
fi
for c in wronghost expired selfsigned nulcn nulsan; do
  eval "tp=\$tls_$c pp=\$port_$c"
  rc=0; client ip localhost port "$tp" tls true tls.cafile "$work/ca.pem" > "$work/c.out" 2> "$work/c.err" || rc=$?
  if [ "$rc" -eq 3 ]; then
    ok "C04 $c refused (implicit TLS): $(head -c 200 "$work/c.err" | tr '\n' ' ')"
  else
    bad "C04: $c certificate: exit $rc, want 3: $(cat "$work/c.out" "$work/c.err")"
  fi
  rc=0; client ip localhost port "$pp" starttls true tls.cafile "$work/ca.pem" > "$work/c.out" 2> "$work/c.err" || rc=$?
  if [ "$rc" -eq 3 ]; then ok "C04 $c refused (STLS)"; else bad "C04: $c certificate over STLS: exit $rc, want 3: $(cat "$work/c.err")"; fi
  if grep -qE "user=u |USER u" "$work/$c.err"; then bad "C04: $c: the server saw a login: $(grep -E 'user=u ' "$work/$c.err")"; fi
  rc=0; client ip localhost port "$tp" tls true tls.fingerprint "$(fp good)" > "$work/c.out" 2> "$work/c.err" || rc=$?
  [ "$rc" -eq 3 ] || bad "C04: $c accepted with the fingerprint of another certificate: exit $rc"
  rc=0; client ip localhost port "$tp" tls true tls.fingerprint "$(fp "$c")" > "$work/c.out" 2> "$work/c.err" || rc=$?
  [ "$rc" -eq 0 ] || bad "C04: $c with its own tls.fingerprint: exit $rc $(cat "$work/c.err")"
  rc=0; client ip localhost port "$tp" tls true tls.verify false > "$work/c.out" 2> "$work/c.err" || rc=$?
  if [ "$rc" -eq 0 ] && grep -q 'warning: tls.verify false' "$work/c.err"; then
    ok "C04 $c accepted only with its own tls.fingerprint or tls.verify false (with a warning)"
  else
    bad "C04: $c with tls.verify false: exit $rc $(cat "$work/c.err")"
  fi
done

# ---- A scripted POP3 server for the client rows. Its maildrop lives in a JSON file and
# changes only when a QUIT is answered +OK, as RFC 1939 requires.
cat > "$work/pop.py" <<'PY'
import json, os, socket, sys, time
mode, state, portfile = sys.argv[1], sys.argv[2], sys.argv[3]
msgs = json.load(open(state))          # [[uid, text], ...]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(1); s.settimeout(60)
open(portfile + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(portfile + ".tmp", portfile)
log = open(portfile + ".log", "ab")
c, _ = s.accept(); c.settimeout(60)
f = c.makefile("rwb")
def send(b): f.write(b); f.flush()
def size(text):  # the message's octets; the text is as it goes on the wire (dot-stuffed)
    return len(("\r\n" + text).replace("\r\n..", "\r\n.")) - 2
if mode == "biggreet":
    send(b"+OK " + b"A" * 100000 + b"\r\n"); time.sleep(3); sys.exit(0)
send(b"+OK ready\r\n")
marked = set()
for line in f:
    log.write(line); log.flush()
    w = line.strip().split(b" ")
    v = w[0].upper()
    if v == b"CAPA":
        send(b"+OK\r\nUSER\r\nUIDL\r\n" + (b"STLS\r\n" if mode == "stlssilent" else b"") + b".\r\n")
    elif v == b"STLS":
        send(b"+OK Begin TLS\r\n"); time.sleep(30); sys.exit(0)
    elif v == b"USER":
        send(b"+OK\r\n")
    elif v == b"PASS":
        if mode == "longerr":
            send(b"-ERR [AUTH] \x1b[2J" + b"P" * 4000 + b"\r\n")
        else:
            send(b"+OK\r\n")
    elif v == b"UIDL":
        send(b"+OK\r\n" + b"".join(b"%d %s\r\n" % (i, m[0].encode()) for i, m in enumerate(msgs, 1)) + b".\r\n")
    elif v == b"STAT":
        send(b"+OK %d %d\r\n" % (len(msgs), sum(size(m[1]) for m in msgs)))
    elif v == b"LIST":
        send(b"+OK\r\n" + b"".join(b"%d %d\r\n" % (i, size(m[1])) for i, m in enumerate(msgs, 1)) + b".\r\n")
    elif v == b"RETR":
        body = msgs[int(w[1]) - 1][1].encode()
        send(b"+OK\r\n" + body + b".\r\n")
    elif v == b"DELE":
        if mode == "hangdele":
            time.sleep(60); sys.exit(0)     # the client is killed while it waits
        marked.add(int(w[1])); send(b"+OK\r\n")
    elif v == b"QUIT":
        if mode == "quiterr":
            send(b"-ERR [SYS/TEMP] cannot commit the deletions\r\n")
        elif mode == "dropquit":
            pass                            # no answer: the connection just ends
        else:
            msgs = [m for i, m in enumerate(msgs, 1) if i not in marked]
            json.dump(msgs, open(state + ".tmp", "w")); os.replace(state + ".tmp", state)
            send(b"+OK bye\r\n")
        break
    else:
        send(b"-ERR\r\n")
PY
python3 - "$work/maildrop.json" <<'PY'
import json, sys
msgs = [["u1", "Subject: one\r\n\r\nbody one\r\n"],
        ["u2", "Subject: two\r\n\r\n..dot-stuffed\r\nbody two\r\n"],
        ["u3", "Subject: three\r\n\r\nbody three\r\n"]]
json.dump(msgs, open(sys.argv[1], "w"))
PY
cp "$work/maildrop.json" "$work/maildrop.orig"

# pop MODE [clientpop3 keys...]: runs the scripted server and clientpop3 against it; sets rc,
# out/err in $work/p.out, $work/p.err, the server's command log in $work/port.log.
spid=
pop() {
  local mode=$1; shift
  rm -f "$work/port" "$work/port.log"
  python3 "$work/pop.py" "$mode" "$work/maildrop.json" "$work/port" & spid=$!
  pids+=("$spid")
  for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
  [ -s "$work/port" ] || { echo "FAIL: the scripted server did not start"; exit 1; }
  rc=0
  "$bin" method clientpop3 ip 127.0.0.1 port "$(cat "$work/port")" user u pass p auth user \
    "$@" > "$work/p.out" 2> "$work/p.err" || rc=$?
  kill "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
}
backup=(cmd retr query all delete true starttls false timeout 10 mimestore.modhandler localfs mimestore.create true)
uids_left() { python3 -c 'import json,sys; print(" ".join(m[0] for m in json.load(open(sys.argv[1]))))' "$work/maildrop.json"; }
# The store holds each scripted message exactly once, with the octets the server sent.
store_exact() {
  python3 - "$1" "$work/maildrop.orig" <<'PY'
import glob, json, sys
want = sorted(m[1].replace("\r\n..", "\r\n.").encode() for m in json.load(open(sys.argv[2])))
got = sorted(open(p, "rb").read() for p in glob.glob(sys.argv[1] + "/*.eml"))
sys.exit(0 if got == want else 1)
PY
}

# ---- C05: +OK to STLS, then nothing.
start=$(date +%s%N)
pop stlssilent cmd stat starttls true timeout 2
took=$(( ($(date +%s%N) - start) / 1000000 ))
if [ "$rc" -eq 3 ] && [ "$took" -ge 1900 ] && [ "$took" -lt 15000 ] && grep -q 'did not finish within 2 s' "$work/p.err"; then
  ok "C05 silent after +OK to STLS: exit 3 after ${took} ms: $(head -c 160 "$work/p.err")"
else
  bad "C05: silent after STLS: exit $rc after ${took} ms: $(cat "$work/p.err")"
fi

# ---- C20: server text far over any sane size.
pop biggreet cmd stat starttls false timeout 10
if [ "$rc" -eq 3 ] && [ "$(wc -c < "$work/p.err")" -lt 1000 ]; then
  ok "C20 100 KB greeting: exit 3, $(wc -c < "$work/p.err") octets on stderr: $(head -c 120 "$work/p.err")"
else
  bad "C20: 100 KB greeting: exit $rc, $(wc -c < "$work/p.err") octets of stderr: $(head -c 300 "$work/p.err")"
fi
pop longerr cmd stat starttls false timeout 10
line=$(grep 'login failed' "$work/p.err" || true)
if [ "$rc" -eq 4 ] && [ -n "$line" ] && [ "${#line}" -lt 1000 ] && ! grep -q $'\x1b' "$work/p.err" &&
   grep -qF '\x1B[2J' <<< "$line"; then
  ok "C20 4000-octet -ERR text printed in ${#line} characters, ESC escaped"
else
  bad "C20: 4000-octet -ERR text: exit $rc, line of ${#line} characters: $(head -c 300 "$work/p.err" | cat -v)"
fi

# ---- C15: SIGKILL while the DELE of a stored message is unanswered, then run again.
rm -f "$work/port" "$work/port.log"
python3 "$work/pop.py" hangdele "$work/maildrop.json" "$work/port" & spid=$!
pids+=("$spid")
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
"$bin" method clientpop3 ip 127.0.0.1 port "$(cat "$work/port")" user u pass p auth user \
  "${backup[@]}" mimestore.path "$work/st15" > /dev/null 2>&1 &
cpid=$!
for _ in $(seq 200); do grep -q '^DELE' "$work/port.log" 2>/dev/null && break; sleep 0.05; done
grep -q '^DELE' "$work/port.log" || bad "C15: the client never sent DELE: $(cat "$work/port.log")"
# ---- C19, while that backup waits: a second run for the same account into the same store
# is refused before it connects; the same account into another store is not.
rc=0
"$bin" method clientpop3 ip 127.0.0.1 port "$(cat "$work/port")" user u pass p auth user \
  "${backup[@]}" mimestore.path "$work/st15/" > "$work/c19.out" 2> "$work/c19.err" || rc=$?
if [ "$rc" -eq 1 ] && grep -q "another clientpop3 is already backing up u@127.0.0.1 into this store" "$work/c19.err"; then
  ok "C19 a second backup of the same account into the same store is refused (exit 1)"
else
  bad "C19: second instance: exit $rc: $(cat "$work/c19.err")"
fi
rc=0
"$bin" method clientpop3 ip 127.0.0.1 port "$(free_port)" user u pass p auth user \
  "${backup[@]}" mimestore.path "$work/st19" > "$work/c19.out" 2> "$work/c19.err" || rc=$?
if [ "$rc" -eq 3 ] && ! grep -q "already backing up" "$work/c19.err"; then
  ok "C19 the same account into another store is not locked out"
else
  bad "C19: another store: exit $rc: $(cat "$work/c19.err")"
fi
kill -KILL "$cpid"; wait "$cpid" 2>/dev/null || true
kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true
stored_before=$(find "$work/st15" -name '*.eml' | wc -l)
pop normal "${backup[@]}" mimestore.path "$work/st15"
if [ "$rc" -eq 0 ] && grep -q "duplicates 0, deleted 3, failed 0" "$work/p.out" &&
   store_exact "$work/st15" && [ -z "$(uids_left)" ]; then
  ok "C15 killed before the DELE answer ($stored_before stored), rerun: each message once, all deleted: $(head -c 70 "$work/p.out")"
else
  bad "C15: rerun after SIGKILL: exit $rc $(cat "$work/p.out" "$work/p.err"); left on server: $(uids_left)"
fi

# ---- C18: -ERR to QUIT, and no answer to QUIT; then a normal run DELEs again.
cp "$work/maildrop.orig" "$work/maildrop.json"
for mode in quiterr dropquit; do
  pop "$mode" "${backup[@]}" mimestore.path "$work/st18"
  # Either way the run did not do what it was told: exit 1, and stderr says why.
  if [ "$mode" = quiterr ]; then why="refused QUIT"; else why="before answering"; fi
  if grep -q "deleted 0," "$work/p.out" && [ "$(uids_left)" = "u1 u2 u3" ] && [ "$rc" -eq 1 ] &&
     grep -q "$why" "$work/p.err"; then
    ok "C18 $mode: reported as not deleted (exit $rc): $(head -c 70 "$work/p.out")"
  else
    bad "C18: $mode: the client reports deletions the server did not make (exit $rc): $(cat "$work/p.out")"
  fi
done
# The next run asks only for new messages: all three are stored already, so it fetches none
# and deletes all three.
pop normal cmd retr query new "${backup[@]:4}" mimestore.path "$work/st18"
if [ "$rc" -eq 0 ] && [ "$(grep -c '^DELE' "$work/port.log")" -eq 3 ] && [ -z "$(uids_left)" ] &&
   [ "$(grep -c '^RETR' "$work/port.log")" -eq 0 ] && grep -q "already stored 3, duplicates 0, deleted 3," "$work/p.out" &&
   store_exact "$work/st18"; then
  ok "C18 the next run (query new) sends DELE again: maildrop empty, store has each message once"
else
  bad "C18: the next run: exit $rc $(cat "$work/p.out"); left on server: $(uids_left)"
fi

# ---- C16: a write that fails. RLIMIT_FSIZE makes writes past 64 KiB fail with EFBIG (SIGXFSZ
# is ignored, so the client sees the error instead of dying); only guid_6 (300 KB) is larger.
start_server c16 mimestore.count 8 mimestore.bigsize 300000
rc=0
( trap '' XFSZ; ulimit -f 64
  exec "$bin" method clientpop3 ip 127.0.0.1 port "$port_c16" user u pass 12345 "${backup[@]}" \
    mimestore.path "$work/st16" ) > "$work/c16c.out" 2> "$work/c16c.err" || rc=$?
left=$("$bin" method clientpop3 ip 127.0.0.1 port "$port_c16" user u pass 12345 cmd uidl 2>&1)
files=$(cd "$work/st16" && find . -type f ! -path './.izypop3/*' | sort | tr '\n' ' ')
if [ "$rc" -eq 1 ] && grep -q 'deleted 7, failed 1' "$work/c16c.out" && [ "$left" = "1 guid_6" ] &&
   [ "$(find "$work/st16" -type f ! -path '*/.izypop3/*' | wc -l)" -eq 7 ] && ! grep -q 'guid%5F6' <<< "$files" &&
   [ -z "$(find "$work/st16/.izypop3" -path "$work/st16/.izypop3/tmp/*" -type f)" ]; then
  ok "C16 failed write: exit 1, that message kept on the server and absent from the store, no temp file"
else
  bad "C16: failed write: exit $rc $(cat "$work/c16c.out" "$work/c16c.err"); server has: $left; store: $files"
fi
rc=0
"$bin" method clientpop3 ip 127.0.0.1 port "$port_c16" user u pass 12345 "${backup[@]}" \
  mimestore.path "$work/st16" > "$work/c16c.out" 2> "$work/c16c.err" || rc=$?
left=$("$bin" method clientpop3 ip 127.0.0.1 port "$port_c16" user u pass 12345 cmd stat 2>&1)
if [ "$rc" -eq 0 ] && grep -q '^fetched 1, already stored 0, duplicates 0, deleted 1, failed 0' "$work/c16c.out" &&
   [ "$left" = "0 messages, 0 octets" ]; then
  ok "C16 the next run stores the failed message and deletes it"
else
  bad "C16: the next run: exit $rc $(cat "$work/c16c.out" "$work/c16c.err"); server: $left"
fi

wait "$s07" || status=1
cat "$work/s07.result"
exit "$status"
