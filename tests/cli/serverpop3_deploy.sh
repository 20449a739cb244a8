#!/usr/bin/env bash
# What an operator deploys with: runas, the systemd readiness protocol, the unit file.
# - runas: as root, a port below 1024 without runas is refused with one line naming the
#   port; runas nobody serves as nobody (the /proc/PID/status Uid, Gid and Groups lines),
#   runas.group picks the group, a store folder nobody cannot read is an error naming it,
#   runas root serves as root on purpose. Not as root: runas someone else is refused,
#   runas naming the current user serves.
# - NOTIFY_SOCKET (a unix datagram socket of this test): READY=1 once the ports listen,
#   RELOADING=1 (with MONOTONIC_USEC) then READY=1 on SIGHUP, STOPPING=1 on SIGTERM.
# - docs/deploy/izypop3.service passes `systemd-analyze verify` with no complaint (the
#   binary's path is the only change, so that the check that ExecStart exists can pass).
set -euo pipefail
bin=${1:?usage: serverpop3_deploy.sh /path/to/izypop3}
bin=$(realpath "$bin")
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$work/server.err" ] && tail -20 "$work/server.err" >&2; exit 1; }
pass() { echo "PASS: $*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A maildir of one user that any user may read (the test directory too).
chmod 755 "$work"
mkdir -p "$work/mail/alice/new" "$work/mail/alice/cur" "$work/mail/alice/tmp"
printf 'Subject: one\r\n\r\nbody\r\n' > "$work/mail/alice/new/1.eml"
chmod -R a+rwX "$work/mail"

# start ARGS...: the server in the background on a free port; sets port and pid.
start() {
  port=$(free_port)
  "$bin" method serverpop3 host 127.0.0.1 port "$port" password 12345 \
    mimestore.modhandler maildir mimestore.path "$work/mail/%u" "$@" \
    > "$work/server.out" 2> "$work/server.err" &
  pid=$!
  for _ in $(seq 100); do
    grep -q "POP3 on port $port" "$work/server.out" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  fail "server with '$*' did not start"
}
stop() {
  kill -TERM "$pid"; local rc=0; wait "$pid" || rc=$?; pid=""
  [ "$rc" -eq 0 ] || fail "exit code $rc on SIGTERM"
}
stat_ok() {
  python3 - "$port" <<'PY' || fail "a POP3 session did not see the one message"
import poplib, sys
p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=30)
p.user("alice"); p.pass_("12345")
assert p.stat()[0] == 1, p.stat()
p.quit()
PY
}
status_line() { awk -v k="$1:" '$1 == k {$1 = ""; print substr($0, 2)}' "/proc/$pid/status"; }
# expect_refusal CODE TEXT ARGS...: the server on a maildir store with ARGS exits with CODE,
# and its one stderr line has TEXT.
expect_refusal() {
  local code=$1 text=$2 rc=0; shift 2
  "$bin" method serverpop3 host 127.0.0.1 mimestore.modhandler maildir "$@" \
    > "$work/r.out" 2> "$work/r.err" || rc=$?
  [ "$rc" -eq "$code" ] || fail "'$*': exit code $rc, want $code; stderr: $(cat "$work/r.err")"
  [ "$(wc -l < "$work/r.err")" -eq 1 ] && grep -qF -- "$text" "$work/r.err" ||
    fail "'$*': stderr is not the one line with '$text': $(cat "$work/r.err")"
  pass "'$*' refused (exit $code): $(cat "$work/r.err")"
}

if [ "$(id -u)" -eq 0 ]; then
  mail=(mimestore.path "$work/mail/%u" password 12345)
  expect_refusal 2 "started as root to listen on port 995; give 'runas USER'" "${mail[@]}" \
    port "$(free_port)" tlsport 995
  expect_refusal 2 "runas: no user 'no-such-user-here'" "${mail[@]}" port "$(free_port)" \
    runas no-such-user-here
  expect_refusal 2 "runas.group needs runas USER" "${mail[@]}" port "$(free_port)" runas.group nogroup

  nobody_uid=$(id -u nobody); nobody_gid=$(id -g nobody)
  start runas nobody
  [ "$(status_line Uid)" = "$nobody_uid $nobody_uid $nobody_uid $nobody_uid" ] ||
    fail "runas nobody: Uid line is '$(status_line Uid)', want $nobody_uid four times"
  [ "$(status_line Gid)" = "$nobody_gid $nobody_gid $nobody_gid $nobody_gid" ] ||
    fail "runas nobody: Gid line is '$(status_line Gid)', want $nobody_gid four times"
  [ "$(status_line Groups)" = "$nobody_gid" ] || fail "runas nobody: Groups line is '$(status_line Groups)'"
  [ "$(status_line CapEff)" = "0000000000000000" ] || fail "runas nobody: CapEff $(status_line CapEff)"
  stat_ok
  grep -q "serving as user nobody ($nobody_uid), group" "$work/server.err" || fail "no 'serving as user nobody' log line"
  stop
  pass "runas nobody: Uid/Gid $nobody_uid/$nobody_gid in /proc, no capabilities, POP3 works"

  mail_gid=$(getent group mail | cut -d: -f3)
  start runas nobody runas.group mail
  [ "$(status_line Gid)" = "$mail_gid $mail_gid $mail_gid $mail_gid" ] ||
    fail "runas.group mail: Gid line is '$(status_line Gid)', want $mail_gid"
  [ "$(status_line Groups)" = "$mail_gid" ] || fail "runas.group mail: Groups line '$(status_line Groups)'"
  stop
  pass "runas nobody runas.group mail: Gid $mail_gid, Groups $mail_gid"

  mkdir -m 700 "$work/private"
  expect_refusal 1 "runas nobody: cannot read $work/private (Permission denied) as nobody:" \
    port "$(free_port)" runas nobody mimestore.path "$work/private/%u" password 12345
  printf 'alice:{PLAIN}x\n' > "$work/users"; chmod 600 "$work/users"
  expect_refusal 1 "runas nobody: cannot read $work/users (Permission denied) as nobody:" \
    port "$(free_port)" runas nobody users "$work/users" mimestore.path "$work/mail/%u"

  start runas root
  [ "$(status_line Uid)" = "0 0 0 0" ] || fail "runas root: not root"
  grep -q "runas root: serving as root on purpose" "$work/server.err" || fail "runas root: no log line"
  ! grep -q "serving as root; give" "$work/server.err" || fail "runas root still warns"
  stop
  pass "runas root serves as root, said on purpose"
else
  expect_refusal 2 "only root can change user" port "$(free_port)" runas root password 12345 \
    mimestore.path "$work/mail/%u"
  start runas "$(id -un)"
  stat_ok
  stop
  pass "not root: runas naming the current user serves"
fi

# The readiness protocol, with a socket of our own as the service manager's.
python3 - "$bin" "$work" <<'PY' || fail "NOTIFY_SOCKET protocol"
import os, signal, socket, subprocess, sys, time
bin, work = sys.argv[1], sys.argv[2]
path = work + "/notify"
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path); os.chmod(path, 0o777)
s.settimeout(30)
with socket.socket() as f:
    f.bind(("127.0.0.1", 0)); port = f.getsockname()[1]
args = [bin, "method", "serverpop3", "host", "127.0.0.1", "port", str(port), "password", "1",
        "mimestore.modhandler", "fake"]
if os.getuid() == 0:
    args += ["runas", "nobody"]  # notifications still reach the manager after the drop
out = open(work + "/n.out", "w")
p = subprocess.Popen(args, env=dict(os.environ, NOTIFY_SOCKET=path), stdout=out, stderr=out)
def expect(want):
    got = s.recv(4096).decode()
    ok = want(got)
    print(("PASS: " if ok else "FAIL: ") + "notification " + repr(got))
    if not ok:
        p.kill(); sys.exit(1)
expect(lambda m: m == "READY=1")
with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
    assert c.recv(100).startswith(b"+OK"), "not listening when READY=1 came"
p.send_signal(signal.SIGHUP)
expect(lambda m: m.split("\n")[0] == "RELOADING=1" and m.split("\n")[1].startswith("MONOTONIC_USEC=")
       and int(m.split("\n")[1].split("=")[1]) > 0)
expect(lambda m: m == "READY=1")
p.send_signal(signal.SIGTERM)
expect(lambda m: m == "STOPPING=1")
assert p.wait(30) == 0, "exit code after SIGTERM"
PY
pass "NOTIFY_SOCKET: READY=1 when listening, RELOADING=1 + READY=1 on SIGHUP, STOPPING=1"

# The unit file.
command -v systemd-analyze >/dev/null || fail "systemd-analyze is missing; run .ci/deps.sh test (package systemd)"
sed "s|/usr/local/bin/izypop3|$bin|" "$root/docs/deploy/izypop3.service" > "$work/izypop3.service"
grep -q "ExecStart=$bin " "$work/izypop3.service" || fail "the unit has no ExecStart=/usr/local/bin/izypop3"
rc=0
(cd "$work" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify ./izypop3.service) > "$work/verify" 2>&1 || rc=$?
[ "$rc" -eq 0 ] && [ ! -s "$work/verify" ] ||
  fail "systemd-analyze verify docs/deploy/izypop3.service (exit $rc): $(cat "$work/verify")"
for key in ProtectSystem=strict NoNewPrivileges=yes CapabilityBoundingSet=CAP_NET_BIND_SERVICE \
    Type=notify "ExecReload=/bin/kill -HUP \$MAINPID"; do
  grep -qxF -- "$key" "$work/izypop3.service" || fail "the unit lacks '$key'"
done
pass "docs/deploy/izypop3.service passes systemd-analyze verify with no output"
