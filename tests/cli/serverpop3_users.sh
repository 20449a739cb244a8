#!/usr/bin/env bash
# `izypop3 method serverpop3 users FILE` with a Dovecot passwd-file whose hashes doveadm makes
# at test time: python3 poplib and curl log in with USER/PASS, AUTH PLAIN, AUTH LOGIN,
# CRAM-MD5 and APOP (only {PLAIN} users can) and SCRAM-SHA-256; a password changed in the file works
# without a restart, both on the next lookup and after SIGHUP; a bad edit keeps the old
# users; a malformed file at start is a usage error naming file and line (exit code 2).
# Installs dovecot-core for doveadm when missing and fails, never skips, when it cannot.
set -euo pipefail
bin=${1:?usage: serverpop3_users.sh /path/to/izypop3}
work=$(mktemp -d)
pid=""
made_policy=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  if [ -n "$made_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$work/server.err" ] && tail -20 "$work/server.err" >&2; exit 1; }

if ! command -v doveadm >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  # No init in a container: the package scripts must not try to start Dovecot.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  $SUDO apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
    --no-install-recommends dovecot-core >&2 ||
    fail "doveadm is missing and apt-get could not install dovecot-core; install it by hand"
  command -v doveadm >/dev/null || fail "dovecot-core is installed but doveadm is not on PATH"
fi
hash_of() { doveadm pw -s "$1" -p "$2"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

users="$work/users"
write_users() {  # alice bob carol dave passwords; written to a new file, renamed over the old
  cat > "$users.new" <<EOF
# made by doveadm pw at test time
alice:{PLAIN}$1
bob:$(hash_of SHA512-CRYPT "$2")
carol:$(hash_of SCRAM-SHA-256 "$3")

dave:$(hash_of SHA256-CRYPT "$4"):1000:1000::/home/dave:/bin/false
EOF
  mv "$users.new" "$users"
}
write_users wonderland builder pencil d4ve-pw

# A small POP3 client in python: poplib for USER/PASS, raw lines for SCRAM-SHA-256 (curl
# speaks SCRAM only when built with libgsasl).
cat > "$work/pop.py" <<'PY'
import base64, hashlib, hmac, os, poplib, socket, sys

def userpass(port, user, password):
    p = poplib.POP3("127.0.0.1", port, timeout=60)
    try:
        p.user(user)
        p.pass_(password)
    except poplib.error_proto as e:
        print(e.args[0].decode())
        return 1
    count, _ = p.stat()
    p.quit()
    print(f"+OK {count} messages")
    return 0

class lines:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.f = self.s.makefile("rb")
    def send(self, text):
        self.s.sendall(text.encode() + b"\r\n")
    def line(self):
        return self.f.readline().decode().rstrip("\r\n")

def scram(port, user, password):
    c = lines(port)
    assert c.line().startswith("+OK")
    c.send("AUTH SCRAM-SHA-256")
    assert c.line().rstrip() == "+", "no empty challenge"
    nonce = base64.b64encode(os.urandom(18)).decode()
    first_bare = f"n={user},r={nonce}"
    c.send(base64.b64encode(("n,," + first_bare).encode()).decode())
    reply = c.line()
    assert reply.startswith("+ "), reply
    server_first = base64.b64decode(reply[2:]).decode()
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    assert attrs["r"].startswith(nonce) and int(attrs["i"]) >= 4096, server_first
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(attrs["s"]),
                                 int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    final_bare = "c=biws,r=" + attrs["r"]
    auth_message = ",".join([first_bare, server_first, final_bare]).encode()
    signature = hmac.new(stored_key, auth_message, "sha256").digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    c.send(base64.b64encode((final_bare + ",p=" + base64.b64encode(proof).decode()).encode()).decode())
    reply = c.line()
    if not reply.startswith("+ "):
        print(reply)
        return 1
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    want = "v=" + base64.b64encode(hmac.new(server_key, auth_message, "sha256").digest()).decode()
    assert base64.b64decode(reply[2:]).decode() == want, "server signature does not verify"
    c.send("")
    reply = c.line()
    assert reply.startswith("+OK"), reply
    c.send("STAT")
    stat = c.line()
    c.send("QUIT")
    print(stat)
    return 0

cmd, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
sys.exit({"userpass": userpass, "scram": scram}[cmd](port, user, password))
PY

start_server() {  # start_server USERS_FILE
  port=$(free_port)
  "$bin" method serverpop3 host 127.0.0.1 port "$port" users "$1" \
    mimestore.modhandler fake mimestore.count 3 > "$work/server.out" 2> "$work/server.err" &
  pid=$!
  for _ in $(seq 100); do
    grep -q "POP3 on port $port" "$work/server.out" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  fail "server did not start"
}

login_ok() {  # login_ok KIND USER PASSWORD
  local got
  got=$(python3 "$work/pop.py" "$1" "$port" "$2" "$3") || fail "$1 login of $2 was refused: $got"
  case "$got" in "+OK 3 "*) ;; *) fail "$1 login of $2: STAT says '$got'";; esac
}
login_refused() {  # login_refused KIND USER PASSWORD -> the -ERR line must be the generic one
  local got
  if got=$(python3 "$work/pop.py" "$1" "$port" "$2" "$3"); then
    fail "$1 login of $2 with password '$3' was accepted"
  fi
  [ "$got" = "-ERR [AUTH] Invalid login" ] || fail "$1 login of $2 answered '$got'"
}
curl_ok() {  # curl_ok LOGIN-OPTIONS USER:PASSWORD
  local n
  n=$(curl -sS --max-time 60 --login-options "$1" -u "$2" "pop3://127.0.0.1:$port/" | wc -l) ||
    fail "curl $1 as ${2%%:*} failed"
  [ "$n" -eq 3 ] || fail "curl $1 as ${2%%:*}: LIST has $n lines, want 3"
}
curl_refused() {
  local rc=0
  curl -sS --max-time 60 --login-options "$1" -u "$2" "pop3://127.0.0.1:$port/" \
    > /dev/null 2> "$work/curl.err" || rc=$?
  # 67: CURLE_LOGIN_DENIED.
  [ "$rc" -eq 67 ] || fail "curl $1 as ${2%%:*}: exit code $rc, want 67 (login denied)"
}
wait_for_log() {  # wait_for_log COUNT TEXT: until TEXT is in the log COUNT times (30 s)
  for _ in $(seq 600); do
    [ "$(grep -cF -- "$2" "$work/server.err" || true)" -ge "$1" ] && return 0
    sleep 0.05
  done
  fail "the server log never had '$2' $1 time(s)"
}

start_server "$users"
grep -q ", 4 users from $users\$" "$work/server.out" || fail "start line: $(cat "$work/server.out")"

# Every scheme through USER/PASS (poplib) and the SASL mechanisms that need no stored
# secret (curl); a {PLAIN} user also through CRAM-MD5.
for up in alice:wonderland bob:builder carol:pencil dave:d4ve-pw; do
  login_ok userpass "${up%%:*}" "${up#*:}"
  curl_ok "AUTH=PLAIN" "$up"
done
# curl 7.88 has no option to force USER/PASS while SASL is offered: poplib does USER/PASS.
curl_ok "AUTH=LOGIN" dave:d4ve-pw
curl_ok "AUTH=CRAM-MD5" alice:wonderland
curl_ok "AUTH=+APOP" alice:wonderland
echo "USER/PASS, PLAIN, LOGIN for every scheme; CRAM-MD5 and APOP for {PLAIN}: ok"

# Wrong password and unknown user: the same reply. Each failure costs the failed-login
# delay, and a success in between resets the per-address penalty.
login_refused userpass bob wrong
login_refused userpass nobody builder
login_ok userpass alice wonderland
# A SHA512-CRYPT entry cannot serve CRAM-MD5 or APOP (both need the plaintext).
curl_refused "AUTH=CRAM-MD5" bob:builder
login_ok userpass alice wonderland
curl_refused "AUTH=+APOP" bob:builder
login_ok userpass alice wonderland
echo "wrong password, unknown user, CRAM-MD5 and APOP for a crypt user: refused"

if curl --version | grep -qi gsasl; then
  curl_ok "AUTH=SCRAM-SHA-256" carol:pencil
  curl_ok "AUTH=SCRAM-SHA-256" alice:wonderland
fi
login_ok scram carol pencil        # stored SCRAM keys
login_ok scram alice wonderland    # keys derived from {PLAIN}
login_refused scram carol wrong
login_ok scram carol pencil
login_refused scram bob builder    # a crypt hash cannot serve SCRAM
login_ok scram carol pencil
echo "SCRAM-SHA-256: ok"

# A changed file is read on the first lookup after the one-second recheck interval.
write_users wonderland builder2 pencil d4ve-pw
sleep 1.5
login_ok userpass bob builder2
login_refused userpass bob builder
login_ok userpass bob builder2
wait_for_log 1 "users file $users re-read: 4 users"
echo "changed file: new password works without a restart"

# SIGHUP reads it at once, without waiting for a lookup.
write_users wonderland builder2 pencil2 d4ve-pw
kill -HUP "$pid"
wait_for_log 1 "signal 1: reloading configuration"
wait_for_log 2 "users file $users re-read: 4 users"
login_ok scram carol pencil2
login_ok userpass carol pencil2
echo "SIGHUP: new password works"

# A bad edit is reported with file and line, and the users read before stay.
printf 'alice:{PLAIN}x\nerin:{MD5}abc\n' > "$users"
kill -HUP "$pid"
wait_for_log 1 "$users:2: user 'erin': unknown password scheme {MD5}"
wait_for_log 1 "still using the 4 users read before"
login_ok userpass alice wonderland
login_ok scram carol pencil2
echo "bad edit: reported, previous users kept"

kill -TERM "$pid"
wait "$pid" || fail "server exit code $? after SIGTERM, want 0"
pid=""

# At start a malformed file is a usage error: exit code 2 and FILE:LINE.
printf '# users\nalice:{PLAIN}wonderland\nbob:{SHA512-CRYPT}$6$short\n' > "$work/bad"
rc=0
"$bin" method serverpop3 host 127.0.0.1 port "$(free_port)" users "$work/bad" \
  > "$work/bad.out" 2> "$work/bad.err" || rc=$?
[ "$rc" -eq 2 ] || fail "malformed users file: exit code $rc, want 2"
want="izypop3: serverpop3: $work/bad:3: user 'bob': the {SHA512-CRYPT} hash is not \$6\$[rounds=N\$]salt\$hash with 86 hash characters; regenerate it with: doveadm pw -s SHA512-CRYPT"
[ "$(cat "$work/bad.err")" = "$want" ] || fail "malformed users file: stderr '$(cat "$work/bad.err")'"

rc=0
"$bin" method serverpop3 port "$(free_port)" users "$users" password 12345 \
  > /dev/null 2> "$work/both.err" || rc=$?
[ "$rc" -eq 2 ] || fail "users and password together: exit code $rc, want 2"
grep -q "'password' and 'users' exclude each other" "$work/both.err" || fail "$(cat "$work/both.err")"
echo "malformed file and users+password at start: exit code 2"

echo "serverpop3_users: all checks passed"
