#!/usr/bin/env bash
# RFC 2449 EXPIRE and LOGIN-DELAY served by `serverpop3 expire 0 logindelay 3600` with
# per-user values in the users file (userdb_expire=, userdb_logindelay=), seen by python3
# poplib: CAPA before login gives the least values with USER, after login the user's own;
# a second login of alice within the delay is refused with -ERR [LOGIN-DELAY] (and a right
# password), while bob (userdb_logindelay=0) logs in as often as he likes; under EXPIRE 0
# what carol retrieved is gone in her next session and what she did not retrieve stays;
# bob (userdb_expire=never) keeps what he retrieved. `expire 7` on a store without retrieval
# times is refused at start (exit 2) instead of being announced and never done.
set -euo pipefail
bin=${1:?usage: serverpop3_expire_logindelay.sh /path/to/izypop3}
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$work/server.err" ] && tail -20 "$work/server.err" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cat > "$work/users" <<'USERS'
alice:{PLAIN}wonderland
bob:{PLAIN}builder::::::userdb_expire=never userdb_logindelay=0
carol:{PLAIN}pencil::::::userdb_logindelay=0
USERS

port=$(free_port)
"$bin" method serverpop3 host 127.0.0.1 port "$port" users "$work/users" expire 0 \
  logindelay 3600 mimestore.modhandler fake mimestore.count 3 \
  > "$work/server.out" 2> "$work/server.err" &
pid=$!
for _ in $(seq 100); do
  grep -q "POP3 on port $port" "$work/server.out" 2>/dev/null && break
  sleep 0.1
done
grep -q "POP3 on port $port" "$work/server.out" || fail "server did not start"

python3 - "$port" <<'PY' || fail "python3 poplib checks"
import poplib, sys
port = int(sys.argv[1])

def connect():
    return poplib.POP3("127.0.0.1", port, timeout=60)

def policy_lines(p):
    caps = p.capa()
    return sorted(k + (" " + " ".join(v) if v else "") for k, v in caps.items()
                  if k in ("EXPIRE", "LOGIN-DELAY"))

def login(user, password):
    p = connect()
    p.user(user)
    p.pass_(password)
    return p

def expect(got, want, what):
    if got != want:
        sys.exit(f"{what}: got {got!r}, want {want!r}")

# Before login: the least of the server (0, 3600) and the users file (never, 0).
p = connect()
expect(policy_lines(p), ["EXPIRE 0 USER", "LOGIN-DELAY 0 USER"], "CAPA before login")
p.quit()

# alice has the server's values; her second login within the hour is refused, after the
# password was checked, and the session may still QUIT.
p = login("alice", "wonderland")
expect(policy_lines(p), ["EXPIRE 0", "LOGIN-DELAY 3600"], "alice's CAPA")
p.quit()
p = connect()
p.user("alice")
try:
    p.pass_("wonderland")
    sys.exit("alice's second login within LOGIN-DELAY was accepted")
except poplib.error_proto as e:
    text = e.args[0].decode()
    if not text.startswith("-ERR [LOGIN-DELAY] "):
        sys.exit(f"second login: {text!r}")
    if "every 3600 seconds" not in text or "try again in 3" not in text:
        sys.exit(f"LOGIN-DELAY reply does not say the delay and the wait: {text!r}")
p.quit()
# A wrong password is still just a wrong password: the delay tells nothing before it.
p = connect()
p.user("alice")
try:
    p.pass_("wrong")
    sys.exit("wrong password accepted")
except poplib.error_proto as e:
    expect(e.args[0].decode(), "-ERR [AUTH] Invalid login", "wrong password for alice")
p.quit()

# bob: no delay, EXPIRE NEVER; what he retrieves stays.
for round in range(2):
    p = login("bob", "builder")
    expect(policy_lines(p), ["EXPIRE NEVER", "LOGIN-DELAY 0"], "bob's CAPA")
    expect(p.stat()[0], 3, f"bob's messages, login {round + 1}")
    p.retr(1)
    expect(p.quit().decode(), "+OK izypop3 signing off (nothing deleted)", "bob's QUIT")

# carol: EXPIRE 0 from the server, no delay. RETR 2 and TOP 3 (TOP is no retrieval).
p = login("carol", "pencil")
expect(policy_lines(p), ["EXPIRE 0", "LOGIN-DELAY 0"], "carol's CAPA")
uids = [l.decode().split()[1] for l in p.uidl()[1]]
expect(len(uids), 3, "carol's messages")
p.retr(2)
p.top(3, 0)
expect(p.quit().decode(), "+OK izypop3 signing off (1 messages deleted)", "carol's QUIT")
p = login("carol", "pencil")
after = [l.decode().split()[1] for l in p.uidl()[1]]
expect(after, [uids[0], uids[2]], "carol's messages after EXPIRE 0")
# A session that retrieves and ends without QUIT (no UPDATE) removes nothing.
p.retr(1)
p.close()
p = login("carol", "pencil")
expect(p.stat()[0], 2, "carol's messages after a session without QUIT")
p.quit()
print("ok")
PY
grep -q "login of alice refused: LOGIN-DELAY 3600 s" "$work/server.err" ||
  fail "the server did not log the LOGIN-DELAY refusal"
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""

# EXPIRE DAYS needs retrieval times, which the fake store does not keep.
set +e
"$bin" method serverpop3 host 127.0.0.1 port "$(free_port)" users "$work/users" expire 7 \
  mimestore.modhandler fake > "$work/days.out" 2> "$work/days.err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "expire 7 on the fake store: exit $rc, want 2"
grep -q "expire DAYS (or a userdb_expire= of days) needs a store that records when each message was retrieved; the fake store does not" "$work/days.err" ||
  fail "expire 7 on the fake store: $(cat "$work/days.err")"
# A bad value is a usage error naming the key.
set +e
"$bin" method serverpop3 users "$work/users" expire soon mimestore.modhandler fake \
  > /dev/null 2> "$work/bad.err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "expire soon: exit $rc, want 2"
grep -q "never or a number of days from 0 to 36500" "$work/bad.err" || fail "expire soon: $(cat "$work/bad.err")"
echo "serverpop3 EXPIRE and LOGIN-DELAY: ok"
