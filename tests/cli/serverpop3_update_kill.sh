#!/usr/bin/env bash
# SECURITY S16/S18: the server is SIGKILLed right after its +OK to QUIT, or in the middle of a
# session with DELEs pending. A maildrop on a localfs store (files on disk, commitmode remove):
#   - DELE 2, RSET, DELE 1, DELE 3, QUIT answered +OK, then kill -9: exactly 1 and 3 are gone
#     from the disk (the +OK is only sent once the deletions are committed and fsynced), 2 and
#     4 are still there, and a restarted server lists the two left;
#   - DELE 2, then kill -9 before any QUIT: nothing is gone.
set -euo pipefail
bin=${1:?usage: serverpop3_update_kill.sh /path/to/izypop3}
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"' EXIT
. "$(dirname "$0")/../support/fake_server.sh"
mkdir -p "$work/mail/alice"
for n in 1 2 3 4; do printf 'Subject: %s\r\n\r\nmessage %s\r\n' "$n" "$n" > "$work/mail/alice/m$n.eml"; done
rc=0

start() {
  port=$(free_port)
  "$bin" method serverpop3 host 127.0.0.1 port "$port" password 12345 \
    mimestore.modhandler localfs mimestore.path "$work/mail/%u" mimestore.commitmode remove \
    > "$work/server.out" 2> "$work/server.err" &
  pid=$!
  for _ in $(seq 100); do grep -q "POP3 on port $port" "$work/server.out" 2>/dev/null && break; sleep 0.1; done
  grep -q "POP3 on port $port" "$work/server.out" || { cat "$work/server.err"; echo "FAIL: server did not start"; exit 1; }
}

kill_now() { kill -9 "$pid"; wait "$pid" 2>/dev/null || true; pid=; }

files() { (cd "$work/mail/alice" && ls | sort | tr '\n' ' '); }

# The session: DELE 2 (then undone by RSET), DELE 1 and 3, QUIT; the server dies at once.
start
python3 - "$port" <<'PY'
import poplib, sys
p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=30)
p.user("alice"); p.pass_("12345")
uids = {int(l.split()[0]): l.split()[1].decode() for l in p.uidl()[1]}
by_uid = {u: n for n, u in uids.items()}
p.dele(by_uid["m2"]); p.rset()
p.dele(by_uid["m1"]); p.dele(by_uid["m3"])
print(p.quit().decode())
PY
kill_now
got=$(files)
if [ "$got" = "m2.eml m4.eml " ]; then echo "PASS: kill -9 after +OK to QUIT: exactly the marked messages are gone ($got)"
else echo "FAIL: kill -9 after +OK to QUIT: left $got, want m2.eml m4.eml"; rc=1; fi

# A restarted server serves what is left.
start
left=$(python3 -c "
import poplib, sys
p = poplib.POP3('127.0.0.1', $port, timeout=30); p.user('alice'); p.pass_('12345')
print(sorted(l.split()[1].decode() for l in p.uidl()[1])); p.quit()")
if [ "$left" = "['m2', 'm4']" ]; then echo "PASS: the restarted server lists m2 and m4"
else echo "FAIL: the restarted server lists $left"; rc=1; fi

# DELE pending, then the server dies before QUIT: nothing is deleted.
python3 - "$port" > "$work/client.out" 2>&1 <<'PY' &
import poplib, sys, time
p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=30)
p.user("alice"); p.pass_("12345")
p.dele(1)
print("deleted 1, waiting", flush=True)
time.sleep(30)
PY
client=$!
for _ in $(seq 100); do grep -q "deleted 1, waiting" "$work/client.out" 2>/dev/null && break; sleep 0.1; done
kill_now
kill "$client" 2>/dev/null || true
got=$(files)
if [ "$got" = "m2.eml m4.eml " ]; then echo "PASS: kill -9 with DELE pending and no QUIT: nothing deleted"
else echo "FAIL: kill -9 with DELE pending: left $got, want m2.eml m4.eml"; rc=1; fi
exit "$rc"
