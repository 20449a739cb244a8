#!/usr/bin/env bash
# Our server serving Maildirs that Dovecot's LDA (dovecot-lda) delivered into, one per user
# (mimestore.path .../%u), fetched with python3 poplib: every message must be the delivered
# file with LF line ends sent as CRLF, LIST sizes must be the octets sent, UIDLs must be the
# Maildir base names, another user's mail never shows, DELE+QUIT archives (the default
# commitmode) and the message is gone from the next session.
set -euo pipefail
bin=${1:?usage: serverpop3_maildir.sh /path/to/izypop3}
here=$(cd "$(dirname "$0")" && pwd)
dovecot=$here/../support/private_dovecot.sh
work=$(mktemp -d)
chmod 755 "$work"  # Dovecot's own users must reach its directory below
pid=
trap 'bash "$dovecot" stop "$work/dc" >/dev/null 2>&1 || true; [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

bash "$dovecot" start "$work/dc" alice s3cret > /dev/null
# A second user, delivered to through the same Dovecot.
printf 'bob:{PLAIN}x\n' >> "$work/dc/passwd"
mkdir -p "$work/dc/mail/bob"/{cur,new,tmp} && chown -R nobody:nogroup "$work/dc/mail/bob"

printf 'From: a@example.org\nTo: alice@example.org\nSubject: first\n\nline one\n.dot line\n' > "$work/m1"
printf 'From: a@example.org\nSubject: =?UTF-8?B?w6TDtsO8?=\n\n%s\n' "$(head -c 30000 /dev/zero | tr '\0' y | fold -w 70)" > "$work/m2"
printf 'From: a@example.org\nSubject: no final newline\n\nlast line' > "$work/m3"
printf 'From: x@example.org\nSubject: for bob\n\nbob only\n' > "$work/mb"
for m in m1 m2 m3; do bash "$dovecot" deliver "$work/dc" alice "$work/$m"; done
bash "$dovecot" deliver "$work/dc" bob "$work/mb"
[ "$(ls "$work/dc/mail/alice/new" | wc -l)" -eq 3 ] || { echo "dovecot-lda did not deliver 3 messages"; ls -R "$work/dc/mail"; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
tlsport=$(free_port)
"$bin" method serverpop3 host 127.0.0.1 port "$port" tlsport "$tlsport" password 12345 \
  mimestore.modhandler maildir mimestore.path "$work/dc/mail/%u" > "$work/server.out" 2> "$work/server.err" &
pid=$!
for _ in $(seq 100); do
  grep -q "POP3 on port $port" "$work/server.out" 2>/dev/null && break
  sleep 0.1
done
grep -q "POP3 on port $port" "$work/server.out" || { cat "$work/server.err"; echo "server did not start"; exit 1; }

python3 - "$port" "$work/dc/mail" <<'PY'
import os, poplib, sys
port, mail = int(sys.argv[1]), sys.argv[2]

def delivered(user):
    """base name -> file octets, for every message Dovecot delivered to user's INBOX."""
    out = {}
    for sub in ("new", "cur"):
        d = os.path.join(mail, user, sub)
        for name in os.listdir(d):
            out[name.split(":")[0]] = open(os.path.join(d, name), "rb").read()
    return out

def on_wire(data):
    # What RFC 1939 says is sent: CRLF line ends, and a final CRLF when the file lacks one.
    data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return data if data.endswith(b"\r\n") else data + b"\r\n"

def session(user):
    p = poplib.POP3("127.0.0.1", port, timeout=60)
    p.user(user); p.pass_("12345")
    return p

def check(user, expect_count):
    files = delivered(user)
    p = session(user)
    count, total = p.stat()
    listing = [l.split() for l in p.list()[1]]
    uidls = dict(l.split() for l in p.uidl()[1])
    assert count == expect_count == len(listing), (user, count, expect_count, listing)
    sent_total = 0
    for n, size in listing:
        uid = uidls[n].decode()
        assert uid in files, (user, uid, sorted(files))
        got = b"".join(l + b"\r\n" for l in p.retr(int(n))[1])
        want = on_wire(files[uid])
        assert got == want, (user, uid, got[:200], want[:200])
        assert len(got) == int(size), (user, uid, len(got), int(size))
        sent_total += len(got)
    assert total == sent_total, (total, sent_total)
    return p, listing, uidls

p, listing, uidls = check("alice", 3)
p.quit()
p, listing, uidls = check("bob", 1)
p.quit()
# A user without a mailbox has an empty maildrop; a name that tries to escape is refused.
p = session("carol"); assert p.stat() == (0, 0); p.quit()
for bad in ("../bob", ".."):
    try:
        session(bad)
        sys.exit("user %r got a maildrop" % bad)
    except poplib.error_proto as e:
        assert e.args[0].startswith(b"-ERR"), e
# DELE + QUIT archives (commitmode archive): gone from the next session, kept in .archive.
p = session("alice")
first_uid = p.uidl(1).split()[2].decode()
p.dele(1); p.quit()
p = session("alice")
assert p.stat()[0] == 2, p.stat()
assert first_uid not in [l.split()[1].decode() for l in p.uidl()[1]]
p.quit()
archived = [n.split(":")[0] for sub in ("new", "cur")
            for n in os.listdir(os.path.join(mail, "alice", ".archive", sub))]
assert archived == [first_uid], archived
print("poplib checks passed")
PY

# Dovecot itself still reads the Maildir after our server changed it: 2 messages in INBOX.
python3 - "$work/dc/ports.env" <<'PY'
import poplib, sys
env = dict(l.strip().split("=") for l in open(sys.argv[1]))
p = poplib.POP3("127.0.0.1", int(env["POP3_PORT"]), timeout=60)
p.user("alice"); p.pass_("s3cret")
assert p.stat()[0] == 2, p.stat()
p.quit()
PY
kill -TERM "$pid"
wait "$pid"
pid=
echo "serverpop3_maildir: all checks passed"
