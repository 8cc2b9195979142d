"""Release notes in Markdown from a package diff: what changes for users when an image moves on.

An admin pastes these into an announcement, so they lead with what users notice (Python,
JupyterLab, the frameworks, CUDA, R: :data:`DEFAULT_HIGHLIGHTS`), then give each ecosystem's
changes as a table. Every name and version comes from an image, which anyone who can push to the
registry wrote: each is escaped twice, for the terminal (:func:`nbcatalog.safetext.safe_text`) and
for Markdown (:func:`markdown_text`), so a package called ``x|y`` or ``[click](http://…)`` stays
one cell of plain text and never becomes a link, an image, raw HTML or a broken table.

Kept apart from the CLI so that ``diff --format markdown`` and the upgrade plan write the same notes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from nbcatalog.diff import CHANGE_KINDS, Change, pep503_name, summarise
from nbcatalog.safetext import safe_text

#: Packages users notice first, compared by PEP 503 normal form (lower case, ``_`` and ``.`` as ``-``).
DEFAULT_HIGHLIGHTS = (
    "python",
    "jupyterlab",
    "notebook",
    "jupyter-server",
    "jupyterhub",
    "ipykernel",
    "torch",
    "tensorflow",
    "jax",
    "cuda-version",
    "cuda-runtime",
    "cudnn",
    "r-base",
    "r-base-core",
    "rstudio-server",
    "code-server",
)

#: Characters Markdown (CommonMark and GitHub's tables) gives a meaning to in the middle of a line:
#: emphasis, code, links and images (``[``), raw HTML and autolinks, entities, strikethrough, cell
#: borders. Each becomes a backslash escape. Line-start markers (``#``, ``-``, ``1.``) need none:
#: no value ever starts a line here.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|~&])")


@dataclass(frozen=True, slots=True)
class Side:
    """One image of the comparison, as the notes name it."""

    reference: str
    digest: str
    platform: str


def markdown_text(value: object) -> str:
    """``value`` as literal Markdown text: terminal controls escaped visibly, Markdown's own
    characters backslash-escaped, so it renders as exactly the characters the image holds."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", safe_text(value))


def highlights(changes: Iterable[Change], wanted: Sequence[str] = DEFAULT_HIGHLIGHTS) -> list[Change]:
    """The changes of the ``wanted`` packages, in ``wanted``'s order (then ecosystem order)."""
    rank = {pep503_name(name): i for i, name in enumerate(wanted)}
    chosen = [c for c in changes if pep503_name(c.name) in rank]
    return sorted(chosen, key=lambda c: rank[pep503_name(c.name)])


def _versions(change: Change) -> tuple[str, str]:
    before = change.a_version or ""
    after = change.b_version or ""
    if change.change == "changed" and (change.a_extra or change.b_extra):
        before += f" (build {change.a_extra or ''})"
        after += f" (build {change.b_extra or ''})"
    return before, after


def _highlight_line(change: Change) -> str:
    before, after = _versions(change)
    name = markdown_text(change.name)
    if change.change == "added":
        return f"- **{name}** {markdown_text(after)} is new"
    if change.change == "removed":
        return f"- **{name}** {markdown_text(before)} is gone"
    return f"- **{name}** {markdown_text(before)} → {markdown_text(after)} ({change.change})"


def diff_markdown(a: Side, b: Side, changes: Sequence[Change], wanted: Sequence[str] = DEFAULT_HIGHLIGHTS) -> str:
    """The notes for moving from ``a`` to ``b``: a heading, the highlights, a table per ecosystem."""
    lines = [
        f"## {markdown_text(a.reference)} → {markdown_text(b.reference)}",
        "",
        f"- before: {markdown_text(a.reference)} ({markdown_text(a.digest)}, {markdown_text(a.platform)})",
        f"- after: {markdown_text(b.reference)} ({markdown_text(b.digest)}, {markdown_text(b.platform)})",
        "",
    ]
    if not changes:
        return "\n".join([*lines, "No package changes.", ""])
    counts = summarise(changes)
    total = ", ".join(
        f"{sum(per.get(kind, 0) for per in counts.values())} {kind}"
        for kind in CHANGE_KINDS
        if any(kind in per for per in counts.values())
    )
    lines += [f"Package changes: {total}.", ""]
    chosen = highlights(changes, wanted)
    if chosen:
        lines += ["### Highlights", "", *(_highlight_line(c) for c in chosen), ""]
    for ecosystem, per_kind in counts.items():
        summary = ", ".join(f"{per_kind[kind]} {kind}" for kind in CHANGE_KINDS if kind in per_kind)
        lines += [f"### {markdown_text(ecosystem)}: {summary}", "", "| package | before | after | change | location |"]
        lines.append("| --- | --- | --- | --- | --- |")
        for change in (c for c in changes if c.ecosystem == ecosystem):
            before, after = _versions(change)
            cells = [change.name, before, after, change.change, change.location]
            lines.append("| " + " | ".join(markdown_text(cell) for cell in cells) + " |")
        lines.append("")
    return "\n".join(lines)
