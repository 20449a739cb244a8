#!/usr/bin/env bash
# izypop3 method clientpop3 against scripted servers that behave like real providers
# (issue 18), each over STARTTLS and over implicit TLS (certificates from a test CA):
#   5  temporary refusals at login ([IN-USE], [LOGIN-DELAY], [SYS/TEMP]) exit 5 with the
#      server's text and a hint that fits; [AUTH] and a plain -ERR exit 4 with the text
#   6  EXPIRE 0 (or n days) while delete is false: one warning; EXPIRE NEVER: none
#   1  Exchange Online's XOAUTH2: the one-line form refused ("-ERR Protocol error ...", or
#      the connection closed): oauth2.twostep auto tries the two-step form once on a new
#      connection and says so; true sends it at once; false exits 4 with the server's text
#   4  auth auto: a failing mechanism (CRAM-MD5 refused, APOP refused and the connection
#      closed, as secureserver.net does) gives way to the next one offered, each on a new
#      connection; all failing exits 4 with the last server text; a refusal with [AUTH]
#      (the credentials are wrong) is final; without TLS no cleartext mechanism is tried;
#      a named mechanism is never replaced
#   2  no UIDL (not in CAPA, or -ERR to it): ids from a fingerprint of the header section
#      (TOP n 0), said once; two messages with one Message-ID and two with one header
#      section are all kept; a second run with query new fetches only the new message, and
#      query all stores nothing twice
#   3  LIST and UIDL with runs of blanks and trailing blanks: backed up, and a later clean
#      listing fetches nothing again
# Each check prints "ok ..." or "FAIL ..."; all run, and the script exits 1 if one failed.
set -euo pipefail
bin=${1:?usage: clientpop3_providers.sh /path/to/izypop3}
work=$(mktemp -d)
spid=
trap '[ -n "$spid" ] && kill "$spid" 2>/dev/null; rm -rf "$work"' EXIT
export IZYPOP3_LOCK_DIR=$work/locks
status=0
ok() { echo "ok $*"; }
bad() { echo "FAIL $*"; status=1; }

python3 "$(dirname "$0")/../support/test_ca.py" "$work" || { echo "FAIL: cannot make the test certificates (python3 cryptography)"; exit 1; }

# The server: one connection after another until killed. MODE says how it behaves (see the
# checks below). The maildrop is a JSON file [[uid, text], ...] changed only by a QUIT
# answered +OK. Every line it receives goes to PORTFILE.log, each connection starting with
# "#conn". TLS: implicit wraps the socket at once, stls offers STLS.
cat > "$work/server.py" <<'PY'
import base64, json, os, socket, ssl, sys
mode, tls, state, portfile, certdir = sys.argv[1:6]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(f"{certdir}/server.pem", f"{certdir}/server.key")
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(4); s.settimeout(60)
open(portfile + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(portfile + ".tmp", portfile)
log = open(portfile + ".log", "ab")
refusals = {
    "inuse": b"-ERR [IN-USE] Mailbox locked by another POP3 session\r\n",
    "logindelay": b"-ERR [LOGIN-DELAY] Wait 900 seconds between logins\r\n",
    "systemp": b"-ERR [SYS/TEMP] Mail store temporarily unavailable\r\n",
    "authcode": b"-ERR [AUTH] Web login required: https://support.google.com/mail/answer/78754\r\n",
    "plainerr": b"-ERR Logon failure: unknown user name or bad password.\r\n",
}
extra_caps = {
    "logindelay": b"LOGIN-DELAY 900\r\n",
    "expire0": b"EXPIRE 0\r\n",
    "expire30": b"EXPIRE 30 USER\r\n",
    "expirenever": b"EXPIRE NEVER\r\n",
}

extra_caps.update({m: b"SASL PLAIN XOAUTH2\r\n" for m in ("outlook", "outlookclose", "gmail")})
extra_caps.update({m: b"SASL CRAM-MD5 PLAIN\r\n" for m in ("mechfail", "allfail", "authfinal")})
token = b"user=u\x01auth=Bearer secret-pw\x01\x01"
class Closed(Exception): pass

def login(v, w, f, send):  # True: logged in; False: refused; raises Closed to hang up
    if v == b"AUTH" and w[1].upper() == b"XOAUTH2":
        if len(w) > 2:  # the one-line form
            if mode == "outlook":
                send(b"-ERR Protocol error. Connection is closed. 10\r\n"); raise Closed()
            if mode == "outlookclose": raise Closed()
            return base64.b64decode(w[2]) == token
        send(b"+ \r\n")
        line = f.readline(); log.write(line); log.flush()
        return base64.b64decode(line.strip()) == token
    if v == b"AUTH" and w[1].upper() == b"CRAM-MD5":
        send(b"+ " + base64.b64encode(b"<1.2@example.net>") + b"\r\n")
        line = f.readline(); log.write(line); log.flush()
        if mode == "authfinal": send(b"-ERR [AUTH] Invalid login\r\n"); return None
        send(b"-ERR CRAM-MD5 authentication failed\r\n"); return None
    if v == b"APOP" and mode in ("mechfail", "allfail"):
        send(b"-ERR authorization failed\r\n"); raise Closed()
    if v == b"AUTH" and mode == "allfail":
        send(b"-ERR PLAIN authentication failed\r\n"); return None
    if v == b"PASS" and mode == "allfail":
        send(b"-ERR USER/PASS refused, the last one\r\n"); return None
    return True

def serve(c):
    msgs = json.load(open(state))
    f = c.makefile("rwb")
    def send(b): f.write(b); f.flush()
    send(b"+OK POP3 server ready <27156.1637766361@p3plibpop05.prod.phx3.secureserver.net>\r\n")
    marked, in_tls = set(), tls == "implicit"
    while True:
        line = f.readline()
        if not line: return
        log.write(line); log.flush()
        w = line.strip().split(b" ")
        v = w[0].upper()
        if v == b"CAPA":
            caps = b"USER\r\nUIDL\r\nTOP\r\nSASL PLAIN\r\n" + extra_caps.get(mode, b"")
            if mode == "nouidl": caps = caps.replace(b"UIDL\r\n", b"")
            if tls == "stls" and not in_tls: caps += b"STLS\r\n"
            send(b"+OK\r\n" + caps + b".\r\n")
        elif v == b"STLS" and tls == "stls" and not in_tls:
            send(b"+OK Begin TLS\r\n")
            c = ctx.wrap_socket(c, server_side=True)
            f = c.makefile("rwb"); in_tls = True
        elif v in (b"PASS", b"AUTH") and mode in refusals:
            send(refusals[mode])
        elif v in (b"AUTH", b"APOP", b"PASS"):
            ok = login(v, w, f, send)
            if ok: send(b"+OK logged in\r\n")
            elif ok is False: send(b"-ERR [AUTH] wrong token\r\n")
        elif v in (b"USER", b"PASS", b"AUTH"):
            send(b"+OK\r\n")
        elif v == b"STAT":
            send(b"+OK %d %d\r\n" % (len(msgs), sum(len(m[1]) for m in msgs)))
        elif v == b"LIST":
            send(b"+OK\r\n" + b"".join(b"%d %d\r\n" % (i, len(m[1])) for i, m in enumerate(msgs, 1)) + b".\r\n")
        elif v == b"UIDL" and mode in ("nouidl", "uidlerr", "notop"):
            send(b"-ERR command not implemented\r\n")
        elif v == b"UIDL" and mode == "sloppy":
            send(b"+OK\r\n" + b"".join(b"%d \t %s  \t\r\n" % (i, m[0].encode()) for i, m in enumerate(msgs, 1)) + b".\r\n")
        elif v == b"LIST" and mode == "sloppy":
            send(b"+OK\r\n" + b"".join(b"%d   %d \r\n" % (i, len(m[1])) for i, m in enumerate(msgs, 1)) + b".\r\n")
        elif v == b"TOP" and mode == "notop":
            send(b"-ERR TOP not supported\r\n")
        elif v == b"TOP":
            text = msgs[int(w[1]) - 1][1].encode()
            send(b"+OK\r\n" + text.split(b"\r\n\r\n")[0] + b"\r\n\r\n.\r\n")
        elif v == b"UIDL":
            send(b"+OK\r\n" + b"".join(b"%d %s\r\n" % (i, m[0].encode()) for i, m in enumerate(msgs, 1)) + b".\r\n")
        elif v == b"RETR":
            send(b"+OK\r\n" + msgs[int(w[1]) - 1][1].encode() + b".\r\n")
        elif v == b"DELE":
            marked.add(int(w[1])); send(b"+OK\r\n")
        elif v == b"QUIT":
            msgs = [m for i, m in enumerate(msgs, 1) if i not in marked]
            json.dump(msgs, open(state + ".tmp", "w")); os.replace(state + ".tmp", state)
            send(b"+OK bye\r\n"); return
        else:
            send(b"-ERR unknown command\r\n")

while True:
    c, _ = s.accept(); c.settimeout(30)
    log.write(b"#conn\n"); log.flush()
    try:
        if tls == "implicit": c = ctx.wrap_socket(c, server_side=True)
        serve(c)
    except (OSError, ssl.SSLError, Closed):
        pass
    try: c.close()
    except OSError: pass
PY

two='[["u1","Subject: one\r\n\r\nbody one\r\n"],["u2","Subject: two\r\n\r\nbody two\r\n"]]'

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
  local t=(tls true tls.cafile "$work/ca.pem")
  [ "$how" = stls ] && t=(starttls true tls.cafile "$work/ca.pem")
  [ "$how" = plain ] && t=()
  rc=0
  "$bin" method clientpop3 ip localhost port "$port" user u pass secret-pw "${t[@]}" \
    timeout 20 "$@" > "$work/out" 2> "$work/err" || rc=$?
}
backup() {
  local dir=$1; shift
  client "$how" cmd retr mimestore.modhandler localfs mimestore.create true mimestore.path "$dir" "$@"
}
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
summary() { head -c 900 "$work/err" | tr '\r\n' '  '; }
conns() { grep -c '^#conn' "$work/port.log" || true; }
logins() { grep -E '^(AUTH|APOP|USER|PASS)' "$work/port.log" | cut -c1-14 | tr '\r\n' '  ' || true; }
# Two messages share a Message-ID, two share the whole header section (a resent copy).
same_id='[["x1","Message-ID: <same@x>\r\nSubject: one\r\n\r\nbody one\r\n"],["x2","Message-ID: <same@x>\r\nSubject: two\r\n\r\nbody two\r\n"],["x3","Message-ID: <same@x>\r\nSubject: one\r\n\r\nbody one again\r\n"],["x4","Subject: no id\r\n\r\nbody\r\n"]]'
same_id_stored=$(printf '%s\n' 'Message-ID: <same@x>|Subject: one||body one again|' 'Message-ID: <same@x>|Subject: one||body one|' 'Message-ID: <same@x>|Subject: two||body two|' 'Subject: no id||body|' | LC_ALL=C sort)
two_stored='Subject: one||body one|
Subject: two||body two|'

for how in stls implicit; do
  # ---------------- item 5: temporary refusals are not wrong passwords
  for mode in inuse logindelay systemp; do
    echo "$two" > "$work/state.json"
    for auth in user plain; do
      serve "$mode" "$how"
      backup "$work/st5_${how}_${mode}_$auth" auth "$auth"
      case $mode in
        inuse) text='-ERR [IN-USE] Mailbox locked by another POP3 session'; hint='another client .* holds this mailbox' ;;
        logindelay) text='-ERR [LOGIN-DELAY] Wait 900 seconds between logins'; hint='one login every 900 seconds' ;;
        systemp) text='-ERR [SYS/TEMP] Mail store temporarily unavailable'; hint='temporary problem; your password was not rejected' ;;
      esac
      if [ "$rc" -eq 5 ] && grep -qF -- "izypop3: the server refused the login for now: $text" "$work/err" &&
         grep -qE "^izypop3: hint: .*$hint" "$work/err" && ! grep -q 'check user' "$work/err" &&
         [ "$(wc -l < "$work/err")" -eq 2 ]; then
        ok "5 $how $mode auth $auth: exit 5: $(summary)"
      else
        bad "5 $how $mode auth $auth: exit $rc, want 5: $(summary)"
      fi
    done
  done
  for mode in authcode plainerr; do
    echo "$two" > "$work/state.json"
    serve "$mode" "$how"
    backup "$work/st5_${how}_$mode" auth user
    case $mode in
      authcode) text='-ERR [AUTH] Web login required: https://support.google.com/mail/answer/78754' ;;
      plainerr) text='-ERR Logon failure: unknown user name or bad password.' ;;
    esac
    if [ "$rc" -eq 4 ] && grep -qF -- "izypop3: login failed: $text" "$work/err" && grep -q 'hint:' "$work/err"; then
      ok "5 $how $mode: exit 4 with the provider's text: $(summary)"
    else
      bad "5 $how $mode: exit $rc, want 4: $(summary)"
    fi
  done

  # ---------------- item 6: EXPIRE while mail is kept on the server
  for mode in expire0 expire30 expirenever; do
    echo "$two" > "$work/state.json"
    serve "$mode" "$how"
    dir=$work/st6_${how}_$mode
    backup "$dir"
    warnings=$(grep -c 'warning: the server announces EXPIRE' "$work/err" || true)
    case $mode in
      expire0) want=1; text='EXPIRE 0: it deletes retrieved messages at the end of this session although delete is false' ;;
      expire30) want=1; text='EXPIRE 30 (it may differ per user): it deletes retrieved messages 30 days after retrieval although delete is false' ;;
      expirenever) want=0; text='' ;;
    esac
    if [ "$rc" -eq 0 ] && [ "$warnings" -eq "$want" ] && { [ -z "$text" ] || grep -qF -- "$text" "$work/err"; } &&
       [ "$(stored_texts "$dir")" = "$two_stored" ]; then
      ok "6 $how $mode: $warnings warning, both messages stored byte for byte: $(summary)"
    else
      bad "6 $how $mode: exit $rc, $warnings warnings (want $want), stored: $(stored_texts "$dir" | tr '\n' ' '); $(summary)"
    fi
  done
  # Mail is not kept (delete true): nothing to warn about.
  echo "$two" > "$work/state.json"
  serve expire0 "$how"
  backup "$work/st6_${how}_delete" delete true
  if [ "$rc" -eq 0 ] && ! grep -q 'EXPIRE' "$work/err" && [ "$(stored_texts "$work/st6_${how}_delete")" = "$two_stored" ]; then
    ok "6 $how expire0 with delete true: no warning"
  else
    bad "6 $how expire0 with delete true: exit $rc: $(summary)"
  fi

  # ---------------- item 1: Exchange Online's XOAUTH2
  for mode in outlook outlookclose; do
    echo "$two" > "$work/state.json"
    serve "$mode" "$how"
    dir=$work/st1_${how}_$mode
    backup "$dir" auth xoauth2
    if [ "$rc" -eq 0 ] && [ "$(conns)" -eq 2 ] && [ "$(stored_texts "$dir")" = "$two_stored" ] &&
       grep -qF 'izypop3: note: logged in with XOAUTH2 in the two-step form; set oauth2.twostep true' "$work/err" &&
       grep -qE '^AUTH XOAUTH2 [A-Za-z0-9+/=]+.?$' "$work/port.log" && grep -qE '^AUTH XOAUTH2.?$' "$work/port.log"; then
      ok "1 $how $mode, oauth2.twostep auto: one-line refused, two-step on a new connection: $(summary)"
    else
      bad "1 $how $mode, oauth2.twostep auto: exit $rc, $(conns) connections, logins: $(logins); $(summary)"
    fi
  done
  [ "$mode" = outlookclose ] && grep -qF 'the server closed the connection after AUTH XOAUTH2 with an initial response' "$work/err" ||
    bad "1 $how outlookclose: the note does not say the server closed the connection: $(summary)"
  echo "$two" > "$work/state.json"
  serve outlook "$how"
  backup "$work/st1_${how}_true" auth xoauth2 oauth2.twostep true
  if [ "$rc" -eq 0 ] && [ "$(conns)" -eq 1 ] && [ "$(grep -cE '^AUTH XOAUTH2.?$' "$work/port.log")" -eq 1 ] &&
     ! grep -q 'note:' "$work/err" && [ "$(stored_texts "$work/st1_${how}_true")" = "$two_stored" ]; then
    ok "1 $how outlook, oauth2.twostep true: the two-step form at once, one connection"
  else
    bad "1 $how outlook, oauth2.twostep true: exit $rc, $(conns) connections, logins: $(logins); $(summary)"
  fi
  serve outlook "$how"
  backup "$work/st1_${how}_false" auth xoauth2 oauth2.twostep false
  if [ "$rc" -eq 4 ] && [ "$(conns)" -eq 1 ] &&
     grep -qF 'izypop3: login failed: -ERR Protocol error. Connection is closed. 10' "$work/err"; then
    ok "1 $how outlook, oauth2.twostep false: exit 4 with the server's text, no second try"
  else
    bad "1 $how outlook, oauth2.twostep false: exit $rc, $(conns) connections; $(summary)"
  fi
  serve gmail "$how"
  backup "$work/st1_${how}_gmail" auth xoauth2
  if [ "$rc" -eq 0 ] && [ "$(conns)" -eq 1 ] && ! grep -q 'note:' "$work/err" &&
     [ "$(stored_texts "$work/st1_${how}_gmail")" = "$two_stored" ]; then
    ok "1 $how gmail-like server: the one-line form works, nothing else tried"
  else
    bad "1 $how gmail-like: exit $rc, $(conns) connections; $(summary)"
  fi

  # ---------------- item 4: auth auto falls back, a named mechanism does not
  echo "$two" > "$work/state.json"
  serve mechfail "$how"
  dir=$work/st4_${how}
  backup "$dir"
  # APOP is tried only inside implicit TLS: after STLS the greeting's timestamp is forgotten.
  want_conns=2
  [ "$how" = implicit ] && want_conns=3
  got_logins=$(grep -E '^(AUTH|APOP|USER|PASS)' "$work/port.log" | cut -d' ' -f1-2 | tr -d '\r' | tr '\n' ' ')
  if [ "$rc" -eq 0 ] && [ "$(conns)" -eq "$want_conns" ] && [ "$(stored_texts "$dir")" = "$two_stored" ] &&
     grep -qF 'izypop3: note: CRAM-MD5 failed (-ERR CRAM-MD5 authentication failed); trying the next mechanism' "$work/err" &&
     grep -qF 'izypop3: note: logged in with PLAIN' "$work/err" &&
     { [ "$how" = stls ] || grep -qF 'izypop3: note: APOP failed (-ERR authorization failed)' "$work/err"; }; then
    ok "4 $how auto: $got_logins-> logged in on connection $want_conns: $(summary)"
  else
    bad "4 $how auto: exit $rc, $(conns) connections (want $want_conns), logins: $got_logins; $(summary)"
  fi
  serve allfail "$how"
  backup "$work/st4_${how}_all"
  if [ "$rc" -eq 4 ] && grep -qF 'izypop3: login failed: -ERR USER/PASS refused, the last one' "$work/err" &&
     grep -q '^PASS secret-pw' "$work/port.log" && [ "$(stored_texts "$work/st4_${how}_all")" = "" ]; then
    ok "4 $how every mechanism fails: exit 4 with the last server text after $(conns) connections"
  else
    bad "4 $how every mechanism fails: exit $rc, $(conns) connections; $(summary)"
  fi
  # [AUTH] (RFC 3206) says the credentials are wrong: no other mechanism is tried with them.
  serve authfinal "$how"
  backup "$work/st4_${how}_authfinal"
  if [ "$rc" -eq 4 ] && [ "$(conns)" -eq 1 ] && ! grep -q 'note:' "$work/err" &&
     grep -qF 'izypop3: login failed: -ERR [AUTH] Invalid login' "$work/err"; then
    ok "4 $how auto, CRAM-MD5 refused with [AUTH]: final, exit 4 after one connection"
  else
    bad "4 $how auto, [AUTH]: exit $rc, $(conns) connections; $(summary)"
  fi
  serve mechfail "$how"
  backup "$work/st4_${how}_named" auth cram-md5
  if [ "$rc" -eq 4 ] && [ "$(conns)" -eq 1 ] && ! grep -q 'note:' "$work/err" &&
     grep -qF 'izypop3: login failed: -ERR CRAM-MD5 authentication failed' "$work/err"; then
    ok "4 $how auth cram-md5 named: not replaced, exit 4"
  else
    bad "4 $how auth cram-md5 named: exit $rc, $(conns) connections; $(summary)"
  fi

  # ---------------- item 2: no UIDL
  for mode in nouidl uidlerr; do
    echo "$same_id" > "$work/state.json"
    serve "$mode" "$how"
    dir=$work/st2_${how}_$mode
    backup "$dir" query new
    first_rc=$rc
    first_notes=$(grep -c 'note: the server has no UIDL' "$work/err" || true)
    first_out=$(cat "$work/out")
    first_stored=$(stored_texts "$dir")
    python3 - "$work/state.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m.append(["x5", "Message-ID: <new@x>\r\nSubject: four\r\n\r\nbody four\r\n"])
json.dump(m, open(sys.argv[1], "w"))
PY
    serve "$mode" "$how"
    backup "$dir" query new
    second_retr=$(grep '^RETR' "$work/port.log" | tr -d '\r' | tr '\n' ' ')
    second_out=$(cat "$work/out")
    serve "$mode" "$how"
    backup "$dir" query all
    third_out=$(cat "$work/out")
    serve "$mode" "$how"
    client "$how" cmd uidl
    uidl_rows=$(grep -cE '^[1-5] hdr-[0-9a-f]{64}(-2)?$' "$work/out" || true)
    if [ "$first_rc" -eq 0 ] && [ "$first_notes" -eq 1 ] && [[ $first_out == "fetched 4, already stored 0, duplicates 0,"* ]] &&
       [ "$first_stored" = "$same_id_stored" ] && [ "$second_retr" = "RETR 5 " ] &&
       [[ $second_out == "fetched 1, already stored 4, duplicates 0,"* ]] && [ "$rc" -eq 0 ] &&
       [[ $third_out == "fetched 0, already stored 5, duplicates 0,"* ]] && [ "$uidl_rows" -eq 5 ] &&
       grep -qE '^3 hdr-[0-9a-f]{64}-2$' "$work/out" &&
       [ "$(stored_texts "$dir")" = "$(printf '%s\n%s' "$same_id_stored" 'Message-ID: <new@x>|Subject: four||body four|' | LC_ALL=C sort)" ]; then
      ok "2 $how $mode: 4 stored by fingerprint (note said once), then only the new one fetched, nothing stored twice; cmd uidl shows the fingerprints"
    else
      bad "2 $how $mode: rc $first_rc/$rc, notes $first_notes, cmd uidl: $(tr '\n' ' ' < "$work/out"), outs: $first_out / $second_out / $third_out; second run: $second_retr; stored: $(stored_texts "$dir" | tr '\n' ' '); $(summary)"
    fi
  done

  echo "$two" > "$work/state.json"
  serve notop "$how"
  backup "$work/st2_${how}_notop" delete true
  if [ "$rc" -eq 1 ] && ! grep -qE '^(RETR|DELE)' "$work/port.log" &&
     grep -qF 'the server has no UIDL and refused TOP 1 0: -ERR TOP not supported' "$work/err"; then
    ok "2 $how neither UIDL nor TOP: exit 1 before any RETR or DELE: $(summary)"
  else
    bad "2 $how neither UIDL nor TOP: exit $rc; $(summary)"
  fi

  # ---------------- item 3: irregular spacing, then a clean listing
  echo "$two" > "$work/state.json"
  serve sloppy "$how"
  dir=$work/st3_$how
  backup "$dir" query new
  first=$rc
  serve normal "$how"
  backup "$dir" query new
  if [ "$first" -eq 0 ] && [ "$rc" -eq 0 ] && ! grep -q '^RETR' "$work/port.log" &&
     grep -q '^fetched 0, already stored 2,' "$work/out" && [ "$(stored_texts "$dir")" = "$two_stored" ]; then
    ok "3 $how listings with runs of blanks: stored, and the clean listing after it fetches nothing"
  else
    bad "3 $how irregular spacing: rc $first/$rc, $(cat "$work/out"); $(summary)"
  fi
done

# Without TLS, falling back never reaches a mechanism that shows the password.
serve mechfail plain
client plain cmd stat
if [ "$rc" -eq 4 ] && [ "$(conns)" -eq 2 ] && ! grep -qE '^(AUTH PLAIN|USER|PASS|APOP)' "$work/port.log" &&
   grep -qF 'izypop3: login failed: -ERR CRAM-MD5 authentication failed' "$work/err" &&
   grep -qF 'no other mechanism is usable here: not sending the password in clear' "$work/err"; then
  ok "4 plain auto: CRAM-MD5 fails, no cleartext mechanism follows, exit 4 with the server's text"
else
  bad "4 plain auto: exit $rc, $(conns) connections, logins: $(logins); $(summary)"
fi
exit $status
