"""``nbcatalog lineage``: the catalog's images as a tree inferred from their layers.

Formats: ``tree`` (like ``pipdeptree``: names, tags, CUDA and mismatch markers), ``json`` (the
contract's ``{"images": [...]}``), ``dot`` (Graphviz) and ``mermaid`` (for docs).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nbcatalog.errors import EXIT_FAILED, EXIT_OK
from nbcatalog.lineage import LineageEntry, tree_roots
from nbcatalog.safetext import safe_text

if TYPE_CHECKING:
    from nbcatalog.lineage import LineageRun
    from nbcatalog.session import Session

FORMATS = ("tree", "json", "dot", "mermaid")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="same as --format json")
    parser.add_argument("--format", choices=FORMATS, help="output format (default tree)")
    parser.add_argument(
        "--all-platforms",
        action="store_true",
        help="also infer the lineage on every other platform the images offer",
    )
    parser.add_argument(
        "--exhaustive",
        action="store_true",
        help="try every tag of every catalog repository (slow; the lazy scan skips unlikely ones)",
    )
    parser.add_argument("--stats", action="store_true", help="print request counts on stderr")


def _marker(entry: LineageEntry, parent_tag: str | None) -> str:
    parts: list[str] = []
    cuda = entry.image.cuda
    if cuda is not None:
        parts.append(f"[CUDA {cuda.version}]" if cuda.version else "[CUDA]")
    if entry.base and entry.base.tag != parent_tag:
        parts.append(f"(on {entry.base.tag})")
    for issue in entry.issues:
        if issue.kind != "undeclared-parent":
            parts.append(("! " if issue.severity != "info" else "") + f"{issue.kind}: {issue.message}")
    return "  ".join(parts)


def render_tree(entries: Sequence[LineageEntry], *, colour: bool = False) -> str:
    """``pipdeptree``-style: roots with their full reference, children indented under parents.

    Names, tags and messages are escaped (a tag is the registry's to choose), coloured or not.
    """
    from nbcatalog.cli.output import style

    by_name = {entry.name: entry for entry in entries}
    roots, children = tree_roots(entries)
    lines: list[str] = []

    def paint(text: str, *names: str) -> str:
        return style(text, *names) if colour else safe_text(text)

    def walk(name: str, prefix: str, connector: str, root: bool) -> None:
        entry = by_name[name]
        label = entry.image.reference if root else entry.image.tag
        parent = by_name.get(entry.inferred_parent or "")
        marker = safe_text(_marker(entry, parent.image.tag if parent else None))
        if any(i.severity == "error" for i in entry.issues):
            marker = paint(marker, "red")
        elif any(i.severity == "warning" for i in entry.issues):
            marker = paint(marker, "yellow")
        shown = f"{prefix}{connector}{paint(name, 'bold')}  {safe_text(label)}"
        lines.append(shown + (f"  {marker}" if marker else ""))
        kids = children[name]
        for position, child in enumerate(kids):
            last = position == len(kids) - 1
            extension = "" if root else ("    " if connector == "└── " else "│   ")
            walk(child, prefix + extension, "└── " if last else "├── ", False)

    for root in roots:
        walk(root, "", "", True)
    return "\n".join(lines)


def _dot_text(text: str) -> str:
    """Inside a DOT string: controls escaped visibly, then backslashes and quotes as DOT wants them."""
    return safe_text(text).replace("\\", "\\\\").replace('"', '\\"')


def _dot_quote(text: str) -> str:
    return f'"{_dot_text(text)}"'


def render_dot(entries: Sequence[LineageEntry]) -> str:
    """Graphviz: solid edges as inferred, dashed red edges for declared parents the layers deny."""
    lines = ["digraph lineage {", "  rankdir=LR;", "  node [shape=box, fontname=Helvetica];"]
    for entry in entries:
        cuda = entry.image.cuda
        label = f"{_dot_text(entry.name)}\\n{_dot_text(entry.image.tag)}"
        label += f"\\nCUDA {_dot_text(cuda.version or '')}".rstrip() if cuda else ""
        colour = ', color="darkgreen"' if cuda else ""
        lines.append(f'  {_dot_quote(entry.name)} [label="{label}"{colour}];')
    for entry in entries:
        if entry.inferred_parent:
            tag = entry.base.tag if entry.base else ""
            lines.append(
                f"  {_dot_quote(entry.inferred_parent)} -> {_dot_quote(entry.name)} [label={_dot_quote(tag)}];"
            )
        declared = entry.image.declared_parent
        if declared and declared != entry.inferred_parent:
            lines.append(
                f'  {_dot_quote(declared)} -> {_dot_quote(entry.name)} [style=dashed, color=red, label="declared"];'
            )
    lines.append("}")
    return "\n".join(lines)


def render_mermaid(entries: Sequence[LineageEntry]) -> str:
    """Mermaid ``graph TD``; node ids are positional because names may contain ``-``."""
    ids = {entry.name: f"n{position}" for position, entry in enumerate(entries)}
    lines = ["graph TD"]
    for entry in entries:
        cuda = entry.image.cuda
        extra = f"<br/>CUDA {cuda.version or ''}".rstrip() if cuda else ""
        text = safe_text(f"{entry.name}<br/>{entry.image.tag}{extra}").replace('"', "#quot;")
        lines.append(f'  {ids[entry.name]}["{text}"]')
    for entry in entries:
        if entry.inferred_parent in ids:
            lines.append(f"  {ids[entry.inferred_parent]} --> {ids[entry.name]}")
        declared = entry.image.declared_parent
        if declared in ids and declared != entry.inferred_parent:
            lines.append(f"  {ids[declared]} -. declared .-> {ids[entry.name]}")
    return "\n".join(lines)


def lineage_document(runs: Sequence[LineageRun]) -> dict[str, Any]:
    """The contract's document; with several platforms, each image also lists its per-platform answer."""
    main, others = runs[0], runs[1:]
    images: list[dict[str, Any]] = []
    for entry in main.entries:
        doc = entry.to_json()
        doc["platforms_offered"] = main.platforms.get(entry.name, [])
        if others:
            doc["per_platform"] = {main.platform: _platform_view(entry)}
            for run in others:
                other = next(e for e in run.entries if e.name == entry.name)
                doc["per_platform"][run.platform] = _platform_view(other)
        images.append(doc)
    return {
        "platform": main.platform,
        "images": images,
        "stats": {"chains_fetched": sum(r.chains_fetched for r in runs), "requests": runs[-1].requests},
    }


def _platform_view(entry: LineageEntry) -> dict[str, Any]:
    doc = entry.to_json()
    keys = ("inferred_parent", "base_reference", "digest", "issues", "error")
    return {key: doc[key] for key in keys}


async def _lineage(session: Session, args: argparse.Namespace) -> list[LineageRun]:
    from nbcatalog.catalog import load_catalog
    from nbcatalog.lineage import catalog_lineage
    from nbcatalog.oci import Platform

    catalog = load_catalog(args.catalog)
    first = await catalog_lineage(session, catalog.images, exhaustive=args.exhaustive)
    runs = [first]
    if args.all_platforms:
        offered = {p for platforms in first.platforms.values() for p in platforms}
        for platform in sorted(offered - {first.platform}):
            run = await catalog_lineage(
                session, catalog.images, platform=Platform.parse(platform), exhaustive=args.exhaustive
            )
            runs.append(run)
    return runs


def run(args: argparse.Namespace) -> int:
    from nbcatalog.cli.common import output_format, run_with_session
    from nbcatalog.cli.output import print_json, use_colour

    fmt = output_format(args.json, args.format, "tree")

    async def work(session: Session) -> list[LineageRun]:
        return await _lineage(session, args)

    runs = run_with_session(args, work)
    if fmt == "json":
        print_json(lineage_document(runs))
    else:
        for position, lineage_run in enumerate(runs):
            if len(runs) > 1:
                print(("\n" if position else "") + f"# {safe_text(lineage_run.platform)}")
            if fmt == "dot":
                print(render_dot(lineage_run.entries))
            elif fmt == "mermaid":
                print(render_mermaid(lineage_run.entries))
            else:
                print(render_tree(lineage_run.entries, colour=use_colour(sys.stdout)))
    if args.stats:
        stats = {"chains_fetched": sum(r.chains_fetched for r in runs), "requests": runs[-1].requests}
        print(f"nbcatalog: lineage stats: {json.dumps(stats)}", file=sys.stderr)
    unresolved = [e for e in runs[0].entries if e.image.chain is None]
    for entry in unresolved:
        print(f"nbcatalog: error: {safe_text(entry.name)}: {safe_text(entry.image.error)}", file=sys.stderr)
    return EXIT_FAILED if unresolved else EXIT_OK
