#!/usr/bin/env bash
# mpop, a real POP3 client, fetches the whole fake maildrop from the izypop3 server into a
# maildir over plain+STLS and implicit TLS, with AUTH PLAIN, CRAM-MD5 and SCRAM-SHA-256 and
# PIPELINING; every delivered message must equal, octet for octet, what python poplib RETR
# returns. mpop stores maildir mail with LF line ends (CRLF -> LF, as every Unix maildir
# does) and, unless told 'received_header off', prepends a Received header; we turn that
# header off, so the only transformation accounted for is CRLF -> LF, and we check that the
# store's messages have no bare CR or LF that would make that mapping ambiguous.
# 'keep off' must delete: a fresh session afterwards sees an empty maildrop.
set -euo pipefail
bin=${1:?usage: serverpop3_mpop.sh /path/to/izypop3}
command -v mpop > /dev/null || { apt-get install -y mpop > /dev/null 2>&1 || true; }
command -v mpop > /dev/null || { echo "FAIL: mpop is not installed and apt-get install mpop failed"; exit 1; }
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

. "$(dirname "$0")/../support/fake_server.sh"
start_fake_server "$bin" "$work" 12
fingerprint=$sha256

# The reference: every message as python poplib RETR returns it, octets == LIST size.
write_reference "$work" 12

# compare_maildir DIR LABEL: the maildir holds exactly the 12 reference messages (as a
# multiset; delivery order is not part of the contract), each with CRLF -> LF and nothing else.
compare_maildir() {
  python3 - "$work/want" "$1" "$2" <<'PY'
import glob, os, sys
want_dir, maildir, label = sys.argv[1:]
want = sorted(open(f, "rb").read().replace(b"\r\n", b"\n") for f in glob.glob(want_dir + "/*"))
got = sorted(open(f, "rb").read() for f in glob.glob(maildir + "/new/*") + glob.glob(maildir + "/cur/*"))
if got != want:
    print(f"FAIL: {label}: {len(got)} messages delivered, want {len(want)}; sizes got "
          f"{sorted(map(len, got))} want {sorted(map(len, want))}")
    sys.exit(1)
print(f"PASS: {label}: {len(got)} messages byte-identical to poplib RETR")
PY
}

# run_mpop LABEL PORT EXTRA-CONFIG-LINES...: one mpop run into a fresh maildir and uidls file.
run=0
run_mpop() {
  local label=$1 p=$2; shift 2
  run=$((run + 1))
  local dir="$work/run$run"
  mkdir -p "$dir/md/new" "$dir/md/cur" "$dir/md/tmp"
  {
    echo "account a"
    echo "host 127.0.0.1"
    echo "port $p"
    echo "user anyone"
    echo "password 12345"
    echo "tls on"
    echo "pipelining on"
    echo "received_header off"
    echo "uidls_file $dir/uidls"
    echo "delivery maildir $dir/md"
    printf '%s\n' "$@"
  } > "$dir/mpoprc"
  chmod 600 "$dir/mpoprc"
  if ! timeout 120 mpop -C "$dir/mpoprc" -a -q > "$dir/out" 2>&1; then
    echo "FAIL: $label: mpop exited non-zero:"; cat "$dir/out"; return 1
  fi
  compare_maildir "$dir/md" "$label"
}

status=0
run_mpop "mpop STLS AUTH PLAIN fingerprint pipelining keep" "$port" \
  "tls_starttls on" "tls_fingerprint $fingerprint" "auth plain" "keep on" || status=1
run_mpop "mpop STLS AUTH CRAM-MD5 certcheck off" "$port" \
  "tls_starttls on" "tls_certcheck off" "auth cram-md5" "keep on" || status=1
run_mpop "mpop STLS AUTH SCRAM-SHA-256" "$port" \
  "tls_starttls on" "tls_fingerprint $fingerprint" "auth scram-sha-256" "keep on" || status=1
# The certificate as a trust file (its subjectAltName holds 127.0.0.1): full verification.
# Taken off the wire, so first make sure it is the one the server printed the SHA-256 of.
command -v openssl > /dev/null || { echo "FAIL: openssl (the command) is needed to read the server certificate"; exit 1; }
echo | timeout 30 openssl s_client -connect "127.0.0.1:$tlsport" 2> /dev/null | openssl x509 > "$work/cert.pem"
got256=$(openssl x509 -in "$work/cert.pem" -noout -sha256 -fingerprint | sed 's/^.*=//')
[ "$got256" = "$fingerprint" ] || { echo "FAIL: certificate on the wire has SHA-256 $got256, server printed $fingerprint"; exit 1; }
run_mpop "mpop STLS tls_trust_file AUTH PLAIN" "$port" \
  "tls_starttls on" "tls_trust_file $work/cert.pem" "auth plain" "keep on" || status=1
run_mpop "mpop implicit TLS AUTH USER" "$tlsport" \
  "tls_starttls off" "tls_fingerprint $fingerprint" "auth user" "keep on" || status=1

# A wrong fingerprint must make mpop refuse the server (proves the fingerprint is checked).
wrong=$(echo "$fingerprint" | sed 's/^../00/')
[ "$wrong" != "$fingerprint" ] || wrong=$(echo "$fingerprint" | sed 's/^../11/')
mkdir -p "$work/wrong/md/new" "$work/wrong/md/cur" "$work/wrong/md/tmp"
printf '%s\n' "account a" "host 127.0.0.1" "port $tlsport" "user anyone" "password 12345" "tls on" \
  "tls_starttls off" "tls_fingerprint $wrong" "uidls_file $work/wrong/uidls" "delivery maildir $work/wrong/md" \
  > "$work/wrong/mpoprc"
chmod 600 "$work/wrong/mpoprc"
timeout 60 mpop -C "$work/wrong/mpoprc" -a -q > "$work/wrong/out" 2>&1 || true
if grep -q 'fingerprint does not match' "$work/wrong/out" && [ -z "$(ls -A "$work/wrong/md/new")" ]; then
  echo "PASS: mpop refuses a wrong TLS fingerprint"
else
  echo "FAIL: mpop did not refuse a wrong TLS fingerprint:"; cat "$work/wrong/out"; status=1
fi

# keep off: mpop deletes what it delivered; a fresh session sees an empty maildrop and a
# second mpop run delivers nothing.
run_mpop "mpop implicit TLS keep off" "$tlsport" \
  "tls_starttls off" "tls_fingerprint $fingerprint" "auth plain" "keep off" || status=1
expect_empty_maildrop "mpop 'keep off'" || status=1
mkdir -p "$work/after/md/new" "$work/after/md/cur" "$work/after/md/tmp"
sed -e "s|$work/run$run|$work/after|g" "$work/run$run/mpoprc" > "$work/after/mpoprc"
chmod 600 "$work/after/mpoprc"
if timeout 60 mpop -C "$work/after/mpoprc" -a -q > "$work/after/out" 2>&1 \
    && [ -z "$(ls -A "$work/after/md/new")" ]; then
  echo "PASS: a second mpop run after 'keep off' delivers nothing"
else
  echo "FAIL: a second mpop run after 'keep off' failed or delivered mail:"; cat "$work/after/out"; status=1
fi

stop_fake_server || status=1
pid=
exit "$status"
