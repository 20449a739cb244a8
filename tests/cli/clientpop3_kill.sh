#!/usr/bin/env bash
# clientpop3 killed with SIGKILL at random moments of a `query new delete true` backup from
# our own server (fake store) into a Maildir store, then run once more to the end. Whatever
# moment the kill hits (a body streaming, a batch being made durable, DELEs on the wire,
# QUIT unanswered), a message may leave the server only once it is durably stored, and no
# message may be stored twice. At the end: every message stored exactly once, byte for
# byte, and the server's mailbox empty. Prints the counts.
#
# Issue 15 asks for 100 kills during a 10,000-message run; that takes minutes on a shared
# 2-core machine, so ctest runs 40 kills over 2,000 messages.
#   KILL_MESSAGES=10000 KILL_TIMES=100 bash tests/cli/clientpop3_kill.sh BIN   the full size
set -euo pipefail
bin=${1:?usage: clientpop3_kill.sh /path/to/izypop3}
messages=${KILL_MESSAGES:-2000}
kills=${KILL_TIMES:-40}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
export IZYPOP3_LOCK_DIR=$work/locks
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$here/../support/fake_server.sh"

start_fake_server "$bin" "$work" "$messages"
write_reference "$work" "$messages"
store=$work/maildir
backup() {
  "$bin" method clientpop3 ip 127.0.0.1 port "$port" user u pass 12345 starttls false \
    cmd retr query new delete true timeout 30 mimestore.modhandler maildir \
    mimestore.create true mimestore.path "$store" loglevel error "$@"
}
# A killed client's server session lives on until the server notices (IN-USE meanwhile).
on_server() {
  local n
  for _ in $(seq 1 100); do
    n=$("$bin" method clientpop3 ip 127.0.0.1 port "$port" user u pass 12345 starttls false \
      cmd stat 2>/dev/null | sed -n 's/^\([0-9]*\) messages.*/\1/p')
    [ -n "$n" ] && { echo "$n"; return; }
    sleep 0.1
  done
  fail "the server kept the mailbox locked"
}
in_store() { find "$store/new" "$store/cur" -type f 2>/dev/null | wc -l; }

# The kill moments follow the run's progress, not the clock (this machine is too noisy
# for that). Most runs are killed once the Maildir's tmp/, new/ and cur/ hold a random 0 to
# messages/kills files more than when they started (tmp/ grows per message as its body
# starts, new/ per batch made durable), one in ten at a random moment before its first
# message; the last tenth (or once nine tenths are stored) up to 80 ms after their last
# body began, when the last batch is synced, the DELEs are on the wire and QUIT is awaited.
python3 - "$kills" "$messages" "$store" "$work" "$bin" "$port" <<'PY' > "$work/kills" || exit 1
import os, random, subprocess, sys, time
kills, messages, store, work, binary, port = sys.argv[1:7]
kills, messages = int(kills), int(messages)
rnd = random.Random(15)
def files():
    n = 0
    for sub in ("tmp", "new", "cur"):
        try: n += len(os.listdir(f"{store}/{sub}"))
        except FileNotFoundError: pass
    return n
def on_server():
    for _ in range(100):
        r = subprocess.run([binary, "method", "clientpop3", "ip", "127.0.0.1", "port", port,
                            "user", "u", "pass", "12345", "starttls", "false", "cmd", "stat"],
                           capture_output=True, text=True)
        if r.returncode == 0: return int(r.stdout.split()[0])
        time.sleep(0.1)  # a killed client's session still holds the mailbox
    sys.exit("the server kept the mailbox locked")
def stored():
    return sum(len(os.listdir(f"{store}/{sub}")) for sub in ("new", "cur")
               if os.path.isdir(f"{store}/{sub}"))
hit = done = early = late = 0
for i in range(kills):
    if on_server() == 0: break
    before, goal = files(), rnd.randint(0, messages // kills)
    cut_late = i >= kills * 9 // 10 or stored() >= messages * 9 // 10
    cut_early = not cut_late and rnd.random() < 0.1
    if cut_late: goal = messages - stored()
    deadline = time.monotonic() + rnd.uniform(0, 0.5)
    p = subprocess.Popen([binary, "method", "clientpop3", "ip", "127.0.0.1", "port", port,
                          "user", "u", "pass", "12345", "starttls", "false", "cmd", "retr",
                          "query", "new", "delete", "true", "timeout", "30",
                          "mimestore.modhandler", "maildir", "mimestore.create", "true",
                          "mimestore.path", store, "loglevel", "error"],
                         stdout=subprocess.DEVNULL, stderr=open(f"{work}/err.{i}", "w"))
    while p.poll() is None:
        if (time.monotonic() >= deadline) if cut_early else (files() - before >= goal): break
        time.sleep(0.005)
    if cut_late:
        end = time.monotonic() + rnd.uniform(0, 0.08)
        while p.poll() is None and time.monotonic() < end: time.sleep(0.005)
    if p.poll() is None:
        p.kill(); hit += 1; early += cut_early; late += cut_late
    else:
        done += 1
    p.wait()
print(f"{hit} {done} {early} {late}")
PY
read -r hit finished early late < "$work/kills"
left_after_kills=$(on_server)
stored_after_kills=$(in_store)
# A message gone from the server must already be in the store.
[ $((left_after_kills + stored_after_kills)) -ge "$messages" ] ||
  fail "after the kills: $left_after_kills on the server + $stored_after_kills stored < $messages"

backup > "$work/out.last" 2> "$work/err.last" || fail "the last run failed: $(head -c 400 "$work/err.last")"
left=$(on_server)
python3 - "$store" "$work/want" <<'PY' || exit 1
import glob, hashlib, os, sys
store, want_dir = sys.argv[1:3]
want = sorted(hashlib.sha256(open(p, "rb").read()).hexdigest() for p in glob.glob(want_dir + "/*"))
got = sorted(hashlib.sha256(open(p, "rb").read()).hexdigest()
             for sub in ("new", "cur") for p in glob.glob(f"{store}/{sub}/*"))
if got != want:
    dup = len(got) - len(set(got))
    missing = len(set(want) - set(got))
    print(f"FAIL: store has {len(got)} message files ({dup} stored twice, {missing} missing), "
          f"want the {len(want)} messages once each", file=sys.stderr)
    sys.exit(1)
PY
[ "$left" -eq 0 ] || fail "the server still has $left messages"
echo "kills: $hit runs killed ($early before their first message, $late after their last body" \
  "began), $finished finished first; after the kills" \
  "$left_after_kills on the server, $stored_after_kills stored; after the last run:" \
  "$(in_store) stored, each of the $messages messages exactly once, 0 left on the server" \
  "($(head -1 "$work/out.last"))"
echo "PASS clientpop3_kill"
