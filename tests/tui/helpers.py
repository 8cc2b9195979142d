"""Driving the app in tests: build it like the CLI does, wait for its workers, read what it shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from nbcatalog.catalog import CatalogDocument
from nbcatalog.registry.retry import RetryPolicy
from nbcatalog.session import SessionOptions
from nbcatalog.tui.app import NbcatalogApp
from nbcatalog.tui.screens.catalog import CatalogScreen
from nbcatalog.tui.widgets.lineage_tree import LineageTree

#: Fixed, so the layout paths rendered in snapshots are the same on every run and machine.
DEMO_DIR = Path("/tmp/nbcatalog-tui-demo")
FAST_RETRY = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.05)
#: Comments an admin keeps in catalog.yaml: they must survive every save from the app.
HEAD_COMMENT = "# Our notebook images: reviewed every quarter (keep this comment)\n"


def make_app(path: Path, **options: Any) -> NbcatalogApp:
    """As ``nbcatalog`` builds it, without the user's cache and with quick retries."""
    return NbcatalogApp(CatalogDocument.load(path), SessionOptions(cache_dir=None, retry=FAST_RETRY, **options))


async def settle(pilot: Pilot[Any]) -> None:
    """Until every worker (lineage, tags, audit, scans) has finished and the screen has caught up."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def tree_labels(app: NbcatalogApp) -> dict[str, str]:
    """Entry name -> the tree row's plain text, in display order."""
    screen = app.screen
    assert isinstance(screen, CatalogScreen), type(screen)
    tree = screen.query_one(LineageTree)
    return {str(node.data): str(node.label) for node in tree._tree_lines_nodes()}


def notices(app: NbcatalogApp) -> list[str]:
    """Notifications shown so far (title and message)."""
    return [f"{n.title}: {n.message}" for n in app._notifications]


def table_rows(app: NbcatalogApp, selector: str, *, headings: bool = False) -> list[list[str]]:
    """The rows of a table as text; the tags table's family headings only with ``headings``."""
    from textual.widgets import DataTable

    from nbcatalog.tui.screens.image import GROUP_KEY

    table = app.screen.query_one(selector, DataTable)
    rows = []
    for index, row in enumerate(table.ordered_rows):
        if headings or not str(row.key.value).startswith(GROUP_KEY):
            rows.append([str(cell) for cell in table.get_row_at(index)])
    return rows


def static_text(app: NbcatalogApp, selector: str) -> str:
    """What a Static shows, as plain text (Rich tables and groups rendered wide)."""
    from io import StringIO

    from rich.console import Console
    from textual.widgets import Static

    content = app.screen.query_one(selector, Static).content
    if isinstance(content, str):
        return content
    console = Console(file=StringIO(), width=200, color_system=None)
    console.print(content)
    return console.file.getvalue()  # type: ignore[attr-defined, no-any-return]


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
