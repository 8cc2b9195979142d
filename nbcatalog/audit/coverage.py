"""What the audit read and what it could not: coverage as findings and as an inventory.

"No findings" must never stand for "read nothing". A profile source nbcatalog could not read in
full (a ``profile_list`` built by a function, Python in ``hub.extraConfig``, helm template syntax,
a shape it does not know) is a warning of its own, ``unreadable-profiles``, naming file and line:
its images went unaudited and the admin should know. A z2jh values file with no image at all (a
per-hub overlay that sets only resources) is valid and merely said, as an ``info`` ``no-images``.

:func:`references` is the inventory ``audit --json`` prints: every image reference read, where it
is, so an empty list is visible rather than implied.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from nbcatalog.audit.rules import Finding
from nbcatalog.profilefiles import ProfileImage, iter_unique
from nbcatalog.profilefiles.model import Unread
from nbcatalog.tagfamilies import Severity

#: How much each kind of gap weighs: unread images are a hole in the audit; an overlay without
#: images is a fact about the file.
COVERAGE_SEVERITY: dict[str, Severity] = {"unreadable-profiles": "warning", "no-images": "info"}


def coverage_findings(unread: Iterable[Unread]) -> list[Finding]:
    """One finding per place nbcatalog could not read (or found without images)."""
    out: dict[tuple[str, int, int, str], Finding] = {}
    for gap in unread:
        key = (gap.path, gap.line, gap.col, gap.kind)
        out.setdefault(
            key,
            Finding(
                path=gap.path,
                line=gap.line,
                image="",
                kind=gap.kind,
                severity=COVERAGE_SEVERITY[gap.kind],
                current=None,
                suggested=None,
                message=gap.message,
                col=gap.col,
            ),
        )
    return list(out.values())


def references(records: Sequence[ProfileImage]) -> list[dict[str, Any]]:
    """Every image reference read, once per place (anchors make one spelling serve many profiles)."""
    out = []
    for record in iter_unique(records):
        entry: dict[str, Any] = {
            "path": record.path,
            "line": record.line,
            "column": record.col,
            "image": record.image,
            "kind": record.kind,
            "context": record.context,
        }
        if record.template:
            entry["template"] = True
        if record.inherited:
            entry["inherited"] = True
        out.append(entry)
    return out
