#!/usr/bin/env bash
# izypop3 method clientpop3 against a real, private Dovecot: backups over plain TCP (PLAIN),
# STLS (SCRAM-SHA-256, CA file) and implicit TLS (CRAM-MD5, pinned fingerprint) into a
# localfs store; a login with each of USER, APOP, PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1 and
# SCRAM-SHA-256; every stored .eml must equal, byte for byte, what Dovecot serves to python
# poplib; `query new` fetches nothing twice; `delete true` empties the maildrop; starttls true
# against a port without STLS fails (exit 3) before any credential is sent; then a
# SIGKILL-resume loop must end with every message stored exactly once.
set -euo pipefail
bin=${1:?usage: clientpop3_dovecot.sh /path/to/izypop3}
here=$(cd "$(dirname "$0")" && pwd)
dovecot=$here/../support/private_dovecot.sh
work=$(mktemp -d)
chmod 755 "$work"
trap 'bash "$dovecot" stop "$work/dc" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

bash "$dovecot" start "$work/dc" alice s3cret > /dev/null
. "$work/dc/ports.env"
deliver_set() {  # $1 = tag
  printf 'From: a@example.org\nSubject: %s one\n\nline one\n.dot line\n..two dots\n' "$1" > "$work/m1"
  printf 'From: a@example.org\nSubject: %s big\n\n%s\n' "$1" "$(head -c 300000 /dev/zero | tr '\0' y | fold -w 70)" > "$work/m2"
  printf 'From: a@example.org\nSubject: %s no final newline\n\nlast line' "$1" > "$work/m3"
  for m in m1 m2 m3; do bash "$dovecot" deliver "$work/dc" alice "$work/$m"; done
}

# What Dovecot serves, one sha256 per message, sorted.
served() {
  python3 - "$POP3_PORT" <<'PY'
import hashlib, poplib, sys
p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=60)
p.user("alice"); p.pass_("s3cret")
out = []
for i in range(1, len(p.list()[1]) + 1):
    lines = p.retr(i)[1]
    out.append(hashlib.sha256(b"".join(l + b"\r\n" for l in lines)).hexdigest())
p.quit()
print("\n".join(sorted(out)))
PY
}
stored() { find "$1" -name '*.eml' -type f -exec sha256sum {} + | awk '{print $1}' | sort; }

fingerprint=$(openssl x509 -in "$work/dc/cert.pem" -noout -fingerprint -sha256 | cut -d= -f2)
common=(user alice pass s3cret cmd retr mimestore.modhandler localfs mimestore.create true)
plain=(ip 127.0.0.1 port "$POP3_PORT" starttls false auth plain)
stls=(ip localhost port "$POP3_PORT" starttls true auth scram-sha-256 tls.cafile "$work/dc/cert.pem")
implicit=(ip 127.0.0.1 port "$POP3S_PORT" tls true auth cram-md5 tls.fingerprint "$fingerprint")

n=0
for mode in plain stls implicit; do
  n=$((n + 1))
  deliver_set "$mode"
  want=$(served)
  store="$work/store_$mode"
  eval "args=(\"\${$mode[@]}\")"
  "$bin" method clientpop3 "${args[@]}" "${common[@]}" query new mimestore.path "$store" \
    > "$work/out" 2> "$work/err" || fail "$mode backup: exit $? $(cat "$work/err")"
  grep -q '^fetched 3, already stored 0' "$work/out" || fail "$mode summary: $(cat "$work/out")"
  [ "$(stored "$store")" = "$want" ] || fail "$mode: stored octets differ from what Dovecot serves"
  "$bin" method clientpop3 "${args[@]}" "${common[@]}" query new mimestore.path "$store" \
    > "$work/out" 2> "$work/err" || fail "$mode second run: $(cat "$work/err")"
  grep -q '^fetched 0, already stored 3, duplicates 0, deleted 0' "$work/out" || fail "$mode query new fetched again: $(cat "$work/out")"
  # query new delete true: nothing to fetch, and what the store already holds is deleted.
  "$bin" method clientpop3 "${args[@]}" "${common[@]}" query new delete true mimestore.path "$store" \
    > "$work/out" 2> "$work/err" || fail "$mode third run: $(cat "$work/err")"
  grep -q '^fetched 0, already stored 3, duplicates 0, deleted 3' "$work/out" || fail "$mode query new delete true: $(cat "$work/out")"
  [ -z "$(served)" ] || fail "$mode: query new delete true left stored messages on the server"
  [ "$(stored "$store")" = "$want" ] || fail "$mode: query new delete true changed the store"
  deliver_set "$mode again"
  want=$(served)
  # delete true: fetch into a fresh store, delete everything on the server.
  "$bin" method clientpop3 "${args[@]}" "${common[@]}" delete true mimestore.path "$store.del" \
    > "$work/out" 2> "$work/err" || fail "$mode delete: $(cat "$work/err")"
  grep -q '^fetched 3, .* deleted 3, failed 0' "$work/out" || fail "$mode delete summary: $(cat "$work/out")"
  [ "$(stored "$store.del")" = "$want" ] || fail "$mode: delete-run store differs"
  [ -z "$(served)" ] || fail "$mode: delete true left messages on the server"
  echo "ok $mode"
done

# Every login mechanism of the client that Dovecot offers (docs/status.md says so): each
# logs in over implicit TLS (where APOP's timestamp can be trusted) and sees the same STAT
# as poplib. XOAUTH2 and OAUTHBEARER need an OAuth2
# provider, which this Dovecot does not have.
deliver_set "mechanisms"
want_stat=$(python3 - "$POP3_PORT" <<'PY'
import poplib, sys
p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=60)
p.user("alice"); p.pass_("s3cret")
count, size = p.stat()
p.quit()
print(f"{count} messages, {size} octets")
PY
)
for mech in user apop plain login cram-md5 scram-sha-1 scram-sha-256; do
  "$bin" method clientpop3 ip 127.0.0.1 port "$POP3S_PORT" tls true tls.fingerprint "$fingerprint" \
    user alice pass s3cret auth "$mech" cmd stat > "$work/out" 2> "$work/err" ||
    fail "auth $mech against Dovecot: exit $?: $(cat "$work/err")"
  [ "$(cat "$work/out")" = "$want_stat" ] || fail "auth $mech: $(cat "$work/out"), want $want_stat"
done
echo "ok every-mechanism"

# The certificate names localhost, not 127.0.0.1: a CA-checked connection to the address must
# fail (exit 3) before login; tls.verify false or a pinned fingerprint accept it.
rc=0
"$bin" method clientpop3 ip 127.0.0.1 port "$POP3S_PORT" tls true tls.cafile "$work/dc/cert.pem" \
  user alice pass s3cret cmd stat > /dev/null 2> "$work/err" || rc=$?
[ "$rc" -eq 3 ] || fail "wrong-host certificate: exit $rc, want 3: $(cat "$work/err")"
"$bin" method clientpop3 ip 127.0.0.1 port "$POP3S_PORT" tls true tls.verify false \
  user alice pass s3cret cmd stat > "$work/out" 2> "$work/err" || fail "tls.verify false: $(cat "$work/err")"
grep -q 'warning: tls.verify false' "$work/err" || fail "tls.verify false printed no warning"
"$bin" method clientpop3 ip 127.0.0.1 port "$POP3S_PORT" tls true tls.fingerprint "$fingerprint" \
  user alice pass s3cret cmd stat > "$work/out" 2> "$work/err" || fail "pinned fingerprint: $(cat "$work/err")"
echo "ok certificate-checks"

# starttls true against the implicit-TLS-less plain port of a server without STLS: simulated
# with a tiny python server that never offers STLS and records what it got.
log="$work/nostls.log"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 - "$port" "$log" <<'PY' &
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); s.settimeout(60)
c, _ = s.accept(); c.settimeout(60)
f = c.makefile("rwb")
f.write(b"+OK hi\r\n"); f.flush()
with open(sys.argv[2], "wb") as log:
    for line in f:
        log.write(line); log.flush()
        if line.upper().startswith(b"CAPA"):
            f.write(b"+OK\r\nUSER\r\nUIDL\r\n.\r\n"); f.flush()
        elif line.upper().startswith(b"QUIT"):
            f.write(b"+OK bye\r\n"); f.flush(); break
        else:
            f.write(b"-ERR no\r\n"); f.flush()
PY
spid=$!
sleep 1
rc=0
"$bin" method clientpop3 ip 127.0.0.1 port "$port" user alice pass s3cret starttls true cmd stat \
  > /dev/null 2> "$work/err" || rc=$?
wait "$spid" || true
[ "$rc" -eq 3 ] || fail "starttls true without STLS: exit $rc, want 3: $(cat "$work/err")"
! grep -qiE 'USER|PASS|AUTH' "$log" || fail "credentials were sent without TLS: $(cat "$log")"
echo "ok starttls-required"

# SIGKILL-resume: kill the backup at random points; query new must end with each message once.
for i in $(seq 1 5); do deliver_set "kill$i"; done
want=$(served)
store="$work/store_kill"
for round in $(seq 1 30); do
  "$bin" method clientpop3 "${plain[@]}" "${common[@]}" query new mimestore.path "$store" \
    > "$work/out" 2>/dev/null &
  cpid=$!
  sleep "0.0$((RANDOM % 9 + 1))"
  kill -KILL "$cpid" 2>/dev/null || true
  wait "$cpid" 2>/dev/null || true
done
"$bin" method clientpop3 "${plain[@]}" "${common[@]}" query new mimestore.path "$store" \
  > "$work/out" 2> "$work/err" || fail "final resume run: $(cat "$work/err")"
[ "$(stored "$store")" = "$want" ] || fail "after SIGKILL-resume the store is not exactly the server's messages"
echo "ok sigkill-resume"
