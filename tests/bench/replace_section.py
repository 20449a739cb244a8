#!/usr/bin/env python3
"""Replaces one '## ' section of docs/benchmarks.md with new text, keeping the others.

Several benchmark scripts write to the same document; each owns the section under its own
heading, so running one script never erases another's figures.
Usage: replace_section.py DOC 'HEADING LINE' NEW_TEXT_FILE
"""
import pathlib
import sys


def main() -> int:
    doc, heading, text_file = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    new = pathlib.Path(text_file).read_text().rstrip("\n") + "\n"
    if not heading.startswith("## ") or not new.startswith(heading + "\n"):
        sys.exit("replace_section.py: the new text must begin with its own '## ' heading line")
    old = doc.read_text() if doc.exists() else (
        "# Benchmarks\n\nEach section is written by the script it names; do not edit by hand.\n"
        "Figures are measured side by side in one run on a shared machine: compare ratios.\n")
    lines = old.splitlines(keepends=True)
    start = next((i for i, l in enumerate(lines) if l.rstrip("\n") == heading), None)
    if start is None:
        out = old.rstrip("\n") + "\n\n" + new
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
                   len(lines))
        rest = "".join(lines[end:])
        out = "".join(lines[:start]) + new + ("\n" + rest if rest else "")
    doc.write_text(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
