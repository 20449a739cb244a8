#!/usr/bin/env bash
# `izypop3 method test testtype mimestore` as a user runs it: the README's example and a
# query that matches, in text (byte for byte) and JSON, plus the exit codes around them.
# The sizes are those of the fake store's deterministic messages for the default seed.
# usage: bash mimestore_query.sh /path/to/izypop3
set -u
bin=${1:?usage: bash mimestore_query.sh /path/to/izypop3}
failures=0
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# expect CODE EXPECTED_STDOUT EXPECTED_STDERR -- ARGS...
expect() {
    local code=$1 want_out=$2 want_err=$3
    shift 4
    "$bin" "$@" >"$out" 2>"$err"
    local got=$?
    [ "$got" -eq "$code" ] || fail "izypop3 $*: exit code $got, expected $code"
    if ! diff -u <(printf '%s' "$want_out") "$out" >&2; then fail "izypop3 $*: stdout differs"; fi
    if ! diff -u <(printf '%s' "$want_err") "$err" >&2; then fail "izypop3 $*: stderr differs"; fi
}

# The README's example: nothing carries the tag "abc"; say which tags exist.
expect 0 'store fake: 0 items match tags [abc] (0 octets); showing 0
no item carries every tag in [abc]; the fake store'"'"'s items are tagged '"'"'unread'"'"'
' '' -- method test testtype mimestore mimestore.modhandler fake query.limit 2 query.tags abc

expect 0 'store fake: 99 items match tags [unread] (5481712 octets); showing 2
guid_1  664 octets  tags=unread
guid_2  742 octets  tags=unread
' '' -- method test testtype mimestore mimestore.modhandler fake query.tags unread query.limit 2

# The same in GNU style, with the defaults (testtype mimestore, store fake) left out.
expect 0 'store fake: 99 items match tags [unread] (5481712 octets); showing 2
guid_1  664 octets  tags=unread
guid_2  742 octets  tags=unread
' '' -- method test --query.tags=unread --query.limit 2

# Alignment: guids of 6 and 7 characters, sizes of 3 to 7 digits (guid_6 is the big one);
# no tag filter, so the header names none. The sizes add up to the total.
expect 0 'store fake: 12 items (5264499 octets); showing 12
guid_1       664 octets  tags=unread
guid_2       742 octets  tags=unread
guid_3      1353 octets  tags=unread
guid_4      3538 octets  tags=unread
guid_5       991 octets  tags=unread
guid_6   5242880 octets  tags=unread
guid_7      3194 octets  tags=unread
guid_8      1206 octets  tags=unread
guid_9      1816 octets  tags=unread
guid_10     1777 octets  tags=unread
guid_11     3827 octets  tags=unread
guid_12     2511 octets  tags=unread
' '' -- method test mimestore.count 12 query.limit 12

# Descending order.
expect 0 'store fake: 12 items (5264499 octets); showing 2
guid_12  2511 octets  tags=unread
guid_11  3827 octets  tags=unread
' '' -- method test mimestore.count 12 query.limit 2 query.order desc

# JSON: valid, and carrying the numbers of the text form.
"$bin" method test testtype mimestore mimestore.modhandler fake query.tags unread query.limit 2 \
    format json >"$out" 2>"$err"
code=$?
[ "$code" -eq 0 ] || fail "format json: exit code $code"
[ -s "$err" ] && fail "format json: unexpected stderr: $(cat "$err")"
python3 -c 'import json,sys; json.load(sys.stdin)' <"$out" || fail "format json: not JSON: $(cat "$out")"
python3 - "$out" <<'PY' || fail "format json: wrong content: $(cat "$out")"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["store"] == "fake" and doc["tags"] == ["unread"] and doc["limit"] == 2, doc
assert doc["count"] == 99 and doc["totalSize"] == 5481712, doc
assert [i["guid"] for i in doc["items"]] == ["guid_1", "guid_2"], doc
assert [i["size"] for i in doc["items"]] == [664, 742], doc
for i in doc["items"]:
    assert i["tags"] == ["unread"] and i["sourceId"] == "fake", i
    assert len(i["created"]) == 20 and i["created"].endswith("Z"), i
PY

# Mistakes: one line on stderr, exit code 2.
expect 2 '' "izypop3: test: key 'query.limit' wants a whole number from 0 to 4294967295, got 'two'; run 'izypop3 method test help' for the list
" -- method test query.limit two
expect 2 '' "izypop3: test: unknown key 'query.tag' (did you mean 'query.tags'?); run 'izypop3 method test help' for the list
" -- method test query.tag abc

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "mimestore_query: all checks passed"
