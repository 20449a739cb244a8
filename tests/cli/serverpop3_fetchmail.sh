#!/usr/bin/env bash
# fetchmail, a real POP3 client, fetches the whole fake maildrop from the izypop3 server
# through an MDA over plain, STLS and implicit TLS (--ssl), authenticating with USER/PASS,
# CRAM-MD5 and APOP, checking the server certificate by fingerprint (--sslfingerprint) and
# by trust file (--sslcertck); every delivered message must equal, octet for octet, what
# python poplib RETR returns. fetchmail hands mail to an MDA with LF line ends (CRLF -> LF)
# and prepends a Received header unless --invisible; we pass --invisible and --norewrite,
# so the only transformation accounted for is CRLF -> LF (we check the store's messages have
# no bare CR that would make that mapping ambiguous). --uidl with --keep must fetch nothing
# on a second run; without --keep fetchmail deletes, and a fresh session sees an empty maildrop.
set -euo pipefail
bin=${1:?usage: serverpop3_fetchmail.sh /path/to/izypop3}
command -v fetchmail > /dev/null || { apt-get install -y fetchmail > /dev/null 2>&1 || true; }
command -v fetchmail > /dev/null || { echo "FAIL: fetchmail is not installed and apt-get install fetchmail failed"; exit 1; }
command -v openssl > /dev/null || { echo "FAIL: openssl (the command) is needed to read the server certificate"; exit 1; }
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

. "$(dirname "$0")/../support/fake_server.sh"
start_fake_server "$bin" "$work" 12

# fetchmail wants the MD5 fingerprint of the certificate; take the certificate off the wire
# and make sure it is the one whose SHA-256 the server printed at start-up.
fetch_certificate "$work"
md5=$(openssl x509 -in "$work/cert.pem" -noout -md5 -fingerprint | sed 's/^.*=//')

write_reference "$work" 12

# compare_dir DIR LABEL COUNT: DIR holds exactly the reference messages (all COUNT of them, as
# a multiset), each with CRLF -> LF and nothing else; COUNT 0 means DIR must be empty.
compare_dir() {
  python3 - "$work/want" "$1" "$2" "$3" <<'PY'
import glob, sys
want_dir, d, label, count = sys.argv[1:]
want = sorted(open(f, "rb").read().replace(b"\r\n", b"\n") for f in glob.glob(want_dir + "/*"))
if count == "0":
    want = []
got = sorted(open(f, "rb").read() for f in glob.glob(d + "/*"))
if got != want:
    print(f"FAIL: {label}: {len(got)} messages delivered, want {len(want)}; sizes got "
          f"{sorted(map(len, got))} want {sorted(map(len, want))}")
    sys.exit(1)
print(f"PASS: {label}: {len(got)} messages delivered" + (", byte-identical to poplib RETR" if got else ""))
PY
}

cat > "$work/deliver.sh" <<'SH'
#!/bin/sh
# fetchmail MDA: one file per message, named uniquely.
exec cat > "$1/$(date +%s%N).$$"
SH
chmod +x "$work/deliver.sh"

# run_fetchmail LABEL NAME COUNT PORT FETCHMAIL-OPTIONS...: fetchmail into DIR $work/NAME
# (kept between runs of the same NAME, as is its --idfile), expecting COUNT messages.
run_fetchmail() {
  local label=$1 name=$2 count=$3 p=$4; shift 4
  local dir="$work/$name"
  mkdir -p "$dir/mail"
  rm -f "$dir/mail/"*
  printf 'poll 127.0.0.1 proto POP3 port %s user "anyone" there with password "12345" is "root" here\n' "$p" \
    > "$dir/fetchmailrc"
  chmod 600 "$dir/fetchmailrc"
  local rc=0
  FETCHMAILHOME="$dir" timeout 120 fetchmail -f "$dir/fetchmailrc" --idfile "$dir/ids" --nosyslog -v \
    --invisible --norewrite --mda "$work/deliver.sh $dir/mail" "$@" > "$dir/out" 2>&1 || rc=$?
  # fetchmail exits 1 when there was no mail, 0 when it delivered some.
  if { [ "$count" = 0 ] && [ "$rc" -ne 1 ]; } || { [ "$count" != 0 ] && [ "$rc" -ne 0 ]; }; then
    echo "FAIL: $label: fetchmail exit code $rc:"; tail -20 "$dir/out"; return 1
  fi
  compare_dir "$dir/mail" "$label" "$count"
}

status=0
run_fetchmail "fetchmail plain USER/PASS --keep" plain 12 "$port" \
  --auth password --sslproto '' --keep || status=1
grep -q 'POP3> USER anyone' "$work/plain/out" || { echo "FAIL: fetchmail did not use USER"; status=1; }
run_fetchmail "fetchmail STLS --sslfingerprint --auth cram-md5 --keep" stls 12 "$port" \
  --sslproto 'TLS1.2+' --sslfingerprint "$md5" --nosslcertck --auth cram-md5 --keep || status=1
grep -q 'POP3> STLS' "$work/stls/out" || { echo "FAIL: fetchmail did not use STLS"; status=1; }
run_fetchmail "fetchmail STLS --sslcertck -p APOP --keep" apop 12 "$port" \
  --sslproto 'TLS1.2+' --sslcertck --sslcertfile "$work/cert.pem" -p APOP --keep || status=1
grep -q 'POP3> APOP anyone' "$work/apop/out" || { echo "FAIL: fetchmail did not use APOP"; status=1; }
run_fetchmail "fetchmail --ssl --sslfingerprint --keep" ssl 12 "$tlsport" \
  --ssl --sslfingerprint "$md5" --nosslcertck --keep || status=1
wrong="00:${md5#??:}"
[ "$wrong" != "$md5" ] || wrong="11:${md5#??:}"
rm -f "$work/ssl/mail/"*
FETCHMAILHOME="$work/ssl" timeout 60 fetchmail -f "$work/ssl/fetchmailrc" --idfile "$work/ssl/ids.bad" \
  --nosyslog --mda "$work/deliver.sh $work/ssl/mail" --ssl --sslfingerprint "$wrong" --keep \
  > "$work/ssl/out.bad" 2>&1 || true
if grep -q 'fingerprints do not match' "$work/ssl/out.bad" && [ -z "$(ls -A "$work/ssl/mail")" ]; then
  echo "PASS: fetchmail refuses a wrong --sslfingerprint"
else
  echo "FAIL: fetchmail did not refuse a wrong --sslfingerprint:"; tail -5 "$work/ssl/out.bad"; status=1
fi

# UIDL mode: a second run with the same id file finds nothing new.
run_fetchmail "fetchmail --uidl --keep first run" uidl 12 "$port" \
  --sslproto 'TLS1.2+' --sslfingerprint "$md5" --nosslcertck --uidl --keep || status=1
run_fetchmail "fetchmail --uidl --keep second run" uidl 0 "$port" \
  --sslproto 'TLS1.2+' --sslfingerprint "$md5" --nosslcertck --uidl --keep || status=1
[ "$(wc -l < "$work/uidl/ids")" -ge 12 ] || { echo "FAIL: fetchmail id file has fewer than 12 UIDs"; status=1; }

# No --keep: fetchmail deletes what it delivered.
run_fetchmail "fetchmail --ssl --nokeep" nokeep 12 "$tlsport" \
  --ssl --sslfingerprint "$md5" --nosslcertck --nokeep || status=1
expect_empty_maildrop "fetchmail --nokeep" || status=1
run_fetchmail "fetchmail after --nokeep" nokeep 0 "$tlsport" \
  --ssl --sslfingerprint "$md5" --nosslcertck --nokeep || status=1

stop_fake_server || status=1
pid=
exit "$status"
