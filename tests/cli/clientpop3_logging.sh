#!/usr/bin/env bash
# The logging keys of clientpop3 as a user runs them against our server: verbose.clientLog
# shows every line sent and received, with every secret redacted (PASS, the APOP digest, the
# AUTH initial response and each SASL continuation, for every login mechanism) and message
# bodies only by size; verbose.waitTime logs the wait for the greeting, each reply and each
# body; loglevel error silences both and the warnings, loglevel debug adds the connection;
# keys that do nothing in a method are refused there.
# usage: bash clientpop3_logging.sh /path/to/izypop3
set -euo pipefail
bin=${1:?usage: clientpop3_logging.sh /path/to/izypop3}
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

secret='S3cr3t-pw-xyz'
port=$(free_port)
tlsport=$(free_port)
"$bin" method serverpop3 host 127.0.0.1 port "$port" tlsport "$tlsport" password "$secret" \
  mimestore.modhandler fake mimestore.count 4 >"$work/server.out" 2>"$work/server.err" &
pid=$!
for _ in $(seq 100); do
  grep -q "POP3 on port $port" "$work/server.out" 2>/dev/null && break
  sleep 0.1
done
grep -q "POP3 on port $port" "$work/server.out" || { cat "$work/server.err"; fail "server did not start"; }

# Checks one run's stderr: the secret in no form, only allowed lines sent, bodies by size.
check_log() {
  python3 - "$1" "$2" "$secret" "$3" <<'PY'
import base64, hashlib, hmac, re, sys, glob
log_path, mech, secret, store = sys.argv[1:5]
text = open(log_path, encoding="utf-8", errors="replace").read()
def fail(why):
    print(f"FAIL: auth {mech}: {why}")
    sys.exit(1)
forms = [secret, base64.b64encode(secret.encode()).decode(),
         base64.b64encode(b"\0alice\0" + secret.encode()).decode()]
greeting = re.search(r"\[CLIENT\] < \+OK .*(<[^>]+>)", text)
if greeting:
    forms.append(hashlib.md5((greeting.group(1) + secret).encode()).hexdigest())
for f in forms:
    if f in text:
        fail(f"the secret appears in the log as {f!r}")
sent = re.findall(r"\[CLIENT\] > (.*)", text)
allowed = re.compile(r"^(CAPA|STLS|QUIT|USER alice|PASS <redacted>|APOP alice <redacted>|"
                     r"AUTH [A-Z0-9-]+( <redacted>)?|<redacted>|\*|STAT|LIST|UIDL|"
                     r"(RETR|DELE|LIST|UIDL) [0-9]+)$")
for line in sent:
    if not allowed.match(line):
        fail(f"a line sent before or after login is shown as {line!r}")
if not any(l.startswith("AUTH") or l.startswith("PASS") or l.startswith("APOP") for l in sent):
    fail("no login line in the transcript")
sizes = dict(re.findall(r"\[CLIENT\] < ([0-9]+) ([0-9]+)$", text, re.M))
bodies = re.findall(r"\[CLIENT\] < \(([0-9]+) octets of message body\)", text)
if sorted(bodies) != sorted(sizes[n] for n in ("1", "2", "3")):
    fail(f"bodies {bodies} are not the LIST sizes {sizes}")
# No line of a stored message reaches the log.
for path in glob.glob(store + "/*.eml"):
    for line in open(path, "rb").read().split(b"\r\n"):
        if len(line) >= 12 and line.decode("latin-1") in text:
            fail(f"a line of {path} is in the log: {line[:60]!r}")
for what in ("the greeting", "the reply to CAPA", "the reply to UIDL", "the listing of UIDL",
             "the reply to RETR 1", "the body of RETR 1", "the reply to QUIT"):
    if not re.search(r"\[CLIENT\] waited [0-9]+\.[0-9] ms for " + re.escape(what) + "$", text, re.M):
        fail(f"no wait logged for {what}")
PY
}

for mech in user apop plain login cram-md5 scram-sha-1 scram-sha-256; do
  store="$work/store-$mech"
  "$bin" method clientpop3 ip 127.0.0.1 port "$port" user alice pass "$secret" auth "$mech" \
    starttls false cmd retr query 1-3 mimestore.modhandler localfs mimestore.path "$store" \
    mimestore.create true verbose.clientLog true verbose.waitTime true \
    >"$work/$mech.out" 2>"$work/$mech.err" || { cat "$work/$mech.err"; fail "auth $mech: exit $?"; }
  check_log "$work/$mech.err" "$mech" "$store"
  echo "PASS: auth $mech: transcript and waits logged, no secret, bodies by size"
done

# pipelining: auto sends the RETRs ahead of their replies (our server offers PIPELINING), off
# waits for each reply, on pipelines too (without PIPELINING offered as well: see
# clientpop3_pipelining.sh); an unknown value is refused with the values named.
pipeline_order() {  # the sent/received sequence of the RETR part: "> > <" or "> < >"
  "$bin" method clientpop3 ip 127.0.0.1 port "$port" user alice pass "$secret" auth plain \
    starttls false cmd top query 1-2 verbose.clientLog true "$@" 2>&1 >/dev/null |
    sed -n 's/.*\[CLIENT\] \([<>]\) \(TOP [12] 0\|+OK.*octets\|+OK Top of message follows\)$/\1/p' |
    head -4 | tr '\n' ' '
}
auto=$(pipeline_order)
off=$(pipeline_order pipelining off)
on=$(pipeline_order pipelining on)
[ "$auto" = "> > < < " ] || fail "pipelining auto: TOP lines and replies went '$auto', want '> > < < '"
[ "$off" = "> < > < " ] || fail "pipelining off: TOP lines and replies went '$off', want '> < > < '"
[ "$on" = "> > < < " ] || fail "pipelining on: TOP lines and replies went '$on', want '> > < < '"
rc=0
"$bin" method clientpop3 ip 127.0.0.1 port "$port" cmd stat pipelining always >/dev/null 2>"$work/p.err" || rc=$?
[ "$rc" -eq 2 ] && grep -q "key 'pipelining' wants one of auto|on|off" "$work/p.err" ||
  fail "pipelining always: exit $rc: $(cat "$work/p.err")"
echo "PASS: pipelining auto and on pipeline, off does not, always is not a value"

# A listing shows its lines; the body of TOP is summarised like RETR's.
"$bin" method clientpop3 ip 127.0.0.1 port "$port" user alice pass "$secret" auth plain \
  starttls false cmd top query.id 2 lines 1 verbose.clientLog true >"$work/top.out" 2>"$work/top.err"
grep -q '\[CLIENT\] > TOP 2 1$' "$work/top.err" || fail "cmd top: no TOP line"
grep -Eq '\[CLIENT\] < \([0-9]+ octets of message body\)$' "$work/top.err" || fail "cmd top: body not summarised"
grep -q 'Subject:' "$work/top.err" && fail "cmd top: the message's header reached the log"
echo "PASS: listings shown line by line, TOP's body by size"

# loglevel: error hides the transcript, the waits and the warning; debug adds the connection.
run_tls() {
  "$bin" method clientpop3 ip 127.0.0.1 port "$tlsport" tls true tls.verify false user alice \
    pass "$secret" cmd stat verbose.clientLog true verbose.waitTime true "$@"
}
run_tls loglevel error >"$work/e.out" 2>"$work/e.err"
[ ! -s "$work/e.err" ] || fail "loglevel error: stderr is not empty: $(head -3 "$work/e.err")"
grep -q '^4 messages' "$work/e.out" || fail "loglevel error: no STAT result"
run_tls loglevel warn >"$work/w.out" 2>"$work/w.err"
grep -q 'warning: tls.verify false' "$work/w.err" || fail "loglevel warn: no tls.verify warning"
grep -q '\[CLIENT\]' "$work/w.err" && fail "loglevel warn: the transcript is shown"
run_tls loglevel debug >"$work/d.out" 2>"$work/d.err"
grep -Eq 'debug connected to 127\.0\.0\.1:[0-9]+ over TLSv1\.[23] ' "$work/d.err" || fail "loglevel debug: no connection line"
grep -q 'debug logged in with scram-sha-256' "$work/d.err" || fail "loglevel debug: no login line"
grep -q '\[CLIENT\] > STAT$' "$work/d.err" || fail "loglevel debug: no transcript"
echo "PASS: loglevel error, warn and debug"

# A logging key that cannot do anything in a method is not a key of it.
expect_usage() {
  local want=$1; shift
  local rc=0
  "$bin" "$@" >"$work/u.out" 2>"$work/u.err" || rc=$?
  [ "$rc" -eq 2 ] || fail "$*: exit $rc, expected 2"
  grep -qF "$want" "$work/u.err" || fail "$*: no '$want' in: $(cat "$work/u.err")"
}
expect_usage "izypop3: clientpop3: key 'verbose.serverLog' belongs to serverpop3, test, not to clientpop3" \
  method clientpop3 ip 127.0.0.1 cmd stat verbose.serverLog true
expect_usage "izypop3: serverpop3: key 'verbose.clientLog' belongs to clientpop3, test, not to serverpop3" \
  method serverpop3 verbose.clientLog true
expect_usage "izypop3: querystore: key 'verbose.waitTime' belongs to serverpop3, clientpop3, test, not to querystore" \
  method querystore verbose.waitTime true
expect_usage "izypop3: test: verbose.clientLog does nothing in testtype load without ip; it applies to fullclientserver" \
  method test testtype load verbose.clientLog true
expect_usage "izypop3: test: verbose.serverLog does nothing in testtype load with ip; it applies to fullclientserver, and load without ip" \
  method test testtype load ip 127.0.0.1 verbose.serverLog true
expect_usage "izypop3: test: verbose.waitTime does nothing in testtype mimestore; it applies to fullclientserver, and load without ip" \
  method test testtype mimestore verbose.waitTime true
echo "PASS: logging keys are offered only where they do something"
echo "clientpop3_logging: all checks passed"
