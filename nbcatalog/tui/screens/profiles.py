"""What ``nbcatalog export`` would write for each format, the audit's findings, and the write action."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static, TabbedContent, TabPane

from nbcatalog.errors import NbcatalogError
from nbcatalog.safetext import safe_rich_text, safe_text
from nbcatalog.tui.messages import CatalogChanged
from nbcatalog.tui.screens.base import AppScreenMixin
from nbcatalog.tui.widgets.lineage_tree import SEVERITY_STYLE
from nbcatalog.tui.widgets.lists import ListTable

if TYPE_CHECKING:
    from nbcatalog.exporters.files import PlannedFile

FORMAT_TITLES = {
    "kubeflow": "Kubeflow",
    "jupyterhub": "z2jh",
    "kubespawner": "KubeSpawner",
    "workspacekind": "WorkspaceKind",
}


class ProfilesScreen(AppScreenMixin, Screen[None]):
    """One tab per export format (syntax-highlighted), one for the audit; ``w`` writes profiles/."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("slash", "focus_filter", "Filter findings"),
        Binding("w", "write", "Write profiles/"),
        Binding("r", "refresh", "Re-audit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.planned: list[PlannedFile] = []
        self.refused: list[str] = []
        self.warnings: list[str] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="export-warnings")
        with TabbedContent(id="profile-tabs"):
            for export_format, title in FORMAT_TITLES.items():
                with TabPane(title, id=f"fmt-{export_format}"), VerticalScroll():
                    yield Static(id=f"preview-{export_format}", classes="preview")
            with TabPane("Audit", id="audit"):
                yield Static(id="audit-summary")
                yield Input(placeholder="/ filters the findings (kind, image, message, file) · esc clears",
                            id="finding-filter", select_on_focus=False)  # fmt: skip
                yield ListTable(id="audit-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#audit-table", DataTable).add_columns("SEVERITY", "KIND", "IMAGE", "TAG", "MESSAGE", "WHERE")
        self.redraw()

    def on_catalog_changed(self, _: CatalogChanged) -> None:
        self.redraw()

    def redraw(self) -> None:
        self.preview()
        self.show_audit()

    def preview(self) -> None:
        """Plan every format from the catalog as edited; nothing is written here.

        The warnings ``nbcatalog export`` prints (CUDA guessed from names, Kubeflow cannot bind a GPU
        to an image, groups kept as the file had them) and what the pre-write audit would refuse are
        shown above the tabs, where they are seen before ``w``, not under a long preview.
        """
        from nbcatalog.exporters.files import ExportOptions, plan_export
        from nbcatalog.exporters.preflight import preflight

        catalog = self.nb_app.document.catalog
        self.planned, self.refused, self.warnings = [], [], []
        for export_format in FORMAT_TITLES:
            target = self.query_one(f"#preview-{export_format}", Static)
            if not catalog.offered(export_format):
                target.update(Text("no catalog image is offered in this format", "dim"))
                continue
            try:
                plan = plan_export(catalog, export_format, ExportOptions())
            except NbcatalogError as exc:  # a hand-edited file, an unreadable --base: shown, never written
                target.update(safe_rich_text(exc, "bold red"))
                self.refused.append(f"{export_format}: {exc}")
                continue
            self.planned.extend(plan.files)
            problems = [str(p) for p in preflight(plan.files, [image.reference for image in catalog.images])]
            self.refused.extend(f"{export_format}: {problem}" for problem in problems)
            self.warnings.extend(f"{FORMAT_TITLES[export_format]}: {w}" for w in plan.warnings if w)
            parts: list[Text | Syntax] = [safe_rich_text(f"refused: {p}", "bold red") for p in problems]
            parts.extend(safe_rich_text(f"warning: {w}", "yellow") for w in plan.warnings)
            for planned in plan.files:
                state = "up to date" if planned.up_to_date() else ("new" if planned.current() is None else "changed")
                style = "green" if state == "up to date" else "yellow"
                parts.append(Text.assemble((safe_text(planned.path), "bold"), "  ", (state, style)))
                lexer = "python" if planned.path.suffix == ".py" else "yaml"
                shown = safe_text(planned.text, allow_newlines=True)  # what is written stays planned.text
                parts.append(Syntax(shown, lexer, line_numbers=True, word_wrap=False, theme="ansi_dark"))
            target.update(Group(*parts))
        banner = [safe_rich_text(f"✗ {r}", "bold red") for r in self.refused]
        banner += [safe_rich_text(f"⚠ {w}", "yellow") for w in dict.fromkeys(self.warnings)]
        box = self.query_one("#export-warnings", Static)
        box.display = bool(banner)
        box.update(Group(*banner))

    def show_audit(self) -> None:
        app = self.nb_app
        needle = self.query_one("#finding-filter", Input).value.strip().lower()
        findings = [
            f for f in app.facts.all_findings
            if all(word in f"{f.severity} {f.kind} {f.image} {f.message} {f.path}".lower() for word in needle.split())
        ]  # fmt: skip
        table = self.query_one("#audit-table", DataTable)
        table.clear()
        for finding in findings:
            change = f"{finding.current} → {finding.suggested}" if finding.current and finding.suggested else (
                finding.suggested or finding.current or "")  # fmt: skip
            table.add_row(  # images, tags and messages are data: text, never markup
                Text(finding.severity, SEVERITY_STYLE[finding.severity]),
                safe_rich_text(finding.kind),
                safe_rich_text(finding.image),
                safe_rich_text(change),
                safe_rich_text(finding.message),
                safe_rich_text(f"{finding.path.rsplit('/', 1)[-1]}:{finding.line}", "dim"),
            )
        counts = {s: sum(1 for f in findings if f.severity == s) for s in ("error", "warning", "info")}
        summary = Text(", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items()))
        if app.facts_busy:
            summary = Text("auditing…", "italic")
        elif not findings:
            summary = Text("no findings", "green")
        self.query_one("#audit-summary", Static).update(summary)

    @on(TabbedContent.TabActivated)
    def tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "audit":
            self.show_audit()
            self.query_one("#finding-filter" if self._to_filter else "#audit-table").focus()
            self._to_filter = False

    @on(Input.Changed, "#finding-filter")
    def finding_filter_changed(self) -> None:
        self.show_audit()

    @on(Input.Submitted, "#finding-filter")
    def finding_filter_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#audit-table").focus()

    _to_filter = False

    def action_focus_filter(self) -> None:
        tabs = self.query_one(TabbedContent)
        if tabs.active != "audit":
            self._to_filter = True  # the tab, once shown, focuses its filter rather than its table
            tabs.active = "audit"
        self.query_one("#finding-filter", Input).focus()

    def action_write(self) -> None:
        """Write what the previews show, like ``nbcatalog export``; only from a saved catalog, so the
        files' header hashes match catalog.yaml on disk."""
        from nbcatalog.yamlio import atomic_write_text

        if self.nb_app.dirty:
            self.notify("save the catalog first (ctrl+s): profiles are generated from catalog.yaml",
                        severity="warning", timeout=6)  # fmt: skip
            return
        self.preview()  # plan again now: a file edited by hand since the preview must be refused, not overwritten
        if self.refused:  # the CLI refuses these too: nothing is written, the banner says why
            self.notify(f"{len(self.refused)} problem(s), shown above the tabs: {self.refused[0]}",
                        title="Not written", severity="error", timeout=10)  # fmt: skip
            return
        written: list[str] = []
        try:
            for planned in self.planned:
                if not planned.up_to_date():
                    atomic_write_text(planned.path, planned.text)
                    written.append(str(planned.path))
        except (NbcatalogError, OSError) as exc:
            reason = str(exc) if isinstance(exc, NbcatalogError) else f"{planned.path}: {exc.strerror or exc}"
            done = f" ({len(written)} file(s) written before it)" if written else ""
            self.notify(reason + done, title="Export failed", severity="error", timeout=10)
        else:
            where = self.planned[0].path.parent.parent if self.planned else "profiles/"
            if written:
                self.notify("\n".join(written), title=f"Wrote {len(written)} file(s) under {where}", timeout=10)
            else:
                self.notify(f"{where} is up to date")
        self.preview()

    def action_refresh(self) -> None:
        self.nb_app.run_tag_facts()
        self.show_audit()

    def action_back(self) -> None:
        """``esc`` in the findings filter with text clears it (:meth:`clear_filter`); otherwise it leaves."""
        if self.clear_filter({"#finding-filter": "#audit-table"}):
            return
        self.app.pop_screen()
