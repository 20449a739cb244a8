#!/usr/bin/env bash
# `method test testtype load ... report FILE`: the HTML page of a run. Its numbers must be
# the JSON report's (totals, the bars' sums, the percentile markers), it must need nothing
# outside itself (no script, no address), a real browser (headless Chromium) must render it
# with the charts in the DOM, and text a hostile server sends must stay text. A report that
# cannot be written is refused before the run, and the key is refused where it does nothing.
# usage: bash load_report.sh /path/to/izypop3
set -u
bin=${1:?usage: bash load_report.sh /path/to/izypop3}
command -v chromium >/dev/null || { echo "FAIL: chromium is not installed (.ci/deps.sh test installs it)"; exit 1; }
work=$(mktemp -d)
spid=
trap '[ -n "$spid" ] && kill "$spid" 2>/dev/null; rm -rf "$work"' EXIT
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# Headless Chromium's view of a page: the DOM after parsing, as the browser built it.
dom_of() {
    timeout 120 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$work/profile" \
        --dump-dom "file://$1" 2>"$work/chromium.err"
}

# 1. A retrall run of several seconds: JSON on stdout, the page in a file.
timeout 120 "$bin" method test testtype load clients 3 sessions 0 duration 3 mode retrall \
    mimestore.count 12 format json report "$work/run.html" >"$work/run.json" 2>"$work/err"
code=$?
[ "$code" -eq 0 ] || fail "retrall run: exit code $code: $(tail -3 "$work/err")"
ls "$work" | grep -q 'tmp-' && fail "a temporary file was left beside the report: $(ls "$work")"
python3 - "$work/run.html" "$work/run.json" <<'PY' || fail "the page does not match the JSON report (above)"
import json, re, sys
from html.parser import HTMLParser

class page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.text, self.by_id, self.at = [], [], {}, {}, None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        self.attrs.append((tag, a))
        self.at = a.get("id")
    def handle_data(self, data):
        if self.at:
            self.text[self.at] = self.text.get(self.at, "") + data
    def handle_endtag(self, tag):
        self.at = None

html = open(sys.argv[1], encoding="utf-8").read()
r = json.load(open(sys.argv[2]))
p = page()
p.feed(html)
assert html.startswith("<!DOCTYPE html>"), html[:40]
assert "script" not in p.tags, "a script element"
for tag, a in p.attrs:
    for k, v in a.items():
        assert k not in ("src", "href") and not (v or "").startswith(("http:", "https:", "//")), (tag, k, v)
        assert not k.startswith("on"), (tag, k)
csp = [a for t, a in p.attrs if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
assert csp and csp[0]["content"].startswith("default-src 'none'"), csp
for id in ("totals", "sessions-per-second", "megabytes-per-second", "session-latency",
           "login-latency", "settings", "errors"):
    assert any(a.get("id") == id for t, a in p.attrs), f"no element #{id}"
t = p.text
assert int(t["completed"]) == r["completed"] > 0, (t["completed"], r["completed"])
assert int(t["failed"]) == r["failed"] == 0 and int(t["cutShort"]) == r["cutShort"]
assert int(t["octets"]) == r["octets"] and float(t["seconds"]) == r["seconds"]
assert float(t["sessionsPerSecond"]) == r["sessionsPerSecond"]
assert float(t["megabytesPerSecond"]) == r["megabytesPerSecond"]
for q in ("p50", "p90", "p99", "max"):
    assert float(t["latency-" + q]) == r["latencyMs"][q], q
assert t["mode"] == "retrall" and t["clients"] == "3" and t["sessions"] == "until the duration ends"

groups = [a for tag, a in p.attrs if tag == "g"]
seconds = [a for a in groups if "data-completed" in a]
assert [int(a["data-second"]) for a in seconds] == list(range(len(seconds))), seconds
assert len(seconds) >= 3, f"{len(seconds)} seconds in the timeline of a 3 s run"
assert sum(int(a["data-completed"]) for a in seconds) == r["completed"]
assert sum(int(a["data-failed"]) for a in seconds) == 0
assert sum(int(a["data-octets"]) for a in groups if "data-octets" in a) == r["octets"]
bins = [a for a in groups if "data-count" in a]
# Histogram bars come session latency first, then login latency; the session ones count
# each completed session once.
session_bins = html[html.index('id="session-latency"'):html.index('id="login-latency"')].count("data-count=")
assert sum(int(a["data-count"]) for a in bins[:session_bins]) == r["completed"]
assert sum(int(a["data-count"]) for a in bins[session_bins:]) >= r["completed"]
for a in bins:
    assert float(a["data-from-ms"]) < float(a["data-to-ms"]), a
markers = [(a["data-quantile"], float(a["data-ms"])) for a in groups if "data-quantile" in a]
assert [m[0] for m in markers] == ["p50", "p90", "p99"] * 2, markers
markers = dict(markers[:3])  # the session latency chart's; the login chart's follow
assert markers["p50"] == r["latencyMs"]["p50"] and markers["p99"] == r["latencyMs"]["p99"], markers
PY

# 2. The browser builds the same document: the charts and tables are in its DOM, no script.
dom_of "$work/run.html" >"$work/run.dom" || fail "chromium could not load the page: $(tail -3 "$work/chromium.err")"
for id in sessions-per-second megabytes-per-second session-latency login-latency totals settings; do
    grep -q "id=\"$id\"" "$work/run.dom" || fail "chromium's DOM has no #$id"
done
grep -c '<rect' "$work/run.dom" | grep -qv '^0$' || fail "chromium's DOM has no bars"
grep -qi '<script' "$work/run.dom" && fail "chromium's DOM has a script element"

# 3. A hostile server: its error text and a user name with markup stay text.
port_file="$work/port"
python3 - "$port_file" <<'PY' &
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(16)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
while True:
    c, _ = s.accept()
    f = c.makefile("rb")
    c.sendall(b"+OK <b>hi</b>\r\n")
    while True:
        line = f.readline()
        if not line:
            break
        if line.upper().startswith(b"CAPA"):
            c.sendall(b"+OK\r\nUSER\r\n.\r\n")
        else:
            c.sendall(b"-ERR <script>alert(1)</script><img src=x onerror=alert(2)> \x1b[31m\xff\r\n")
    c.close()
PY
spid=$!
for _ in $(seq 100); do [ -s "$port_file" ] && break; sleep 0.1; done
timeout 120 "$bin" method test testtype load ip 127.0.0.1 port "$(cat "$port_file")" starttls false \
    user '<i>u</i>%n' pass x clients 1 sessions 2 report "$work/hostile.html" >"$work/hostile.out" 2>"$work/err"
code=$?
[ "$code" -eq 1 ] || fail "hostile server: exit code $code, expected 1 (sessions failed): $(tail -3 "$work/err")"
dom_of "$work/hostile.html" >"$work/hostile.dom" || fail "chromium could not load the hostile page"
grep -qiE '<script|<img|<i>' "$work/hostile.dom" && fail "markup from the server or the user name reached the DOM: $(grep -oiE '.{40}(<script|<img|<i>).{40}' "$work/hostile.dom" | head -3)"
grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$work/hostile.dom" || fail "the server's error text is not shown as text"
grep -q '\\x1B\[31m' "$work/hostile.dom" || fail "the escape character is not shown escaped"
grep -q '&lt;i&gt;u&lt;/i&gt;%n' "$work/hostile.dom" || fail "the user name is not shown as text"
grep -q 'data-kind="session_failed"' "$work/hostile.dom" || fail "no session_failed row in the errors table"

# 4. A report that cannot be written is refused at once, before any session; and the key
#    does nothing (so it is refused) in the other test types.
timeout 60 "$bin" method test testtype load duration 2 sessions 0 report "$work/missing/run.html" \
    >"$work/out" 2>"$work/err"
code=$?
[ "$code" -eq 1 ] || fail "unwritable report: exit code $code, expected 1"
grep -q "^izypop3: test: cannot write the report: cannot create $work/missing/run.html.tmp-[0-9]*: No such file or directory; name a file in a writable directory\$" "$work/err" \
    || fail "unwritable report: message: $(cat "$work/err")"
[ -s "$work/out" ] && fail "unwritable report: the run went ahead before refusing: $(cat "$work/out")"
"$bin" method test testtype fullclientserver report "$work/x.html" >"$work/out" 2>"$work/err"
code=$?
[ "$code" -eq 2 ] || fail "report in fullclientserver: exit code $code, expected 2"
grep -qx "izypop3: test: report does nothing in testtype fullclientserver; it applies to load" "$work/err" \
    || fail "report in fullclientserver: message: $(cat "$work/err")"

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "load_report: all checks passed"
