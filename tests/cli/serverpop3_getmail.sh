#!/usr/bin/env bash
# getmail6, a real POP3 client, fetches the whole fake maildrop from the izypop3 server into a
# Maildir with SimplePOP3Retriever (USER/PASS and APOP on the plain port) and
# SimplePOP3SSLRetriever (implicit TLS, certificate checked by SHA-256 fingerprint and by CA
# file); every delivered message must equal, octet for octet, what python poplib RETR returns.
# getmail writes LF line ends (CRLF -> LF) and always puts a Return-Path header first (with no
# envelope sender over POP3 it is exactly "Return-Path: <unknown>"); we turn its Received and
# Delivered-To headers off, check that this one Return-Path line is there and remove only it.
# UIDL bookkeeping (read_all false) must fetch nothing the second time; delete true must empty
# the maildrop. getmail refuses to deliver as root, so as root it runs as nobody.
set -euo pipefail
bin=${1:?usage: serverpop3_getmail.sh /path/to/izypop3}
command -v getmail > /dev/null || { apt-get install -y getmail6 > /dev/null 2>&1 || true; }
command -v getmail > /dev/null || { echo "FAIL: getmail is not installed and apt-get install getmail6 failed"; exit 1; }
command -v openssl > /dev/null || { echo "FAIL: openssl (the command) is needed to read the server certificate"; exit 1; }
if [ "$(id -u)" -eq 0 ] && ! command -v setpriv > /dev/null; then
  echo "FAIL: setpriv (util-linux) is needed to run getmail as nobody"; exit 1
fi
work=$(mktemp -d)
chmod 755 "$work"
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

. "$(dirname "$0")/../support/fake_server.sh"
start_fake_server "$bin" "$work" 12
fetch_certificate "$work"

write_reference "$work" 12

# compare_maildir DIR LABEL COUNT: the Maildir holds exactly the reference messages (COUNT
# 12 or 0, as a multiset), each "Return-Path: <unknown>\n" + the message with CRLF -> LF.
compare_maildir() {
  python3 - "$work/want" "$1" "$2" "$3" <<'PY'
import glob, sys
want_dir, maildir, label, count = sys.argv[1:]
want = sorted(open(f, "rb").read().replace(b"\r\n", b"\n") for f in glob.glob(want_dir + "/*"))
if count == "0":
    want = []
prefix = b"Return-Path: <unknown>\n"
got = []
for f in glob.glob(maildir + "/new/*") + glob.glob(maildir + "/cur/*"):
    data = open(f, "rb").read()
    if not data.startswith(prefix):
        print(f"FAIL: {label}: {f} does not start with getmail's {prefix!r}: {data[:80]!r}")
        sys.exit(1)
    got.append(data[len(prefix):])
got.sort()
if got != want:
    print(f"FAIL: {label}: {len(got)} messages delivered, want {len(want)}; sizes got "
          f"{sorted(map(len, got))} want {sorted(map(len, want))}")
    sys.exit(1)
print(f"PASS: {label}: {len(got)} messages delivered" + (", byte-identical to poplib RETR" if got else ""))
PY
}

# getmail_delivery_hung OUT: getmail's trace ends in a Maildir delivery whose child it never
# reaped, after the message's RETR response was read in full.
getmail_delivery_hung() {
  local tail
  tail=$(grep -v '^ *$' "$1" | grep -v 'user aborted\|retrieved, \|finished\|oldmail\|msgid \|timestamp \|wrote \|quit()\|__str__\|keyboard interrupt' | tail -3)
  grep -q 'spawned child' <<< "$tail" && grep -q 'RETR response' "$1"
}

# run_getmail LABEL NAME COUNT EXPECT(ok|fail: a fingerprint mismatch) RETRIEVER-LINES... -- OPTION-LINES...: getmail
# with getmail dir $work/NAME (its UIDL state kept between runs of one NAME) into a fresh Maildir.
run_getmail() {
  local label=$1 name=$2 count=$3 expect=$4; shift 4
  local dir="$work/$name"
  rm -rf "$dir/Maildir"
  mkdir -p "$dir/Maildir/new" "$dir/Maildir/cur" "$dir/Maildir/tmp"
  {
    echo "[retriever]"
    while [ "$1" != "--" ]; do echo "$1"; shift; done
    shift
    echo "username = anyone"
    echo "password = 12345"
    echo "[destination]"
    echo "type = Maildir"
    echo "path = $dir/Maildir/"
    echo "[options]"
    echo "received = false"
    echo "delivered_to = false"
    echo "verbose = 1"
    printf '%s\n' "$@"
  } > "$dir/getmailrc"
  local rc=0 attempt
  [ "$(id -u)" -eq 0 ] && chown -R nobody:nogroup "$dir"
  # getmail forks a child for each Maildir delivery and, on a loaded machine, now and then
  # waits forever for a child that has already gone (its SIGCHLD handling races). --trace
  # shows where it stopped: a timeout right after "spawned child" with the message fully
  # received ("RETR response" logged) is that hang, not ours, and a run that deletes nothing
  # is made once more from scratch (fresh Maildir, no UIDL state); any other timeout fails.
  for attempt in 1 2; do
    rc=0
    if [ "$(id -u)" -eq 0 ]; then
      timeout 60 setpriv --reuid=nobody --regid=nogroup --clear-groups \
        getmail --trace --getmaildir "$dir" --rcfile getmailrc > "$dir/out" 2>&1 || rc=$?
    else
      timeout 60 getmail --trace --getmaildir "$dir" --rcfile getmailrc > "$dir/out" 2>&1 || rc=$?
    fi
    [ "$rc" -eq 124 ] && [ "$attempt" -eq 1 ] && getmail_delivery_hung "$dir/out" &&
      grep -qx 'delete = false' "$dir/getmailrc" || break
    echo "NOTE: $label: getmail hung in its own Maildir delivery child (see --trace); running it again"
    rm -rf "$dir/Maildir" "$dir"/oldmail-*
    mkdir -p "$dir/Maildir/new" "$dir/Maildir/cur" "$dir/Maildir/tmp"
    [ "$(id -u)" -eq 0 ] && chown -R nobody:nogroup "$dir"
  done
  if [ "$expect" = fail ]; then
    if grep -q 'ssl_fingerprints mismatch' "$dir/out" && [ -z "$(ls -A "$dir/Maildir/new")" ]; then
      echo "PASS: $label: getmail refused the server (fingerprint mismatch)"; return 0
    fi
    echo "FAIL: $label: getmail exit $rc, expected a refusal:"; tail -5 "$dir/out"; return 1
  fi
  if [ "$rc" -ne 0 ] || grep -qi 'error' "$dir/out"; then
    echo "FAIL: $label: getmail exit $rc:"; tail -20 "$dir/out"; return 1
  fi
  compare_maildir "$dir/Maildir" "$label" "$count"
}

status=0
run_getmail "getmail SimplePOP3Retriever USER/PASS" plain 12 ok \
  "type = SimplePOP3Retriever" "server = 127.0.0.1" "port = $port" -- "read_all = true" "delete = false" || status=1
run_getmail "getmail SimplePOP3Retriever APOP" apop 12 ok \
  "type = SimplePOP3Retriever" "server = 127.0.0.1" "port = $port" "use_apop = true" -- \
  "read_all = true" "delete = false" || status=1
run_getmail "getmail SimplePOP3SSLRetriever ssl_fingerprints" ssl 12 ok \
  "type = SimplePOP3SSLRetriever" "server = 127.0.0.1" "port = $tlsport" \
  "ssl_fingerprints = ('$sha256',)" -- "read_all = true" "delete = false" || status=1
run_getmail "getmail SimplePOP3SSLRetriever ca_certs" ca 12 ok \
  "type = SimplePOP3SSLRetriever" "server = 127.0.0.1" "port = $tlsport" \
  "ca_certs = $work/cert.pem" "ssl_cert_hostname = 127.0.0.1" -- "read_all = true" "delete = false" || status=1
run_getmail "getmail SimplePOP3SSLRetriever wrong fingerprint" wrongfp 0 fail \
  "type = SimplePOP3SSLRetriever" "server = 127.0.0.1" "port = $tlsport" \
  "ssl_fingerprints = ('00${sha256#??}',)" -- "read_all = true" "delete = false" || status=1

# UIDL bookkeeping: read_all false fetches everything once, then nothing.
run_getmail "getmail SSL read_all false, first run" uidl 12 ok \
  "type = SimplePOP3SSLRetriever" "server = 127.0.0.1" "port = $tlsport" \
  "ssl_fingerprints = ('$sha256',)" -- "read_all = false" "delete = false" || status=1
run_getmail "getmail SSL read_all false, second run" uidl 0 ok \
  "type = SimplePOP3SSLRetriever" "server = 127.0.0.1" "port = $tlsport" \
  "ssl_fingerprints = ('$sha256',)" -- "read_all = false" "delete = false" || status=1

# delete true empties the maildrop.
run_getmail "getmail SSL delete true" delete 12 ok \
  "type = SimplePOP3SSLRetriever" "server = 127.0.0.1" "port = $tlsport" \
  "ssl_fingerprints = ('$sha256',)" -- "read_all = true" "delete = true" || status=1
expect_empty_maildrop "getmail delete = true" || status=1
run_getmail "getmail after delete" delete 0 ok \
  "type = SimplePOP3Retriever" "server = 127.0.0.1" "port = $port" -- "read_all = true" "delete = true" || status=1

stop_fake_server || status=1
pid=
exit "$status"
