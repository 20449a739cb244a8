#!/usr/bin/env bash
# A Maildir that izypop3 wrote, read by Dovecot: clientpop3 backs up our fake-store server
# (its edge cases: dot lines, 8-bit text, long lines, no final CRLF, a 5 MiB message) into
# the Maildir of a private Dovecot's user, and Dovecot's own POP3 server must then serve
# every message with the same UIDL-independent content: the same number of messages, and
# each RETR the same octets as our server sent. A delete through Dovecot must leave the
# Maildir consistent for our server too (it serves what remains).
set -euo pipefail
bin=${1:?usage: maildir_read_by_dovecot.sh /path/to/izypop3}
here=$(cd "$(dirname "$0")" && pwd)
dovecot=$here/../support/private_dovecot.sh
work=$(mktemp -d)
chmod 755 "$work"  # Dovecot's own users must reach its directory below
pid=
export IZYPOP3_LOCK_DIR=$work/locks
trap 'bash "$dovecot" stop "$work/dc" >/dev/null 2>&1 || true; [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

bash "$dovecot" start "$work/dc" alice s3cret > /dev/null
. "$work/dc/ports.env"
. "$here/../support/fake_server.sh"
count=12
start_fake_server "$bin" "$work" "$count"

# The digest of every message a POP3 server gives USER/PASS, in message-number order.
served() {  # port user pass
  python3 - "$@" <<'PY'
import hashlib, poplib, sys
p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=60)
p.user(sys.argv[2]); p.pass_(sys.argv[3])
for i in range(1, len(p.list()[1]) + 1):
    print(hashlib.sha256(b"".join(l + b"\r\n" for l in p.retr(i)[1])).hexdigest())
p.quit()
PY
}
served "$port" anyone 12345 | sort > "$work/ours"
[ "$(wc -l < "$work/ours")" -eq "$count" ] || fail "our server served $(wc -l < "$work/ours") messages, want $count"

mail=$work/dc/mail/alice
"$bin" method clientpop3 ip 127.0.0.1 port "$port" user anyone pass 12345 starttls false \
  cmd retr mimestore.modhandler maildir mimestore.path "$mail" > "$work/backup.out" 2> "$work/backup.err" ||
  fail "backup into the Maildir: exit $?: $(cat "$work/backup.err")"
grep -q "^fetched $count, already stored 0, duplicates 0, deleted 0, failed 0" "$work/backup.out" ||
  fail "backup summary: $(cat "$work/backup.out")"
[ -z "$(ls -A "$mail/tmp")" ] || fail "the backup left files in tmp/: $(ls "$mail/tmp")"
chown -R nobody:nogroup "$mail"

served "$POP3_PORT" alice s3cret | sort > "$work/dovecot" || fail "Dovecot cannot read the Maildir: $(tail -5 "$work/dc/dovecot.log")"
diff "$work/ours" "$work/dovecot" > "$work/diff" ||
  fail "Dovecot serves other octets than our server sent (< ours, > Dovecot): $(cat "$work/diff")"
echo "ok dovecot-serves-our-maildir ($count messages, byte for byte)"

# Dovecot deletes message 1; our server on the same Maildir serves exactly the rest.
python3 - "$POP3_PORT" <<'PY'
import poplib, sys
p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=60)
p.user("alice"); p.pass_("s3cret"); p.dele(1); p.quit()
PY
served "$POP3_PORT" alice s3cret | sort > "$work/dovecot.after"
ours_port=$(free_port)
"$bin" method serverpop3 host 127.0.0.1 port "$ours_port" password 12345 \
  mimestore.modhandler maildir mimestore.path "$mail" > "$work/ours.out" 2> "$work/ours.err" &
pid2=$!
for _ in $(seq 100); do grep -q "POP3 on port $ours_port" "$work/ours.out" 2>/dev/null && break; sleep 0.1; done
served "$ours_port" anyone 12345 | sort > "$work/ours.after" || { kill "$pid2"; fail "our server cannot serve the Maildir after Dovecot's delete: $(cat "$work/ours.err")"; }
kill "$pid2"
[ "$(wc -l < "$work/ours.after")" -eq $((count - 1)) ] || fail "after Dovecot's delete our server serves $(wc -l < "$work/ours.after") messages, want $((count - 1))"
diff "$work/dovecot.after" "$work/ours.after" > "$work/diff" ||
  fail "after Dovecot's delete the two servers differ (< Dovecot, > ours): $(cat "$work/diff")"
echo "ok shared-maildir-after-dovecot-delete"
echo "maildir_read_by_dovecot: all checks passed"
