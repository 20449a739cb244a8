#!/usr/bin/env bash
# docs/cli.md must be exactly what `izypop3 help markdown` prints, so the reference cannot
# drift from the option tables it is generated from.
# usage: bash docs_in_sync.sh /path/to/izypop3
set -u
bin=${1:?usage: bash docs_in_sync.sh /path/to/izypop3}
root=$(cd "$(dirname "$0")/../.." && pwd)
doc="$root/docs/cli.md"
generated=$(mktemp)
trap 'rm -f "$generated"' EXIT

if ! "$bin" help markdown >"$generated"; then
    echo "FAIL: '$bin help markdown' failed" >&2
    exit 1
fi
if ! diff -u "$doc" "$generated"; then
    echo "FAIL: docs/cli.md differs from 'izypop3 help markdown' (diff above: - file, + generated)." >&2
    echo "Regenerate it with:  $bin help markdown > $doc" >&2
    exit 1
fi
echo "docs_in_sync: docs/cli.md matches 'izypop3 help markdown'"
