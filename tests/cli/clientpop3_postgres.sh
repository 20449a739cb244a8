#!/usr/bin/env bash
# izypop3 method clientpop3 backing up into the postgres store (a private cluster from
# tests/support/pg_cluster.sh), the source being our own serverpop3 on the fake store
# (1500 messages, one of 5 MiB that goes through the large-object path, plus the dot, 8-bit,
# long-line and no-final-CRLF edge cases):
#   - the backup, killed with SIGKILL at random moments and restarted (a bounded loop), then
#     run once to the end, leaves every message of the source in mailbox acc exactly once:
#     one row per UIDL, no .dup rows, payloads byte-identical to what the source sends to
#     python poplib, fingerprint/size/source_id/tags as documented, no stray large object;
#   - serverpop3 on the same table serves user acc exactly what was backed up: the same
#     UIDLs in the same order, the same LIST sizes, every RETR the same octets;
#   - running the backup again fetches and stores nothing (query new skips by UIDL; query
#     all finds every message already present at commit);
#   - the database stopped in the middle of a backup with delete true: no message is lost
#     (each is on the server or in the table) and the next run stores the rest and deletes all.
set -euo pipefail
bin=${1:?usage: clientpop3_postgres.sh /path/to/izypop3}
here=$(cd "$(dirname "$0")" && pwd)
cluster=$here/../support/pg_cluster.sh
work=$(mktemp -d /tmp/izypop3-pgbackup.XXXXXX)
chmod 711 "$work"  # the cluster runs as the postgres user, which must enter it
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  bash "$cluster" destroy "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

bash "$cluster" start "$work/pg" $$ > "$work/pg.env" || fail "the PostgreSQL test cluster did not start"
# shellcheck disable=SC1091
. "$work/pg.env"
sql() { bash "$cluster" sql "$work/pg" "$1"; }
table=public.backup
store=(mimestore.modhandler postgres mimestore.dataservice "$PG_URI"
       mimestore.accesstoken "$PG_PASSWORD" mimestore.tablename "$table")

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_server() {  # name port store-args... ; waits until it listens
  local name=$1 port=$2
  shift 2
  "$bin" method serverpop3 host 127.0.0.1 port "$port" password 12345 "$@" \
    > "$work/$name.out" 2> "$work/$name.err" &
  pids+=("$!")
  disown "$!"  # killed by cleanup; no job-control noise
  for _ in $(seq 100); do
    grep -q "POP3 on port $port" "$work/$name.out" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "serverpop3 ($name) did not start: $(cat "$work/$name.err")"
}

# What a POP3 server gives user acc, one line per message in message-number order:
# "UIDL LIST-size sha256-of-RETR", where the RETR octets are poplib's dot-unstuffed lines
# each ended by CRLF, i.e. the message as it crossed the wire.
served() {  # port
  python3 - "$1" <<'PY'
import hashlib, poplib, sys
p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=60)
p.user("acc"); p.pass_("12345")
uidl = dict(l.split()[:2] for l in p.uidl()[1])
size = dict(l.split()[:2] for l in p.list()[1])
assert uidl.keys() == size.keys(), (uidl.keys(), size.keys())
for n in sorted(uidl, key=int):
    lines = p.retr(int(n))[1]
    octets = b"".join(l + b"\r\n" for l in lines)
    print(uidl[n].decode(), size[n].decode(), hashlib.sha256(octets).hexdigest())
p.quit()
PY
}

src_port=$(free_port)
# 1500 messages: a full backup takes about two seconds, long enough for several kills to land
# in the middle of it (99 were stored within the first kill or two).
total=1500
start_server source "$src_port" mimestore.modhandler fake mimestore.count "$total"
served "$src_port" > "$work/source.list" || fail "cannot read the source maildrop"
[ "$(wc -l < "$work/source.list")" -eq "$total" ] || fail "the source serves $(wc -l < "$work/source.list") messages, want $total"

backup=("$bin" method clientpop3 ip 127.0.0.1 port "$src_port" user acc pass 12345
        starttls false cmd retr "${store[@]}")
rows() { sql "SELECT count(*) FROM $table WHERE mailbox = 'acc'" 2>/dev/null || echo 0; }

# The first run creates the table; a run killed while creating it must leave the next one
# able to create or find it, so the kills start from the very first run.
partial=0 completed=0 trace=
for round in $(seq 1 12); do
  "${backup[@]}" query new > "$work/kill.out" 2> "$work/kill.err" &
  cpid=$!
  # 0.05 to 0.80 s: storing the 5 MiB message alone takes 0.3 s or more on a busy machine,
  # and the kills must also get past it.
  ms=$((RANDOM % 751 + 50))
  sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
  kill -KILL "$cpid" 2>/dev/null || true
  rc=0
  wait "$cpid" 2>/dev/null || rc=$?
  case $rc in
    137) ;;
    0) completed=$((completed + 1)) ;;
    *) fail "backup run $round died on its own before the SIGKILL: exit $rc: $(cat "$work/kill.err")" ;;
  esac
  n=$(rows)
  trace="$trace $n"
  if [ "$n" -gt 0 ] && [ "$n" -lt "$total" ]; then partial=$((partial + 1)); fi
done
echo "rows after each SIGKILL:$trace (runs that finished before the kill: $completed)"
# The test proves nothing if no kill landed in the middle of storing.
[ "$partial" -gt 0 ] || fail "no SIGKILL landed mid-backup (rows after each kill:$trace); the runs are too fast for the kill delays"

"${backup[@]}" query new > "$work/final.out" 2> "$work/final.err" ||
  fail "final resume run: exit $?: $(cat "$work/final.err")"
grep -q '^fetched [0-9]*, already stored [0-9]*, duplicates 0, deleted 0, failed 0, skipped (maxsize) 0' "$work/final.out" ||
  fail "final resume run summary: $(cat "$work/final.out")"
echo "ok sigkill-resume ($(head -1 "$work/final.out"))"

# Exactly once, byte for byte: the table's rows against what the source sends.
counts=$(sql "SELECT count(*), count(DISTINCT uidl), count(*) FILTER (WHERE mailbox <> 'acc')
              FROM $table")
[ "$counts" = "$total|$total|0" ] || fail "rows|distinct uidls|rows of other mailboxes = $counts, want $total|$total|0"
sql "SELECT uidl, wire_size, encode(sha256(payload), 'hex') FROM $table
     WHERE mailbox = 'acc' ORDER BY id" | tr '|' ' ' > "$work/stored.list"
diff <(sort "$work/source.list") <(sort "$work/stored.list") > "$work/diff" ||
  fail "stored rows differ from the source (< source, > table): $(head -20 "$work/diff")"
odd=$(sql "SELECT uidl, fingerprint, size, wire_size, source_id, tags FROM $table
           WHERE fingerprint <> encode(sha256(payload), 'hex') OR size <> octet_length(payload)
              OR wire_size <> size OR source_id <> 'acc@127.0.0.1' OR tags <> '{unread}'
           LIMIT 5")
[ -z "$odd" ] || fail "rows whose metadata does not match their payload or the docs: $odd"
los=$(sql "SELECT count(*) FROM pg_largeobject_metadata")
[ "$los" -eq 0 ] || fail "$los large objects left behind by the killed runs"
echo "ok exactly-once ($total rows, payloads equal to the source's octets)"

# The round trip: serverpop3 on the same table serves acc what the source served.
max_id=$(sql "SELECT max(id) FROM $table")
pg_port=$(free_port)
start_server postgres "$pg_port" "${store[@]}"
served "$pg_port" > "$work/roundtrip.list" || fail "cannot read acc's maildrop from serverpop3 on postgres: $(cat "$work/postgres.err")"
diff "$work/source.list" "$work/roundtrip.list" > "$work/diff" ||
  fail "serverpop3 on postgres serves acc something else than the source (< source, > postgres): $(head -20 "$work/diff")"
echo "ok round-trip (UIDL, LIST and every RETR equal to the source's)"

# Nothing twice: query new selects nothing, query all finds every message already present.
"${backup[@]}" query new > "$work/again.out" 2> "$work/again.err" ||
  fail "second backup (query new): exit $?: $(cat "$work/again.err")"
grep -q "^fetched 0, already stored $total, duplicates 0, deleted 0, failed 0, skipped (maxsize) 0, 0 octets" "$work/again.out" ||
  fail "second backup (query new) summary: $(cat "$work/again.out")"
"${backup[@]}" query all > "$work/again.out" 2> "$work/again.err" ||
  fail "second backup (query all): exit $?: $(cat "$work/again.err")"
grep -q "^fetched 0, already stored $total, duplicates 0, deleted 0, failed 0" "$work/again.out" ||
  fail "second backup (query all) summary: $(cat "$work/again.out")"
after=$(sql "SELECT count(*), max(id) FROM $table")
[ "$after" = "$total|$max_id" ] || fail "the second backups changed the table: count|max(id) = $after, want $total|$max_id"
echo "ok no-refetch"

# The database going away in the middle of a backup with delete true (C17): no message the
# store did not commit is deleted on the server. Every message is afterwards on the server
# or in the table, and a run once the database is back finishes the job: the server empty,
# the table holding each message exactly once.
del_port=$(free_port)
start_server delsource "$del_port" mimestore.modhandler fake mimestore.count "$total"
deltable=public.deltest
del_backup=("$bin" method clientpop3 ip 127.0.0.1 port "$del_port" user acc pass 12345
            starttls false cmd retr query new delete true mimestore.modhandler postgres
            mimestore.dataservice "$PG_URI" mimestore.accesstoken "$PG_PASSWORD"
            mimestore.tablename "$deltable")
del_rows() { sql "SELECT count(*) FROM $deltable" 2>/dev/null || echo 0; }
"${del_backup[@]}" > "$work/del1.out" 2> "$work/del1.err" &
cpid=$!
for _ in $(seq 400); do [ "$(del_rows)" -ge 50 ] && break; sleep 0.02; done
bash "$cluster" stop "$work/pg" > /dev/null
rc=0
wait "$cpid" || rc=$?
[ "$rc" -ne 0 ] || fail "the backup did not notice the database going away: $(cat "$work/del1.out")"
bash "$cluster" start "$work/pg" > /dev/null || fail "the PostgreSQL test cluster did not come back"
python3 - "$del_port" > "$work/del.left" <<'PY'
import poplib, sys
p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=60)
p.user("acc"); p.pass_("12345")
for l in p.uidl()[1]:
    print(l.split()[1].decode())
p.quit()
PY
sql "SELECT uidl FROM $deltable" > "$work/del.stored"
lost=$(comm -23 <(cut -d' ' -f1 "$work/source.list" | sort) <(sort -u "$work/del.left" "$work/del.stored"))
[ -z "$lost" ] || fail "after the database went away, messages neither on the server nor in the table: $(echo "$lost" | head -5)"
stored_mid=$(wc -l < "$work/del.stored")
[ "$stored_mid" -lt "$total" ] || fail "the database stopped only after the whole backup; nothing was tested"
"${del_backup[@]}" > "$work/del2.out" 2> "$work/del2.err" ||
  fail "the backup after the database came back: exit $?: $(cat "$work/del2.err")"
counts=$(sql "SELECT count(*), count(DISTINCT uidl) FROM $deltable")
[ "$counts" = "$total|$total" ] || fail "after the resumed run the table has rows|distinct = $counts, want $total|$total"
[ -z "$(python3 -c 'import poplib,sys; p=poplib.POP3("127.0.0.1",int(sys.argv[1])); p.user("acc"); p.pass_("12345"); print(p.stat()[0] or "")' "$del_port")" ] ||
  fail "messages left on the server after the resumed delete run"
echo "ok database-gone-mid-backup ($stored_mid of $total stored before it went; exit $rc; then all stored once and deleted)"
echo "clientpop3_postgres: all checks passed"
