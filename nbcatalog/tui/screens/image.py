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
from nbcatalog.limits import fresh_request_budget
from nbcatalog.packages.model import ECOSYSTEMS, Package
from nbcatalog.refs import AnyRef, parse_reference
from nbcatalog.safetext import safe_rich_text, safe_text
from nbcatalog.tui.messages import LayerProgressed
from nbcatalog.tui.screens.base import AppScreenMixin
from nbcatalog.tui.widgets.layer_progress import LayerProgress, progress_poster
from nbcatalog.tui.widgets.lists import ListTable

if TYPE_CHECKING:
    from nbcatalog.session import TagDetail

#: Tags resolved for the table at a time (the newest shown first, then what a filter shows); a
#: repository with 1,000 tags would take minutes to resolve whole.
MAX_TAG_DETAILS = 60
TAG_COLUMNS = ("tag", "digest", "created", "platforms", "size")
#: Row keys of family headings in the tags table (no tag contains a NUL).
GROUP_KEY = "\0group:"
#: Which list or filter each tab focuses when it opens: the tabs whose job is search focus the filter.
TAB_FOCUS = {"tags": "#tags-table", "packages": "#package-filter", "layers": "#layers-table", "cuda": "#cuda-scroll"}
#: The filter of each tab that has one (``/`` focuses it, ``esc`` clears it and leaves it).
TAB_FILTER = {"tags": "#tag-filter", "packages": "#package-filter"}
#: Commands that act on the Tags tab only: elsewhere they are not shown and do nothing.
TAGS_TAB_ACTIONS = frozenset({"use_tag", "diff_tag", "sort_tags", "unfold"})


class ImageScreen(AppScreenMixin, Screen[None]):
    """``name`` (a catalog entry) or ``reference``; the tags tab highlights tags newer than the current.

    Keys follow the visible tab: ``t``/``d``/``s`` act on the Tags tab only, and opening a tab focuses
    its list (Packages, whose job is search, its filter), so typing a package name is text, never a
    command on a hidden table. ``/`` focuses the tab's filter; ``esc`` there clears and leaves it.
    """

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("1", "tab('tags')", "Tags"),
        Binding("2", "tab('packages')", "Packages"),
        Binding("3", "tab('layers')", "Layers"),
        Binding("4", "tab('cuda')", "CUDA"),
        Binding("slash", "focus_filter", "Filter"),
        Binding("t", "use_tag", "Use tag"),
        Binding("d", "diff_tag", "Diff tag"),
        Binding("s", "sort_tags", "Sort"),
        Binding("o", "unfold", "Fold/unfold", show=False),
        Binding("ctrl+x", "cancel", "Cancel the scan", show=False, priority=True),
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
        self.unfolded: set[str] = set()
        self.packages: list[Package] = []
        self.scanned = False
        self.kubeflow: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("", id="image-title")
        with TabbedContent(initial="tags", id="image-tabs"):
            with TabPane("Tags", id="tags"):
                yield Input(
                    placeholder="/ filters the tags (fuzzy: v110, cu12) · esc clears",
                    id="tag-filter",
                    select_on_focus=False,
                )
                yield LoadingIndicator(id="tags-loading")
                yield Label("", id="tag-count")
                yield ListTable(id="tags-table", cursor_type="row", zebra_stripes=True)
            with TabPane("Packages", id="packages"):
                with Horizontal(classes="filter-row"):
                    yield Select([("all ecosystems", "")] + [(e, e) for e in ECOSYSTEMS], value="",
                                 allow_blank=False, id="ecosystem")  # fmt: skip
                    yield Input(placeholder="filter by name", id="package-filter", select_on_focus=False)
                yield LayerProgress(id="package-progress")
                yield Label("", id="package-count")
                yield ListTable(id="packages-table", cursor_type="row", zebra_stripes=True)
            with TabPane("Layers & history", id="layers"):
                yield LoadingIndicator(id="inspect-loading")
                with VerticalScroll():
                    yield Static(id="config-facts")
                    yield ListTable(id="layers-table", cursor_type="row")
                    yield ListTable(id="history-table", cursor_type="row")
            with TabPane("CUDA", id="cuda"), VerticalScroll(id="cuda-scroll"):
                yield Static(id="cuda-facts")
        yield Footer()

    def on_mount(self) -> None:
        try:
            self.ref = self._target()
        except NbcatalogError as exc:
            self.notify(str(exc), title="Cannot open the image", severity="error")
            self.app.pop_screen()
            return
        self._show_title()
        tags = self.query_one("#tags-table", DataTable)
        self._tag_columns(tags)
        self.query_one("#packages-table", DataTable).add_columns("ECOSYSTEM", "NAME", "VERSION", "LOCATION")
        self.query_one("#layers-table", DataTable).add_columns("#", "DIGEST", "SIZE", "MEDIA TYPE")
        self.query_one("#history-table", DataTable).add_columns("", "CREATED", "CREATED BY")
        self.query_one("#package-progress").display = False
        self.load_tags()
        self.load_inspect()
        tags.focus()

    def _show_title(self) -> None:
        """``Image jupyter:v1.10.0  ghcr.io/…`` on one line: the short name and tag first, so a narrow
        terminal cuts the long repository, never the tag."""
        assert self.ref is not None
        short = self.ref.name.rsplit("/", 1)[-1] + (f":{self.ref.tag}" if self.ref.tag else "")
        title = Text.assemble(("Image ", "bold"), (safe_text(short), "bold cyan"), "  ", (safe_text(self.ref), "dim"))
        title.no_wrap, title.overflow = True, "ellipsis"
        self.query_one("#image-title", Label).update(title)

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
        fresh_request_budget()  # this read's own count against the requests limit

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
        wanted = self._visible_tags()[:MAX_TAG_DETAILS]
        if self.current_tag and self.current_tag in tags and self.current_tag not in wanted:
            wanted.append(self.current_tag)
        self.details = await session.tag_details(repo, wanted)
        self.query_one("#tags-loading").display = False
        self.fill_tags()
        failed = [d for d in self.details if d.error]
        if failed:
            self.notify(f"{len(failed)} tag(s) could not be read, e.g. {failed[0].tag}: {failed[0].error}",
                        severity="warning", timeout=8)  # fmt: skip

    @work(exclusive=True, group="tag-details", exit_on_error=False, description="reading tag details")
    async def load_more_details(self) -> None:
        """Details (digest, date, size) for the tags a filter or an unfolded family brings on screen."""
        fresh_request_budget()  # this read's own count against the requests limit
        assert self.ref is not None
        known = {detail.tag for detail in self.details}
        wanted = [tag for tag in self._visible_tags() if tag not in known][:MAX_TAG_DETAILS]
        if not wanted:
            return
        self.details = [*self.details, *await self.nb_app.session.tag_details(self.ref.repo_only(), wanted)]
        self.fill_tags()

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

    def _tag_columns(self, table: DataTable[Any]) -> None:
        """The columns, the sort column marked with its direction (the sort shows where it applies)."""
        arrow = " ▼" if self.sort_reverse else " ▲"
        for column in TAG_COLUMNS:
            label = column.upper() + (arrow if column == self.sort_column else "")
            table.add_column(label, key=column)
        table.add_column("SAME IMAGE AS", key="aliases")

    def _visible_tags(self) -> list[str]:
        """The tags the table shows now, in order: the filter's matches, folded families left out."""
        from nbcatalog.taglist import filter_tags, group_tags

        needle = self.query_one("#tag-filter", Input).value.strip()
        out: list[str] = []
        for group in group_tags(self.tags, unfolded=self.unfolded):
            members = filter_tags(group.tags, needle)
            if group.folded and not needle:
                continue
            out.extend(members)
        return out

    def fill_tags(self) -> None:
        """Every tag, grouped by family (releases first, ``sha-…`` builds folded) unless sorted on
        another column; details where they were read, the filter applied, the cursor kept."""
        from nbcatalog.taglist import aliases, filter_tags, group_tags

        table = self.query_one("#tags-table", DataTable)
        keep = self._highlighted_tag()
        table.clear(columns=True)
        self._tag_columns(table)
        needle = self.query_one("#tag-filter", Input).value.strip()
        by_tag = {detail.tag: detail for detail in self.details}
        same = aliases({d.tag: d.digest for d in self.details if not d.error})
        shown = 0
        if self.sort_column == "tag":
            for group in group_tags(self.tags, unfolded=self.unfolded):
                members = filter_tags(group.tags, needle)
                if not members:
                    continue
                members = members if self.sort_reverse else list(reversed(members))
                folded = group.folded and not needle
                mark = "▸" if folded else "▾"
                hint = "  (o or enter unfolds)" if folded else ""
                label = safe_text(group.label)
                heading = Text.assemble((f"{mark} {label}", "bold"), (f"  {len(members)} tags{hint}", "dim"))
                table.add_row(heading, "", "", "", "", "", key=GROUP_KEY + group.key)
                if folded:
                    continue
                for tag in members:
                    self._tag_row(table, tag, by_tag.get(tag), same.get(tag, []))
                    shown += 1
        else:

            def key(detail: TagDetail) -> Any:
                if self.sort_column == "size":
                    return detail.size or 0
                if self.sort_column == "platforms":
                    return ",".join(detail.platforms)
                return getattr(detail, self.sort_column) or ""

            matching = set(filter_tags(self.tags, needle))
            ordered = sorted((d for d in self.details if d.tag in matching), key=key, reverse=self.sort_reverse)
            for detail in ordered:
                self._tag_row(table, detail.tag, detail, same.get(detail.tag, []))
                shown += 1
        total = len(self.tags)
        read = f"; details of {len(self.details)} read" if len(self.details) < total else ""
        what = f"{shown} of {total} tags match {needle!r}" if needle else f"{total} tags{read}"
        self.query_one("#tag-count", Label).update(safe_rich_text(what))
        if keep is not None:
            keys = [row.key.value for row in table.ordered_rows]
            if keep in keys:
                table.move_cursor(row=keys.index(keep))

    def _tag_row(self, table: DataTable[Any], tag: str, detail: TagDetail | None, same: list[str]) -> None:
        style = "bold green" if tag in self.newer else ("bold cyan" if tag == self.current_tag else "")
        mark = " ↑" if tag in self.newer else (" ●" if tag == self.current_tag else "")
        if detail is None:
            cells: list[Any] = [Text("…", "dim"), "", "", ""]
        elif detail.error:
            cells = [safe_rich_text(detail.error, "red"), "", "", ""]
        else:  # every cell is the registry's: text, never markup (a str cell would be parsed)
            cells = [
                safe_rich_text(short_digest(detail.digest)),
                safe_rich_text((detail.created or "")[:19].replace("T", " ")),
                safe_rich_text(",".join(detail.platforms)),
                human_size(detail.size),
            ]
        alias = ", ".join(same[:3]) + (f" +{len(same) - 3}" if len(same) > 3 else "")
        table.add_row(safe_rich_text(tag + mark, style), *cells, safe_rich_text(alias, "dim"), key=tag)

    @on(Input.Changed, "#tag-filter")
    def tag_filter_changed(self) -> None:
        self.fill_tags()
        self.load_more_details()

    @on(Input.Submitted, "#tag-filter")
    @on(Input.Submitted, "#package-filter")
    def filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        target = "#tags-table" if event.input.id == "tag-filter" else "#packages-table"
        self.query_one(target).focus()

    def action_unfold(self) -> None:
        """Fold or unfold the family under the cursor (a heading, or any of its tags)."""
        from nbcatalog.taglist import family_label, group_tags

        table = self.query_one("#tags-table", DataTable)
        if table.row_count == 0:
            return
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        value = str(row_key.value)
        family = value[len(GROUP_KEY) :] if value.startswith(GROUP_KEY) else family_label(value)
        defaults = {group.key: group.folded for group in group_tags(self.tags)}
        if not defaults.get(family):
            return  # only families folded by default (builds) fold and unfold; releases always show
        self.unfolded ^= {family}
        self.fill_tags()
        self.load_more_details()

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
        self.sort_by(TAG_COLUMNS[(TAG_COLUMNS.index(self.sort_column) + 1) % len(TAG_COLUMNS)])

    def _highlighted_tag(self) -> str | None:
        table = self.query_one("#tags-table", DataTable)
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        if row_key.value is None or str(row_key.value).startswith(GROUP_KEY):
            return None
        return str(row_key.value)

    @on(DataTable.RowSelected, "#tags-table")
    def open_tag(self, event: DataTable.RowSelected) -> None:
        tag = str(event.row_key.value)
        if tag.startswith(GROUP_KEY):
            self.action_unfold()
            return
        if self.ref is not None and tag != self.current_tag:
            self.nb_app.open_image(reference=str(self.ref.repo_only().with_tag(tag)))

    def action_use_tag(self) -> None:
        tag = self._highlighted_tag()
        name = self.entry_name
        if tag is None or name is None:
            self.notify("only a catalog entry's tag can be changed", severity="warning")
            return

        def moved() -> None:
            self.notify(f"{name} now uses {tag} (unsaved; u undoes)")
            self.ref = self.nb_app.document.catalog.get(name).ref
            self._show_title()
            self.newer = self._newer_tags()
            self.fill_tags()

        self.nb_app.bump_tag(name, tag, moved)

    def action_diff_tag(self) -> None:
        tag = self._highlighted_tag()
        if tag is None or self.ref is None:
            return
        self.nb_app.open_diff(str(self.ref), str(self.ref.repo_only().with_tag(tag)))

    # -- layers, history, CUDA ---------------------------------------------------------------

    @work(exclusive=True, group="image-inspect", exit_on_error=False, description="inspecting the image")
    async def load_inspect(self) -> None:
        fresh_request_budget()  # this read's own count against the requests limit
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
            grid.add_row(title, safe_rich_text(value))  # the image's config: text, never markup
        self.query_one("#config-facts", Static).update(grid)
        layers = self.query_one("#layers-table", DataTable)
        layers.clear()
        for position, layer in enumerate(doc["layers"], 1):
            cells = (short_digest(layer["digest"]), human_size(layer["size"]), layer["media_type"])
            layers.add_row(str(position), *(safe_rich_text(cell) for cell in cells))
        history = self.query_one("#history-table", DataTable)
        history.clear()
        for entry in doc["history"]:
            marker = " " if entry.get("empty_layer") else "+"
            created = safe_rich_text((entry.get("created") or "")[:19].replace("T", " "))
            history.add_row(marker, created, safe_rich_text(entry["created_by"][:200]))
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
            parts.append(safe_rich_text(f"CUDA {cuda['version']}{driver}", "bold magenta"))
            table = Table("SOURCE", "KEY", "VALUE", "STRENGTH", box=None, header_style="bold")
            for item in cuda["evidence"]:
                colour = {"strong": "green", "weak": "yellow", "cpu": "red"}.get(item["strength"], "")
                cells = (safe_rich_text(item[field]) for field in ("source", "key", "value"))
                table.add_row(*cells, safe_rich_text(item["strength"], colour))
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
                facts = (safe_rich_text(requirement["description"]), safe_rich_text(requirement["evidence"]))
                table.add_row(marks[requirement["met"]], *facts)
            parts += [Text(""), table]
        self.query_one("#cuda-facts", Static).update(Group(*parts))

    # -- packages ----------------------------------------------------------------------------

    @on(TabbedContent.TabActivated, "#image-tabs")
    def tab_activated(self, event: TabbedContent.TabActivated) -> None:
        pane = event.pane.id or ""
        if pane in TAB_FOCUS:
            self.query_one(TAB_FOCUS[pane]).focus()
        self.refresh_bindings()  # the footer follows the tab: Tags' keys only on Tags
        if pane == "packages" and not self.scanned:
            self.scan_packages()

    @work(exclusive=True, group="image-packages", exit_on_error=False, description="scanning the packages")
    async def scan_packages(self) -> None:
        fresh_request_budget()  # this read's own count against the requests limit
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
            table.add_row(
                safe_rich_text(package.ecosystem, "cyan"), safe_rich_text(package.name),
                safe_rich_text(package.version), safe_rich_text(package.location, "dim"),
            )  # fmt: skip
        counts: dict[str, int] = {}
        for package in self.packages:
            counts[package.ecosystem] = counts.get(package.ecosystem, 0) + 1
        summary = ", ".join(f"{e} {n}" for e, n in counts.items()) or "no packages found"
        self.query_one("#package-count", Label).update(
            safe_rich_text(f"{len(shown)} shown of {len(self.packages)}: {summary}")
        )

    # -- navigation --------------------------------------------------------------------------

    @property
    def active_tab(self) -> str:
        return self.query_one(TabbedContent).active

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Commands act on the visible tab only: the Tags tab's keys do nothing (and are not shown)
        while another tab is open, whatever widget kept the focus."""
        if action in TAGS_TAB_ACTIONS and self.is_mounted:
            return self.active_tab == "tags"
        if action == "focus_filter" and self.is_mounted:
            return self.active_tab in TAB_FILTER
        return True

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_focus_filter(self) -> None:
        if self.active_tab in TAB_FILTER:
            self.query_one(TAB_FILTER[self.active_tab], Input).focus()

    def action_back(self) -> None:
        """``esc`` in a filter with text clears it (:meth:`clear_filter`); otherwise it leaves the image."""
        if self.clear_filter({"#tag-filter": "#tags-table", "#package-filter": "#packages-table"}):
            return
        self.workers.cancel_node(self)
        self.app.pop_screen()
