"""Modal dialogs: confirm, quit with unsaved changes, pick one of a few values, pick a tag."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label, LoadingIndicator, OptionList, Static
from textual.widgets.option_list import Option

from nbcatalog.errors import NbcatalogError
from nbcatalog.refs import AnyRef
from nbcatalog.tui.screens.base import AppScreenMixin
from nbcatalog.tui.state import newest_first, picker_order

if TYPE_CHECKING:
    pass


class ConfirmScreen(ModalScreen[bool]):
    """Yes or no; ``y``/``n`` answer without the mouse."""

    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="dialog-title")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Yes (y)", variant="error", id="yes")
                yield Button("No (n)", variant="primary", id="no")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class QuitScreen(ModalScreen[str]):
    """Unsaved changes: save and quit (``s``), discard them (``d``) or stay (``escape``, ``c``).

    ``q`` is no answer here: the key that opened the dialog never discards, so ``q q`` leaves the app
    open. The dialog names the edits that would be lost.
    """

    BINDINGS = [
        Binding("s", "answer('save')", "Save and quit"),
        Binding("d", "answer('discard')", "Discard and quit"),
        Binding("escape,c", "answer('cancel')", "Cancel"),
    ]

    def __init__(self, edits: Sequence[str] = ()) -> None:
        super().__init__()
        self.edits = list(edits)

    def compose(self) -> ComposeResult:
        count = len(self.edits)
        with Vertical(classes="dialog"):
            yield Label(
                f"The catalog has {count} unsaved edit{'s' if count != 1 else ''}:" if count else
                "The catalog has unsaved changes.", classes="dialog-title",
            )  # fmt: skip
            shown = self.edits[-6:]
            more = f"\n… and {count - len(shown)} more (c shows them all)" if count > len(shown) else ""
            yield Static(Text("\n".join(f"• {edit}" for edit in shown) + more), id="quit-edits")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save and quit (s)", variant="primary", id="save")
                yield Button("Discard and quit (d)", variant="error", id="discard")
                yield Button("Cancel (esc)", id="cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def action_answer(self, answer: str) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id or "cancel")


class ChangesScreen(AppScreenMixin, ModalScreen[None]):
    """What ctrl+s would write: the edits since the last save and the diff of catalog.yaml."""

    BINDINGS = [Binding("escape,c", "close", "Close"), Binding("u", "undo", "Undo")]

    def __init__(self, edits: Sequence[str], diff: str) -> None:
        super().__init__()
        self.edits = list(edits)
        self.diff = diff

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog tall"):
            yield Label("Unsaved changes (ctrl+s writes them)", classes="dialog-title")
            with VerticalScroll(id="changes-body"):
                yield Static(self._body(), id="changes-diff")
        yield Footer()

    def _body(self) -> Text:
        if not self.edits:
            return Text("Nothing to save: the catalog is as it was loaded or last saved.", "dim")
        text = Text()
        for edit in self.edits:
            text.append(f"• {edit}\n")
        text.append("\n")
        styles = {"+": "green", "-": "red", "@": "cyan"}
        for line in self.diff.splitlines():
            text.append(line + "\n", styles.get(line[:1], "") if not line.startswith(("+++", "---")) else "bold")
        return text

    def on_mount(self) -> None:
        self.query_one("#changes-body", VerticalScroll).focus()

    def action_undo(self) -> None:
        self.nb_app.action_undo()
        self.edits = self.nb_app.document.unsaved_edits()
        self.diff = self.nb_app.document.pending_diff()
        self.query_one("#changes-diff", Static).update(self._body())

    def action_close(self) -> None:
        self.dismiss(None)


class MessagesScreen(ModalScreen[None]):
    """The notifications of this run, newest last: a registry error that flashed by can be read again."""

    BINDINGS = [Binding("escape,ctrl+l", "close", "Close")]

    def __init__(self, messages: Sequence[tuple[str, str, str, str]]) -> None:
        super().__init__()
        self.entries = list(messages)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog tall"):
            yield Label(f"Messages ({len(self.entries)})", classes="dialog-title")
            with VerticalScroll(id="messages-body"):
                yield Static(self._body(), id="messages-log")
        yield Footer()

    def _body(self) -> Text:
        if not self.entries:
            return Text("No messages yet.", "dim")
        styles = {"error": "red", "warning": "yellow"}
        text = Text()
        for when, severity, title, message in self.entries:
            text.append(f"{when} ", "dim")
            text.append(f"{title}: " if title else "", styles.get(severity, "bold"))
            text.append(message + "\n", styles.get(severity, ""))
        return text

    def on_mount(self) -> None:
        body = self.query_one("#messages-body", VerticalScroll)
        body.focus()
        body.scroll_end(animate=False)

    def action_close(self) -> None:
        self.dismiss(None)


class ChoiceScreen(ModalScreen[str | None]):
    """Pick one value (a parent, a kind, a GPU mode); the current one is highlighted."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, choices: Sequence[tuple[str, str]], current: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.choices = list(choices)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield OptionList(*(Option(label, id=value) for value, label in self.choices), id="choices")
        yield Footer()

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        values = [value for value, _ in self.choices]
        if self.current in values:
            options.highlighted = values.index(self.current)
        options.focus()

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class TagPickerScreen(AppScreenMixin, ModalScreen[str | None]):
    """A repository's tags: the newer ones first (newest on top), then the rest; loaded in a worker."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, repo: AnyRef, current: str | None, policy: str | None) -> None:
        super().__init__()
        self.title_text = title
        self.repo = repo
        self.current = current
        self.policy = policy

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog tall"):
            yield Label(self.title_text, classes="dialog-title")
            yield LoadingIndicator(id="loading")
            yield OptionList(id="tags")
            yield Label("", id="picker-note", classes="dim")

    def on_mount(self) -> None:
        self.query_one("#tags", OptionList).display = False
        self.load_tags()

    @work(exclusive=True, exit_on_error=False, group="tag-picker")
    async def load_tags(self) -> None:
        try:
            tags = await self.nb_app.session.list_tags(self.repo)
        except NbcatalogError as exc:
            self.notify(f"listing tags of {self.repo} failed: {exc}", severity="error", timeout=8)
            self.dismiss(None)
            return
        self.show_tags(tags)

    def show_tags(self, tags: Sequence[str]) -> None:
        newer, rest = picker_order(self.current or "", tags, self.policy) if self.current else ([], [])
        if not self.current:
            rest = newest_first(tags)
        options = self.query_one("#tags", OptionList)
        options.clear_options()
        for tag in newer:
            options.add_option(Option(Text.assemble((tag, "bold green"), ("  newer", "green")), id=tag))
        for tag in rest:
            label = Text.assemble((tag, "bold"), ("  current", "cyan")) if tag == self.current else Text(tag)
            options.add_option(Option(label, id=tag))
        self.query_one("#loading").display = False
        options.display = True
        options.highlighted = 0 if tags else None
        options.focus()
        note = f"{len(newer)} newer than {self.current}" if self.current else f"{len(tags)} tags"
        self.query_one("#picker-note", Label).update(note if tags else "no tags in this repository")

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.workers.cancel_group(self, "tag-picker")
        self.dismiss(None)
