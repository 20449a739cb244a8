#!/usr/bin/env bash
# Keys given where they do nothing are refused (exit 2, one line naming the key, where it
# applies and what to do), never ignored; the combinations that lost mail are refused before
# anything is sent: cmd dele query new (it deleted every message), delete true or querystore
# mark on the fake store (which keeps nothing); maxsize filters list, uidl, top and dele by
# the LIST size (cmd dele maxsize deleted larger messages; cmd top maxsize killed the session).
# usage: key_scope.sh /path/to/izypop3
set -euo pipefail
bin=${1:?usage: key_scope.sh /path/to/izypop3}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$here/../support/fake_server.sh"

start_fake_server "$bin" "$work" 6
client() { "$bin" method clientpop3 ip 127.0.0.1 port "$port" user alice pass 12345 \
  starttls false "$@"; }
# The server's LIST, as "N SIZE" lines, from a fresh session.
listing() { client cmd list; }
count() { listing | wc -l; }

# expect_usage LINE ARGS...: exit 2, nothing on stdout, exactly LINE on stderr.
expect_usage() {
  local want=$1 rc=0
  shift
  "$bin" "$@" >"$work/out" 2>"$work/err" || rc=$?
  [ "$rc" = 2 ] || fail "$* exited $rc, want 2; stderr: $(cat "$work/err")"
  [ ! -s "$work/out" ] || fail "$* printed on stdout: $(cat "$work/out")"
  [ "$(cat "$work/err")" = "$want" ] || fail "$*: stderr is '$(cat "$work/err")', want '$want'"
}
cp3=(method clientpop3 ip 127.0.0.1 port "$port" user alice pass 12345 starttls false)

# --- A1: cmd dele query new deleted every message; now refused, nothing deleted.
[ "$(count)" = 6 ] || fail "the maildrop does not start with 6 messages"
expect_usage "izypop3: clientpop3: query new with cmd dele would delete every message not backed up yet; to back up and then delete, use cmd retr query new delete true; to delete named messages, use query N-M or query.id" \
  "${cp3[@]}" cmd dele query new
for cmd in list uidl top; do
  expect_usage "izypop3: clientpop3: query new (the messages the store does not hold yet) applies to cmd retr only; with cmd $cmd name the messages with query N-M or query.id" \
    "${cp3[@]}" cmd "$cmd" query new
done
[ "$(count)" = 6 ] || fail "cmd dele query new deleted messages"
echo "PASS: cmd dele query new is refused and deletes nothing; list/uidl/top refuse query new"

# --- A3: delete true with the fake store deleted mail that was kept nowhere.
expect_usage "izypop3: clientpop3: delete true with mimestore.modhandler fake would delete mail kept nowhere (the fake store lives in memory and is gone at exit); name a store that keeps it: mimestore.modhandler localfs, maildir or postgres" \
  "${cp3[@]}" cmd retr delete true
[ "$(count)" = 6 ] || fail "cmd retr delete true on the fake store deleted messages"
for key in mark unmark; do
  expect_usage "izypop3: querystore: $key with mimestore.modhandler fake changes nothing that lasts (the fake store lives in memory and is gone at exit); name the store to change: mimestore.modhandler localfs, maildir or postgres" \
    method querystore "$key" seen
done
echo "PASS: delete true and querystore mark/unmark are refused on the fake store"

# --- A2: maxsize filters by the LIST size. The limit: the third smallest size, so that
# some messages are at most that and some are larger.
listing >"$work/list"
max=$(awk '{print $2}' "$work/list" | sort -n | sed -n 3p)
awk -v m="$max" '$2 <= m' "$work/list" >"$work/small"
awk -v m="$max" '$2 > m {print $1}' "$work/list" >"$work/large"
[ -s "$work/large" ] || fail "every fake message is at most $max octets; the test needs larger ones"
client cmd list maxsize "$max" >"$work/got" || fail "cmd list maxsize exited $?"
cmp -s "$work/got" "$work/small" || fail "cmd list maxsize $max printed $(cat "$work/got"), want $(cat "$work/small")"
client cmd uidl maxsize "$max" | awk '{print $1}' >"$work/got"
awk '{print $1}' "$work/small" | cmp -s - "$work/got" || fail "cmd uidl maxsize $max listed $(cat "$work/got")"
big=$(head -1 "$work/large")
rc=0
client cmd top query.id "$big" maxsize 10 >"$work/out" 2>"$work/err" || rc=$?
[ "$rc" = 0 ] && [ ! -s "$work/out" ] && [ ! -s "$work/err" ] \
  || fail "cmd top maxsize 10 of a larger message: exit $rc, out $(cat "$work/out"), err $(cat "$work/err")"
small=$(head -1 "$work/small" | awk '{print $1}')
client cmd top query.id "$small" maxsize "$max" | grep -q '^Message-ID:\|^Subject:\|^From:' \
  || fail "cmd top maxsize $max did not print the headers of message $small"
client cmd dele maxsize "$max" >"$work/out" || fail "cmd dele maxsize exited $?"
[ "$(wc -l <"$work/out")" = "$(wc -l <"$work/small")" ] || fail "cmd dele maxsize $max said: $(cat "$work/out")"
sizes_left=$(listing | awk '{print $2}' | sort -n | tr '\n' ' ')
want_left=$(awk -v m="$max" '$2 > m {print $2}' "$work/list" | sort -n | tr '\n' ' ')
[ "$sizes_left" = "$want_left" ] || fail "after cmd dele maxsize $max the sizes left are '$sizes_left', want '$want_left'"
echo "PASS: maxsize filters list, uidl, top (skipped, not cut) and dele (larger messages kept)"

# --- B: keys accepted and ignored are refused, each naming where it applies.
while read -r line; do
  [ -n "$line" ] || continue
  want=${line% @ *}
  args=${line##* @ }
  # shellcheck disable=SC2086
  expect_usage "izypop3: $want" $args
done <<EOF
clientpop3: delete does nothing with cmd dele; it applies to cmd retr (delete each message once it is stored); cmd dele deletes every message query names @ method clientpop3 ip h cmd dele delete false
clientpop3: lines does nothing with cmd list; it applies to cmd top @ method clientpop3 ip h cmd list lines 3
clientpop3: query does nothing with cmd capa; it applies to cmd list, uidl, top, retr and dele, which pick messages @ method clientpop3 ip h cmd capa query 1
clientpop3: query.id does nothing with cmd stat; it applies to cmd list, uidl, top, retr and dele, which pick messages @ method clientpop3 ip h cmd stat query.id 1
clientpop3: limit does nothing with cmd stat; it applies to cmd list, uidl, top, retr and dele, which pick messages @ method clientpop3 ip h cmd stat limit 1
clientpop3: maxsize does nothing with cmd stat; it applies to cmd list, uidl, top, retr and dele, which skip messages larger than it @ method clientpop3 ip h cmd stat maxsize 1000
clientpop3: maxmessages does nothing with cmd capa; it applies to cmd list, uidl, top, retr and dele, which read the server's listing @ method clientpop3 ip h cmd capa maxmessages 5
clientpop3: mimestore.modhandler does nothing with cmd list; it applies to cmd retr (the store the backup writes to); remove it @ method clientpop3 ip h cmd list mimestore.modhandler localfs mimestore.path /nonexistent
clientpop3: mimestore.count does nothing with cmd uidl; it applies to cmd retr (the store the backup writes to); remove it @ method clientpop3 ip h cmd uidl mimestore.count 3
clientpop3: query and query.id both name messages; give one of them @ method clientpop3 ip h cmd list query 1-3 query.id 2
clientpop3: tls.cafile does nothing with tls false and starttls false (no TLS at all); it applies to TLS: tls true, or starttls auto|true @ method clientpop3 ip h cmd list tls false starttls false tls.cafile /etc/ssl/certs/ca-certificates.crt
clientpop3: tls.fingerprint does nothing with tls false and starttls false (no TLS at all); it applies to TLS: tls true, or starttls auto|true @ method clientpop3 ip h cmd list starttls false tls.fingerprint AA
clientpop3: tls.verify does nothing with tls false and starttls false (no TLS at all); it applies to TLS: tls true, or starttls auto|true @ method clientpop3 ip h cmd list starttls false tls.verify false
clientpop3: starttls does nothing with tls true; it applies only without tls true (implicit TLS needs no STLS); remove one of them @ method clientpop3 ip h cmd list tls true starttls true
clientpop3: allowplaintext does nothing with tls true; it applies only without tls true (with implicit TLS nothing is sent in clear); remove it @ method clientpop3 ip h cmd list tls true allowplaintext true
clientpop3: oauth2.twostep does nothing without auth xoauth2; it applies to auth xoauth2 (auth auto never picks XOAUTH2); add auth xoauth2 or remove it @ method clientpop3 ip h cmd list oauth2.twostep true
clientpop3: mimestore.commitmode does nothing with cmd retr; it applies to maildrops served over POP3, where QUIT removes or archives what was deleted: serverpop3, test fullclientserver, test load without ip @ method clientpop3 ip h cmd retr mimestore.commitmode archive
querystore: mimestore.commitmode does nothing in method querystore; it applies to maildrops served over POP3, where QUIT removes or archives what was deleted: serverpop3, test fullclientserver, test load without ip @ method querystore mimestore.commitmode remove
test: mimestore.commitmode does nothing in testtype mimestore; it applies to maildrops served over POP3, where QUIT removes or archives what was deleted: serverpop3, test fullclientserver, test load without ip @ method test mimestore.commitmode remove
serverpop3: mimestore.maxitemsize does nothing in method serverpop3; it applies to adding messages: clientpop3 cmd retr @ method serverpop3 mimestore.modhandler postgres mimestore.maxitemsize 1000
querystore: mimestore.maxitemsize does nothing in method querystore; it applies to adding messages: clientpop3 cmd retr @ method querystore mimestore.modhandler postgres mimestore.maxitemsize 1000
test: mimestore.maxitemsize does nothing in testtype fullclientserver; it applies to adding messages: clientpop3 cmd retr @ method test testtype fullclientserver mimestore.modhandler postgres mimestore.maxitemsize 1000
serverpop3: tls.timeout does nothing without TLS (tlsport 0, no tls.cert) and without trustedproxies; it applies to TLS handshakes and PROXY headers: with tlsport, tls.cert or trustedproxies @ method serverpop3 port 1 tls.timeout 5
test: port does nothing in testtype mimestore; it applies to fullclientserver, and load with ip (without ip the server in this process takes a free port) @ method test port 1100
test: port does nothing in testtype load without ip; it applies to fullclientserver, and load with ip (without ip the server in this process takes a free port) @ method test testtype load port 1100
test: tls.fingerprint does nothing in testtype load without ip; it applies to load with ip (the server in this process is checked by its own certificate) @ method test testtype load tls.fingerprint AA
test: pass does nothing in testtype load without ip; it applies to load with ip (the server in this process takes the user name as the password); remove it @ method test testtype load pass x
test: starttls does nothing with tls true; it applies only without tls true (implicit TLS needs no STLS); remove one of them @ method test testtype load ip h tls true starttls true
test: mimestore.count does nothing in testtype load with ip; it applies to testtype mimestore, fullclientserver, and load without ip (the store of the server in this process) @ method test testtype load ip h mimestore.count 3
test: query.limit does nothing in testtype fullclientserver; it applies to testtype mimestore @ method test testtype fullclientserver query.limit 3
test: query.tags does nothing in testtype load without ip; it applies to testtype mimestore @ method test testtype load query.tags a
EOF
for key in "ip h" "user u" "clients 2" "sessions 2" "duration 2" "mode idle" "serverpid 1" "tls true" "starttls true" "tls.verify false"; do
  for type in mimestore fullclientserver; do
    # shellcheck disable=SC2086
    expect_usage "izypop3: test: ${key%% *} does nothing in testtype $type; it applies to testtype load" \
      method test testtype "$type" $key
  done
done
echo "PASS: keys given where they do nothing are refused with where they apply"

# Keys where they do apply still work: a backup with them into a real store.
client cmd retr query 1 maxsize 100000 limit 1 maxmessages 10 \
  mimestore.modhandler localfs mimestore.path "$work/store" mimestore.create true >/dev/null \
  || fail "a backup with keys that apply was refused: exit $?"
echo "PASS: the same keys are accepted where they apply"
