"""``audit --fix``: tag text rewritten in place; every other byte of the file stays as it was.

The one exception: a file nbcatalog generated gets its header's hash renewed, so that its next
``export`` replaces it without taking the fix for a hand edit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from nbcatalog.errors import BadInputError
from nbcatalog.exporters.common import restamp
from nbcatalog.profilefiles.model import Position
from nbcatalog.yamlio import atomic_write_text

_TAG_CHAR = re.compile(r"[\w.-]")


def rewrite_tags(path: str | Path, edits: Mapping[Position, tuple[str, str]], *, write: bool = True) -> tuple[str, str]:
    """Replace each tag at ``(line, col)`` (1-based) from ``old`` to ``new``; nothing else changes
    (but the hash in a generated file's header).

    Returns the old and new text. The old tag must still be there, whole, or nothing is written.
    """
    from nbcatalog.localfiles import read_text

    path = Path(path)
    before = read_text(path, what="the profile file", newline="")
    lines = before.splitlines(keepends=True)
    for (line_no, col), (old, new) in sorted(edits.items(), key=lambda item: (item[0][0], -item[0][1])):
        line = lines[line_no - 1] if 0 < line_no <= len(lines) else ""
        start = col - 1
        end = start + len(old)
        if line[start:end] != old or _TAG_CHAR.match(line[end : end + 1] or " "):
            raise BadInputError(
                f"expected tag {old!r} here; the file changed since it was read", where=f"{path}:{line_no}:{col}"
            )
        lines[line_no - 1] = line[:start] + new + line[end:]
    after = restamp(before, "".join(lines))
    if write and after != before:
        atomic_write_text(path, after)
    return before, after
