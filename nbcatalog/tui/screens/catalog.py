"""The main screen: the lineage tree with badges, a filter, the selected entry's facts, curating keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Label, LoadingIndicator, Static, Tree

from nbcatalog.catalog import KINDS, CatalogImage, GpuMode
from nbcatalog.safetext import safe_rich_text, safe_text
from nbcatalog.tui.messages import CatalogChanged
from nbcatalog.tui.screens.base import AppScreenMixin
from nbcatalog.tui.widgets.lineage_tree import SEVERITY_STYLE, LineageTree

if TYPE_CHECKING:
    from nbcatalog.nodedisk import NodeDisk


class CatalogScreen(AppScreenMixin, Screen[None]):
    """Enter opens the image; t, a, x, e, P, * edit; d diffs; p shows profiles; / filters.

    One rule for keys: with the tree focused, letters are commands (and ``j``/``k``/``g``/``G`` move);
    ``/`` focuses the filter, where every printable key is text, and ``esc`` clears it and goes back
    to the tree. Typing never starts the filter by itself, so a name can never run a command.
    """

    BINDINGS = [
        Binding("enter", "open", "Open", show=False),
        Binding("t", "change_tag", "Tag"),
        Binding("a", "add_image", "Add"),
        Binding("x", "remove_image", "Remove"),
        Binding("e", "edit_entry", "Edit"),
        Binding("P", "set_parent", "Parent", show=False),
        Binding("asterisk", "set_default", "Default", show=False),
        Binding("d", "diff", "Diff"),
        Binding("p", "profiles", "Profiles"),
        Binding("r", "refresh", "Refresh", show=False),
        Binding("slash", "focus_filter", "Filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("ctrl+x", "cancel", "Cancel reading", show=False, priority=True),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="catalog-body"):
            with Vertical(id="tree-pane"):
                yield Input(
                    placeholder="/ filters by name, tag, kind, repository · esc clears", id="filter",
                    select_on_focus=False,
                )  # fmt: skip
                yield LineageTree("catalog", id="tree")
                yield Label("", id="no-matches")
                with Horizontal(id="busy"):
                    yield LoadingIndicator()
                    yield Label("", id="busy-label")
                yield Static("", id="registry-status")
                yield Static("", id="node-disk")
            with VerticalScroll(id="details"):
                yield Static(id="facts")
        yield Footer()

    _select_next: str | None = None

    def on_mount(self) -> None:
        tree = self.query_one(LineageTree)
        tree.show_root = False
        tree.auto_expand = False
        tree.guide_depth = 3
        self.redraw()
        tree.focus()

    @property
    def selected(self) -> CatalogImage | None:
        name = self.query_one(LineageTree).selected_name
        return self.nb_app.document.catalog.find(name) if name else None

    def on_catalog_changed(self, _: CatalogChanged) -> None:
        self.redraw()

    def redraw(self) -> None:
        app = self.nb_app
        needle = self.query_one("#filter", Input).value
        tree = self.query_one(LineageTree)
        tree.show(
            app.document.catalog, app.lineage, app.facts.tags, app.facts.findings, needle,
            rereading=app.facts_busy or app.lineage_busy, select=self._select_next,
        )  # fmt: skip
        self._select_next = None
        empty = self.query_one("#no-matches", Label)
        empty.display = bool(needle) and tree.shown == 0
        empty.update(safe_rich_text(f"no image matches {needle!r} (esc clears the filter)"))
        busy = [what for what, on in (("lineage", app.lineage_busy), ("tags & audit", app.facts_busy)) if on]
        self.query_one("#busy").display = bool(busy)
        status = self.query_one("#registry-status", Static)
        status.display = bool(app.problems)
        lines = [
            Text.assemble((f"✗ {safe_text(where)}: ", "bold red"), (safe_text(text), "red"),
                          (f"  ({', '.join(sorted(app.problem_readers.get(where, ())))})", "dim"))
            for where, text in app.problems.items()
        ]  # fmt: skip
        if lines:
            lines.append(Text("r retries · ctrl+l shows every message", "dim"))
        status.update(Text("\n").join(lines))
        self.query_one("#node-disk", Static).update(node_disk_line(app.node_disk))
        self.query_one("#busy-label", Label).update(f"reading {', '.join(busy)}… (ctrl+x cancels)" if busy else "")
        self.show_details()

    @on(Tree.NodeHighlighted)
    def highlighted(self, _: Tree.NodeHighlighted[str]) -> None:
        self.show_details()

    @on(Tree.NodeSelected)
    def node_selected(self, event: Tree.NodeSelected[str]) -> None:
        event.stop()
        self.action_open()

    def show_details(self) -> None:
        image = self.selected
        facts = self.query_one("#facts", Static)
        if image is None:
            facts.update(
                "no image selected" if self.nb_app.document.catalog.images else "the catalog is empty: a adds one"
            )
            return
        app = self.nb_app
        table = Table.grid(padding=(0, 1))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        lineage = app.lineage.get(image.name)
        status = app.facts.tags.get(image.name)
        rows: list[tuple[str, str | Text]] = [
            ("Name", image.name),
            ("Title", image.title),
            ("Image", image.image),
            ("Tag", image.tag + (f" @ {image.digest[:19]}" if image.digest else "")),
            ("Kind", image.kind),
            ("GPU", str(image.gpu).lower()),
            ("Policy", image.tag_policy),
            ("Default", "yes" if image.default else "no"),
            ("Parent", image.parent or "(none)"),
        ]
        if lineage is not None:
            rows.append(("Inferred", lineage.inferred_parent or "(none)"))
            if lineage.base is not None:
                rows.append(("Built on", lineage.base.reference))
            cuda = lineage.image.cuda
            rows.append(("CUDA", safe_rich_text(cuda.version or "yes", "magenta") if cuda else "no"))
        if status is not None:
            if status.error:
                rows.append(("Tags", safe_rich_text(status.error, "red")))
            else:
                newer = ", ".join(reversed(status.newer[-3:])) if status.newer else "up to date"
                rows.append(("Tags", f"{len(status.tags)}; newer: {newer}"))
                if not status.present:
                    rows.append(("Missing", safe_rich_text(f"{image.tag} is not in the repository", "red")))
        for title, value in rows:  # values are the catalog's and the registry's: text, never markup
            table.add_row(title, value if isinstance(value, Text) else safe_rich_text(value))
        issues = list(lineage.issues) if lineage is not None else []
        for issue in issues:
            kind = safe_rich_text(issue.kind, SEVERITY_STYLE.get(issue.severity, "yellow"))
            table.add_row(kind, safe_rich_text(issue.message))
        for finding in app.facts.findings.get(image.name, []):
            table.add_row(
                safe_rich_text(finding.kind, SEVERITY_STYLE[finding.severity]), safe_rich_text(finding.message)
            )
        if image.description:
            table.add_row("", safe_rich_text(image.description, "italic", allow_newlines=True))
        facts.update(table)

    # -- filter ------------------------------------------------------------------------------

    @on(Input.Changed, "#filter")
    def filter_changed(self, _: Input.Changed) -> None:
        self.redraw()

    @on(Input.Submitted, "#filter")
    def filter_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(LineageTree).focus()

    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_clear_filter(self) -> None:
        self.query_one("#filter", Input).value = ""
        self.query_one(LineageTree).focus()

    # -- actions -----------------------------------------------------------------------------

    def action_open(self) -> None:
        if self.selected is not None:
            self.nb_app.open_image(self.selected.name)

    def action_diff(self) -> None:
        image = self.selected
        if image is None:
            self.nb_app.open_diff()
            return
        status = self.nb_app.facts.tags.get(image.name)
        if status is not None and status.newest:
            self.nb_app.open_diff(image.name, f"{image.name}:{status.newest}")
        else:
            self.nb_app.open_diff(image.parent or "", image.name)

    def action_profiles(self) -> None:
        self.nb_app.open_profiles()

    def action_refresh(self) -> None:
        self.nb_app.refresh_facts()

    def action_cancel(self) -> None:
        cancelled = self.nb_app.cancel_facts()
        self.notify("cancelled reading the registries (r reads again)" if cancelled else "nothing to cancel")

    def action_change_tag(self) -> None:
        from nbcatalog.tui.screens.dialogs import TagPickerScreen

        image = self.selected
        if image is None:
            return
        name = image.name

        def picked(tag: str | None) -> None:
            if tag and tag != image.tag:
                self.nb_app.bump_tag(name, tag)

        title = f"Tag for {name} (now {image.tag})"
        self.app.push_screen(TagPickerScreen(title, image.ref.repo_only(), image.tag, image.tag_policy), picked)

    def action_add_image(self) -> None:
        from nbcatalog.tui.screens.add_image import AddImageScreen

        def added(fields: dict[str, object] | None) -> None:
            if fields:
                name = str(fields["name"])
                self._select_next = name  # the cursor and the details go to the new entry
                if self.nb_app.edit(f"add {name}", lambda doc: doc.add_image(fields), facts=True):
                    self.notify(f"added {name}")
                else:
                    self._select_next = None

        self.app.push_screen(AddImageScreen(), added)

    def action_remove_image(self) -> None:
        from nbcatalog.tui.screens.dialogs import ConfirmScreen

        image = self.selected
        if image is None:
            return
        name = image.name

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._select_next = self.query_one(LineageTree).neighbour(name)  # the row next to it
                if not self.nb_app.edit(f"remove {name}", lambda doc: doc.remove_image(name), facts=True):
                    self._select_next = None

        self.app.push_screen(ConfirmScreen(f"Remove {name} from the catalog?"), confirmed)

    def action_edit_entry(self) -> None:
        """One menu for the entry's fields, so kind and GPU need no letter of their own."""
        image = self.selected
        if image is None:
            return
        fields = [
            ("change_tag", f"Tag…  (now {image.tag})"),
            ("set_parent", f"Parent…  (now {image.parent or 'none'})"),
            ("set_kind", f"Kind…  (now {image.kind})"),
            ("set_gpu", f"GPU…  (now {str(image.gpu).lower()})"),
            ("set_default", "Make the default" + ("  (it is)" if image.default else "")),
        ]

        def chosen(action: str | None) -> None:
            if action:
                self.call_later(self.run_action, action)

        from nbcatalog.tui.screens.dialogs import ChoiceScreen

        self.app.push_screen(ChoiceScreen(f"Edit {image.name}", fields, None), chosen)

    def action_set_parent(self) -> None:
        image = self.selected
        if image is None:
            return
        name = image.name
        others = [(i.name, i.name) for i in self.nb_app.document.catalog.images if i.name != name]
        none = "<none>"  # not a valid catalog name

        def set_parent(value: str) -> None:
            parent = None if value == none else value
            self.nb_app.edit(f"set the parent of {name}", lambda doc: doc.set_parent(name, parent), facts=True)

        self.choose(f"Parent of {name}", [(none, "(none)"), *others], image.parent or none, set_parent)

    def action_set_kind(self) -> None:
        image = self.selected
        if image is None:
            return
        name = image.name

        def set_kind(value: str) -> None:
            self.nb_app.edit(f"set the kind of {name}", lambda doc: doc.set_kind(name, value))

        self.choose(f"Kind of {name}", [(kind, kind) for kind in KINDS], image.kind, set_kind)

    def action_set_gpu(self) -> None:
        image = self.selected
        if image is None:
            return
        name = image.name
        choices = [("auto", "auto (detect CUDA)"), ("true", "true (always a GPU)"), ("false", "false (never)")]
        values: dict[str, GpuMode] = {"auto": "auto", "true": True, "false": False}

        def set_gpu(value: str) -> None:
            self.nb_app.edit(f"set GPU of {name}", lambda doc: doc.set_gpu(name, values[value]))

        self.choose(f"GPU for {name}", choices, str(image.gpu).lower(), set_gpu)

    def action_set_default(self) -> None:
        image = self.selected
        if image is not None:
            name = image.name
            self.nb_app.edit(f"make {name} the default", lambda doc: doc.set_default(name))

    def choose(self, title: str, choices: list[tuple[str, str]], current: str, then: Callable[[str], object]) -> None:
        from nbcatalog.tui.screens.dialogs import ChoiceScreen

        def chosen(value: str | None) -> None:
            if value is not None and value != current:
                then(value)

        self.app.push_screen(ChoiceScreen(title, choices, current), chosen)


def node_disk_line(disk: NodeDisk | None) -> Text:
    """``node disk: all 1.2 GiB · CPU 310.0 MiB · GPU 980.0 MiB``: what a node of each pool holds
    (layers counted once, compressed; GPU images go to GPU nodes, as the pre-puller places them),
    with how many entries could not be read; empty until the figure is known."""
    from nbcatalog.localfiles import human_size

    if disk is None:
        return Text("")
    text = Text.assemble(
        ("node disk: ", "bold"), "all ", (human_size(disk.total_bytes), "bold"),
        " · CPU ", human_size(disk.cpu_bytes), " · GPU ", human_size(disk.gpu_bytes),
    )  # fmt: skip
    if disk.errors:
        text.append(f" (at least: {len(disk.errors)} not read)", "yellow")
    return text
