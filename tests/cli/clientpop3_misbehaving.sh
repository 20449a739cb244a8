#!/usr/bin/env bash
# izypop3 method clientpop3 against scripted misbehaving servers (python3): a body without
# its terminator followed by close, an endless status line, and -ERR in the middle of a
# pipeline, -ERR [AUTH] at login (exit 4, shown verbatim with a hint), and Ctrl-C with a
# message in flight (it is discarded, nothing unstored is deleted, no QUIT). The client must
# fail with the documented exit code, keep memory bounded, store only complete messages
# (checked in a localfs store, byte for byte) and record a message it could not fetch as
# pop3failed. The server takes one connection, so the reconnect after a body cut short fails.
# Hostile servers over TLS are in clientpop3_hostile.sh.
set -euo pipefail
bin=${1:?usage: clientpop3_misbehaving.sh /path/to/izypop3}
work=$(mktemp -d)
spid=
trap '[ -n "$spid" ] && kill "$spid" 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cat > "$work/server.py" <<'PY'
import socket, sys
mode, portfile = sys.argv[1], sys.argv[2]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(1); s.settimeout(120)
open(portfile, "w").write(str(s.getsockname()[1]))
c, _ = s.accept(); c.settimeout(120)
f = c.makefile("rwb")
msgs = [b"Subject: one\r\n\r\nbody one\r\n", b"Subject: two\r\n\r\nbody two\r\n",
        b"Subject: three\r\n\r\nbody three\r\n"]
def send(b): f.write(b); f.flush()
if mode == "endless":
    try:
        send(b"+OK ")
        while True: send(b"a" * 65536)
    except OSError:
        sys.exit(0)
send(b"+OK ready\r\n")
log = open(portfile + ".log", "ab")
for line in f:
    log.write(line); log.flush()
    cmd = line.strip().split(b" ")
    verb = cmd[0].upper()
    if verb == b"CAPA":
        send(b"+OK\r\nUSER\r\nUIDL\r\nPIPELINING\r\n.\r\n")
    elif verb == b"PASS" and mode == "authfail":
        send(b"-ERR [AUTH] Invalid credentials or IMAP/POP disabled\r\n")
    elif verb in (b"USER", b"PASS"):
        send(b"+OK\r\n")
    elif verb == b"STAT":
        send(b"+OK %d %d\r\n" % (len(msgs), sum(len(m) for m in msgs)))
    elif verb == b"UIDL":
        send(b"+OK\r\n" + b"".join(b"%d u%d\r\n" % (i, i) for i in range(1, 4)) + b".\r\n")
    elif verb == b"LIST":
        send(b"+OK\r\n" + b"".join(b"%d %d\r\n" % (i, len(m)) for i, m in enumerate(msgs, 1)) + b".\r\n")
    elif verb == b"RETR":
        n = int(cmd[1])
        if mode == "errmid" and n == 2:
            send(b"-ERR [SYS/TEMP] message 2 is locked\r\n")
        elif mode == "stall" and n == 2:
            send(b"+OK\r\n" + msgs[1][:10])
            c.settimeout(None)
            for rest in f:  # wait for the client to go away
                log.write(rest); log.flush()
            sys.exit(0)
        elif mode == "noterm" and n == 2:
            send(b"+OK\r\n" + msgs[1]); c.shutdown(socket.SHUT_RDWR); sys.exit(0)
        else:
            send(b"+OK\r\n" + msgs[n - 1] + b".\r\n")
    elif verb == b"QUIT":
        send(b"+OK bye\r\n"); break
    else:
        send(b"-ERR unknown\r\n")
PY

run() {  # $1 = mode [extra keys]; sets rc, leaves output in $work/out, $work/err
  local mode=$1; shift
  rm -f "$work/port" "$work/port.log"
  python3 "$work/server.py" "$mode" "$work/port" & spid=$!
  for _ in $(seq 1 100); do [ -s "$work/port" ] && break; sleep 0.1; done
  [ -s "$work/port" ] || fail "the scripted server did not start"
  rc=0
  "$bin" method clientpop3 ip 127.0.0.1 port "$(cat "$work/port")" user u pass p auth user \
    starttls false cmd retr timeout 30 mimestore.modhandler localfs mimestore.create true \
    mimestore.path "$work/store_$mode" "$@" > "$work/out" 2> "$work/err" &
  local cpid=$!
  if [ "$mode" = stall ]; then  # Ctrl-C once message 2 is in flight
    for _ in $(seq 1 300); do grep -q 'RETR 2' "$work/port.log" 2>/dev/null && break; sleep 0.1; done
    sleep 0.5
    kill -INT "$cpid"
  fi
  wait "$cpid" || rc=$?
  wait "$spid" 2>/dev/null || true; spid=
}
stored() { find "$1" -name '*.eml' -type f ! -path '*/pop3failed/*' -exec cat {} + 2>/dev/null; }
messages() { find "$1" -name '*.eml' -type f ! -path '*/pop3failed/*' | wc -l; }
records() { find "$1/pop3failed" -name '*.eml' -type f 2>/dev/null | wc -l; }

run errmid
[ "$rc" -eq 1 ] || fail "-ERR mid-pipeline: exit $rc, want 1: $(cat "$work/err")"
grep -q '^fetched 2, .* failed 1' "$work/out" || fail "-ERR mid-pipeline summary: $(cat "$work/out")"
grep -q 'message 2 is locked' "$work/err" || fail "the server's -ERR text was not shown: $(cat "$work/err")"
[ "$(messages "$work/store_errmid")" -eq 2 ] || fail "-ERR mid-pipeline: want 2 stored"
[ "$(records "$work/store_errmid")" -eq 1 ] || fail "-ERR mid-pipeline: want message 2 recorded as pop3failed"
[ "$(cat "$work/store_errmid"/*u1*.eml)" = "$(printf 'Subject: one\r\n\r\nbody one\r')" ] || fail "message 1 octets differ"
echo "ok errmid: $(head -c 300 "$work/err" | tr "\r\n" "  ")"

run noterm
[ "$rc" -eq 1 ] || fail "no terminator: exit $rc, want 1: $(cat "$work/err")"
[ "$(messages "$work/store_noterm")" -eq 1 ] || fail "no terminator: only message 1 may be stored"
[ "$(records "$work/store_noterm")" -eq 1 ] || fail "no terminator: want message 2 recorded as pop3failed"
! stored "$work/store_noterm" | grep -q 'body two' || fail "the incomplete message was stored"
echo "ok noterm: $(head -c 300 "$work/err" | tr "\r\n" "  ")"

run authfail
[ "$rc" -eq 4 ] || fail "-ERR [AUTH]: exit $rc, want 4: $(cat "$work/err")"
grep -qF -- '-ERR [AUTH] Invalid credentials or IMAP/POP disabled' "$work/err" || fail "-ERR [AUTH] not shown verbatim: $(cat "$work/err")"
grep -q 'hint:' "$work/err" || fail "no hint after -ERR [AUTH]: $(cat "$work/err")"
echo "ok authfail: $(head -c 300 "$work/err" | tr "\r\n" "  ")"

run stall delete true
[ "$rc" -eq 1 ] || fail "Ctrl-C: exit $rc, want 1: $(cat "$work/err")"
grep -q 'interrupted' "$work/err" || fail "Ctrl-C not reported: $(cat "$work/err")"
[ "$(messages "$work/store_stall")" -eq 1 ] || fail "Ctrl-C: want only message 1 stored"
[ "$(records "$work/store_stall")" -eq 0 ] || fail "Ctrl-C: an interrupted message is not a failed one"
! grep -qE '^(DELE [23]|QUIT)' "$work/port.log" || fail "Ctrl-C sent DELE for an unstored message or QUIT: $(cat "$work/port.log")"
echo "ok ctrl-c: $(head -c 300 "$work/err" | tr "\r\n" "  ")"

run endless
[ "$rc" -eq 3 ] || fail "endless line: exit $rc, want 3: $(cat "$work/err")"
echo "ok endless: $(head -c 300 "$work/err" | tr "\r\n" "  ")"
