"""``nbcatalog diff REF_A REF_B``: packages added, removed, upgraded, downgraded or changed.

As a table for people, one JSON document for scripts, or Markdown release notes to paste into an
announcement (:mod:`nbcatalog.releasenotes`).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from nbcatalog.cli.packages import add_ecosystem_option, print_warnings, progress_for, resolve_argument

if TYPE_CHECKING:
    from nbcatalog.diff import Change
    from nbcatalog.packages.result import ImagePackages

_MARKS = {
    "added": ("+", "green"),
    "removed": ("-", "red"),
    "upgraded": ("↑", "cyan"),
    "downgraded": ("↓", "yellow"),
    "changed": ("~", "blue"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("reference_a", metavar="REF_A", help="the old image (a reference or catalog name)")
    parser.add_argument("reference_b", metavar="REF_B", help="the new image")
    add_ecosystem_option(parser)
    parser.add_argument(
        "--format",
        choices=FORMATS,
        dest="output_format",
        help="table (default), json (as --json) or markdown: release notes for users",
    )


FORMATS = ("table", "json", "markdown")


def _side(result: ImagePackages) -> dict[str, Any]:
    return {"reference": result.reference, "digest": result.digest, "platform": result.platform}


def _print_human(a: ImagePackages, b: ImagePackages, changes: list[Change]) -> None:
    from nbcatalog.cli.output import short_digest, style
    from nbcatalog.diff import CHANGE_KINDS, summarise
    from nbcatalog.safetext import safe_text

    print(f"{style('a', 'bold')} {safe_text(a.reference)}  {safe_text(short_digest(a.digest))}")
    print(f"{style('b', 'bold')} {safe_text(b.reference)}  {safe_text(short_digest(b.digest))}")
    if not changes:
        print("no package changes")
        return
    for ecosystem, counts in summarise(changes).items():
        text = ", ".join(f"{counts[kind]} {kind}" for kind in CHANGE_KINDS if kind in counts)
        print(f"\n{style(ecosystem, 'bold', 'cyan')}: {safe_text(text)}")
        rows = [c for c in changes if c.ecosystem == ecosystem]
        width = max(len(safe_text(c.name)) for c in rows)
        for change in rows:
            mark, colour = _MARKS[change.change]
            if change.change == "added":
                versions = change.b_version or ""
            elif change.change == "removed":
                versions = change.a_version or ""
            else:
                versions = f"{change.a_version} → {change.b_version}"
                if change.a_extra or change.b_extra:
                    versions += f" (build {change.a_extra} → {change.b_extra})"
            where = style(change.location, "dim")
            print(f"  {style(mark, colour)} {safe_text(change.name).ljust(width)}  {safe_text(versions)}  {where}")


def run(args: argparse.Namespace) -> int:
    import asyncio

    from nbcatalog.cli.common import open_session, output_format, run_bounded
    from nbcatalog.cli.output import print_json
    from nbcatalog.diff import diff_packages, summarise
    from nbcatalog.packages.image import image_packages

    chosen = output_format(args.json, args.output_format, "table")
    ref_a = resolve_argument(args.reference_a, args.catalog)
    ref_b = resolve_argument(args.reference_b, args.catalog)
    progress = progress_for(args) if chosen == "table" else None

    found: list[ImagePackages] = []

    async def work() -> None:
        # Beside the task, not its result: asyncio.run (3.11) formats that repr, every package in it.
        async with open_session(args) as session:
            found.extend(
                await asyncio.gather(
                    image_packages(session, ref_a, args.ecosystem, progress=progress),
                    image_packages(session, ref_b, args.ecosystem, progress=progress),
                )
            )

    try:
        run_bounded(work())
    finally:
        if progress is not None:
            progress.clear()
    a, b = found
    print_warnings(a.warnings + [w for w in b.warnings if w not in a.warnings])
    changes = diff_packages(a.packages, b.packages)
    if chosen == "markdown":
        from nbcatalog.releasenotes import Side, diff_markdown

        sides = [Side(r.reference, r.digest, r.platform) for r in (a, b)]
        sys.stdout.write(diff_markdown(sides[0], sides[1], changes))
    elif chosen == "json":
        print_json(
            {
                "a": _side(a),
                "b": _side(b),
                "changes": [change.to_json() for change in changes],
                "summary": summarise(changes),
            }
        )
    else:
        _print_human(a, b, changes)
    return 0
