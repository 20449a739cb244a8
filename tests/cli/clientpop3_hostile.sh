#!/usr/bin/env bash
# izypop3 method clientpop3 against scripted hostile servers (issue 12, client items 1-6),
# each check over STARTTLS and over implicit TLS (certificates from a test CA; the client
# trusts it with tls.cafile):
#   1  no password in clear without consent: a server that strips STLS, or offers no TLS,
#      gets no credential (exit 3, one-line hint); allowplaintext true or starttls false
#      given on purpose send it; the greeting's APOP timestamp from before STLS is not used
#      after it; with starttls true a refused STLS or a reply injected before the handshake
#      stops the client before any credential (C01, C02)
#   2  a body larger than announced (300 KB where LIST said 100 octets, or without end):
#      (2 octets more, as qmail-pop3d sends, is fine)
#      nothing of it is stored, it is recorded as pop3failed with the reason, the client
#      reconnects and finishes the other messages, memory stays bounded; -ERR to RETR and a
#      connection lost mid-body are recorded the same way; the next run fetches the message
#      and the record is gone
#   3  inconsistent listings (more entries than STAT, a number or UID twice, a number out of
#      range, a UID of 71 octets or with a control octet, a size larger than the maildrop,
#      UIDL missing a message, STAT over maxmessages): exit 1, no RETR, no DELE
#   4  UIDs that are paths or differ only in case: files stay in the store directory, one
#      per UID, and the UIDs come back from querystore as they were
#   5  delete only what is verified: a store that cannot be queried fails the run before any
#      RETR or DELE; a UID the server reused for other octets is fetched before it is deleted
#   6  an address whose certificate name cannot be checked (IPv6 with %scope) is refused
#      before connecting (the STLS case runs on a socket in test_client_name_check.cpp)
# Each check prints "ok ..." or "FAIL ..."; all run, and the script exits 1 if one failed.
set -euo pipefail
bin=${1:?usage: clientpop3_hostile.sh /path/to/izypop3}
work=$(mktemp -d)
spid=
trap '[ -n "$spid" ] && kill "$spid" 2>/dev/null; rm -rf "$work"' EXIT
export IZYPOP3_LOCK_DIR=$work/locks
status=0
fails=0
ok() { echo "ok $*"; }
bad() { echo "FAIL $*"; status=1; fails=$((fails + 1)); }

python3 "$(dirname "$0")/../support/test_ca.py" "$work" || { echo "FAIL: cannot make the test certificates (python3 cryptography)"; exit 1; }

# The server: one connection after another until killed. Its maildrop is a JSON file
# [[uid, text], ...] that changes only when a QUIT is answered +OK (RFC 1939). Every line it
# receives goes to PORTFILE.log, each connection starting with "#conn". TLS: implicit wraps
# the socket at once, stls offers STLS, plain offers nothing.
cat > "$work/server.py" <<'PY'
import json, os, socket, ssl, sys
mode, tls, state, portfile, certdir = sys.argv[1:6]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(f"{certdir}/server.pem", f"{certdir}/server.key")
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(4); s.settimeout(60)
open(portfile + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(portfile + ".tmp", portfile)
log = open(portfile + ".log", "ab")

def size(text):  # the octets of the message: the text is as it goes on the wire (stuffed)
    return len(("\r\n" + text).replace("\r\n..", "\r\n.")) - 2

def listing(msgs):
    n = len(msgs)
    stat = b"+OK %d %d\r\n" % (n, sum(size(m[1]) for m in msgs))
    sizes = [(i, size(m[1])) for i, m in enumerate(msgs, 1)]
    uids = [(i, m[0].encode()) for i, m in enumerate(msgs, 1)]
    if mode == "bigbody" or mode == "endless": sizes[1] = (2, 100)
    if mode == "listmore": sizes.append((n + 1, 10))
    if mode == "dupnum": sizes[1] = (1, sizes[1][1])
    if mode == "range": sizes[2] = (7, sizes[2][1])
    if mode == "absurdsize": sizes[0] = (1, 10**15)
    if mode == "dupuid": uids[1] = (2, uids[0][1])
    if mode == "uid71": uids[1] = (2, b"u" * 71)
    if mode == "uidctrl": uids[1] = (2, b"u\x7f2")
    if mode == "uidlmissing": uids = uids[:-1]
    if mode == "statabsurd": stat = b"+OK 5000000 %d\r\n" % sum(size(m[1]) for m in msgs)
    lst = b"+OK\r\n" + b"".join(b"%d %d\r\n" % e for e in sizes) + b".\r\n"
    uidl = b"+OK\r\n" + b"".join(b"%d %s\r\n" % e for e in uids) + b".\r\n"
    return stat, lst, uidl

def serve(c):
    msgs = json.load(open(state))
    f = c.makefile("rwb")
    def send(b): f.write(b); f.flush()
    send(b"+OK ready <666.1@attacker.example>\r\n")
    marked, in_tls = set(), tls == "implicit"
    while True:
        line = f.readline()
        if not line: return
        log.write(line); log.flush()
        w = line.strip().split(b" ")
        v = w[0].upper()
        if v == b"CAPA":
            caps = b"USER\r\nUIDL\r\nPIPELINING\r\nSASL PLAIN\r\n"
            if tls == "stls" and not in_tls: caps += b"STLS\r\n"
            send(b"+OK\r\n" + caps + b".\r\n")
        elif v == b"STLS" and tls == "stls" and not in_tls:
            if mode == "stlsrefused":
                send(b"-ERR TLS not available\r\n"); continue
            if mode == "stlsinject":  # a reply smuggled in before the handshake (C01)
                send(b"+OK Begin TLS\r\n+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n")
            else:
                send(b"+OK Begin TLS\r\n")
            c = ctx.wrap_socket(c, server_side=True)
            f = c.makefile("rwb"); in_tls = True
        elif v in (b"USER", b"PASS", b"AUTH", b"APOP"):
            send(b"+OK\r\n")
        elif v == b"STAT":
            send(listing(msgs)[0])
        elif v == b"LIST":
            send(listing(msgs)[1])
        elif v == b"UIDL":
            send(listing(msgs)[2])
        elif v == b"RETR":
            n = int(w[1]); body = msgs[n - 1][1].encode()
            if n == 2 and mode == "bigbody":
                body = (b"X" * 998 + b"\r\n") * 300
            if n == 2 and mode == "endless":
                send(b"+OK\r\n")
                try:
                    while True: send(b"y" * 65536)
                except OSError:
                    return
            if n == 2 and mode == "retrerr":
                send(b"-ERR [SYS/TEMP] message 2 is locked\r\n"); continue
            if n == 2 and mode == "dropmid":
                send(b"+OK\r\n" + body[:10]); return
            if mode == "plus2":  # as qmail-pop3d does: a blank line more than LIST counts
                body += b"\r\n"
            send(b"+OK\r\n" + body + b".\r\n")
        elif v == b"DELE":
            marked.add(int(w[1])); send(b"+OK\r\n")
        elif v == b"QUIT":
            msgs = [m for i, m in enumerate(msgs, 1) if i not in marked]
            json.dump(msgs, open(state + ".tmp", "w")); os.replace(state + ".tmp", state)
            send(b"+OK bye\r\n"); return
        else:
            send(b"-ERR\r\n")

while True:
    c, _ = s.accept(); c.settimeout(30)
    log.write(b"#conn\n"); log.flush()
    try:
        if tls == "implicit": c = ctx.wrap_socket(c, server_side=True)
        serve(c)
    except (OSError, ssl.SSLError):
        pass
    try: c.close()
    except OSError: pass
PY

three='[["u1","Subject: one\r\n\r\nbody one\r\n"],["u2","Subject: two\r\n\r\n..dot-stuffed\r\nbody two\r\n"],["u3","Subject: three\r\n\r\nbody three\r\n"]]'

# serve MODE TLS: starts the server on a fresh port with $work/state.json; sets port.
serve() {
  [ -n "$spid" ] && { kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; }
  rm -f "$work/port" "$work/port.log"
  python3 "$work/server.py" "$1" "$2" "$work/state.json" "$work/port" "$work" & spid=$!
  for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
  [ -s "$work/port" ] || { echo "FAIL: the scripted server did not start"; exit 1; }
  port=$(cat "$work/port")
}
# client TLS [keys...]: clientpop3 against the server; rc, $work/out, $work/err.
client() {
  local how=$1; shift
  local t=()
  case $how in
    implicit) t=(tls true tls.cafile "$work/ca.pem") ;;
    stls) t=(starttls true tls.cafile "$work/ca.pem") ;;
  esac
  rc=0
  /usr/bin/time -f '%M' -o "$work/rss" "$bin" method clientpop3 ip localhost port "$port" \
    user u pass secret-pw "${t[@]}" timeout 20 "$@" > "$work/out" 2> "$work/err" || rc=$?
}
kind=localfs
store_keys() { echo mimestore.modhandler "$kind" mimestore.create true mimestore.path "$1"; }
backup() { local dir=$1; shift; client "$how" cmd retr $(store_keys "$dir") "$@"; }
# stored_texts DIR: the message files' octets, sorted, one per line (CRLF shown as |).
stored_texts() {
  python3 - "$1" <<'PY'
import os, sys
out = []
for root, dirs, files in os.walk(sys.argv[1]):
    dirs[:] = [d for d in dirs if not d.startswith(".izypop3")]
    for f in files:
        if f.endswith(".eml") and not root.endswith("pop3failed"):
            out.append(open(os.path.join(root, f), "rb").read().decode("latin-1").replace("\r\n", "|"))
print("\n".join(sorted(out)))
PY
}
query_tag() {  # DIR TAG: "guid size" of the items with that tag
  "$bin" method querystore $(store_keys "$1") query.tags "$2" query.limit 100 format json |
    python3 -c 'import json,sys; print(" ".join(sorted(i["guid"] for i in json.load(sys.stdin)["items"])))'
}
left() { python3 -c 'import json,sys; print(" ".join(m[0] for m in json.load(open(sys.argv[1]))))' "$work/state.json"; }
log_has() { grep -qE "$1" "$work/port.log"; }
summary() { head -c 400 "$work/err" | tr '\r\n' '  '; }

for how in stls implicit; do
  # ---------------- item 1: credentials only with TLS or consent
  echo "$three" > "$work/state.json"
  if [ "$how" = stls ]; then
    # A server that lists STLS and then refuses it (stripping), starttls auto: no password.
    serve stlsrefused stls
    client plain cmd stat auth plain
    if [ "$rc" -eq 3 ] && ! log_has '^(AUTH|USER|PASS|APOP)' && grep -q 'allowplaintext true' "$work/err" &&
       [ "$(wc -l < "$work/err")" -eq 1 ]; then
      ok "1 $how stripped STLS, auth plain: exit 3 before any credential: $(summary)"
    else
      bad "1 $how stripped STLS: exit $rc, server saw: $(grep -v '^#' "$work/port.log" | tr '\r\n' ' '); $(summary)"
    fi
    # starttls true and the same server: no credential either (C02).
    serve stlsrefused stls
    client stls cmd stat auth plain
    [ "$rc" -eq 3 ] && ! log_has '^(AUTH|USER|PASS|APOP)' ||
      bad "1 $how starttls true, STLS refused: exit $rc, server saw: $(grep -v '^#' "$work/port.log" | tr '\r\n' ' ')"
    # Lines smuggled in after +OK to STLS and before the handshake: the client stops (C01).
    serve stlsinject stls
    client stls cmd stat
    if [ "$rc" -eq 3 ] && ! log_has '^(AUTH|USER|PASS|APOP)' && grep -q 'before TLS started' "$work/err"; then
      ok "1 $how STLS refused with starttls true, and a reply injected before the handshake: exit 3, no credential"
    else
      bad "1 $how STLS injection: exit $rc, server saw: $(grep -v '^#' "$work/port.log" | tr '\r\n' ' '); $(summary)"
    fi
    # The greeting's APOP timestamp came before TLS: after STLS it is forgotten.
    serve normal stls
    client stls cmd stat
    if [ "$rc" -eq 0 ] && ! log_has '^APOP' && log_has '^AUTH PLAIN'; then
      ok "1 $how the APOP timestamp from before STLS is not used after it"
    else
      bad "1 $how APOP after STLS: exit $rc, server saw: $(grep -v '^#' "$work/port.log" | tr '\r\n' ' ')"
    fi
  else
    serve normal implicit
    client implicit cmd stat auth plain
    if [ "$rc" -eq 0 ] && log_has '^AUTH PLAIN' && grep -q '^3 messages' "$work/out"; then
      ok "1 $how auth plain inside TLS logs in"
    else
      bad "1 $how auth plain over TLS: exit $rc $(summary)"
    fi
  fi
  # No TLS at all (also on loopback): every mechanism that reveals the password is refused
  # unless the user consented.
  before=$fails
  serve normal plain
  for auth in user plain login xoauth2 oauthbearer; do
    client plain cmd stat auth "$auth"
    if [ "$rc" -eq 3 ] && ! log_has '^(AUTH|USER|PASS|APOP)'; then :; else
      bad "1 $how plain server, auth $auth: exit $rc, server saw: $(grep -v '^#' "$work/port.log" | tr '\r\n' ' ')"; fi
    serve normal plain
  done
  client plain cmd stat
  [ "$rc" -eq 3 ] && ! log_has '^(AUTH|USER|PASS)' || bad "1 $how plain server, auth auto: exit $rc $(summary)"
  client plain cmd stat auth plain allowplaintext true
  [ "$rc" -eq 0 ] && log_has '^AUTH PLAIN' || bad "1 $how allowplaintext true: exit $rc $(summary)"
  serve normal plain
  client plain cmd stat auth user starttls false
  [ "$rc" -eq 0 ] && log_has '^PASS secret-pw' || bad "1 $how starttls false given: exit $rc $(summary)"
  serve normal plain
  client plain cmd stat auth user tls false
  [ "$rc" -eq 0 ] && log_has '^PASS secret-pw' || bad "1 $how tls false given: exit $rc $(summary)"
  [ "$fails" = "$before" ] &&
    ok "1 $how no TLS: user/plain/login/xoauth2/oauthbearer/auto refused (exit 3); allowplaintext true, starttls false, tls false send"

  # ---------------- item 2: a body larger than announced, and other failed fetches
  # The memory a failed fetch may cost is measured against a run that fetches the same
  # three messages from a server that behaves: a sanitizer build's baseline alone is over
  # 100 MB, so only the difference says whether a body past its cap was held.
  echo "$three" > "$work/state.json"
  serve normal "$how"
  backup "$work/st2_${how}_baseline"
  base_rss=$(tail -1 "$work/rss" || true)
  [ "$rc" -eq 0 ] || bad "2 $how baseline backup: exit $rc $(summary)"
  for mode in bigbody endless retrerr dropmid; do
    echo "$three" > "$work/state.json"
    serve "$mode" "$how"
    dir=$work/st2_${how}_$mode
    backup "$dir" delete true
    want_left="u2"
    stored=$(stored_texts "$dir" || true)
    failed=$(query_tag "$dir" pop3failed || true)
    rss=$(tail -1 "$work/rss" || true)
    conns=$(grep -c '^#conn' "$work/port.log" || true)
    if [ "$rc" -eq 1 ] && [ "$stored" = "$(printf 'Subject: one||body one|\nSubject: three||body three|')" ] &&
       [ "$failed" = "u2" ] && [ "$(left)" = "$want_left" ] && [ "$rss" -lt $((base_rss + 32768)) ] &&
       ! grep -q 'XXXX\|yyyy' <<< "$stored" && [ -z "$(find "$dir/.izypop3/tmp" -type f)" ]; then
      ok "2 $how $mode: u2 recorded pop3failed, u1 u3 stored and deleted ($conns connections, max RSS ${rss} KB, ${base_rss} KB without the fault): $(summary)"
    else
      bad "2 $how $mode: exit $rc, stored [$stored], pop3failed [$failed], left on server [$(left)], RSS $rss KB (at most $base_rss + 32768), $conns connections: $(summary)"
    fi
    # The next run against a server that behaves fetches u2; the record is gone.
    serve normal "$how"
    backup "$dir" query new delete true
    if [ "$rc" -eq 0 ] && [ -z "$(query_tag "$dir" pop3failed)" ] && [ -z "$(left)" ] &&
       [ "$(stored_texts "$dir" | grep -c 'Subject: two')" -eq 1 ] && grep -q '^fetched 1,' "$work/out"; then
      [ "$mode" = bigbody ] && ok "2 $how the next run fetches u2 and the pop3failed record is replaced"
    else
      bad "2 $how after $mode: the next run: exit $rc, pop3failed [$(query_tag "$dir" pop3failed)], left [$(left)] $(cat "$work/out") $(summary)"
    fi
  done

  # A server that sends 2 octets more than LIST says (qmail-pop3d) is believed (C10).
  echo "$three" > "$work/state.json"
  serve plus2 "$how"
  backup "$work/st2_${how}_plus2" delete true
  if [ "$rc" -eq 0 ] && [ -z "$(left)" ] && [ "$(stored_texts "$work/st2_${how}_plus2" | wc -l)" -eq 3 ]; then
    ok "2 $how a body 2 octets longer than LIST says is stored and deleted"
  else
    bad "2 $how plus2: exit $rc, left [$(left)] $(summary)"
  fi

  # ---------------- item 3: listings that contradict themselves or STAT
  before=$fails
  for mode in listmore dupnum dupuid range uid71 uidctrl absurdsize uidlmissing statabsurd; do
    echo "$three" > "$work/state.json"
    serve "$mode" "$how"
    backup "$work/st3_${how}_$mode" delete true
    if [ "$rc" -eq 1 ] && ! log_has '^(RETR|DELE)' && [ -z "$(stored_texts "$work/st3_${how}_$mode")" ] &&
       [ "$(left)" = "u1 u2 u3" ]; then :; else
      bad "3 $how $mode: exit $rc, server saw: $(grep -E '^(RETR|DELE)' "$work/port.log" | tr '\r\n' ' '); $(summary)"
    fi
  done
  echo "$three" > "$work/state.json"
  serve normal "$how"
  backup "$work/st3_${how}_max" delete true maxmessages 2
  [ "$rc" -eq 1 ] && ! log_has '^(RETR|DELE)' && grep -q 'maxmessages' "$work/err" ||
    bad "3 $how maxmessages 2 with 3 messages: exit $rc $(summary)"
  [ "$fails" = "$before" ] &&
    ok "3 $how inconsistent listings and STAT over maxmessages: exit 1, no RETR, no DELE"

  # ---------------- item 4: UIDs that are paths or differ only in case
  echo '[["../../escape","Subject: a\r\n\r\na\r\n"],["ABC","Subject: b\r\n\r\nb\r\n"],["abc","Subject: c\r\n\r\nc\r\n"],[".hidden","Subject: d\r\n\r\nd\r\n"],["a/b","Subject: e\r\n\r\ne\r\n"]]' > "$work/state.json"
  for kind in localfs maildir; do
    serve normal "$how"
    dir=$work/st4_${how}_$kind/inner
    mkdir -p "$dir"
    backup "$dir"
    files=$(cd "$work/st4_${how}_$kind" && find . -type f ! -path '*/.izypop3*' ! -name '.izypop3*' | sort || true)
    folded=$(tr 'A-Z' 'a-z' <<< "$files" | sort -u | wc -l || true)
    guids=$(query_tag "$dir" unread || true)
    if [ "$rc" -eq 0 ] && [ "$(wc -l <<< "$files")" -eq 5 ] && [ "$folded" -eq 5 ] &&
       ! grep -qv '^\./inner/' <<< "$files" && [ "$guids" = "../../escape .hidden ABC a/b abc" ]; then
      ok "4 $how $kind: 5 files inside the store, distinct after case folding, UIDs kept: $(tr '\n' ' ' <<< "$files")"
    else
      bad "4 $how $kind: exit $rc, files: $(tr '\n' ' ' <<< "$files"), guids [$guids] $(summary)"
    fi
  done
  kind=localfs

  # ---------------- item 5: delete only what is verified
  echo "$three" > "$work/state.json"
  serve normal "$how"
  dir=$work/st5_${how}_noquery
  mkdir -p "$dir/.izypop3/meta.log"   # a directory where the log should be: queries fail
  backup "$dir" query new delete true
  if [ "$rc" -ne 0 ] && ! log_has '^(RETR|DELE)' && [ "$(left)" = "u1 u2 u3" ]; then
    ok "5 $how a store that cannot be queried: exit $rc, no RETR, no DELE: $(summary)"
  else
    bad "5 $how failing store query: exit $rc, server saw: $(grep -E '^(RETR|DELE)' "$work/port.log" | tr '\r\n' ' '); $(summary)"
  fi
  dir=$work/st5_${how}_reuse
  backup "$dir"                        # u1 u2 u3 stored, nothing deleted
  echo '[["u1","Subject: other\r\n\r\nthe server gave u1 to another message\r\n"],["u2","Subject: two\r\n\r\n..dot-stuffed\r\nbody two\r\n"],["u3","Subject: three\r\n\r\nbody three\r\n"]]' > "$work/state.json"
  serve normal "$how"
  backup "$dir" query new delete true
  first_retr=$(grep -nE '^RETR 1' "$work/port.log" | head -1 | cut -d: -f1 || true)
  first_dele=$(grep -nE '^DELE 1' "$work/port.log" | head -1 | cut -d: -f1 || true)
  if [ "$rc" -eq 0 ] && [ -n "$first_retr" ] && [ -n "$first_dele" ] && [ "$first_retr" -lt "$first_dele" ] &&
     grep -q 'the server gave u1 to another message' <<< "$(stored_texts "$dir")" && [ -z "$(left)" ] &&
     [ "$(grep -c '^RETR' "$work/port.log")" -eq 1 ]; then
    ok "5 $how a UID stored with another size is fetched (and kept) before its DELE; u2 u3 deleted unfetched"
  else
    bad "5 $how reused UID: exit $rc, server saw: $(grep -E '^(RETR|DELE)' "$work/port.log" | tr '\r\n' ' '); left [$(left)]; $(summary)"
  fi
done

# ---------------- item 6: a name that cannot be checked against the certificate
rc=0
"$bin" method clientpop3 ip 'fe80::1%lo' port 995 tls true tls.cafile "$work/ca.pem" user u \
  pass p cmd stat timeout 5 > "$work/out" 2> "$work/err" || rc=$?
if [ "$rc" -eq 3 ] && grep -q '%scope' "$work/err" && grep -q 'tls.fingerprint' "$work/err"; then
  ok "6 implicit: ip fe80::1%lo with tls true is refused before connecting: $(summary)"
else
  bad "6 implicit: scoped address: exit $rc $(summary)"
fi
rc=0
"$bin" method clientpop3 ip 'fe80::1%lo' port 995 tls true tls.fingerprint "$(printf '%064d' 0)" \
  user u pass p cmd stat timeout 5 > "$work/out" 2> "$work/err" || rc=$?
if [ "$rc" -eq 3 ] && ! grep -q '%scope' "$work/err"; then
  ok "6 with tls.fingerprint the scoped address is tried (and here not reachable): $(summary)"
else
  bad "6 scoped address with a pin: exit $rc $(summary)"
fi
exit "$status"
