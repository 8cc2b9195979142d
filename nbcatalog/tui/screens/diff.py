"""Compare two images' packages: added, removed, upgraded, downgraded, coloured, filterable, counted."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Select

from nbcatalog.catalog.lookup import reference_for
from nbcatalog.diff import CHANGE_KINDS, Change
from nbcatalog.errors import NbcatalogError
from nbcatalog.limits import fresh_request_budget
from nbcatalog.packages.model import ECOSYSTEMS
from nbcatalog.safetext import safe_rich_text, safe_text
from nbcatalog.tui.messages import LayerProgressed
from nbcatalog.tui.screens.base import AppScreenMixin
from nbcatalog.tui.widgets.layer_progress import LayerProgress, progress_poster
from nbcatalog.tui.widgets.lists import ListTable

if TYPE_CHECKING:
    pass

MARKS = {
    "added": ("+", "green"),
    "removed": ("-", "red"),
    "upgraded": ("↑", "cyan"),
    "downgraded": ("↓", "yellow"),
    "changed": ("~", "blue"),
}


class DiffScreen(AppScreenMixin, Screen[None]):
    """A and B take a catalog name, ``NAME:TAG`` or any reference; Enter in B (or ctrl+r) runs."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("slash", "focus_filter", "Filter"),
        Binding("ctrl+r", "run", "Compare"),
        Binding("ctrl+x", "cancel", "Cancel the scan", show=False, priority=True),
    ]

    def __init__(self, a: str = "", b: str = "") -> None:
        super().__init__()
        self.initial = (a, b)
        self.changes: list[Change] = []
        self.compared = False

    def compose(self) -> ComposeResult:
        from textual.suggester import SuggestFromList

        names = [image.name for image in self.nb_app.document.catalog.images]
        yield Header()
        with Horizontal(classes="filter-row"):
            for side, value in zip("ab", self.initial, strict=True):
                hint = f"{side.upper()}: catalog name, NAME:TAG or reference"
                yield Input(safe_text(value), placeholder=hint, id=f"side-{side}",
                            suggester=SuggestFromList(names, case_sensitive=False))  # fmt: skip
            yield Button("Compare", variant="primary", id="run")
        with Horizontal(classes="filter-row"):
            yield Select([("all ecosystems", "")] + [(e, e) for e in ECOSYSTEMS], value="", allow_blank=False,
                         id="diff-ecosystem")  # fmt: skip
            yield Select([("all changes", "")] + [(k, k) for k in CHANGE_KINDS], value="", allow_blank=False,
                         id="diff-kind")  # fmt: skip
            yield Input(placeholder="/ filters by name · esc clears", id="diff-filter", select_on_focus=False)
        yield LayerProgress(id="diff-progress")
        yield Label("", id="diff-counts")
        yield ListTable(id="diff-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#diff-progress").display = False
        self.query_one("#diff-table", DataTable).add_columns("", "ECOSYSTEM", "NAME", "A", "B", "LOCATION")
        if all(self.initial):
            self.action_run()
        else:
            self.query_one("#side-a" if not self.initial[0] else "#side-b", Input).focus()

    @on(Input.Submitted, "#side-a")
    def a_entered(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#side-b", Input).focus()

    @on(Input.Submitted, "#side-b")
    @on(Button.Pressed, "#run")
    def b_entered(self) -> None:
        self.action_run()

    def action_run(self) -> None:
        catalog = self.nb_app.document.catalog
        try:
            ref_a = reference_for(self.query_one("#side-a", Input).value, catalog)
            ref_b = reference_for(self.query_one("#side-b", Input).value, catalog)
        except NbcatalogError as exc:
            self.notify(str(exc), title="Cannot compare", severity="error")
            return
        self.compare(str(ref_a), str(ref_b))

    @work(exclusive=True, group="diff", exit_on_error=False, description="comparing the images")
    async def compare(self, a_text: str, b_text: str) -> None:
        fresh_request_budget()  # this read's own count against the requests limit
        from nbcatalog.diff import diff_packages
        from nbcatalog.packages.image import image_packages
        from nbcatalog.refs import parse_reference

        progress = self.query_one("#diff-progress", LayerProgress)
        progress.reset(f"reading {a_text} and {b_text} (ctrl+x cancels)")
        self.query_one("#diff-counts", Label).update("comparing…")
        session = self.nb_app.session
        poster = progress_poster(self.post_message, "diff")
        try:
            a, b = await asyncio.gather(
                image_packages(session, parse_reference(a_text), progress=poster),
                image_packages(session, parse_reference(b_text), progress=poster),
            )
        except NbcatalogError as exc:
            self.query_one("#diff-counts", Label).update(safe_rich_text(f"failed: {exc}", "red"))
            self.notify(str(exc), title="Comparing failed", severity="error", timeout=10)
            return
        finally:
            progress.finish()
        self.changes = diff_packages(a.packages, b.packages)
        self.compared = True
        self.fill()
        self.query_one("#diff-filter", Input).focus()  # the Diff tab's job is search: its filter has the keys

    def on_layer_progressed(self, message: LayerProgressed) -> None:
        self.query_one("#diff-progress", LayerProgress).advance(message.digest, message.done, message.total)

    @on(Input.Changed, "#diff-filter")
    @on(Select.Changed, "#diff-ecosystem")
    @on(Select.Changed, "#diff-kind")
    def filter_changed(self) -> None:
        self.fill()

    def fill(self) -> None:
        from nbcatalog.diff import summarise

        if not self.compared:
            return
        needle = self.query_one("#diff-filter", Input).value.strip().lower()
        ecosystem = self.query_one("#diff-ecosystem", Select).value
        kind = self.query_one("#diff-kind", Select).value
        shown = [
            c for c in self.changes
            if (not ecosystem or c.ecosystem == ecosystem) and (not kind or c.change == kind)
            and (not needle or needle in c.name.lower())
        ]  # fmt: skip
        table = self.query_one("#diff-table", DataTable)
        table.clear()
        for change in shown:
            mark, colour = MARKS[change.change]
            table.add_row(  # the images' package names and versions: text, never markup
                Text(mark, f"bold {colour}"),
                safe_rich_text(change.ecosystem),
                safe_rich_text(change.name, colour),
                safe_rich_text(change.a_version or ""),
                safe_rich_text(change.b_version or ""),
                safe_rich_text(change.location, "dim"),
            )
        totals = {k: sum(n.get(k, 0) for n in summarise(self.changes).values()) for k in CHANGE_KINDS}
        counts = Text(f"{len(shown)} shown of {len(self.changes)} changes: ")
        for position, change_kind in enumerate(k for k in CHANGE_KINDS if totals[k]):
            counts.append((", " if position else "") + f"{totals[change_kind]} {change_kind}", MARKS[change_kind][1])
        if not self.changes:
            counts = Text("no package changes")
        self.query_one("#diff-counts", Label).update(counts)

    def action_cancel(self) -> None:
        self.workers.cancel_group(self, "diff")
        self.query_one("#diff-progress", LayerProgress).finish()
        self.query_one("#diff-counts", Label).update("cancelled")

    def action_focus_filter(self) -> None:
        self.query_one("#diff-filter", Input).focus()

    @on(Input.Submitted, "#diff-filter")
    def filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#diff-table").focus()

    def action_back(self) -> None:
        """``esc`` in the filter with text clears it (:meth:`clear_filter`); otherwise it leaves the diff."""
        if self.clear_filter({"#diff-filter": "#diff-table"}):
            return
        self.workers.cancel_node(self)
        self.app.pop_screen()
