"""Debian control / R DCF paragraphs: ``Field: value`` lines, continuations indented, blank-line separated.

Shared by the dpkg and R parsers; only the fields asked for are kept, so multi-megabyte
``status`` files with long descriptions parse quickly.
"""

from __future__ import annotations

from collections.abc import Iterator


def paragraphs(text: str, fields: frozenset[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (first line number, {field: value}) per paragraph, keeping only ``fields``."""
    current: dict[str, str] = {}
    start = 0
    last: str | None = None
    # Only "\n" ends a line, as for dpkg: splitlines() would also split at \f, \x1c or U+2028 inside a
    # description, and the text after one would be read as a field (a package could fake its version).
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip(" \t\r"):
            if current:
                yield start, current
                current = {}
            start = 0
            last = None
            continue
        if not start:
            start = number
        if line[0] in " \t":
            if last is not None:
                current[last] += "\n" + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep:
            current.setdefault("\0malformed", str(number))
            last = None
            continue
        key = key.strip()
        if key in fields:
            current[key] = value.strip()
            last = key
        else:
            last = None
    if current:
        yield start, current
