#!/usr/bin/env bash
# izypop3 method clientpop3 key pipelining against a scripted server (python3) that records,
# for every command after login, whether the next command had already arrived before it
# answered (the client sent ahead of the reply). With and without PIPELINING in CAPA:
#   on   pipelines either way, and says once that the server does not offer it;
#   auto pipelines only when offered; off never does.
# Each run backs up five messages into a localfs store with delete true; the stored octets
# are compared byte for byte and every message must have been deleted.
set -euo pipefail
bin=${1:?usage: clientpop3_pipelining.sh /path/to/izypop3}
work=$(mktemp -d)
spid=
trap '[ -n "$spid" ] && kill "$spid" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cat > "$work/server.py" <<'PY'
import select, socket, sys
offer, portfile = sys.argv[1] == "offer", sys.argv[2]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(1); s.settimeout(60)
open(portfile, "w").write(str(s.getsockname()[1]))
c, _ = s.accept(); c.settimeout(60)
msgs = [b"Subject: m%d\r\n\r\n%s\r\n.. a stuffed dot\r\n" % (i, b"x" * (100 * i)) for i in range(1, 6)]
wire = [m.replace(b"\r\n..", b"\r\n...") for m in msgs]  # dot-stuffed on the wire
buf, ahead, after_login, log = b"", 0, False, open(portfile + ".log", "wb")
def more(timeout):
    global buf
    if select.select([c], [], [], timeout)[0]:
        d = c.recv(65536)
        if not d: return False
        buf += d
    return True
def send(b): c.sendall(b)
send(b"+OK ready\r\n")
while True:
    while b"\r\n" not in buf:
        if not more(60): sys.exit(0)
    line, buf = buf.split(b"\r\n", 1)
    log.write(line + b"\n"); log.flush()
    # Anything the client sent that is not yet answered shows in the buffer or the socket.
    if after_login:
        more(0)
        if buf: ahead += 1
    cmd = line.split(b" "); verb = cmd[0].upper()
    if verb == b"CAPA":
        send(b"+OK\r\nUSER\r\nUIDL\r\nTOP\r\n" + (b"PIPELINING\r\n" if offer else b"") + b".\r\n")
    elif verb == b"USER":
        send(b"+OK\r\n")
    elif verb == b"PASS":
        send(b"+OK\r\n"); after_login = True
    elif verb == b"STAT":
        send(b"+OK %d %d\r\n" % (len(msgs), sum(len(m) for m in msgs)))
    elif verb == b"UIDL":
        send(b"+OK\r\n" + b"".join(b"%d u%d\r\n" % (i, i) for i in range(1, 6)) + b".\r\n")
    elif verb == b"LIST":
        send(b"+OK\r\n" + b"".join(b"%d %d\r\n" % (i, len(m)) for i, m in enumerate(msgs, 1)) + b".\r\n")
    elif verb == b"RETR":
        send(b"+OK\r\n" + wire[int(cmd[1]) - 1] + b".\r\n")
    elif verb == b"DELE":
        send(b"+OK deleted\r\n")
    elif verb == b"QUIT":
        send(b"+OK bye\r\n")
        open(portfile + ".ahead", "w").write(str(ahead))
        break
    else:
        send(b"-ERR unknown\r\n")
PY

run() {  # $1 = offer|nooffer, $2 = pipelining value; sets ahead, leaves $work/err
  local offer=$1 mode=$2 store=$work/store_$1_$2
  rm -f "$work/port" "$work/port.log" "$work/port.ahead"
  python3 "$work/server.py" "$offer" "$work/port" & spid=$!
  for _ in $(seq 1 100); do [ -s "$work/port" ] && break; sleep 0.1; done
  [ -s "$work/port" ] || fail "the scripted server did not start"
  local rc=0
  "$bin" method clientpop3 ip 127.0.0.1 port "$(cat "$work/port")" user u pass p auth user \
    starttls false cmd retr timeout 30 delete true pipelining "$mode" \
    mimestore.modhandler localfs mimestore.create true mimestore.path "$store" \
    > "$work/out" 2> "$work/err" || rc=$?
  wait "$spid" || true; spid=
  [ "$rc" -eq 0 ] || fail "$offer/$mode: exit $rc: $(cat "$work/err")"
  grep -q '^fetched 5, .*deleted 5, failed 0' "$work/out" || fail "$offer/$mode: $(cat "$work/out")"
  [ "$(grep -c '^DELE' "$work/port.log")" -eq 5 ] || fail "$offer/$mode: not every message deleted"
  for i in 1 2 3 4 5; do
    local want got
    want=$(python3 -c "import sys; sys.stdout.buffer.write(b'Subject: m$i\r\n\r\n' + b'x' * (100 * $i) + b'\r\n.. a stuffed dot\r\n')" | sha256sum)
    got=$(find "$store" -name "*u$i*.eml" -type f ! -path '*/pop3failed/*' -exec cat {} + | sha256sum)
    [ "$want" = "$got" ] || fail "$offer/$mode: message $i octets differ"
  done
  ahead=$(cat "$work/port.ahead")
  echo "ok $offer pipelining $mode: $ahead commands arrived before the reply to the one before"
}
said() { grep -c 'pipelining on: the server does not offer PIPELINING' "$work/err" || true; }

run nooffer on
[ "$ahead" -gt 0 ] || fail "pipelining on without PIPELINING in CAPA sent one command at a time"
[ "$(said)" -eq 1 ] || fail "pipelining on without PIPELINING: want the note once: $(cat "$work/err")"
run nooffer auto
[ "$ahead" -eq 0 ] || fail "pipelining auto sent ahead although the server does not offer PIPELINING"
[ "$(said)" -eq 0 ] || fail "pipelining auto: note printed: $(cat "$work/err")"
run offer auto
[ "$ahead" -gt 0 ] || fail "pipelining auto did not pipeline although the server offers PIPELINING"
run offer on
[ "$ahead" -gt 0 ] || fail "pipelining on did not pipeline"
[ "$(said)" -eq 0 ] || fail "pipelining on with PIPELINING offered: no note expected: $(cat "$work/err")"
run offer off
[ "$ahead" -eq 0 ] || fail "pipelining off sent ahead of a reply"
run nooffer off
[ "$ahead" -eq 0 ] || fail "pipelining off sent ahead of a reply"
echo "PASS clientpop3_pipelining"
