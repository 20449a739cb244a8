#!/usr/bin/env bash
# mimestore.verbose true as a user runs it, on every store: serverpop3 on the fake store logs
# the maildrop a POP3 session opens, each message it reads and the UPDATE at QUIT; a backup
# with clientpop3 into localfs, maildir and postgres (a private cluster) logs each add with
# its writes, the group commit's flush and the query for what is already stored; querystore
# logs its query and reads. Every line carries its duration; loglevel warn hides them.
# usage: bash mimestore_verbose.sh /path/to/izypop3
set -euo pipefail
bin=${1:?usage: mimestore_verbose.sh /path/to/izypop3}
here=$(cd "$(dirname "$0")" && pwd)
cluster=$here/../support/pg_cluster.sh
work=$(mktemp -d /tmp/izypop3-verbose.XXXXXX)
chmod 711 "$work"  # the cluster runs as the postgres user, which must enter it
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  bash "$cluster" destroy "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ms='[0-9]+\.[0-9]{3} ms'
expect_line() {  # file extended-regex what
  grep -Eq "info  \[STORE\] $2\$" "$1" || { grep STORE "$1" | head -20 >&2; fail "$3: no line matching '$2'"; }
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
"$bin" method serverpop3 host 127.0.0.1 port "$port" password 12345 mimestore.modhandler fake \
  mimestore.count 3 mimestore.verbose true >"$work/server.out" 2>"$work/server.err" &
pid=$!
for _ in $(seq 100); do
  grep -q "POP3 on port $port" "$work/server.out" 2>/dev/null && break
  sleep 0.1
done
grep -q "POP3 on port $port" "$work/server.out" || { cat "$work/server.err"; fail "server did not start"; }

# A POP3 session that reads message 2 and deletes message 3.
python3 - "$port" <<'PY'
import poplib, sys
p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=60)
p.user("carol"); p.pass_("12345")
p.retr(2)
p.dele(3)
p.quit()
PY
size2=$(python3 - "$port" <<'PY'
import poplib, sys
p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=60)
p.user("dave"); p.pass_("12345")
print(p.list()[1][1].split()[1].decode())
p.quit()
PY
)
sleep 0.2  # the server logs the end of the session after it answered QUIT
f="$work/server.err"
expect_line "$f" "open_maildrop carol: 3 messages, $ms" "serverpop3"
expect_line "$f" "maildrop carol: open message 2: ok, $ms" "serverpop3"
expect_line "$f" "read message 2 of carol: $size2 octets in [0-9]+ reads, $ms" "serverpop3"
expect_line "$f" "maildrop carol: commit_deletions of 1 messages: ok, $ms" "serverpop3"
expect_line "$f" "maildrop carol: closed" "serverpop3"
echo "PASS: serverpop3 on the fake store logs the maildrop, its reads and the UPDATE"

bash "$cluster" start "$work/pg" $$ >"$work/pg.env" || fail "the PostgreSQL test cluster did not start"
# shellcheck disable=SC1091
. "$work/pg.env"

for kind in localfs maildir postgres; do
  case $kind in
    postgres) keys=(mimestore.modhandler postgres mimestore.dataservice "$PG_URI"
                    mimestore.accesstoken "$PG_PASSWORD" mimestore.tablename public.verbose) ;;
    *) keys=(mimestore.modhandler "$kind" mimestore.path "$work/$kind" mimestore.create true) ;;
  esac
  "$bin" method clientpop3 ip 127.0.0.1 port "$port" user erin pass 12345 starttls false \
    cmd retr query new "${keys[@]}" mimestore.verbose true >"$work/$kind.out" 2>"$work/$kind.err" ||
    { cat "$work/$kind.err"; fail "$kind: backup failed"; }
  f="$work/$kind.err"
  expect_line "$f" "query mailbox=erin tags=- exclude=- limit=all asc: 0 of 0 items, 0 octets, $ms" "$kind backup"
  expect_line "$f" "group commit on" "$kind backup"
  expect_line "$f" "begin_add guid_2 \\(erin\\): ok, $ms" "$kind backup"
  expect_line "$f" "commit guid_2 \\(erin\\): added, $size2 octets in [0-9]+ writes \\($ms\\), $ms" "$kind backup"
  expect_line "$f" "flush: ok, $ms" "$kind backup"

  "$bin" method querystore "${keys[@]}" mimestore.verbose true query.limit 2 >"$work/$kind.q" 2>"$work/$kind.qerr" ||
    fail "$kind: querystore failed: $(cat "$work/$kind.qerr")"
  f="$work/$kind.qerr"
  expect_line "$f" "query mailbox=\\* tags=- exclude=- limit=2 asc: 2 of 3 items, [0-9]+ octets, $ms" "$kind querystore"
  expect_line "$f" "open_item guid_1( \\(erin\\))?: ok, $ms" "$kind querystore"
  expect_line "$f" "read guid_1( \\(erin\\))?: [0-9]+ octets in [0-9]+ reads(, stopped before the end)?, $ms" "$kind querystore"

  "$bin" method querystore "${keys[@]}" mimestore.verbose true loglevel warn >"$work/$kind.q" 2>"$work/$kind.qerr"
  [ ! -s "$work/$kind.qerr" ] || fail "$kind: loglevel warn still shows: $(head -2 "$work/$kind.qerr")"
  echo "PASS: $kind: the backup's adds, commits and flush, and querystore's query and reads are logged"
done
echo "mimestore_verbose: all checks passed"
