#!/usr/bin/env bash
# Runs izypop3, building it first when needed (installing missing Debian packages), so a
# fresh clone can go straight to: apps/izypop3/izypop3.sh method serverpop3 port 1110 ...
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$root/build/release"
"$root/.ci/deps.sh" build
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >&2
fi
cmake --build "$build" --target izypop3 >&2
exec "$build/apps/izypop3/izypop3" "$@"
