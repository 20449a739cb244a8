#!/usr/bin/env bash
# `izypop3 method test testtype fullclientserver` as a user runs it: every check passes on
# the default fake store, the report has its exact shape, the transcripts appear when
# asked for, and a store the checks cannot pass on makes it fail with a reason.
# usage: bash fullclientserver.sh /path/to/izypop3
set -u
bin=${1:?usage: bash fullclientserver.sh /path/to/izypop3}
failures=0
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

checks='badlogin listandquit pop3failed retrsuccess stls implicittls backup-plain backup-stls
backup-tls backup-apop backup-plain-sasl backup-login backup-cram-md5 backup-scram-sha-1
backup-scram-sha-256 backup-query-new backup-delete'

# 1. The whole self-test on the fake store: one PASS line per check, in order, then totals.
"$bin" method test testtype fullclientserver >"$out" 2>"$err"
code=$?
[ "$code" -eq 0 ] || fail "fullclientserver: exit code $code, expected 0; stdout: $(cat "$out"); stderr: $(tail -5 "$err")"
want=$(mktemp)
{
    for c in $checks; do echo "PASS $c"; done
    echo "17 passed, 0 failed"
} >"$want"
head -1 "$out" | grep -Eq '^fullclientserver: fake store, 99 messages; POP3 on 127\.0\.0\.1:[0-9]+, POP3S on 127\.0\.0\.1:[0-9]+$' \
    || fail "first line: $(head -1 "$out")"
if ! diff -u "$want" <(tail -n +2 "$out") >&2; then fail "the report differs (- expected, + got)"; fi
rm -f "$want"

# 2. Transcripts and waits: both sides of every conversation, the backups' included,
#    prefixed as the original's log, and no password in them.
"$bin" method test testtype fullclientserver verbose.clientLog true verbose.serverLog true \
    verbose.waitTime true mimestore.count 7 >"$out" 2>"$err"
code=$?
[ "$code" -eq 0 ] || fail "verbose run: exit code $code"
grep -q '\[CLIENT\] > USER baduser' "$err" || fail "verbose: no [CLIENT] transcript"
grep -q '\[SERVER\] < USER baduser' "$err" || fail "verbose: no [SERVER] transcript"
grep -q '\[SERVER\] > -ERR \[AUTH\] Invalid login' "$err" || fail "verbose: no -ERR [AUTH] reply"
grep -q 'PASS <redacted>' "$err" || fail "verbose: PASS not shown redacted"
if grep -Eq 'PASS (badpass|listuser|retruser|backupuser)' "$err"; then
    fail "verbose: a password appears in the transcript"
fi
# The backups: each login mechanism on both sides, secrets redacted, bodies by size.
for line in 'USER backupuser' 'APOP backupuser <redacted>' 'AUTH PLAIN <redacted>' 'AUTH LOGIN' \
    'AUTH CRAM-MD5' 'AUTH SCRAM-SHA-1 <redacted>' 'AUTH SCRAM-SHA-256 <redacted>' 'RETR 7'; do
    grep -q "\[CLIENT\] > $line\$" "$err" || fail "verbose: the backups' client side has no '$line'"
    grep -q "\[SERVER\] < $line\$" "$err" || fail "verbose: the backups' server side has no '$line'"
done
# base64 of "\0backupuser\0backupuser" (PLAIN) and of "backupuser" (LOGIN).
if grep -Eq 'AGJhY2t1cHVzZXIAYmFja3VwdXNlcg|YmFja3VwdXNlcg' "$err"; then
    fail "verbose: a SASL credential appears in the transcript"
fi
grep -Eq '\[CLIENT\] < \(5242880 octets of message body\)$' "$err" || fail "verbose: the big body is not summarised"
for what in 'the greeting' 'the reply to PASS' 'the reply to RETR 6' 'the body of RETR 6' \
    'the rest of a multi-line reply'; do
    grep -Eq "\[CLIENT\] waited [0-9]+\.[0-9] ms for $what\$" "$err" || fail "verbose: no client wait for $what"
done
grep -Eq "\[SERVER\] waited [0-9]+\.[0-9] ms for the client's next line\$" "$err" ||
    fail "verbose: no server wait"

# 3. A store the checks cannot pass on: one message leaves pop3failed nothing to drop.
"$bin" method test testtype fullclientserver mimestore.count 1 >"$out" 2>"$err"
code=$?
[ "$code" -eq 1 ] || fail "one-message store: exit code $code, expected 1"
grep -qx 'FAIL pop3failed: the store needs at least 2 messages for this check' "$out" \
    || fail "one-message store: no FAIL pop3failed line: $(cat "$out")"
grep -Eqx '[0-9]+ passed, [1-9][0-9]* failed' "$out" || fail "one-message store: no totals line"

# 4. format json: one JSON object on stdout with the same checks, in order, and the failure
#    text where a check failed; nothing else on stdout.
"$bin" method test testtype fullclientserver format json mimestore.count 1 >"$out" 2>"$err"
code=$?
[ "$code" -eq 1 ] || fail "format json, one-message store: exit code $code, expected 1"
python3 - "$out" "$checks" <<'PY' || fail "format json: the object is not what the text report says (above)"
import json, sys
text = open(sys.argv[1]).read()
lines = text.splitlines()
assert len(lines) == 1, f"expected one line of JSON, got {len(lines)}"
r = json.loads(lines[0])
want = sys.argv[2].split()
assert [c["name"] for c in r["checks"]] == want, r["checks"]
assert r["test"] == "fullclientserver" and r["store"] == "fake" and r["messages"] == 1, r
assert r["pop3"].startswith("127.0.0.1:") and r["pop3s"].startswith("127.0.0.1:"), r
failed = [c for c in r["checks"] if not c["passed"]]
assert r["failed"] == len(failed) >= 1 and r["passed"] == len(want) - len(failed), r
pf = next(c for c in r["checks"] if c["name"] == "pop3failed")
assert pf == {"name": "pop3failed", "passed": False,
              "failure": "the store needs at least 2 messages for this check"}, pf
assert all("failure" not in c for c in r["checks"] if c["passed"])
PY

# 5. A usage mistake is exit code 2 and runs nothing.
"$bin" method test testtype fullclientserver port 65535 >"$out" 2>"$err"
code=$?
[ "$code" -eq 2 ] || fail "port 65535: exit code $code, expected 2"
[ -s "$out" ] && fail "port 65535: unexpected stdout: $(cat "$out")"

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "fullclientserver: all checks passed"
