"""One image: its tags, packages, layers and history, CUDA evidence; each tab filled by its own worker."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    Input,
    Label,
    LoadingIndicator,
    Select,
    Static,
    TabbedContent,
    TabPane,
)

from nbcatalog.cli.output import human_size, short_digest
from nbcatalog.errors import NbcatalogError
from nbcatalog.packages.model import ECOSYSTEMS, Package
from nbcatalog.refs import AnyRef, parse_reference
from nbcatalog.tui.messages import LayerProgressed
from nbcatalog.tui.screens.base import AppScreenMixin
from nbcatalog.tui.widgets.layer_progress import LayerProgress, progress_poster

if TYPE_CHECKING:
    from nbcatalog.session import TagDetail

#: Tags resolved for the table (newest first); a repository with 1,000 tags would take minutes.
MAX_TAG_DETAILS = 60
TAG_COLUMNS = ("tag", "digest", "created", "platforms", "size")


class ImageScreen(AppScreenMixin, Screen[None]):
    """``name`` (a catalog entry) or ``reference``; the tags tab highlights tags newer than the current."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("1", "tab('tags')", "Tags"),
        Binding("2", "tab('packages')", "Packages"),
        Binding("3", "tab('layers')", "Layers"),
        Binding("4", "tab('cuda')", "CUDA"),
        Binding("t", "use_tag", "Use tag"),
        Binding("d", "diff_tag", "Diff tag"),
        Binding("s", "sort_tags", "Sort"),
        Binding("ctrl+x", "cancel", "Cancel the scan", show=False),
    ]

    def __init__(self, *, name: str | None = None, reference: str | None = None) -> None:
        super().__init__()
        self.entry_name = name
        self.reference = reference
        self.ref: AnyRef | None = None
        self.details: list[TagDetail] = []
        self.tags: list[str] = []
        self.newer: set[str] = set()
        self.sort_column = "tag"
        self.sort_reverse = True
        self.packages: list[Package] = []
        self.scanned = False
        self.kubeflow: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("", id="image-title")
        with TabbedContent(initial="tags", id="image-tabs"):
            with TabPane("Tags", id="tags"):
                yield LoadingIndicator(id="tags-loading")
                yield DataTable(id="tags-table", cursor_type="row", zebra_stripes=True)
            with TabPane("Packages", id="packages"):
                with Horizontal(classes="filter-row"):
                    yield Select([("all ecosystems", "")] + [(e, e) for e in ECOSYSTEMS], value="",
                                 allow_blank=False, id="ecosystem")  # fmt: skip
                    yield Input(placeholder="filter by name", id="package-filter")
                yield LayerProgress(id="package-progress")
                yield Label("", id="package-count")
                yield DataTable(id="packages-table", cursor_type="row", zebra_stripes=True)
            with TabPane("Layers & history", id="layers"):
                yield LoadingIndicator(id="inspect-loading")
                with VerticalScroll():
                    yield Static(id="config-facts")
                    yield DataTable(id="layers-table", cursor_type="row")
                    yield DataTable(id="history-table", cursor_type="row")
            with TabPane("CUDA", id="cuda"), VerticalScroll():
                yield Static(id="cuda-facts")
        yield Footer()

    def on_mount(self) -> None:
        try:
            self.ref = self._target()
        except NbcatalogError as exc:
            self.notify(str(exc), title="Cannot open the image", severity="error")
            self.app.pop_screen()
            return
        self.query_one("#image-title", Label).update(Text.assemble(("Image ", "bold"), str(self.ref)))
        tags = self.query_one("#tags-table", DataTable)
        for column in TAG_COLUMNS:
            tags.add_column(column.upper(), key=column)
        self.query_one("#packages-table", DataTable).add_columns("ECOSYSTEM", "NAME", "VERSION", "LOCATION")
        self.query_one("#layers-table", DataTable).add_columns("#", "DIGEST", "SIZE", "MEDIA TYPE")
        self.query_one("#history-table", DataTable).add_columns("", "CREATED", "CREATED BY")
        self.query_one("#package-progress").display = False
        self.load_tags()
        self.load_inspect()
        tags.focus()

    def _target(self) -> AnyRef:
        if self.entry_name is not None:
            return self.nb_app.document.catalog.get(self.entry_name).ref
        return parse_reference(self.reference or "")

    @property
    def current_tag(self) -> str | None:
        return self.ref.tag if self.ref is not None else None

    # -- tags --------------------------------------------------------------------------------

    @work(exclusive=True, group="image-tags", exit_on_error=False, description="reading the tags")
    async def load_tags(self) -> None:
        from nbcatalog.tui.state import newest_first

        assert self.ref is not None
        session = self.nb_app.session
        repo = self.ref.repo_only()
        try:
            tags = await session.list_tags(repo)
        except NbcatalogError as exc:
            self.query_one("#tags-loading").display = False
            self.notify(f"listing tags of {repo} failed: {exc}", severity="error", timeout=10)
            return
        self.tags = list(tags)
        self.newer = self._newer_tags()
        wanted = newest_first(tags)[:MAX_TAG_DETAILS]
        if self.current_tag and self.current_tag in tags and self.current_tag not in wanted:
            wanted.append(self.current_tag)
        self.details = await session.tag_details(repo, wanted)
        self.query_one("#tags-loading").display = False
        self.fill_tags()
        if len(tags) > MAX_TAG_DETAILS:  # say so, or the table reads as the whole repository
            self.notify(f"the {MAX_TAG_DETAILS} newest of {len(tags)} tags are shown; t (Tag) on the catalog "
                        "lists every tag", title=str(repo), timeout=8)  # fmt: skip
        failed = [d for d in self.details if d.error]
        if failed:
            self.notify(f"{len(failed)} tag(s) could not be read, e.g. {failed[0].tag}: {failed[0].error}",
                        severity="warning", timeout=8)  # fmt: skip

    def _newer_tags(self) -> set[str]:
        """Tags newer than the current one under the entry's tag_policy: again after each tag change."""
        from nbcatalog.tui.state import picker_order

        if not self.current_tag:
            return set()
        policy = None
        if self.entry_name is not None:
            entry = self.nb_app.document.catalog.find(self.entry_name)
            policy = entry.tag_policy if entry else None
        newer, _ = picker_order(self.current_tag, self.tags, policy)
        return set(newer)

    def fill_tags(self) -> None:
        from nbcatalog.tui.state import newest_first

        table = self.query_one("#tags-table", DataTable)
        table.clear()
        order = {tag: -i for i, tag in enumerate(newest_first(d.tag for d in self.details))}

        def key(detail: TagDetail) -> Any:
            if self.sort_column == "tag":
                return order.get(detail.tag, -1)
            if self.sort_column == "size":
                return detail.size or 0
            if self.sort_column == "platforms":
                return ",".join(detail.platforms)
            return getattr(detail, self.sort_column) or ""

        for detail in sorted(self.details, key=key, reverse=self.sort_reverse):
            style = (
                "bold green" if detail.tag in self.newer else ("bold cyan" if detail.tag == self.current_tag else "")
            )
            mark = " ↑" if detail.tag in self.newer else (" ●" if detail.tag == self.current_tag else "")
            table.add_row(
                Text(detail.tag + mark, style),
                Text(detail.error, "red") if detail.error else short_digest(detail.digest),
                (detail.created or "")[:19].replace("T", " "),
                ",".join(detail.platforms),
                human_size(detail.size),
                key=detail.tag,
            )

    @on(DataTable.HeaderSelected, "#tags-table")
    def sort_tags_by(self, event: DataTable.HeaderSelected) -> None:
        self.sort_by(str(event.column_key.value))

    def sort_by(self, column: str) -> None:
        """Sort on ``column``: the same column again reverses; another starts descending (tag: ascending)."""
        self.sort_reverse = not self.sort_reverse if column == self.sort_column else column != "tag"
        self.sort_column = column
        self.fill_tags()

    def action_sort_tags(self) -> None:
        """The keyboard's header click: each press sorts the tags table on its next column."""
        self.action_tab("tags")
        self.sort_by(TAG_COLUMNS[(TAG_COLUMNS.index(self.sort_column) + 1) % len(TAG_COLUMNS)])
        self.notify(f"tags sorted by {self.sort_column}", timeout=2)

    def _highlighted_tag(self) -> str | None:
        table = self.query_one("#tags-table", DataTable)
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return str(row_key.value) if row_key.value is not None else None

    @on(DataTable.RowSelected, "#tags-table")
    def open_tag(self, event: DataTable.RowSelected) -> None:
        tag = str(event.row_key.value)
        if self.ref is not None and tag != self.current_tag:
            self.nb_app.open_image(reference=str(self.ref.repo_only().with_tag(tag)))

    def action_use_tag(self) -> None:
        tag = self._highlighted_tag()
        name = self.entry_name
        if tag is None or name is None:
            self.notify("only a catalog entry's tag can be changed", severity="warning")
            return
        if self.nb_app.edit(f"set the tag of {name}", lambda doc: doc.set_tag(name, tag), facts=True):
            self.notify(f"{name} now uses {tag} (unsaved)")
            self.ref = self.nb_app.document.catalog.get(name).ref
            self.newer = self._newer_tags()
            self.fill_tags()

    def action_diff_tag(self) -> None:
        tag = self._highlighted_tag()
        if tag is None or self.ref is None:
            return
        self.nb_app.open_diff(str(self.ref), str(self.ref.repo_only().with_tag(tag)))

    # -- layers, history, CUDA ---------------------------------------------------------------

    @work(exclusive=True, group="image-inspect", exit_on_error=False, description="inspecting the image")
    async def load_inspect(self) -> None:
        from nbcatalog.imageinfo import inspect_image

        assert self.ref is not None
        try:
            doc = await inspect_image(self.nb_app.session, self.ref)
        except NbcatalogError as exc:
            self.query_one("#inspect-loading").display = False
            self.notify(f"inspecting {self.ref} failed: {exc}", severity="error", timeout=10)
            return
        self.query_one("#inspect-loading").display = False
        self.show_inspect(doc)

    def show_inspect(self, doc: dict[str, Any]) -> None:
        from rich.table import Table

        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        for title, value in (
            ("Digest", doc["digest"]),
            ("Platforms", ", ".join(doc["platforms"])),
            ("Created", doc["created"] or ""),
            ("User", doc["user"] or "(root)"),
            ("Ports", ", ".join(doc["exposed_ports"])),
            ("Entrypoint", " ".join(doc["entrypoint"] + doc["cmd"])),
            ("Size", human_size(doc["size"])),
            ("Kubeflow", "ready" if doc["kubeflow"]["ready"] else "not ready"),
        ):
            grid.add_row(title, value)
        self.query_one("#config-facts", Static).update(grid)
        layers = self.query_one("#layers-table", DataTable)
        layers.clear()
        for position, layer in enumerate(doc["layers"], 1):
            layers.add_row(str(position), short_digest(layer["digest"]), human_size(layer["size"]), layer["media_type"])
        history = self.query_one("#history-table", DataTable)
        history.clear()
        for entry in doc["history"]:
            marker = " " if entry.get("empty_layer") else "+"
            history.add_row(marker, (entry.get("created") or "")[:19].replace("T", " "), entry["created_by"][:200])
        self.kubeflow = doc["kubeflow"]
        self.show_cuda(doc["cuda"])

    def show_cuda(self, cuda: dict[str, Any] | None) -> None:
        from rich.console import Group
        from rich.table import Table

        parts: list[Any] = []
        if cuda is None:
            parts.append(Text("No CUDA: a CPU image (no strong evidence in env, labels, tag or packages).", "bold"))
        else:
            driver = f", driver >= {cuda['min_driver']}" if cuda.get("min_driver") else ""
            parts.append(Text(f"CUDA {cuda['version']}{driver}", "bold magenta"))
            table = Table("SOURCE", "KEY", "VALUE", "STRENGTH", box=None, header_style="bold")
            for item in cuda["evidence"]:
                colour = {"strong": "green", "weak": "yellow", "cpu": "red"}.get(item["strength"], "")
                table.add_row(item["source"], item["key"], item["value"], Text(item["strength"], colour))
            parts.append(table)
        if not self.scanned:
            parts.append(
                Text("\nScan the packages (tab 2) to add package evidence (+cu121 wheels, cuda-* debs).", "dim")
            )
        kubeflow = self.kubeflow
        if kubeflow is not None:
            marks = {True: Text("ok", "green"), False: Text("FAIL", "red"), None: Text("?", "yellow")}
            table = Table("", "KUBEFLOW REQUIREMENT", "EVIDENCE", box=None, header_style="bold")
            for requirement in kubeflow["requirements"]:
                table.add_row(marks[requirement["met"]], requirement["description"], requirement["evidence"])
            parts += [Text(""), table]
        self.query_one("#cuda-facts", Static).update(Group(*parts))

    # -- packages ----------------------------------------------------------------------------

    @on(TabbedContent.TabActivated, "#image-tabs")
    def tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "packages" and not self.scanned:
            self.scan_packages()

    @work(exclusive=True, group="image-packages", exit_on_error=False, description="scanning the packages")
    async def scan_packages(self) -> None:
        from nbcatalog.cuda import cuda_to_json, detect_cuda_in_config
        from nbcatalog.packages.image import image_packages

        assert self.ref is not None
        self.scanned = True
        progress = self.query_one("#package-progress", LayerProgress)
        progress.reset(f"reading the layers of {self.ref} (ctrl+x cancels)")
        session = self.nb_app.session
        try:
            result = await image_packages(session, self.ref, progress=progress_poster(self.post_message, "image"))
            resolved = await session.resolve(self.ref)
        except NbcatalogError as exc:
            self.scanned = False
            self.notify(f"scanning {self.ref} failed: {exc}", severity="error", timeout=10)
            return
        finally:
            progress.finish()
        self.packages = result.packages
        self.fill_packages()
        for warning in result.warnings[:3]:
            self.notify(warning, severity="warning", timeout=6)
        cuda = detect_cuda_in_config(resolved.config, tag=self.ref.tag, packages=result.packages)
        self.show_cuda(cuda_to_json(cuda))

    def on_layer_progressed(self, message: LayerProgressed) -> None:
        self.query_one("#package-progress", LayerProgress).advance(message.digest, message.done, message.total)

    def action_cancel(self) -> None:
        if self.workers:
            self.workers.cancel_node(self)
            self.scanned = False
            self.query_one("#package-progress", LayerProgress).finish()
            self.notify("cancelled")

    @on(Input.Changed, "#package-filter")
    @on(Select.Changed, "#ecosystem")
    def package_filter_changed(self) -> None:
        self.fill_packages()

    def fill_packages(self) -> None:
        needle = self.query_one("#package-filter", Input).value.strip().lower()
        ecosystem = self.query_one("#ecosystem", Select).value
        table = self.query_one("#packages-table", DataTable)
        table.clear()
        shown = [
            p for p in self.packages
            if (not ecosystem or p.ecosystem == ecosystem) and (not needle or needle in p.name.lower())
        ]  # fmt: skip
        for package in shown:
            table.add_row(Text(package.ecosystem, "cyan"), package.name, package.version, Text(package.location, "dim"))
        counts: dict[str, int] = {}
        for package in self.packages:
            counts[package.ecosystem] = counts.get(package.ecosystem, 0) + 1
        summary = ", ".join(f"{e} {n}" for e, n in counts.items()) or "no packages found"
        self.query_one("#package-count", Label).update(f"{len(shown)} shown of {len(self.packages)}: {summary}")

    # -- navigation --------------------------------------------------------------------------

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_back(self) -> None:
        self.workers.cancel_node(self)
        self.app.pop_screen()
