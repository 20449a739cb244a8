#!/usr/bin/env bash
# Every `format json` output read back with python's json module and checked against what
# it reports on: querystore and test mimestore (fake store, and a Maildir whose headers hold
# quotes, control characters, DEL and octets that are not UTF-8), querystore mark, the clientpop3 listings
# and backup summary against our server on the fake store, and the load report.
# usage: bash json_outputs.sh /path/to/izypop3
set -euo pipefail
bin=${1:?usage: bash json_outputs.sh /path/to/izypop3}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
. "$root/tests/support/fake_server.sh"

# check NAME PYTHON -- ARGS...: runs izypop3 ARGS, parses stdout as one JSON document `r`
# (exactly one line) and runs the assertions in PYTHON on it.
check() {
    local name=$1 assertions=$2
    shift 3
    "$bin" "$@" >"$work/$name.json" 2>"$work/$name.err" ||
        { cat "$work/$name.err" >&2; echo "FAIL: $name: izypop3 $* exited $?" >&2; exit 1; }
    python3 - "$work/$name.json" "$name" "$assertions" <<'PY' || exit 1
import json, sys
path, name, assertions = sys.argv[1:]
text = open(path, "rb").read()
assert text.endswith(b"\n") and text.count(b"\n") == 1, f"{name}: not one line: {text[:200]!r}"
r = json.loads(text)
try:
    exec(assertions)
except AssertionError as e:
    sys.exit(f"FAIL: {name}: {e or 'assertion failed'}\n{text[:2000]!r}")
print(f"ok   {name}")
PY
}

# querystore on the fake store: the same items, in the same order, as the text listing.
"$bin" method querystore query.limit 4 mimestore.count 6 >"$work/qs.txt"
check querystore '
assert list(r) == ["store", "tags", "limit", "count", "totalSize", "items"], list(r)
assert (r["store"], r["tags"], r["limit"], r["count"]) == ("fake", [], 4, 6), r
items = r["items"]
assert [i["guid"] for i in items] == ["guid_1", "guid_2", "guid_3", "guid_4"], items
text = open(sys.argv[1].replace("querystore.json", "qs.txt")).read().splitlines()[2:]
for i, line in zip(items, text):
    assert line.split()[:2] == [i["guid"], str(i["size"])], (line, i)
    assert i["tags"] == ["unread"] and i["sourceId"] == "fake", i
    assert i["subject"].startswith("Fake message ") and "@fake.izypop3.invalid" in i["from"], i
' -- method querystore format json query.limit 4 mimestore.count 6

check mimestore '
assert list(r) == ["store", "tags", "limit", "count", "totalSize", "items"], list(r)
assert r["tags"] == ["unread"] and r["count"] == 6 and len(r["items"]) == 2, r
assert list(r["items"][0]) == ["guid", "size", "tags", "sourceId", "created"], r["items"][0]
assert sum(1 for i in r["items"] if i["created"].endswith("Z")) == 2, r
' -- method test testtype mimestore format json query.tags ' unread, unread' query.limit 2 \
    mimestore.count 6

# Header text that JSON must escape or that is not UTF-8.
md=$work/maildir
mkdir -p "$md/cur" "$md/new" "$md/tmp"
python3 - "$md/new" <<'PY'
import sys
subjects = [b'quote " backslash \\ slash /', b"ctl \x01\x1b[31m red \x7f del",
            b"latin1 caf\xe9 \xc3", b"=?utf-8?Q?caf=C3=A9_=E2=82=AC?= \xf0\x9f\x93\xa7"]
for i, s in enumerate(subjects):
    open(f"{sys.argv[1]}/100{i}.M1P1.host", "wb").write(
        b"From: a@example.org\r\nSubject: " + s + b"\r\n\r\nbody\r\n")
PY
check awkward_headers '
got = sorted(i["subject"] for i in r["items"])
want = sorted(["quote \" backslash \\ slash /", "ctl \x01\x1b[31m red \x7f del",
               "latin1 caf\ufffd \ufffd", "caf\u00e9 \u20ac \U0001f4e7"])
assert got == want, got
' -- method querystore format json mimestore.modhandler maildir mimestore.path "$md"

# querystore mark on the same Maildir: guids of file names, tags before and after.
check mark '
assert (r["action"], r["tag"], r["count"], r["selected"], r["changed"]) == ("mark", "flag\u00e9", 4, 2, 2), r
assert [i["before"] for i in r["items"]] == [["unread"]] * 2, r
assert [i["after"] for i in r["items"]] == [["unread", "flag\u00e9"]] * 2, r
assert r["items"][0]["guid"].startswith("1000.M1P1"), r
' -- method querystore format json mark "flagé" query.limit 2 mimestore.modhandler maildir mimestore.path "$md"

# clientpop3 against our server on the fake store.
start_fake_server "$bin" "$work" 5
cp=(method clientpop3 ip 127.0.0.1 port "$port" user u pass 12345 starttls false format json)
check capa 'assert "UIDL" in r and all(isinstance(c, str) for c in r), r' -- "${cp[@]}" cmd capa
check list '
assert [e["number"] for e in r] == [1, 2, 3, 4, 5], r
open(sys.argv[1] + ".sizes", "w").write(json.dumps(r))
' -- "${cp[@]}" cmd list
check stat '
sizes = json.load(open(sys.argv[1].replace("stat.json", "list.json.sizes")))
assert r == [{"count": 5, "octets": sum(e["size"] for e in sizes)}], r
' -- "${cp[@]}" cmd stat
check uidl 'assert [list(e) for e in r] == [["number", "uid"]] * 2 and r[0]["number"] == 2, r' \
    -- "${cp[@]}" cmd uidl query 2-3
check top '
assert len(r) == 1 and r[0].startswith("Date: ") and r[0].endswith("\r\n\r\n"), r
assert "Subject: Fake message 3 (" in r[0], r
' -- "${cp[@]}" cmd top query.id 3 lines 0
check retr '
assert list(r) == ["fetched", "alreadyStored", "duplicates", "deleted", "failed",
                   "skippedLarge", "bytes", "seconds"], r
assert (r["fetched"], r["failed"], r["deleted"]) == (5, 0, 0), r
assert isinstance(r["seconds"], (int, float)) and r["seconds"] >= 0, r
' -- "${cp[@]}" cmd retr mimestore.modhandler localfs mimestore.path "$work/backup" \
    mimestore.create true

check load '
assert (r["clients"], r["completed"], r["failed"], r["errors"]) == (2, 6, 0, {}), r
assert set(r["latencyMs"]) == {"p50", "p90", "p99", "max"}, r
assert all(isinstance(v, (int, float)) for v in r["latencyMs"].values()), r
assert r["firstError"] == "" and set(r["server"]) == {"rssMb", "peakRssMb", "cpuSeconds"}, r
' -- method test testtype load clients 2 sessions 6 format json mimestore.count 3
echo "json_outputs: every format json output parses and says what the store holds"
