#!/usr/bin/env bash
# The item life cycle as a user drives it: querystore mark/unmark (the original's markAs) on
# the items a query lists, in text (byte for byte) and JSON, with the files moving between
# the tag folders; pop3failed records keep their status; and conversionerror end to end: a
# message with NUL octets and one cut off in its header section, served by our serverpop3
# from a localfs store, backed up by clientpop3 into a Maildir, land in .conversionerror
# byte for byte, and querystore query.tags conversionerror lists them.
# usage: bash querystore_mark.sh /path/to/izypop3
set -euo pipefail
bin=${1:?usage: querystore_mark.sh /path/to/izypop3}
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A localfs store of five hand-dropped messages, a.eml .. e.eml (a file's guid is its name).
st=$work/store
mkdir -p "$st"
for g in a b c d e; do printf 'Subject: %s\r\n\r\nbody %s\r\n' "$g" "$g" > "$st/$g.eml"; done
qs=("$bin" method querystore mimestore.modhandler localfs mimestore.path "$st")

expect() {  # code expected-stdout -- args...
  local code=$1 want=$2 rc=0
  shift 3
  "$@" >"$work/out" 2>"$work/err" || rc=$?
  [ "$rc" -eq "$code" ] || fail "$*: exit $rc, want $code; stderr: $(cat "$work/err")"
  diff -u <(printf '%s' "$want") "$work/out" >&2 || fail "$*: stdout differs (- want, + got)"
}

expect 0 'store localfs: mark archive on the 2 listed of 5 matching items
a  unread -> archive
b  unread -> archive
2 changed, 0 unchanged, 0 refused, 0 failed
' -- "${qs[@]}" mark archive query.limit 2
[ -f "$st/archive/a.eml" ] && [ -f "$st/archive/b.eml" ] && [ ! -e "$st/a.eml" ] ||
  fail "mark archive did not move a and b into archive/: $(ls -R "$st")"

expect 0 'store localfs: mark flagged on the 3 listed of 5 matching items
e  unread -> unread,flagged
d  unread -> unread,flagged
c  unread -> unread,flagged
3 changed, 0 unchanged, 0 refused, 0 failed
' -- "${qs[@]}" mark flagged query.order desc query.limit 3

expect 0 'store localfs: mark flagged on the 2 listed of 3 matching items
c  unread,flagged (unchanged)
d  unread,flagged (unchanged)
0 changed, 2 unchanged, 0 refused, 0 failed
' -- "${qs[@]}" mark flagged query.tags flagged query.limit 2 query.order asc

"${qs[@]}" unmark archive query.tags archive format json >"$work/json" || fail "unmark archive (json) failed"
python3 - "$work/json" "$st" <<'PY' || exit 1
import json, os, sys
text = open(sys.argv[1], "rb").read()
assert text.count(b"\n") == 1, text
r = json.loads(text)
assert list(r) == ["store", "action", "tag", "count", "selected", "changed", "unchanged",
                   "refused", "failed", "items"], list(r)
assert (r["store"], r["action"], r["tag"], r["count"], r["selected"], r["changed"]) == \
    ("localfs", "unmark", "archive", 2, 2, 2), r
for i, g in zip(r["items"], "ab"):
    assert i == {"guid": g, "mailbox": "", "before": ["archive"], "after": ["unread"],
                 "outcome": "changed"}, i
    assert os.path.exists(f"{sys.argv[2]}/{g}.eml"), f"{g}.eml is not back in the root"
print("ok   unmark archive, format json")
PY
echo "PASS: mark and unmark in text and JSON; files follow their status"

# Refused before anything is touched: exit code 2, one line saying why.
for args in "mark pop3failed" "unmark pop3failed" "unmark unread" "mark a,b" "mark flagged unmark x"; do
  rc=0
  # shellcheck disable=SC2086
  "${qs[@]}" $args >"$work/out" 2>"$work/err" || rc=$?
  [ "$rc" -eq 2 ] || fail "$args: exit $rc, want 2"
  [ "$(wc -l <"$work/err")" -eq 1 ] && grep -q '^izypop3: querystore: ' "$work/err" || fail "$args: $(cat "$work/err")"
done
echo "PASS: mark/unmark pop3failed, unmark unread, bad tags and both at once are refused"

# A pop3failed record (a file in pop3failed/) keeps its status; other tags may come and go.
mkdir -p "$st/pop3failed"
printf 'Subject: [pop3failed] x\r\n\r\nnot the message\r\n' > "$st/pop3failed/rec.eml"
expect 1 'store localfs: mark archive on the 1 listed of 1 matching item
rec  pop3failed (refused: a pop3failed record keeps its status until clientpop3 fetches the message)
0 changed, 0 unchanged, 1 refused, 0 failed
' -- "${qs[@]}" mark archive query.tags pop3failed
[ -f "$st/pop3failed/rec.eml" ] || fail "the refused record moved"
expect 0 'store localfs: mark seen-by-admin on the 1 listed of 1 matching item
rec  pop3failed -> pop3failed,seen-by-admin
1 changed, 0 unchanged, 0 refused, 0 failed
' -- "${qs[@]}" mark seen-by-admin query.tags pop3failed
echo "PASS: a pop3failed record keeps its status, takes other tags"

# conversionerror end to end.
src=$work/source
mkdir -p "$src"
printf 'Subject: fine\r\n\r\nfine\r\n' > "$src/1fine.eml"
printf 'Subject: has NUL\r\n\r\nbefore\0after\r\n' > "$src/2nul.eml"
printf 'Subject: cut off\r\nFrom: somebody' > "$src/3cut.eml"
port=$(free_port)
"$bin" method serverpop3 host 127.0.0.1 port "$port" password 12345 mimestore.modhandler localfs \
  mimestore.path "$src" >"$work/server.out" 2>"$work/server.err" &
pid=$!
for _ in $(seq 100); do
  grep -q "POP3 on port $port" "$work/server.out" 2>/dev/null && break
  sleep 0.1
done
grep -q "POP3 on port $port" "$work/server.out" || fail "server did not start: $(cat "$work/server.err")"
md=$work/maildir
"$bin" method clientpop3 ip 127.0.0.1 port "$port" user u pass 12345 starttls false cmd retr \
  mimestore.modhandler maildir mimestore.path "$md" mimestore.create true >"$work/backup.out" 2>&1 ||
  fail "backup failed: $(cat "$work/backup.out")"
grep -q '^fetched 3, ' "$work/backup.out" || fail "backup: $(cat "$work/backup.out")"
# POP3 ends every line with CRLF, so the cut-off header arrives whole (the server adds the
# final CRLF) and is an ordinary header-only message; the NUL octets arrive as they are.
[ "$(ls "$md/new" | wc -l)" -eq 2 ] || fail "INBOX: $(ls "$md/new")"
[ "$(ls "$md/.conversionerror/new" | wc -l)" -eq 1 ] || fail ".conversionerror: $(ls -R "$md")"
cmp -s "$md"/.conversionerror/new/* "$src/2nul.eml" ||
  fail "the message with NUL octets is not byte for byte what was sent"
"$bin" method querystore mimestore.modhandler maildir mimestore.path "$md" \
  query.tags conversionerror format json >"$work/ce.json"
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["count"] == 1, r
assert [i["guid"] for i in r["items"]] == ["2nul"] and r["items"][0]["tags"] == ["conversionerror"], r
' "$work/ce.json" || fail "querystore query.tags conversionerror: $(cat "$work/ce.json")"
echo "PASS: a message with NUL octets lands in .conversionerror, byte for byte"
echo "querystore_mark: all checks passed"
