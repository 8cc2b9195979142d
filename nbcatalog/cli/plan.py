"""``nbcatalog plan [NAME ...] [--to TAG]``: what moving each image to its next tag costs and changes.

A table for people (one row per image, the node disk below it), one JSON document for scripts, or
Markdown release notes to paste into an announcement. The domain is :mod:`nbcatalog.plan`.

Exit codes: 0 every image was planned (risky ones too: a risk is information, not a failure); 1 some
image could not be planned (its registry failed, ``--to`` names a tag it lacks); 2 bad input (an
unknown NAME, a malformed ``--to``, an unreadable catalog).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from nbcatalog.errors import EXIT_FAILED, EXIT_OK

if TYPE_CHECKING:
    from nbcatalog.plan import CatalogPlan, ImagePlan

FORMATS = ("table", "json", "markdown")
_MARKS = (("added", "+"), ("removed", "-"), ("upgraded", "↑"), ("downgraded", "↓"), ("changed", "~"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="*", metavar="NAME", help="catalog entries to plan (default: every one)")
    parser.add_argument("--to", metavar="TAG", help="plan the move to this tag (default: the newest under tag_policy)")
    parser.add_argument(
        "--highlight", action="append", metavar="PACKAGE[,PACKAGE]",
        help="packages to single out (repeatable, comma-separated; 'default' is the built-in list, "
        "which these replace otherwise)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="same as --format json")
    parser.add_argument("--format", choices=FORMATS, dest="output_format", help="output format (default table)")


def highlight_names(given: Sequence[str] | None) -> tuple[str, ...]:
    """``--highlight`` values as one list; none given (or the word ``default``) is the built-in list."""
    from nbcatalog.releasenotes import DEFAULT_HIGHLIGHTS

    if not given:
        return DEFAULT_HIGHLIGHTS
    names: list[str] = []
    for value in given:
        for name in (part.strip() for part in value.split(",")):
            if name == "default":
                names += DEFAULT_HIGHLIGHTS
            elif name:
                names.append(name)
    return tuple(dict.fromkeys(names))


def run(args: argparse.Namespace) -> int:
    from nbcatalog.catalog import load_catalog
    from nbcatalog.cli.common import output_format, run_with_session
    from nbcatalog.cli.packages import print_warnings, progress_for
    from nbcatalog.plan import plan_catalog

    chosen = output_format(args.json, args.output_format, "table")
    catalog = load_catalog(args.catalog)
    for name in args.names:
        catalog.get(name)  # an unknown name is bad input, before any registry is asked
    wanted = highlight_names(args.highlight)
    progress = progress_for(args) if chosen == "table" else None
    try:
        plan = run_with_session(
            args,
            lambda session: plan_catalog(
                session, catalog, args.names, to=args.to, highlights=wanted, progress=progress
            ),
        )
    finally:
        if progress is not None:
            progress.clear()
    print_warnings(list(dict.fromkeys(w for image in plan.images for w in image.warnings)))
    if chosen == "json":
        from nbcatalog.cli.output import print_json

        print_json(plan.to_json())
    elif chosen == "markdown":
        from nbcatalog.plannotes import plan_markdown

        sys.stdout.write(plan_markdown(plan, wanted))
    else:
        print_plan_table(plan)
    return EXIT_FAILED if plan.failed else EXIT_OK


def _counts(plan: ImagePlan) -> str:
    parts = [f"{mark}{plan.changes[kind]}" for kind, mark in _MARKS if plan.changes.get(kind)]
    return " ".join(parts) if parts else ("none" if plan.candidate else "")


def _row(plan: ImagePlan) -> list[str]:
    from nbcatalog.cli.output import style
    from nbcatalog.localfiles import human_size
    from nbcatalog.plannotes import cuda_text

    if plan.error:
        return [plan.name, plan.current, plan.candidate or "", "", "", "", style("error", "red")]
    if plan.candidate is None:
        return [plan.name, plan.current, style("newest", "dim"), "", "", "", ""]
    pull = f"{human_size(plan.pull_bytes or 0)} of {human_size(plan.candidate_bytes or 0)}"
    cuda = ""
    if plan.cuda_from is not None or plan.cuda_to is not None:
        before, after = cuda_text(plan.cuda_from), cuda_text(plan.cuda_to)
        cuda = before if before == after else f"{before} → {after}"
    risk = style("RISKY", "bold", "red") if plan.risky else style("ok", "green")
    return [plan.name, plan.current, plan.candidate, pull, _counts(plan), cuda, risk]


def print_plan_table(plan: CatalogPlan) -> None:
    """One row per image, then why each risky one is risky, the errors, and the node disk.

    Tags, names, errors and reasons are registry or catalog data: format_table, style and safe_text
    escape them."""
    from nbcatalog.cli.output import print_table
    from nbcatalog.localfiles import human_size
    from nbcatalog.plannotes import images_text
    from nbcatalog.safetext import safe_text

    headers = ["NAME", "CURRENT", "CANDIDATE", "PULL PER NODE", "PACKAGES", "CUDA", "RISK"]
    print_table(headers, [_row(image) for image in plan.images])
    notes = [f"{image.name}: {reason}" for image in plan.images for reason in image.reasons]
    notes += [f"{image.name}: error: {image.error}" for image in plan.images if image.error]
    if notes:
        print()
        for note in notes:
            print(safe_text(note))
    disk = plan.node_disk
    if disk is not None:
        print()
        print(
            f"node disk (current tags, shared layers once): {human_size(disk.total_bytes)} for "
            f"{images_text(len(disk.gpu_images) + len(disk.cpu_images))} in {disk.layers} layers; "
            f"GPU nodes {human_size(disk.gpu_bytes)} ({images_text(len(disk.gpu_images))}), "
            f"CPU nodes {human_size(disk.cpu_bytes)} ({images_text(len(disk.cpu_images))})"
        )
        if disk.errors:
            print(safe_text(f"not counted (unreadable): {', '.join(disk.errors)}"))
