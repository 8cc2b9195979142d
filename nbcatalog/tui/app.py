"""The terminal app: the catalog as a lineage tree, images, diffs and profiles, curated from the keyboard.

The app owns the one Session and the editable CatalogDocument. Screens read them ("attributes
down") and ask the app to edit ("messages up"); every registry call runs in a worker, so the first
paint comes from the catalog file alone and a failing registry becomes a notification.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from nbcatalog.catalog import CatalogDocument
from nbcatalog.catalog.document import ChangedOnDiskError
from nbcatalog.errors import NbcatalogError
from nbcatalog.limits import fresh_request_budget
from nbcatalog.lineage import LineageEntry
from nbcatalog.nodedisk import NodeDisk
from nbcatalog.safetext import safe_text
from nbcatalog.session import Session, SessionOptions
from nbcatalog.tui.messages import CatalogChanged
from nbcatalog.tui.state import AppFacts, all_tag_status, audit_catalog, findings_by_entry

THEMES = ("textual-dark", "textual-light")


class NbcatalogApp(App[int]):
    """``NbcatalogApp(CatalogDocument.load(path), options)``; ``run()`` returns the exit code."""

    CSS_PATH = "app.tcss"
    TITLE = "nbcatalog"
    ENABLE_COMMAND_PALETTE = True
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("u", "undo", "Undo"),
        Binding("c", "changes", "Changes"),
        Binding("f1,question_mark", "help", "Help"),
        Binding("ctrl+t", "toggle_theme", "Theme", show=False),
        Binding("ctrl+l", "messages", "Messages", show=False),
        Binding("q", "quit", "Quit"),
    ]

    dirty: reactive[bool] = reactive(False)

    def __init__(self, document: CatalogDocument, options: SessionOptions, *, watch_facts: bool = True) -> None:
        super().__init__()
        self.document = document
        self.options = options
        self.session = Session(options)
        self.lineage: dict[str, LineageEntry] = {}
        self.facts = AppFacts()
        self.node_disk: NodeDisk | None = None  # what a node needs to hold the catalog (nbcatalog.nodedisk)
        self.lineage_busy = False
        self.facts_busy = False
        self.watch_facts = watch_facts
        self.messages: list[tuple[str, str, str, str]] = []  # (time, severity, title, message)
        self.problems: dict[str, str] = {}  # registry host (or "lineage"/"audit") -> what went wrong
        self.problem_readers: dict[str, set[str]] = {}  # and which reads it failed (tags, lineage, audit)

    # -- lifecycle ---------------------------------------------------------------------------

    def on_mount(self) -> None:
        from nbcatalog.tui.screens.catalog import CatalogScreen

        self.sub_title = safe_text(self.document.path.name)
        self.push_screen(CatalogScreen())
        if self.watch_facts:
            self.refresh_facts()

    async def on_unmount(self) -> None:
        self.workers.cancel_all()
        await self.session.aclose()

    def watch_dirty(self, dirty: bool) -> None:
        self.sub_title = safe_text(self.document.path.name) + ("  ● modified" if dirty else "")

    def changed(self) -> None:
        """Tell every screen to redraw from the app's state."""
        for screen in self.screen_stack:
            screen.post_message(CatalogChanged())

    def refresh_facts(self) -> None:
        """Lineage, tags and audit again (after start, an edit that moves a tag or parent, or ``r``)."""
        self.run_lineage()
        self.run_tag_facts()
        self.run_node_disk()

    # -- workers -----------------------------------------------------------------------------

    @work(exclusive=True, group="lineage", exit_on_error=False, description="inferring the lineage")
    async def run_lineage(self) -> None:
        fresh_request_budget()  # this read's own count against the requests limit
        import asyncio

        from nbcatalog.lineage import catalog_lineage
        from nbcatalog.tui.state import no_answer, read_deadline

        self.lineage_busy = True
        self.changed()
        try:
            async with asyncio.timeout(read_deadline()):
                run = await catalog_lineage(self.session, self.document.catalog.images)
        except TimeoutError:
            self.problem(self._blamed("lineage"), no_answer(), reader="lineage")
            return
        finally:
            self.lineage_busy = False
            self.changed()
        self.lineage = {entry.name: entry for entry in run.entries}
        self._answered("lineage")
        images = {image.name: image for image in self.document.catalog.images}
        for entry in run.entries:
            if entry.image.error and entry.name in images:
                self.problem(images[entry.name].ref.registry, entry.image.error, title=f"Lineage: {entry.name}")
        self.changed()

    @work(exclusive=True, group="facts", exit_on_error=False, description="listing tags and auditing")
    async def run_tag_facts(self) -> None:
        fresh_request_budget()  # this read's own count against the requests limit
        import asyncio

        from nbcatalog.tui.state import host_problems, no_answer, read_deadline

        self.facts_busy = True
        try:
            tags = await all_tag_status(self.session, self.document.catalog)
            self.facts = AppFacts(tags=tags, findings=self.facts.findings, all_findings=self.facts.all_findings)
            failing = host_problems(tags)
            for host in [h for h in self.problems if h not in failing and "tags" in self.problem_readers.get(h, ())]:
                self._answered("tags", host)  # answered this time
            for host, error in failing.items():
                self.problem(host, error, title="Listing tags failed", reader="tags")
            self.changed()
            try:
                async with asyncio.timeout(read_deadline()):
                    findings = await audit_catalog(self.session, self.document)
            except TimeoutError:
                self.problem(self._blamed("audit"), no_answer(), reader="audit")
                return
            self._answered("audit")
            self.facts = AppFacts(tags, findings_by_entry(self.document, findings), findings)
        finally:
            self.facts_busy = False
            self.changed()

    @work(exclusive=True, group="disk", exit_on_error=False, description="adding up the node disk")
    async def run_node_disk(self) -> None:
        """The catalog's unique compressed bytes per node pool, as ``nbcatalog plan`` sums them:
        manifests only, so it is cheap; an entry that cannot be read is left out (a lower bound)."""
        fresh_request_budget()
        import asyncio

        from nbcatalog.nodedisk import node_disk
        from nbcatalog.tui.state import read_deadline

        try:
            async with asyncio.timeout(read_deadline()):
                self.node_disk = await node_disk(self.session, self.document.catalog)
        except TimeoutError:
            return  # the tag and lineage readers report the stalled host; the last figure stays
        self.changed()

    def _blamed(self, reader: str) -> str:
        """Where a whole read (lineage, audit) that ran out of time is reported: the catalog's one
        registry host when it has one (one cause, one line), else the read itself."""
        hosts = {image.ref.registry for image in self.document.catalog.images}
        return next(iter(hosts)) if len(hosts) == 1 else reader

    def _answered(self, reader: str, where: str | None = None) -> None:
        for key in [where] if where else list(self.problems):
            readers = self.problem_readers.get(key, set())
            readers.discard(reader)
            if not readers:
                self.problems.pop(key, None)
                self.problem_readers.pop(key, None)

    def problem(self, where: str, text: str, *, title: str = "Registry", reader: str = "tags") -> None:
        """A registry that fails is one status line per host (``r`` retries) and a line in the message
        log (ctrl+l), not a stack of toasts: the first failure of a host is a toast, repeats are not."""
        import datetime

        first = where not in self.problems
        self.problems.setdefault(where, text)
        self.problem_readers.setdefault(where, set()).add(reader)
        if first:
            self.notify(f"{where}: {text}", title=title, severity="error", timeout=6)
        else:
            when = datetime.datetime.now().strftime("%H:%M:%S")
            self.messages.append((when, "error", title, f"{where}: {text}"))

    def cancel_facts(self) -> bool:
        """Stop inferring the lineage, listing tags and auditing (a slow registry); ``r`` starts again.

        What the workers found before stays on screen; returns whether anything was running.
        """
        running = [w for w in self.workers if w.group in ("lineage", "facts") and w.is_running]
        for worker in running:
            worker.cancel()
        self.lineage_busy = self.facts_busy = False
        self.changed()
        return bool(running)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place an unexpected worker failure surfaces: a notification naming the job."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        what = event.worker.description or event.worker.name or "a background job"
        message = str(error) if isinstance(error, NbcatalogError) else f"{type(error).__name__}: {error}"
        self.notify(message, title=f"Failed: {what}", severity="error", timeout=10)
        self.changed()

    # -- editing -----------------------------------------------------------------------------

    def edit(self, what: str, change: Callable[[CatalogDocument], None], *, facts: bool = False) -> bool:
        """Apply one validated edit; a refused edit is a notification and changes nothing."""
        try:
            change(self.document)
        except NbcatalogError as exc:
            self.notify(exc.message, title=f"Cannot {what}", severity="error", timeout=8)
            return False
        self.dirty = self.document.dirty
        self.changed()
        if facts and self.watch_facts:
            self.refresh_facts()
        return True

    def bump_tag(self, name: str, tag: str, moved: Callable[[], None] | None = None) -> None:
        """Move ``name`` to ``tag`` once the admin has seen what it costs and changes (the plan
        dialog), from the tree's ``t`` and the image screen's ``t`` alike; ``moved`` runs after the edit."""
        from nbcatalog.tui.screens.plan import PlanScreen

        entry = self.document.catalog.find(name)
        if entry is not None and entry.tag == tag:
            self.notify(f"{name} already uses {tag}")
            return

        def answered(apply: bool | None) -> None:
            edited = apply and self.edit(f"set the tag of {name}", lambda doc: doc.set_tag(name, tag), facts=True)
            if edited and moved is not None:
                moved()

        self.push_screen(PlanScreen(name, tag), answered)

    def action_undo(self) -> None:
        """Take back the newest edit; each press one more (tag, parent, add and remove included)."""
        label = self.document.undo()
        if label is None:
            self.notify("nothing to undo")
            return
        self.dirty = self.document.dirty
        self.changed()
        self.notify(f"undone: {label}")
        if self.watch_facts:
            self.refresh_facts()

    def action_changes(self) -> None:
        """What ctrl+s would write, as a diff, with the edits behind it."""
        from nbcatalog.tui.screens.dialogs import ChangesScreen

        if not isinstance(self.screen, ChangesScreen):
            self.push_screen(ChangesScreen(self.document.unsaved_edits(), self.document.pending_diff()))

    def action_messages(self) -> None:
        """Every notification of this run again, newest last: errors that flashed by can be read."""
        from nbcatalog.tui.screens.dialogs import MessagesScreen

        if not isinstance(self.screen, MessagesScreen):
            self.push_screen(MessagesScreen(list(self.messages)))

    def notify(self, message: str, *, title: str = "", severity: Any = "information", **kwargs: Any) -> None:
        """Every notification is kept for the message log (ctrl+l) as well as shown.

        Messages carry data (tags, references, registry errors), so they are always text: never
        parsed as markup (``[@click=app.quit]`` in a tag stays those characters), controls escaped.
        Screens' and widgets' ``notify`` come here too.
        """
        import datetime

        kwargs["markup"] = False
        message, title = safe_text(message, allow_newlines=True), safe_text(title)
        when = datetime.datetime.now().strftime("%H:%M:%S")
        self.messages.append((when, str(severity), title, message))
        super().notify(message, title=title, severity=severity, **kwargs)

    def action_save(self) -> None:
        if not self.dirty:
            self.notify("nothing to save")
            return
        if self.save():
            self.notify(f"saved {self.document.path.name}")

    def save(self) -> bool:
        try:
            self.document.save()
        except (NbcatalogError, OSError) as exc:  # changed on disk, unwritable, disk full: nothing lost
            hint = " (ctrl+p › Reload catalog reads it again)" if isinstance(exc, ChangedOnDiskError) else ""
            self.notify(f"{exc}{hint}", title="Save failed", severity="error", timeout=10)
            return False
        self.dirty = self.document.dirty
        self.changed()
        return True

    def action_reload(self) -> None:
        """Read catalog.yaml again (changed by someone else); unsaved edits are dropped only after asking."""
        if not self.dirty:
            self.reload()
            return
        from nbcatalog.tui.screens.dialogs import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self.reload()

        self.push_screen(
            ConfirmScreen(f"Drop your unsaved changes and read {self.document.path.name} again?"), answered
        )

    def reload(self) -> None:
        try:
            document = CatalogDocument.load(self.document.path)
        except NbcatalogError as exc:  # now broken on disk: keep what is open
            self.notify(str(exc), title="Reload failed", severity="error", timeout=10)
            return
        self.document = document
        self.dirty = False
        self.changed()
        if self.watch_facts:
            self.refresh_facts()
        self.notify(f"read {document.path.name} again")

    async def action_quit(self) -> None:
        if not self.dirty:
            self.exit(0)
            return
        from nbcatalog.tui.screens.dialogs import QuitScreen

        if isinstance(self.screen, QuitScreen):
            return  # a second q is not an answer

        def answered(answer: str | None) -> None:
            if (answer == "save" and self.save()) or answer == "discard":
                self.exit(0)

        self.push_screen(QuitScreen(self.document.unsaved_edits()), answered)

    # -- navigation --------------------------------------------------------------------------

    def action_help(self) -> None:
        from nbcatalog.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = THEMES[1] if self.theme == THEMES[0] else THEMES[0]

    def open_image(self, name: str | None = None, reference: str | None = None) -> None:
        from nbcatalog.tui.screens.image import ImageScreen

        self.push_screen(ImageScreen(name=name, reference=reference))

    def open_diff(self, a: str = "", b: str = "") -> None:
        from nbcatalog.tui.screens.diff import DiffScreen

        self.push_screen(DiffScreen(a, b))

    def open_profiles(self) -> None:
        from nbcatalog.tui.screens.profiles import ProfilesScreen

        self.push_screen(ProfilesScreen())

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        from nbcatalog.tui.commands import app_commands

        yield from app_commands(self, screen)
        yield from super().get_system_commands(screen)
