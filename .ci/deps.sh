#!/usr/bin/env bash
# Installs the Debian 12 packages izypop3 needs to build and test, only those missing.
# Usage: .ci/deps.sh [build|test]   (test adds the tools the test suite drives)
set -euo pipefail
want=(cmake ninja-build g++ pkg-config ccache libboost1.81-dev libboost-program-options1.81-dev
      libssl-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev openssl)
if [ "${1:-build}" = test ]; then
  want+=(clang libclang-rt-14-dev python3 curl)
fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "izypop3: installing missing packages: ${missing[*]}" >&2
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
