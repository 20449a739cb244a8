#!/usr/bin/env bash
# SECURITY C16: the disk fails while clientpop3 backs up with delete true. An LD_PRELOAD
# library (tests/support/fault_inject.cpp, path in IZYPOP3_FAULT_LIB) makes one kind of
# call fail with EIO: the syncfs that makes a batch of messages' data durable, the rename
# that publishes a message, the fsync of the metadata log (the journal) or of the store
# directory. After each:
#   - the run says so and exits 1, and the injected failure really happened;
#   - nothing is lost: every message is still on the server or in the store, byte for byte;
#   - no partial message and no temporary file is left, and the store still reads;
#   - the next run (no fault) stores what is missing, each message exactly once, and
#     deletes everything on the server.
set -euo pipefail
bin=${1:?usage: clientpop3_store_faults.sh /path/to/izypop3}
lib=${IZYPOP3_FAULT_LIB:?IZYPOP3_FAULT_LIB must name the fault_inject library (ctest sets it)}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
export IZYPOP3_LOCK_DIR=$work/locks
# Under AddressSanitizer the preloaded library comes before the sanitizer's runtime.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
. "$here/../support/fake_server.sh"
status=0
count=8

# stored_match DIR: the store's message files are exactly the reference messages (each once)
# when $1 is "all", or a subset of them otherwise; prints what differs.
store_check() {
  python3 - "$1" "$work/want" "$2" <<'PY'
import glob, os, sys
d, want_dir, mode = sys.argv[1:4]
want = sorted(open(p, "rb").read() for p in glob.glob(want_dir + "/*"))
got = []
for root, dirs, files in os.walk(d):
    dirs[:] = [x for x in dirs if not x.startswith(".izypop3")]
    got += [open(os.path.join(root, f), "rb").read() for f in files if f.endswith(".eml")]
got.sort()
if mode == "all" and got != want:
    print(f"store has {len(got)} files, want the {len(want)} reference messages once each"); sys.exit(1)
if mode == "subset" and any(g not in want for g in got):
    print("store has a file that is not a reference message (partial?)"); sys.exit(1)
if mode == "subset" and len(set(got)) != len(got):
    print("store has a message twice"); sys.exit(1)
PY
}

for fault in "syncfs:.izypop3/tmp:1" "rename:guid%5F5:1" "fsync:=.izypop3/meta.log:1" "fsync:=/st:1"; do
  start_fake_server "$bin" "$work" "$count"
  rm -rf "$work/want"; write_reference "$work" "$count"
  dir=$work/st
  rm -rf "$dir"; mkdir -p "$dir"
  rc=0
  IZYPOP3_FAULT=$fault LD_PRELOAD=$lib "$bin" method clientpop3 ip 127.0.0.1 port "$port" user u \
    pass 12345 starttls false cmd retr delete true mimestore.modhandler localfs \
    mimestore.path "$dir" > "$work/out" 2> "$work/err" || rc=$?
  left=$("$bin" method clientpop3 ip 127.0.0.1 port "$port" user u pass 12345 starttls false cmd uidl 2>&1 | wc -l)
  stored=$(find "$dir" -name '*.eml' ! -path '*/.izypop3/*' | wc -l)
  why=""
  grep -q "^fault_inject: " "$work/err" || why="the fault was never injected"
  [ "$rc" -eq 1 ] || why="$why; exit $rc, want 1"
  # Nothing lost: what the server no longer has is in the store.
  [ $((left + stored)) -ge "$count" ] || why="$why; $left left on the server + $stored stored < $count"
  s=$(store_check "$dir" subset) || why="$why; $s"
  [ -z "$(find "$dir/.izypop3/tmp" -type f 2>/dev/null)" ] || why="$why; a temporary file was left"
  "$bin" method querystore mimestore.modhandler localfs mimestore.path "$dir" query.limit 0 > /dev/null 2>&1 ||
    why="$why; the store no longer reads"
  first="$(grep -v '^fault_inject' "$work/out" | head -1)"
  rc=0
  "$bin" method clientpop3 ip 127.0.0.1 port "$port" user u pass 12345 starttls false cmd retr \
    query new delete true mimestore.modhandler localfs mimestore.path "$dir" > "$work/out2" 2> "$work/err2" || rc=$?
  left2=$("$bin" method clientpop3 ip 127.0.0.1 port "$port" user u pass 12345 starttls false cmd stat 2>&1)
  [ "$rc" -eq 0 ] || why="$why; the next run: exit $rc $(head -c 300 "$work/err2")"
  [ "$left2" = "0 messages, 0 octets" ] || why="$why; after the next run the server has $left2"
  s=$(store_check "$dir" all) || why="$why; after the next run: $s"
  if [ -z "$why" ]; then
    echo "ok C16 $fault: exit 1 ($first; $left left on the server, $stored stored), the next run completes: $(head -1 "$work/out2")"
  else
    echo "FAIL C16 $fault:$why; $(head -c 400 "$work/err" | tr '\n' ' ')"
    status=1
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
done
exit "$status"
