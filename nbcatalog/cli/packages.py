"""``nbcatalog packages REF``: what apt, conda, pip, R and JupyterLab installed in an image.

Also home of what ``diff`` shares with it: catalog names standing for references, the per-layer
progress bar, the ``--ecosystem`` option.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from nbcatalog.packages.model import ECOSYSTEMS
from nbcatalog.refs import AnyRef, OciLayoutRef
from nbcatalog.safetext import safe_text

if TYPE_CHECKING:
    from nbcatalog.packages.result import ImagePackages


def add_ecosystem_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ecosystem",
        action="append",
        choices=ECOSYSTEMS,
        metavar="E",
        help=f"only these ecosystems (repeatable): {', '.join(ECOSYSTEMS)}",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("reference", metavar="REF", help="an image reference or a catalog entry's name")
    add_ecosystem_option(parser)


def resolve_argument(text: str, catalog_path: str | None) -> AnyRef:
    """A catalog entry's ``NAME`` or ``NAME:TAG`` stands for its reference; anything else is parsed."""
    from pathlib import Path

    from nbcatalog.catalog.lookup import may_name_an_entry, reference_for

    catalog = None
    if catalog_path and may_name_an_entry(text) and Path(catalog_path).is_file():
        from nbcatalog.catalog import load_catalog

        catalog = load_catalog(catalog_path)
    return reference_for(text, catalog)


class LayerProgress:
    """One bar per layer on stderr, redrawn in place at most ten times a second."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.layers: dict[str, tuple[int, int]] = {}
        self._drawn = 0
        self._last = 0.0

    def __call__(self, digest: str, done: int, total: int) -> None:
        self.layers[digest] = (done, total)
        now = time.monotonic()
        if now - self._last >= 0.1 or done >= total:
            self._last = now
            self._draw()

    def _draw(self) -> None:
        lines = []
        for digest, (done, total) in self.layers.items():
            fraction = min(1.0, done / total) if total else 1.0
            bar = "#" * int(fraction * 30)
            lines.append(f"{safe_text(digest[7:19])} [{bar:<30}] {done / 1e6:7.1f}/{total / 1e6:.1f} MB")
        up = f"\x1b[{self._drawn}F" if self._drawn else ""
        self.stream.write(up + "".join(f"\x1b[2K{line}\n" for line in lines))
        self.stream.flush()
        self._drawn = len(lines)

    def clear(self) -> None:
        if self._drawn:
            self.stream.write(f"\x1b[{self._drawn}F\x1b[J")
            self.stream.flush()
            self._drawn = 0


def progress_for(args: argparse.Namespace) -> LayerProgress | None:
    """A bar only for people: stderr is a terminal and no ``--json``.

    The bar moves the cursor itself, so it writes under the CLI's output guard; what it shows of
    the image (a digest) is escaped in :meth:`LayerProgress._draw`.
    """
    from nbcatalog.cli.output import unguarded

    if getattr(args, "json", False) or not sys.stderr.isatty():
        return None
    return LayerProgress(unguarded(sys.stderr))


def print_warnings(warnings: list[str]) -> None:
    for warning in warnings:
        print(f"nbcatalog: warning: {safe_text(warning)}", file=sys.stderr)


def _print_human(result: ImagePackages) -> None:
    from nbcatalog.cli.output import format_table, short_digest, style

    print(f"{style(result.reference, 'bold')}  {safe_text(short_digest(result.digest))}  {safe_text(result.platform)}")
    if not result.packages:
        print("no packages found")
        return
    groups: dict[tuple[str, str], list[list[str]]] = {}
    for package in result.packages:
        groups.setdefault((package.ecosystem, package.location), []).append(
            [package.name, package.version, " ".join(f"{k}={v}" for k, v in package.extra.items())]
        )
    counts: dict[str, int] = {}
    for (ecosystem, _), rows in groups.items():
        counts[ecosystem] = counts.get(ecosystem, 0) + len(rows)
    print(safe_text(", ".join(f"{ecosystem} {count}" for ecosystem, count in counts.items())))
    for (ecosystem, location), rows in groups.items():
        print(f"\n{style(ecosystem, 'bold', 'cyan')} {style(location, 'dim')} ({len(rows)})")
        print(format_table(["  NAME", "VERSION", ""], [["  " + r[0], r[1], r[2]] for r in rows]))


def _warm(args: argparse.Namespace, ref: AnyRef) -> ImagePackages | None:
    """The result without an event loop when ``ref`` is a layout whose every layer is cached."""
    if not isinstance(ref, OciLayoutRef) or args.no_cache:
        return None
    from nbcatalog.cli.common import cache_dir_option, configure_logging
    from nbcatalog.oci import Platform
    from nbcatalog.packages.warm import warm_image_packages

    configure_logging(bool(getattr(args, "debug", False)))
    return warm_image_packages(ref, Platform.parse(args.platform), cache_dir_option(args), args.ecosystem)


def run(args: argparse.Namespace) -> int:
    ref = resolve_argument(args.reference, args.catalog)
    warm = _warm(args, ref)
    result = warm if warm is not None else _read(args, ref)
    print_warnings(result.warnings)
    if args.json:
        from nbcatalog.cli.output import print_json

        doc: dict[str, Any] = result.to_json()
        print_json(doc)
    else:
        _print_human(result)
    return 0


def _read(args: argparse.Namespace, ref: AnyRef) -> ImagePackages:
    """The full read: layers the cache lacks are downloaded (with a progress bar for people)."""
    from nbcatalog.cli.common import open_session, run_bounded
    from nbcatalog.packages.image import image_packages

    progress = progress_for(args)
    found: list[ImagePackages] = []

    async def work() -> None:
        # Handed out beside the task, not as its result: on Python 3.11 ``asyncio.run`` formats the
        # main task's repr (result included: every package, twice, ~10 ms) when it restores SIGINT.
        async with open_session(args) as session:
            found.append(await image_packages(session, ref, args.ecosystem, progress=progress))

    try:
        run_bounded(work())
    finally:
        if progress is not None:
            progress.clear()
    return found[0]
