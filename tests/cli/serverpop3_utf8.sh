#!/usr/bin/env bash
# RFC 6856 UTF8 on `serverpop3` with a non-ASCII user in the users file (josé, password
# "café au lait"), against python3 poplib and our own client: without UTF8 the UTF-8 name is
# refused with a reply that says to send UTF8; after UTF8 the same name and password log in
# (also with a no-break space in the password, which SASLprep maps to a space), CAPA says
# "UTF8 USER" before login, and a message whose headers are UTF-8 comes back byte for byte
# (the file's LF line ends as CRLF). `izypop3 method clientpop3 user josé` sends UTF8 itself
# (verbose.clientLog shows it) and stores the message. LANG lists only English.
set -euo pipefail
bin=${1:?usage: serverpop3_utf8.sh /path/to/izypop3}
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$work/server.err" ] && tail -20 "$work/server.err" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

printf 'jos\xc3\xa9:{PLAIN}caf\xc3\xa9 au lait\nalice:{PLAIN}wonderland\n' > "$work/users"
mkdir -p "$work/mail/jos"$'\xc3\xa9'/{cur,new,tmp} "$work/mail/alice"/{cur,new,tmp}
printf 'From: J\xc3\xb6rg <j@example.org>\nTo: jos\xc3\xa9@example.org\nSubject: Gr\xc3\xbc\xc3\x9fe aus K\xc3\xb6ln\n\nK\xc3\xa4se und Stra\xc3\x9fe\n' \
  > "$work/mail/jos"$'\xc3\xa9'"/new/1700000000.M1P1.test"

port=$(free_port)
"$bin" method serverpop3 host 127.0.0.1 port "$port" users "$work/users" \
  mimestore.modhandler maildir mimestore.path "$work/mail/%u" \
  > "$work/server.out" 2> "$work/server.err" &
pid=$!
for _ in $(seq 100); do
  grep -q "POP3 on port $port" "$work/server.out" 2>/dev/null && break
  sleep 0.1
done
grep -q "POP3 on port $port" "$work/server.out" || fail "server did not start"

python3 - "$port" "$work/mail" <<'PY' || fail "python3 poplib checks"
import glob, poplib, sys
port, mail = int(sys.argv[1]), sys.argv[2]
user, password = "jos\u00e9", "caf\u00e9 au lait"

def expect(got, want, what):
    if got != want:
        sys.exit(f"{what}: got {got!r}, want {want!r}")

p = poplib.POP3("127.0.0.1", port, timeout=60)
caps = p.capa()
expect(caps.get("UTF8"), ["USER"], "CAPA UTF8 before login")
expect(caps.get("LANG"), [], "CAPA LANG")
# poplib sends its commands as UTF-8: without UTF8 first the server must refuse the name.
try:
    p.user(user)
    sys.exit("a UTF-8 user name was accepted before UTF8")
except poplib.error_proto as e:
    expect(e.args[0].decode(), "-ERR The user name is not ASCII; send UTF8 first to use a "
           "UTF-8 user name or password (RFC 6856)", "USER before UTF8")
resp, lines, _ = p._longcmd("LANG")
expect(resp.decode(), "+OK Language listing follows", "LANG")
expect([l.decode() for l in lines], ["en English"], "LANG listing")
expect(p._shortcmd("LANG en").decode(), "+OK en Language changed", "LANG en")
try:
    p._shortcmd("LANG de")
    sys.exit("LANG de accepted though only English exists")
except poplib.error_proto as e:
    expect(e.args[0].decode(), "-ERR Unsupported language; only en is available", "LANG de")
expect(p.utf8().decode(), "+OK UTF8 enabled", "UTF8")
p.user(user)
p.pass_(password)
count, _ = p.stat()
expect(count, 1, "messages of jos\u00e9")
stored = open(glob.glob(f"{mail}/{user}/new/*")[0], "rb").read()
resp, lines, octets = p.retr(1)
got = b"\r\n".join(lines) + b"\r\n"
expect(got, stored.replace(b"\n", b"\r\n"), "RETR 1 of jos\u00e9 (UTF-8 headers untouched)")
p.quit()

# SASLprep: a no-break space (U+00A0) in the password is a space.
p = poplib.POP3("127.0.0.1", port, timeout=60)
p.utf8()
p.user(user)
p.pass_("caf\u00e9\u00a0au lait")
p.quit()
# Latin-1 octets after UTF8 are no UTF-8: refused, and said so.
p = poplib.POP3("127.0.0.1", port, timeout=60)
p.utf8()
p.sock.sendall(b"USER jos\xe9\r\n")
try:
    p._getresp()
    sys.exit("a Latin-1 user name was accepted after UTF8")
except poplib.error_proto as e:
    expect(e.args[0].decode("latin-1"), "-ERR The user name is not valid UTF-8 or holds a "
           "character SASLprep (RFC 4013) prohibits", "Latin-1 USER after UTF8")
p.close()
print("ok")
PY

# Our client sends UTF8 itself because the name is not ASCII, and stores the message.
"$bin" method clientpop3 ip 127.0.0.1 port "$port" user "jos"$'\xc3\xa9' pass "caf"$'\xc3\xa9'" au lait" \
  auth user starttls false cmd retr mimestore.modhandler localfs mimestore.path "$work/backup" \
  mimestore.create true verbose.clientLog true > "$work/client.out" 2> "$work/client.err" ||
  { cat "$work/client.err" >&2; fail "clientpop3 as jos\xc3\xa9: exit $?"; }
grep -q "\[CLIENT\] > UTF8$" "$work/client.err" || { cat "$work/client.err" >&2; fail "the client did not send UTF8"; }
# The log escapes non-ASCII octets.
grep -qF '[CLIENT] > USER jos\xC3\xA9' "$work/client.err" || { cat "$work/client.err" >&2; fail "the client did not send USER after UTF8"; }
grep -rqF "Gr"$'\xc3\xbc\xc3\x9f'"e aus K"$'\xc3\xb6'"ln" "$work/backup" || fail "the backup does not hold the UTF-8 subject"
echo "serverpop3 UTF8 and LANG: ok"
