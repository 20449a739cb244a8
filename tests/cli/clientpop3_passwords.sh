#!/usr/bin/env bash
# Where clientpop3's password comes from, against our server: passeval's first output line
# (CRLF or LF, later lines ignored), IZYPOP3_PASS, pass; a passeval command that fails, is
# not found, is killed or prints nothing stops the run with exit code 2 and one line saying
# which, before any connection is made; pass and passeval together are refused.
# usage: bash clientpop3_passwords.sh /path/to/izypop3
set -euo pipefail
bin=${1:?usage: clientpop3_passwords.sh /path/to/izypop3}
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

secret='S3cr3t pw'
port=$(free_port)
"$bin" method serverpop3 host 127.0.0.1 port "$port" password "$secret" mimestore.count 2 \
  >"$work/server.out" 2>"$work/server.err" &
pid=$!
for _ in $(seq 100); do
  grep -q "POP3 on port $port" "$work/server.out" 2>/dev/null && break
  sleep 0.1
done
grep -q "POP3 on port $port" "$work/server.out" || fail "server did not start: $(cat "$work/server.err")"

stat() {  # stat PORT ARGS...: clientpop3 cmd stat; sets rc, out, err
  local p=$1
  shift
  rc=0
  "$bin" method clientpop3 ip 127.0.0.1 port "$p" user alice auth user starttls false cmd stat "$@" \
    >"$work/out" 2>"$work/err" || rc=$?
  out=$(cat "$work/out")
  err=$(cat "$work/err")
}
logged_in() {  # what ARGS...
  local what=$1
  shift
  stat "$port" "$@"
  [ "$rc" -eq 0 ] && [ "$out" = "2 messages, 1406 octets" ] || fail "$what: exit $rc, out '$out', err '$err'"
  echo "PASS: $what"
}

logged_in "passeval printing the password" passeval "printf '%s\n' '$secret'"
logged_in "passeval printing it with CRLF, then more lines" passeval "printf '%s\r\nsecond line\n' '$secret'"
logged_in "passeval printing it without a line end" passeval "printf '%s' '$secret'"
IZYPOP3_PASS=$secret logged_in "IZYPOP3_PASS"
IZYPOP3_PASS=wrong logged_in "pass before IZYPOP3_PASS" pass "$secret"
IZYPOP3_PASS=wrong stat "$port"
[ "$rc" -eq 4 ] || fail "a wrong IZYPOP3_PASS: exit $rc, want 4 (login refused)"
echo "PASS: a wrong IZYPOP3_PASS is a refused login (exit 4)"

# A passeval that does not give a password: exit 2, one line, and no connection at all (the
# port is closed: trying to connect would be exit 3).
closed=$(free_port)
refused() {  # want-text passeval-command
  stat "$closed" passeval "$2"
  [ "$rc" -eq 2 ] || fail "passeval '$2': exit $rc, want 2; err: $err"
  # The command's own stderr (sh: not found) comes first; ours is one line, the last.
  [ "$(tail -1 "$work/err")" = "$1" ] && [ "$(grep -c '^izypop3:' "$work/err")" -eq 1 ] ||
    fail "passeval '$2': stderr '$err', want '$1'"
  echo "PASS: passeval '$2' is refused: $1"
}
refused "izypop3: clientpop3: passeval command 'echo $secret; exit 3' exited with status 3; nothing it printed was used, run it by hand to see why" \
  "echo $secret; exit 3"
refused "izypop3: clientpop3: passeval command 'true' printed no password: its first line is empty; make it print the password on its first line" \
  "true"
refused "izypop3: clientpop3: passeval command 'echo; echo $secret' printed no password: its first line is empty; make it print the password on its first line" \
  "echo; echo $secret"
refused "izypop3: clientpop3: passeval command 'no-such-password-tool' exited with status 127: the shell could not find the command; nothing it printed was used, run it by hand to see why" \
  "no-such-password-tool"
refused "izypop3: clientpop3: passeval command 'echo x; kill -9 \$\$' was killed by signal 9; nothing it printed was used, run it by hand to see why" \
  'echo x; kill -9 $$'

stat "$port" pass "$secret" passeval "echo x"
[ "$rc" -eq 2 ] && [ "$err" = "izypop3: clientpop3: give pass or passeval, not both (passeval keeps the password out of the process list)" ] ||
  fail "pass and passeval: exit $rc, err '$err'"
echo "PASS: pass and passeval together are refused"
echo "clientpop3_passwords: all checks passed"
