#!/usr/bin/env bash
# Backing a mailbox up: izypop3 clientpop3 against mpop and fetchmail, side by side in one
# run, each copying the same private Dovecot mailbox — 10,000 messages of 4 KB, then 20 of
# 10 MB — over plain POP3 and over implicit TLS, keeping the messages on the server.
# Every tool logs in with AUTH PLAIN and writes each message durably somewhere local:
# izypop3 and mpop into a Maildir, fetchmail as BSMTP into one file (its fastest local
# delivery). hyperfine gives the median of 3 runs after a warm-up; each run starts from an
# empty destination. Then each tool copies 3,000 messages once under strace, which counts
# its fsync, fdatasync and syncfs calls and the fsyncs on a directory. Writes the two "Clients"
# sections of docs/benchmarks.md.
# usage: tests/bench/clients.sh          timings and sync counts
#        tests/bench/clients.sh syncs    only the sync counts (a minute, not an hour)
set -euo pipefail
cd "$(dirname "$0")/../.."
.ci/deps.sh test
if [ -z "${IZYPOP3_BIN:-}" ]; then
  cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DIZYPOP3_BENCH=ON >/dev/null
  cmake --build build/bench --target izypop3 >/dev/null
fi
bin=${IZYPOP3_BIN:-$PWD/build/bench/apps/izypop3/izypop3}

work=$(mktemp -d /tmp/izypop3-clients.XXXXXX)
chmod 755 "$work"
trap 'tests/support/private_dovecot.sh stop "$work/dovecot" || true; rm -rf "$work"' EXIT
tests/support/private_dovecot.sh start "$work/dovecot" bench bench >/dev/null
. "$work/dovecot/ports.env"
fp=$(openssl x509 -in "$work/dovecot/cert.pem" -noout -fingerprint -sha256 | cut -d= -f2)
mail=$work/dovecot/mail/bench

# fill COUNT SIZE: the mailbox holds COUNT generated messages of about SIZE octets, put
# straight into the Maildir's new/ (Dovecot picks them up; the LDA would take minutes).
fill() {
  tests/support/private_dovecot.sh stop "$work/dovecot"
  rm -rf "$mail" "$work/dovecot/home"
  mkdir -p "$mail"/{cur,new,tmp} "$work/dovecot/home"
  python3 - "$mail/new" "$1" "$2" <<'PY'
import os, random, sys
out, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(7)
words = [w for w in "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo".split()]
for i in range(count):
    head = (f"From: Sender {i} <s{i}@example.org>\nTo: bench@example.org\n"
            f"Subject: message {i}\nMessage-ID: <{i}.bench@example.org>\n\n")
    body, n = [], len(head)
    while n < size:
        line = " ".join(rnd.choice(words) for _ in range(11))
        if rnd.random() < 0.05:
            line = "." + line
        body.append(line)
        n += len(line) + 1
    with open(f"{out}/{1700000000 + i}.M{i}P1.bench", "w") as f:
        f.write(head + "\n".join(body) + "\n")
PY
  chown -R nobody:nogroup "$work/dovecot/mail" "$work/dovecot/home"
  tests/support/private_dovecot.sh start "$work/dovecot" bench bench >/dev/null
  . "$work/dovecot/ports.env"
  # Each start makes a new certificate: pin the one now in use.
  fp=$(openssl x509 -in "$work/dovecot/cert.pem" -noout -fingerprint -sha256 | cut -d= -f2)
}

mpop_config() {  # mpop_config FILE tls(on|off) port
  cat > "$1" <<CONF
account bench
host 127.0.0.1
port $3
user bench
password bench
auth plain
tls $2
tls_starttls off
tls_fingerprint $fp
pipelining on
keep on
only_new off
uidls_file $work/mpop.uidls
delivery maildir $work/dest-mpop
CONF
  chmod 600 "$1"
}

fetchmail_config() {  # fetchmail_config FILE ssl(yes|no) port
  {
    echo "set no syslog"
    printf 'poll 127.0.0.1 protocol POP3 port %s auth password\n' "$3"
    printf '  user bench password bench keep fetchall %s\n' \
      "$([ "$2" = yes ] && echo 'ssl sslproto "" no sslcertck' || echo 'sslproto ""')"
  } > "$1"
  chmod 600 "$1"
}

results=$work/results.txt
: > "$results"
# The three tools' commands against PORT, each writing into $work/dest-*; prepare() empties them.
commands() {  # commands TLS(on|off)
  local tls=$1 port=$POP3_PORT ours_tls=(starttls false) fm_ssl=no
  if [ "$tls" = on ]; then port=$POP3S_PORT; ours_tls=(tls true tls.fingerprint "$fp"); fm_ssl=yes; fi
  mpop_config "$work/mpoprc" "$tls" "$port"
  fetchmail_config "$work/fetchmailrc" "$fm_ssl" "$port"
  ours="$bin method clientpop3 ip 127.0.0.1 port $port user bench pass bench auth plain ${ours_tls[*]} cmd retr mimestore.modhandler maildir mimestore.path $work/dest-ours mimestore.create true"
  mpop="mkdir -p $work/dest-mpop/cur $work/dest-mpop/new $work/dest-mpop/tmp && mpop -C $work/mpoprc -q bench"
  fetchmail="fetchmail -f $work/fetchmailrc --nodetach --silent --bsmtp $work/dest-fetchmail.bsmtp --idfile $work/fetchids"
  prepare="rm -rf $work/dest-ours $work/dest-mpop $work/dest-fetchmail.bsmtp $work/mpop.uidls $work/fetchids"
}

# measure LABEL TLS(on|off)
measure() {
  local label=$1
  commands "$2"
  hyperfine --runs 3 --warmup 1 --export-json "$work/$label.json" --prepare "$prepare" \
    -n izypop3 "$ours" -n mpop "$mpop" -n fetchmail "$fetchmail" >/dev/null
  python3 - "$work/$label.json" "$label" >> "$results" <<'PY'
import json, sys
d = {r["command"]: r["median"] for r in json.load(open(sys.argv[1]))["results"]}
best = min(d.values())
cells = " | ".join(f"{d[k]:.2f} s ({d[k] / best:.2f}×)" for k in ("izypop3", "mpop", "fetchmail"))
print(f"| {sys.argv[2]} | {cells} |")
PY
}

# syncs_of NAME COMMAND: runs COMMAND once under strace and prints "NAME calls on-directories
# syncfs": every fsync and fdatasync of every process and thread, those whose descriptor
# is a directory (strace -y names the file; a directory is still one after the run), and
# every syncfs (one makes a whole file system durable).
syncs_of() {
  eval "$prepare"
  strace -f -qq -y -e trace=fsync,fdatasync,syncfs -e signal=none -o "$work/strace.$1" \
    bash -c "$2" >/dev/null 2>&1 || { echo "syncs: $1 failed" >&2; exit 1; }
  python3 - "$work/strace.$1" "$1" <<'PY'
import os, re, sys
calls = dirs = whole = 0
for line in open(sys.argv[1], errors="replace"):
    if re.search(r"\bsyncfs\(\d+", line):
        whole += 1
        continue
    m = re.search(r"\b(fsync|fdatasync)\(\d+<([^>]*)>", line)
    if not m:
        continue
    calls += 1
    dirs += os.path.isdir(m.group(2))
print(sys.argv[2], calls, dirs, whole)
PY
}

syncs_section() {
  fill 3000 4096
  commands off
  local counts
  counts=$( { syncs_of izypop3 "$ours"; syncs_of mpop "$mpop"; syncs_of fetchmail "$fetchmail"; } )
  python3 - "$counts" <<'PY'
import sys
import textwrap
rows = {name: (int(c), int(d), int(w))
        for name, c, d, w in (l.split() for l in sys.argv[1].splitlines())}
print("## Clients: what each one does to keep a message")
print()
print("Written by `tests/bench/clients.sh` (or `clients.sh syncs` alone): each tool copies the same")
print("3,000 messages of 4 KB from Dovecot once, under")
print("`strace -f -y -e trace=fsync,fdatasync,syncfs`, which counts every fsync, fdatasync and")
print("syncfs of every process and thread, and the fsyncs on a directory.")
print()
print("| tool | fsync + fdatasync | on a directory | syncfs |")
print("|---|---|---|---|")
for name in ("izypop3", "mpop", "fetchmail"):
    c, d, w = rows[name]
    print(f"| {name} | {c:,} | {d:,} | {w:,} |")
print()
text = ("izypop3 makes each batch of messages durable at once: one syncfs for the batch's files "
        "and metadata log lines, then the log's fsync (nothing left to write) and one fsync per "
        "Maildir directory after the renames, before any DELE; a batch is what arrived while "
        "the previous one was synced (at least 100 ms or 256 messages). mpop writes into a "
        "Maildir too; fetchmail appends every message to one BSMTP file.")
if rows["mpop"][1] == 0:
    text += (" mpop syncs no directory, so after a power failure a message it counted as "
             "delivered can be missing from the Maildir.")
print(textwrap.fill(text, 90))
print()
print("Command: `tests/bench/clients.sh syncs`")
PY
}

write_section() {  # write_section HEADING FILE
  python3 tests/bench/replace_section.py docs/benchmarks.md "$1" "$2"
  cat "$2"
}

if [ "${1:-}" = syncs ]; then
  syncs_section > "$work/syncs.md"
  write_section "## Clients: what each one does to keep a message" "$work/syncs.md"
  exit 0
fi

fill 10000 4096
measure "10,000 × 4 KB, plain" off
measure "10,000 × 4 KB, TLS" on
fill 20 10485760
measure "20 × 10 MB, plain" off
measure "20 × 10 MB, TLS" on

section=$(mktemp)
{
  echo "## Clients: izypop3 clientpop3 against mpop and fetchmail"
  echo
  echo "Written by \`tests/bench/clients.sh\` on $(date -u +%Y-%m-%d) ($(nproc) cores,"
  echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')); $(mpop --version | head -1),"
  echo "fetchmail $(fetchmail --version 2>/dev/null | sed -n 's/^This is fetchmail release \([0-9.]*\).*/\1/p'), Dovecot $(dovecot --version | cut -d' ' -f1) as the server on the same machine."
  echo "Median wall time of 3 runs (after a warm-up) to copy the whole mailbox, and the ratio"
  echo "to the fastest tool of the row; AUTH PLAIN, messages kept on the server. What each tool"
  echo "does to keep a message durably is counted in the next section."
  echo
  echo "| mailbox | izypop3 | mpop | fetchmail |"
  echo "|---|---|---|---|"
  cat "$results"
  echo
  echo "Command: \`tests/bench/clients.sh\`"
} > "$section"
write_section "## Clients: izypop3 clientpop3 against mpop and fetchmail" "$section"
syncs_section > "$section"
write_section "## Clients: what each one does to keep a message" "$section"
rm -f "$section"
