#!/usr/bin/env bash
# Two izypop3 serverpop3 processes on one PostgreSQL store (a private cluster from
# tests/support/pg_cluster.sh): concurrent logins to one mailbox (exactly one wins, the other
# gets -ERR [IN-USE]), DELE+QUIT on one node seen by the next session on the other, a server
# killed with SIGKILL mid-session releases its lock and deletes nothing, and the database
# stopped mid-session gives -ERR [SYS/TEMP] and loses nothing.
set -euo pipefail
bin=${1:?usage: postgres_nodes.sh /path/to/izypop3}
here=$(cd "$(dirname "$0")" && pwd)
cluster=$here/../support/pg_cluster.sh
work=$(mktemp -d /tmp/izypop3-pgnodes.XXXXXX)
chmod 711 "$work"  # the cluster runs as the postgres user, which must enter it
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  bash "$cluster" destroy "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

env_file=$work/pg.env
bash "$cluster" start "$work/pg" $$ > "$env_file" || { echo "PostgreSQL test cluster did not start"; exit 1; }
# shellcheck disable=SC1090
. "$env_file"
store=(mimestore.modhandler postgres mimestore.dataservice "$PG_URI"
       mimestore.accesstoken "$PG_PASSWORD" mimestore.tablename public.nodes)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_node() {  # name -> sets port_<name>, pid_<name>
  local name=$1 port
  port=$(free_port)
  "$bin" method serverpop3 host 127.0.0.1 port "$port" password 12345 "${store[@]}" \
    > "$work/$name.out" 2> "$work/$name.err" &
  local pid=$!
  disown "$pid"  # killed on purpose below; no job-control noise
  pids+=("$pid")
  for _ in $(seq 100); do
    grep -q "POP3 on port $port" "$work/$name.out" 2>/dev/null && break
    sleep 0.1
  done
  grep -q "POP3 on port $port" "$work/$name.out" ||
    { cat "$work/$name.err"; echo "node $name did not start"; exit 1; }
  printf -v "port_$name" %s "$port"
  printf -v "pid_$name" %s "$pid"
}

start_node a
# The table exists now (the first node created it); fill alice's mailbox the way any other
# program may: plain SQL against the documented columns.
bash "$cluster" sql "$work/pg" "INSERT INTO public.nodes (mailbox, uidl, fingerprint, size, wire_size, payload)
  SELECT 'alice', 'm' || i, encode(sha256(p), 'hex'), length(p), length(p), p
  FROM (SELECT i, convert_to('Subject: message ' || i || E'\r\n\r\nbody ' || i || E'\r\n', 'UTF8') AS p
        FROM generate_series(1, 5) AS i) AS s" >/dev/null
start_node b

python3 - "$port_a" "$port_b" <<'PY'
import poplib, sys, threading
a, b = int(sys.argv[1]), int(sys.argv[2])
def login(port):
    p = poplib.POP3("127.0.0.1", port, timeout=30)
    p.user("alice")
    try:
        p.pass_("12345")
        return p, None
    except poplib.error_proto as e:
        return p, e.args[0]

# Concurrent logins to one mailbox on two nodes: exactly one wins, every round.
for round in range(10):
    results = [None, None]
    def go(i, port):
        results[i] = login(port)
    ts = [threading.Thread(target=go, args=(0, a)), threading.Thread(target=go, args=(1, b))]
    [t.start() for t in ts]; [t.join() for t in ts]
    won = [r for r in results if r[1] is None]
    lost = [r for r in results if r[1] is not None]
    assert len(won) == 1 and len(lost) == 1, (round, [r[1] for r in results])
    assert lost[0][1].startswith(b"-ERR [IN-USE]"), lost[0][1]
    for p, _ in results:
        p.quit()

# DELE + QUIT on node a is seen by the next session on node b.
p, err = login(a); assert err is None, err
assert p.stat()[0] == 5
p.dele(1)
assert p.quit().startswith(b"+OK")
p, err = login(b); assert err is None, err
uidls = [l.split()[1] for l in p.uidl()[1]]
assert uidls == [b"m2", b"m3", b"m4", b"m5"], uidls
assert p.retr(1)[1] == [b"Subject: message 2", b"", b"body 2"]
p.quit()
print("postgres_nodes: IN-USE race and cross-node DELE ok")
PY

# A node killed with SIGKILL mid-session (after DELE, before QUIT): its lock goes with its
# connection and nothing is deleted.
start_node c
python3 - "$port_c" "$work/c.fifo" <<'PY' &
import poplib, sys, time
p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=30)
p.user("alice"); p.pass_("12345"); p.dele(1)
open(sys.argv[2] + ".ready", "w").close()
time.sleep(120)
PY
client=$!
for _ in $(seq 300); do [ -e "$work/c.fifo.ready" ] && break; sleep 0.1; done
[ -e "$work/c.fifo.ready" ] || { echo "session on node c did not start"; exit 1; }
kill -9 "$pid_c"
kill "$client" 2>/dev/null || true
python3 - "$port_b" <<'PY'
import poplib, sys, time
deadline = time.time() + 60
while True:
    p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=30)
    p.user("alice")
    try:
        p.pass_("12345"); break
    except poplib.error_proto as e:
        assert e.args[0].startswith(b"-ERR [IN-USE]"), e.args[0]
        assert time.time() < deadline, "the killed node's lock was never released"
        p.close(); time.sleep(0.2)
assert p.stat()[0] == 4, p.stat()
p.quit()
print("postgres_nodes: SIGKILL mid-session released the lock, deleted nothing")
PY

# The database goes away mid-session: RETR and QUIT answer -ERR [SYS/TEMP]; after it comes
# back, every message is still there.
python3 - "$port_a" "$cluster" "$work/pg" <<'PY'
import poplib, subprocess, sys
p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=60)
p.user("alice"); p.pass_("12345")
assert p.stat()[0] == 4
p.dele(1)
subprocess.run(["bash", sys.argv[2], "stop", sys.argv[3]], check=True)
try:
    p.retr(2); raise AssertionError("RETR succeeded without a database")
except poplib.error_proto as e:
    assert e.args[0].startswith(b"-ERR [SYS/TEMP]"), e.args[0]
try:
    p.quit(); raise AssertionError("QUIT succeeded without a database")
except poplib.error_proto as e:
    assert e.args[0].startswith(b"-ERR [SYS/TEMP]"), e.args[0]
subprocess.run(["bash", sys.argv[2], "start", sys.argv[3]], check=True, stdout=subprocess.DEVNULL)
p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=60)
p.user("alice"); p.pass_("12345")
assert p.stat()[0] == 4, p.stat()
p.quit()
print("postgres_nodes: database outage gave [SYS/TEMP], lost nothing")
PY
echo "postgres_nodes: all checks passed"
