#!/usr/bin/env bash
# A private Dovecot POP3 server for tests and benchmarks: its own configuration, base_dir,
# logs and Maildirs under one directory, listening on loopback ports chosen free, never the
# system's Dovecot or its ports. Installs dovecot-core and dovecot-pop3d when missing
# (without starting the system service) and fails, never skips, when it cannot.
#
#   private_dovecot.sh start DIR USER PASSWORD   starts it; prints "pop3=PORT pop3s=PORT"
#                                                and writes DIR/ports.env (POP3_PORT=..,
#                                                POP3S_PORT=..); mail of USER is in
#                                                DIR/mail/USER (a Maildir), owned by nobody
#   private_dovecot.sh deliver DIR USER FILE     delivers FILE with Dovecot's own LDA
#   private_dovecot.sh restart DIR               stops and starts it again with the same
#                                                configuration, ports and certificate
#   private_dovecot.sh stop DIR                  stops it (also safe when not running)
#
# PRIVATE_DOVECOT_EXTRA, when set at start, is appended to the configuration (benchmarks
# raise process limits with it). PRIVATE_DOVECOT_USERS, when set at start, names a
# passwd-file (user:{SCHEME}secret lines) that Dovecot reads as its passdb instead of the
# one-user file it writes (benchmarks give both servers the same users file).
set -euo pipefail

die() { echo "private_dovecot: $*" >&2; exit 1; }

install_dovecot() {
  command -v dovecot >/dev/null && [ -x /usr/lib/dovecot/pop3 ] && return 0
  # A container has no init; make sure the package scripts do not try to start a service.
  [ -e /usr/sbin/policy-rc.d ] || printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends dovecot-core dovecot-pop3d >&2 ||
    die "cannot install dovecot-core and dovecot-pop3d with apt-get; install them by hand"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

write_config() {
  local dir=$1 pop3=$2 pop3s=$3
  cat > "$dir/dovecot.conf" <<CONF
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
protocols = pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <$dir/cert.pem
ssl_key = <$dir/key.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5 scram-sha-1 scram-sha-256 apop
default_login_user = dovenull
default_internal_user = dovecot
mail_location = maildir:$dir/mail/%u
pop3_uidl_format = %f
first_valid_uid = 1
service pop3-login {
  inet_listener pop3 {
    port = $pop3
  }
  inet_listener pop3s {
    port = $pop3s
    ssl = yes
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN ${PRIVATE_DOVECOT_USERS:-$dir/passwd}
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$dir/home/%u
}
${PRIVATE_DOVECOT_EXTRA:-}
CONF
}

start() {
  local dir=$1 user=$2 pass=$3
  install_dovecot
  mkdir -p "$dir"/{run,state,home,mail/"$user"/{cur,new,tmp}}
  dir=$(cd "$dir" && pwd)
  # Dovecot's login and auth processes run as other users; they must reach the sockets.
  chmod 755 "$dir" "$dir/run"
  chown -R nobody:nogroup "$dir/mail" "$dir/home"
  printf '%s:{PLAIN}%s\n' "$user" "$pass" > "$dir/passwd"
  chmod 644 "$dir/passwd"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=localhost -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
  local pop3 pop3s
  pop3=$(free_port); pop3s=$(free_port)
  [ "$pop3" != "$pop3s" ] || pop3s=$(free_port)
  write_config "$dir" "$pop3" "$pop3s"
  local users=${PRIVATE_DOVECOT_USERS:-$dir/passwd}
  runuser -u dovecot -- test -r "$users" ||
    die "Dovecot's auth process (user dovecot) cannot read $users: it needs o+r and every directory above it o+x (mktemp -d makes 0700 ones)"
  dovecot -c "$dir/dovecot.conf" || die "dovecot did not start; see $dir/dovecot.log"
  wait_for_greeting "$pop3"
  printf 'POP3_PORT=%s\nPOP3S_PORT=%s\n' "$pop3" "$pop3s" > "$dir/ports.env"
  echo "pop3=$pop3 pop3s=$pop3s"
}

wait_for_greeting() {
  for _ in $(seq 1 100); do
    python3 - "$1" <<'PY' && break
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
    ok = s.recv(100).startswith(b"+OK")
except OSError:
    ok = False
sys.exit(0 if ok else 1)
PY
    sleep 0.1
  done
}

restart() {
  local dir=$1
  stop "$dir"
  for _ in $(seq 1 100); do
    [ -f "$dir/run/master.pid" ] && kill -0 "$(cat "$dir/run/master.pid")" 2>/dev/null || break
    sleep 0.1
  done
  dovecot -c "$dir/dovecot.conf" || die "dovecot did not start again; see $dir/dovecot.log"
  . "$dir/ports.env"
  wait_for_greeting "$POP3_PORT"
}

deliver() {
  local dir=$1 user=$2 file=$3
  /usr/lib/dovecot/dovecot-lda -c "$dir/dovecot.conf" -d "$user" -f sender@example.org < "$file"
}

stop() {
  local dir=$1
  [ -f "$dir/dovecot.conf" ] || return 0
  doveadm -c "$dir/dovecot.conf" stop 2>/dev/null || true
  [ -f "$dir/run/master.pid" ] && kill "$(cat "$dir/run/master.pid")" 2>/dev/null || true
}

case "${1:-}" in
  start) [ $# -eq 4 ] || die "usage: $0 start DIR USER PASSWORD"; start "$2" "$3" "$4" ;;
  deliver) [ $# -eq 4 ] || die "usage: $0 deliver DIR USER FILE"; deliver "$2" "$3" "$4" ;;
  restart) [ $# -eq 2 ] || die "usage: $0 restart DIR"; restart "$2" ;;
  stop) [ $# -eq 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
  *) die "usage: $0 start DIR USER PASSWORD | deliver DIR USER FILE | restart DIR | stop DIR" ;;
esac
