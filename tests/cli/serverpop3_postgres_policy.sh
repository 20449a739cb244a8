#!/usr/bin/env bash
# RFC 2449 LOGIN-DELAY and EXPIRE DAYS on the PostgreSQL store, two serverpop3 nodes
# (`logindelay 3600 expire 2`) on one table of a private cluster (tests/support/pg_cluster.sh),
# seen by python3 poplib: alice's login on node a is recorded in izypop3_logins, so her next
# login on node b is refused with -ERR [LOGIN-DELAY]; what she retrieved gets its retrieval
# time in the table (what she only listed does not), and once that time is more than two
# days old (set back by SQL, no waiting) the next session no longer lists the message and
# the row is gone.
set -euo pipefail
bin=${1:?usage: serverpop3_postgres_policy.sh /path/to/izypop3}
here=$(cd "$(dirname "$0")" && pwd)
cluster=$here/../support/pg_cluster.sh
work=$(mktemp -d /tmp/izypop3-pgpolicy.XXXXXX)
chmod 711 "$work"  # the cluster runs as the postgres user, which must enter it
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  bash "$cluster" destroy "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -5 "$work"/*.err >&2 2>/dev/null; exit 1; }

bash "$cluster" start "$work/pg" $$ > "$work/pg.env" || fail "PostgreSQL test cluster did not start"
# shellcheck disable=SC1090
. "$work/pg.env"
store=(mimestore.modhandler postgres mimestore.dataservice "$PG_URI"
       mimestore.accesstoken "$PG_PASSWORD" mimestore.tablename public.policy)
sql() { bash "$cluster" sql "$work/pg" "$1"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_node() {  # name -> sets port_<name>
  local name=$1 port
  port=$(free_port)
  "$bin" method serverpop3 host 127.0.0.1 port "$port" password 12345 logindelay 3600 \
    expire 2 "${store[@]}" > "$work/$name.out" 2> "$work/$name.err" &
  pids+=($!)
  for _ in $(seq 100); do
    grep -q "POP3 on port $port" "$work/$name.out" 2>/dev/null && break
    sleep 0.1
  done
  grep -q "POP3 on port $port" "$work/$name.out" || fail "node $name did not start"
  printf -v "port_$name" %s "$port"
}

start_node a
sql "INSERT INTO public.policy (mailbox, uidl, fingerprint, size, wire_size, payload)
  SELECT 'alice', 'm' || i, encode(sha256(p), 'hex'), length(p), length(p), p
  FROM (SELECT i, convert_to('Subject: message ' || i || E'\r\n\r\nbody ' || i || E'\r\n', 'UTF8') AS p
        FROM generate_series(1, 3) AS i) AS s" >/dev/null
start_node b

run_py() { python3 - "$port_a" "$port_b" "$1" <<'PY'
import poplib, sys
a, b, step = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def expect(got, want, what):
    if got != want:
        sys.exit(f"{what}: got {got!r}, want {want!r}")
def login(port):
    p = poplib.POP3("127.0.0.1", port, timeout=30)
    p.user("alice")
    p.pass_("12345")
    return p
if step == "first":
    p = login(a)
    caps = p.capa()
    expect((caps.get("EXPIRE"), caps.get("LOGIN-DELAY")), (["2"], ["3600"]), "CAPA")
    p.retr(2)
    p.top(3, 0)
    expect(p.quit().decode(), "+OK izypop3 signing off (nothing deleted)", "QUIT")
    p = poplib.POP3("127.0.0.1", b, timeout=30)
    p.user("alice")
    try:
        p.pass_("12345")
        sys.exit("second login on node b within LOGIN-DELAY was accepted")
    except poplib.error_proto as e:
        text = e.args[0].decode()
        if not text.startswith("-ERR [LOGIN-DELAY] Logged in too recently; the server allows "
                               "one login every 3600 seconds, try again in "):
            sys.exit(f"node b: {text!r}")
    p.quit()
else:
    p = login(b)
    uids = [l.decode().split()[1] for l in p.uidl()[1]]
    expect(uids, ["m1", "m3"], "alice's messages after EXPIRE 2 (m2 retrieved 3 days ago)")
    p.quit()
print("ok")
PY
}
run_py first || fail "first sessions"
[ "$(sql "SELECT string_agg(uidl || '=' || (retrieved IS NOT NULL)::text, ',' ORDER BY uidl) FROM public.policy")" = "m1=false,m2=true,m3=false" ] ||
  fail "retrieval times: $(sql "SELECT uidl, retrieved FROM public.policy")"
[ "$(sql "SELECT count(*) FROM public.izypop3_logins WHERE table_name = 'policy' AND mailbox = 'alice'")" = 1 ] ||
  fail "alice's login was not recorded in izypop3_logins"
grep -q "login of alice refused: LOGIN-DELAY 3600 s" "$work/b.err" || fail "node b did not log the refusal"

# Three days later, for the retrieval and for the last login.
sql "UPDATE public.policy SET retrieved = retrieved - interval '3 days' WHERE uidl = 'm2'" >/dev/null
sql "UPDATE public.izypop3_logins SET last_login = last_login - interval '3 days'" >/dev/null
run_py later || fail "session after three days"
[ "$(sql "SELECT string_agg(uidl, ',' ORDER BY uidl) FROM public.policy")" = "m1,m3" ] ||
  fail "m2's row is still there: $(sql "SELECT uidl FROM public.policy")"
echo "serverpop3 LOGIN-DELAY and EXPIRE DAYS on PostgreSQL: ok"
