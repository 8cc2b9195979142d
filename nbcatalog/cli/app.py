"""``nbcatalog`` with no command: the terminal app on the catalog (``--catalog``, default ./catalog.yaml).

The catalog is loaded before Textual starts, so a missing or broken file is one error line and
exit code 2, like every other command, instead of an app that opens on nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nbcatalog.errors import BadInputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The app takes only the global options."""


def run(args: argparse.Namespace) -> int:
    from nbcatalog.catalog import CatalogDocument
    from nbcatalog.cli.common import configure_logging, session_options

    path = Path(args.catalog)
    if not path.is_file():
        raise BadInputError(
            "no catalog here: pass --catalog PATH, or try `nbcatalog demo` for an offline example",
            where=str(path),
        )
    document = CatalogDocument.load(path)
    options = session_options(args)
    if not sys.stdin.isatty() or not sys.stderr.isatty():
        raise BadInputError("the terminal app needs a terminal; use the commands (nbcatalog --help) in scripts")
    configure_logging(bool(getattr(args, "debug", False)))
    from nbcatalog.tui.app import NbcatalogApp

    result = NbcatalogApp(document, options).run()
    return int(result or 0)
