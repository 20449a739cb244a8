#!/usr/bin/env bash
# A private PostgreSQL 15 cluster for tests: its own data directory, a unix socket inside
# that directory and a loopback TCP port chosen free, never the system's cluster or port.
# Installs postgresql-15 when it is missing (without starting the system service) and
# fails, never skips, when it cannot. As root, the server runs as the "postgres" user (or
# nobody), because PostgreSQL refuses to run as root.
#
#   pg_cluster.sh start DIR [OWNER_PID]  creates the cluster in DIR (if new) and starts it;
#                                        prints the connection settings (see `env`). With
#                                        OWNER_PID, a watchdog stops the cluster and deletes
#                                        DIR when that process dies (a crashed test leaves
#                                        no server behind).
#   pg_cluster.sh env DIR                prints, one per line (values with shell
#                                        specials single-quoted: the output can be sourced):
#                                          PG_URI=postgresql://izypop3_test@127.0.0.1:PORT/izypop3_test
#                                          PG_SOCKET_URI=postgresql:///izypop3_test?host=DIR/socket&port=PORT&user=izypop3_test
#                                          PG_PASSWORD=...   (random, per cluster)
#                                          PG_PORT=PORT
#                                          PG_SOCKET_DIR=DIR/socket
#                                          PG_USER=izypop3_test
#                                          PG_DATABASE=izypop3_test
#   pg_cluster.sh sql DIR SQL            runs SQL as the superuser in izypop3_test; prints
#                                        rows unaligned, fields separated by '|'
#   pg_cluster.sh stop DIR               stops the server (fast shutdown: sessions are cut),
#                                        keeps the data; `start DIR` brings it back on the
#                                        same port
#   pg_cluster.sh destroy DIR            stops the server and deletes DIR
#
# initdb runs once per machine into a template (under ${IZYPOP3_PG_CACHE:-~/.cache/izypop3});
# each cluster is a copy of it, so a test process gets its own server in well under a second.
set -euo pipefail

readonly pg_version=15
readonly template_revision=2  # bump when the template's contents change
readonly test_role=izypop3_test
readonly test_db=izypop3_test

die() { echo "pg_cluster: $*" >&2; exit 1; }

bindir=/usr/lib/postgresql/$pg_version/bin

install_postgres() {
  [ -x "$bindir/initdb" ] && return 0
  [ "$(id -u)" -eq 0 ] ||
    die "PostgreSQL $pg_version is not installed ($bindir/initdb is missing); run: sudo apt-get install postgresql-$pg_version"
  # A container has no init; make sure the package scripts do not try to start a service.
  [ -e /usr/sbin/policy-rc.d ] || printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "postgresql-$pg_version" >&2 ||
    die "cannot install postgresql-$pg_version with apt-get; install it by hand"
  [ -x "$bindir/initdb" ] || die "postgresql-$pg_version installed but $bindir/initdb is missing"
}

# The OS user the server runs as, and how to run a command as that user.
if [ "$(id -u)" -eq 0 ]; then
  if id postgres >/dev/null 2>&1; then server_user=postgres; else server_user=nobody; fi
  as_server() { runuser -u "$server_user" -- "$@"; }
else
  server_user=$(id -un)
  as_server() { "$@"; }
fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# The superuser reaches the cluster only through the socket, which lives in a directory
# that only the server's user (and root) can enter.
superuser_sql() {
  local dir=$1 port=$2 db=$3 sql=$4
  as_server "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -At -h "$dir" -p "$port" -U postgres \
    -d "$db" -c "$sql"
}

make_template() {
  local template=$1 work
  # Built under /tmp, which the server's user can enter (the cache may be in root's home).
  work=$(mktemp -d /tmp/izypop3-pg-template.XXXXXX)
  chown "$server_user" "$work"
  # 1 MiB WAL segments and no "postgres" database keep the copy each cluster starts from
  # small (about 23 MB instead of 46).
  as_server "$bindir/initdb" -D "$work/data" -U postgres --auth-local=trust \
    --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 --wal-segsize=1 \
    >"$work/initdb.log" 2>&1 ||
    die "initdb failed; see $work/initdb.log"
  cat > "$work/data/pg_hba.conf" <<'HBA'
# izypop3 test cluster: the superuser only over the private socket, everyone else with a
# password (SCRAM), over the socket or loopback TCP.
local all postgres               trust
local all all                    scram-sha-256
host  all all      127.0.0.1/32  scram-sha-256
HBA
  mkdir -p "$work/socket"
  chown "$server_user" "$work/socket"
  local port
  port=$(free_port)
  as_server "$bindir/pg_ctl" -D "$work/data" -w -t 120 -l "$work/setup.log" \
    -o "-p $port -k $work/socket -c listen_addresses=" start >/dev/null ||
    die "the template cluster did not start; see $work/setup.log"
  if ! { superuser_sql "$work/socket" "$port" postgres "CREATE ROLE $test_role LOGIN" &&
         superuser_sql "$work/socket" "$port" postgres "CREATE DATABASE $test_db OWNER $test_role" &&
         superuser_sql "$work/socket" "$port" "$test_db" "DROP DATABASE postgres"; }; then
    as_server "$bindir/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
    die "cannot create the test role and database in the template cluster ($work)"
  fi
  as_server "$bindir/pg_ctl" -D "$work/data" -w -t 120 -m fast stop >/dev/null
  rm -rf "$template.new"
  cp -a "$work/data" "$template.new"
  mv "$template.new" "$template"
  rm -rf "$work"
}

ensure_template() {
  local cache=${IZYPOP3_PG_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp/izypop3-$(id -u)}/.cache}/izypop3}
  template=$cache/pg$pg_version-template-r$template_revision-$server_user
  [ -f "$template/PG_VERSION" ] && return 0
  mkdir -p "$cache"
  chmod 700 "$cache"
  # Several test processes may start at once; one builds the template, the others wait.
  exec 9>"$cache/pg$pg_version-template.lock"
  flock -w 300 9 || die "waited 5 minutes for another process building $template"
  [ -f "$template/PG_VERSION" ] || make_template "$template"
  exec 9>&-
}

write_env() {
  local dir=$1 port=$2 password=$3
  {
    echo "PG_URI='postgresql://$test_role@127.0.0.1:$port/$test_db'"
    echo "PG_SOCKET_URI='postgresql:///$test_db?host=$dir/socket&port=$port&user=$test_role'"
    echo "PG_PASSWORD=$password"
    echo "PG_PORT=$port"
    echo "PG_SOCKET_DIR='$dir/socket'"
    echo "PG_USER=$test_role"
    echo "PG_DATABASE=$test_db"
  } > "$dir/cluster.env"
  chmod 600 "$dir/cluster.env"
}

env_value() { sed -n "s/^$2=//p" "$1/cluster.env"; }

start_server() {
  local dir=$1 port=$2
  as_server "$bindir/pg_ctl" -D "$dir/data" -w -t 120 -l "$dir/postgres.log" \
    -o "-p $port -k $dir/socket -c listen_addresses=127.0.0.1 -c fsync=off -c unix_socket_permissions=0700 -c max_connections=200" \
    start >/dev/null
}

watchdog() {
  local dir=$1 owner=$2
  while kill -0 "$owner" 2>/dev/null; do sleep 1; done
  as_server "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

start() {
  local dir=$1 owner=${2:-}
  install_postgres
  command -v python3 >/dev/null || die "python3 is needed to pick a free port"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local sock_path="$dir/socket/.s.PGSQL.65535"
  [ ${#sock_path} -lt 100 ] || die "DIR is too long for a unix socket path ($sock_path); use a shorter one"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    ensure_template
    chown "$server_user" "$dir"
    chmod 700 "$dir"
    as_server test -x "$dir" ||
      die "the server's user ($server_user) cannot enter $dir: every directory above it needs o+x"
    cp -a --reflink=auto "$template" "$dir/data"
    mkdir -p "$dir/socket"
    chown "$server_user" "$dir/socket"
    chmod 700 "$dir/socket"
  fi
  local port password tries=0
  if [ -f "$dir/cluster.env" ]; then
    port=$(env_value "$dir" PG_PORT)
    start_server "$dir" "$port" || die "the cluster in $dir did not start again on port $port; see $dir/postgres.log"
  else
    # The port is free when picked; another program may take it before the server binds.
    until port=$(free_port) && start_server "$dir" "$port"; do
      tries=$((tries + 1))
      [ "$tries" -lt 3 ] || die "the cluster in $dir did not start; see $dir/postgres.log"
    done
    password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    superuser_sql "$dir/socket" "$port" "$test_db" \
      "ALTER ROLE $test_role PASSWORD '$password';" >/dev/null ||
      die "cannot set the test role's password"
    write_env "$dir" "$port" "$password"
  fi
  if [ -n "$owner" ]; then
    # Detached from the caller's pipes, so a caller reading our output sees its end.
    ( trap '' HUP; watchdog "$dir" "$owner" ) </dev/null >/dev/null 2>&1 &
    echo $! > "$dir/watchdog.pid"
  fi
  cat "$dir/cluster.env"
}

stop() {
  local dir=$1
  [ -f "$dir/data/PG_VERSION" ] || return 0
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_server "$bindir/pg_ctl" -D "$dir/data" -w -t 120 -m fast stop >/dev/null ||
      die "the cluster in $dir did not stop; see $dir/postgres.log"
  fi
}

destroy() {
  local dir=$1
  [ -d "$dir" ] || return 0
  if [ -f "$dir/watchdog.pid" ]; then
    kill "$(cat "$dir/watchdog.pid")" 2>/dev/null || true
  fi
  # Immediate: the data is deleted next, so there is nothing to checkpoint.
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_server "$bindir/pg_ctl" -D "$dir/data" -w -t 120 -m immediate stop >/dev/null ||
      die "the cluster in $dir did not stop; see $dir/postgres.log"
  fi
  rm -rf "$dir"
}

sql() {
  local dir=$1
  [ -f "$dir/cluster.env" ] || die "no cluster in $dir"
  superuser_sql "$dir/socket" "$(env_value "$dir" PG_PORT)" "$test_db" "$2"
}

cmd=${1:-}
case "$cmd" in
  start) [ $# -ge 2 ] || die "usage: pg_cluster.sh start DIR [OWNER_PID]"; start "$2" "${3:-}" ;;
  env) [ $# -eq 2 ] || die "usage: pg_cluster.sh env DIR"; cat "$2/cluster.env" ;;
  sql) [ $# -eq 3 ] || die "usage: pg_cluster.sh sql DIR SQL"; sql "$2" "$3" ;;
  stop) [ $# -eq 2 ] || die "usage: pg_cluster.sh stop DIR"; stop "$2" ;;
  destroy) [ $# -eq 2 ] || die "usage: pg_cluster.sh destroy DIR"; destroy "$2" ;;
  *) die "usage: pg_cluster.sh start|env|sql|stop|destroy DIR ..." ;;
esac
