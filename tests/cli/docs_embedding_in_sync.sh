#!/usr/bin/env bash
# docs/embedding.md quotes the example of tests/integration/test_server_hooks.cpp (the lines
# between the "[embedding example]" markers) in its first C++ block; the quote must be the
# code the test compiles and runs, so the document cannot drift from a working program.
# usage: bash docs_embedding_in_sync.sh [/path/to/izypop3]   (the binary is not needed)
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
test_src="$root/tests/integration/test_server_hooks.cpp"
doc="$root/docs/embedding.md"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

sed -n '/\[embedding example\]/,/\[embedding example end\]/p' "$test_src" | sed '1d;$d' > "$work/test"
awk '/^```cpp$/ { if (!done) { inside = 1; next } } /^```$/ { if (inside) { inside = 0; done = 1 } } inside' "$doc" > "$work/doc"
if [ ! -s "$work/test" ]; then
  echo "FAIL: no '[embedding example]' block in $test_src" >&2
  exit 1
fi
if ! diff -u "$work/doc" "$work/test"; then
  echo "FAIL: the first C++ block of docs/embedding.md differs from the example in" >&2
  echo "      tests/integration/test_server_hooks.cpp (diff above: - doc, + test); copy the" >&2
  echo "      lines between the [embedding example] markers into the document." >&2
  exit 1
fi
echo "docs_embedding_in_sync: docs/embedding.md quotes the compiled example"
