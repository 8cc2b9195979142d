"""``nbcatalog demo``: build (once) the offline demo layouts and catalog, then open the app on them."""

from __future__ import annotations

import argparse
import importlib
import sys

from nbcatalog.errors import EXIT_OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-tui", action="store_true", help="only build the demo and print its paths")
    parser.add_argument("--json", action="store_true", help="print the paths as JSON (implies --no-tui)")
    parser.add_argument(
        "--data-dir",
        metavar="PATH",
        default=None,
        help="where to build the demo (default: the user data dir + /demo, env NBCATALOG_DEMO_DIR)",
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild even if the demo is up to date")


def run(args: argparse.Namespace) -> int:
    from nbcatalog.demo import build_demo

    paths = build_demo(args.data_dir, force=args.rebuild)
    if args.json:
        from nbcatalog.cli.output import print_json

        print_json(paths.to_json())
        return EXIT_OK
    if args.no_tui:
        _print_paths(paths.to_json())
        return EXIT_OK
    try:
        app = importlib.import_module("nbcatalog.cli.app")
    except ModuleNotFoundError as exc:
        if exc.name not in ("nbcatalog.cli.app", "nbcatalog.tui", "nbcatalog.tui.app"):
            raise
        _print_paths(paths.to_json())
        print("nbcatalog: the terminal app is not available yet; use the paths above", file=sys.stderr)
        return EXIT_OK
    args.catalog = str(paths.catalog)
    return int(app.run(args))


def _print_paths(doc: dict[str, object]) -> None:
    from nbcatalog.safetext import safe_text

    references = doc["references"]
    assert isinstance(references, dict)
    root, catalog = safe_text(doc["root"]), safe_text(doc["catalog"])
    print(f"demo      {root}")
    print(f"catalog   {catalog}")
    for name, reference in references.items():
        print(f"  {safe_text(name):<22} {safe_text(reference)}")
    print(f"\nTry: nbcatalog --catalog {catalog} lineage")
    print(f"     nbcatalog tags {safe_text(str(references['jupyter']).rsplit(':', 1)[0])} --details")
