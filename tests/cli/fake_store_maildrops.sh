#!/usr/bin/env bash
# serverpop3 on the fake store gives each user a generated maildrop of their own, as python
# poplib sees it: two users logged in at the same time get the same messages (same seed),
# alice deletes three and quits while bob's session is still open, bob still retrieves all
# of them and his later sessions keep them; the same user twice at once is -ERR [IN-USE].
# usage: bash fake_store_maildrops.sh /path/to/izypop3
set -euo pipefail
bin=${1:?usage: fake_store_maildrops.sh /path/to/izypop3}
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../support/fake_server.sh
. "$here/../support/fake_server.sh"

start_fake_server "$bin" "$work" 9

python3 - "$port" <<'PY'
import hashlib, poplib, sys
port = int(sys.argv[1])

def login(user):
    p = poplib.POP3("127.0.0.1", port, timeout=60)
    p.user(user); p.pass_("12345")
    return p

def contents(p):
    """UIDL and SHA-256 of each message, in message-number order."""
    uids = [l.split()[1].decode() for l in p.uidl()[1]]
    return [(u, hashlib.sha256(b"\r\n".join(p.retr(n + 1)[1])).hexdigest())
            for n, u in enumerate(uids)]

def fail(why):
    print(f"FAIL: {why}")
    sys.exit(1)

alice, bob = login("alice"), login("bob")
a, b = contents(alice), contents(bob)
if len(a) != 9 or a != b:
    fail(f"alice and bob do not see the same 9 generated messages: {a} / {b}")

# The same user twice while the first session lasts.
try:
    login("alice")
    fail("a second session of alice was let in")
except poplib.error_proto as e:
    if not e.args[0].startswith(b"-ERR [IN-USE]"):
        fail(f"second alice session: {e.args[0]!r}, want -ERR [IN-USE]")

for n in (1, 2, 3):
    alice.dele(n)
alice.quit()  # UPDATE: alice's three are gone, while bob is still logged in

# Bob's open session is untouched, and so is every later one.
if contents(bob) != b:
    fail("bob's open session changed when alice quit")
bob.quit()
bob = login("bob")
if contents(bob) != b:
    fail("bob lost messages that alice deleted")
bob.dele(1)
bob.quit()
alice = login("alice")
if contents(alice) != a[3:]:
    fail(f"alice's new session: {contents(alice)}, want her last six")
alice.quit()
carol = login("carol")
if contents(carol) != a:
    fail("a third user does not get all nine")
carol.quit()
bob = login("bob")
if contents(bob) != b[1:]:
    fail("bob's own deletion did not take")
bob.quit()
print("PASS: two users at once: same messages, deletions of one invisible to the other")
print("PASS: the same user twice at once gets -ERR [IN-USE]")
PY
stop_fake_server
echo "fake_store_maildrops: all checks passed"
