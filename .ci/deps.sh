#!/usr/bin/env bash
# Installs the Debian 12 packages izypop3 needs to build and test, only those missing.
# Usage: .ci/deps.sh [build|test]   (test adds the tools the test suite drives)
set -euo pipefail
want=(cmake ninja-build g++ pkg-config ccache libboost1.81-dev libboost-program-options1.81-dev
      libboost-json1.81-dev
      libssl-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev openssl
      libcrypt-dev libpq-dev)
if [ "${1:-build}" = test ]; then
  # The real peers and services the tests start for themselves: PostgreSQL for the
  # postgres store, Dovecot as a reference server and hash maker, the POP3 clients of
  # the interop tests, HAProxy in front of the server (PROXY protocol), hyperfine and strace
  # for the benchmarks, prometheus-client's parser for /metrics, systemd-analyze for the unit,
  # and Chromium (headless) to load the HTML pages izypop3 writes.
  want+=(clang libclang-rt-14-dev python3 curl postgresql-15 dovecot-core dovecot-pop3d
         mpop fetchmail getmail6 haproxy hyperfine strace python3-cryptography
         python3-prometheus-client systemd chromium)
fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "izypop3: installing missing packages: ${missing[*]}" >&2
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
# The tests start their own PostgreSQL and Dovecot on private ports; the packages' own
# services must not start at install time (policy-rc.d exit 101 = "not now").
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod 755 /usr/sbin/policy-rc.d
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
