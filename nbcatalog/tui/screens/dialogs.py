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
from textual.widgets import Button, Footer, Input, Label, LoadingIndicator, OptionList, Static
from textual.widgets.option_list import Option

from nbcatalog.errors import NbcatalogError
from nbcatalog.limits import fresh_request_budget
from nbcatalog.refs import AnyRef
from nbcatalog.safetext import safe_rich_text, safe_text
from nbcatalog.tui.screens.base import AppScreenMixin
from nbcatalog.tui.state import picker_order
from nbcatalog.tui.widgets.lists import ListOptions

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
            yield Label(safe_rich_text(self.question), classes="dialog-title")  # it names entries and files
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
            yield Static(Text("\n".join(f"• {safe_text(edit)}" for edit in shown) + more), id="quit-edits")
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
            text.append(f"• {safe_text(edit)}\n")
        text.append("\n")
        styles = {"+": "green", "-": "red", "@": "cyan"}
        for line in self.diff.splitlines():
            shown = safe_text(line, allow_tab=True) + "\n"
            text.append(shown, styles.get(line[:1], "") if not line.startswith(("+++", "---")) else "bold")
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
        for when, severity, title, message in self.entries:  # data in messages: text, controls escaped
            text.append(f"{when} ", "dim")
            text.append(f"{safe_text(title)}: " if title else "", styles.get(severity, "bold"))
            text.append(safe_text(message, allow_newlines=True) + "\n", styles.get(severity, ""))
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
            yield Label(safe_rich_text(self.title_text), classes="dialog-title")
            options = (Option(safe_rich_text(label), id=value) for value, label in self.choices)
            yield OptionList(*options, id="choices")
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
    """A repository's tags, type-ahead: newer ones first, then every family (``sha-…`` folded).

    The filter has the keys (fuzzy: ``v110`` finds ``v1.10.0``); ``↓``/``↑`` move in the list from
    it, ``enter`` takes the highlighted tag, ``esc`` clears the filter, and a second ``esc`` cancels.
    """

    BINDINGS = [
        Binding("escape", "cancel", "Clear / cancel"),
        Binding("down", "move(1)", "Down", show=False),
        Binding("up", "move(-1)", "Up", show=False),
        Binding("pagedown", "move(10)", "Page down", show=False),
        Binding("pageup", "move(-10)", "Page up", show=False),
    ]

    def __init__(self, title: str, repo: AnyRef, current: str | None, policy: str | None) -> None:
        super().__init__()
        self.title_text = title
        self.repo = repo
        self.current = current
        self.policy = policy
        self.tags: list[str] = []
        self.unfolded: set[str] = set()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog tall"):
            yield Label(safe_rich_text(self.title_text), classes="dialog-title")
            yield Input(
                placeholder="type to filter the tags (fuzzy: v110, cu12)", id="picker-filter", select_on_focus=False
            )
            yield LoadingIndicator(id="loading")
            yield ListOptions(id="tags")
            yield Label("", id="picker-note", classes="dim")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#tags", OptionList).display = False
        self.query_one("#picker-filter", Input).focus()
        self.load_tags()

    @work(exclusive=True, exit_on_error=False, group="tag-picker")
    async def load_tags(self) -> None:
        fresh_request_budget()  # this read's own count against the requests limit
        try:
            tags = await self.nb_app.session.list_tags(self.repo)
        except NbcatalogError as exc:
            self.notify(f"listing tags of {self.repo} failed: {exc}", severity="error", timeout=8)
            self.dismiss(None)
            return
        self.show_tags(tags)

    def show_tags(self, tags: Sequence[str]) -> None:
        self.tags = list(tags)
        self.query_one("#loading").display = False
        self.query_one("#tags", OptionList).display = True
        self.fill()

    def fill(self) -> None:
        """Newer tags (under the entry's tag_policy) first, then each family newest first; a filter
        shows its matches in every family, folded ones included."""
        from nbcatalog.taglist import filter_tags, group_tags

        needle = self.query_one("#picker-filter", Input).value.strip()
        newer, _ = picker_order(self.current or "", self.tags, self.policy) if self.current else ([], [])
        options = self.query_one("#tags", OptionList)
        options.clear_options()
        shown = 0
        matching_newer = filter_tags(newer, needle)
        if matching_newer:
            options.add_option(Option(safe_rich_text(f"newer than {self.current}", "bold green"), disabled=True))
            for tag in matching_newer:  # the registry's tags: text, never markup, controls escaped
                label = Text.assemble(("  " + safe_text(tag), "bold green"), ("  newer", "green"))
                options.add_option(Option(label, id=tag))
                shown += 1
        for group in group_tags([t for t in self.tags if t not in newer], unfolded=self.unfolded):
            members = filter_tags(group.tags, needle)
            if not members:
                continue
            folded = group.folded and not needle
            heading = f"{'▸' if folded else '▾'} {safe_text(group.label)}  {len(members)} tags"
            if folded:
                options.add_option(Option(Text(heading + "  (enter unfolds)", "dim"), id=UNFOLD + group.key))
                continue
            options.add_option(Option(Text(heading, "bold"), disabled=True))
            for tag in members:
                shown_tag = "  " + safe_text(tag)
                label = Text.assemble((shown_tag, "bold"), ("  current", "cyan")) if tag == self.current else Text(
                    shown_tag)  # fmt: skip
                options.add_option(Option(label, id=tag))
                shown += 1
        options.highlighted = next(
            (i for i in range(options.option_count) if not options.get_option_at_index(i).disabled), None
        )
        total = len(self.tags)
        if not total:
            note = "no tags in this repository"
        elif needle:
            note = f"{shown} of {total} tags match {needle!r}" if shown else f"no tag matches {needle!r} (esc clears)"
        else:
            note = f"{total} tags" + (f", {len(newer)} newer than {self.current}" if self.current else "")
        self.query_one("#picker-note", Label).update(safe_rich_text(note))

    @on(Input.Changed, "#picker-filter")
    def filter_changed(self) -> None:
        if self.tags:
            self.fill()

    @on(Input.Submitted, "#picker-filter")
    def take_highlighted(self, event: Input.Submitted) -> None:
        event.stop()
        options = self.query_one("#tags", OptionList)
        if options.highlighted is not None:
            self._choose(options.get_option_at_index(options.highlighted).id)

    def action_move(self, step: int) -> None:
        options = self.query_one("#tags", OptionList)
        if not options.option_count:
            return
        index = options.highlighted if options.highlighted is not None else -1
        for _ in range(abs(step)):
            candidate = index
            while True:
                candidate += 1 if step > 0 else -1
                if not 0 <= candidate < options.option_count:
                    break
                if not options.get_option_at_index(candidate).disabled:
                    index = candidate
                    break
        if index >= 0:
            options.highlighted = index

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose(event.option.id)

    def _choose(self, option_id: str | None) -> None:
        if option_id is None:
            return
        if option_id.startswith(UNFOLD):
            self.unfolded.add(option_id[len(UNFOLD) :])
            self.fill()
            return
        self.dismiss(option_id)

    def action_cancel(self) -> None:
        box = self.query_one("#picker-filter", Input)
        if box.value:  # the first esc clears the filter; the next one cancels
            box.value = ""
            box.focus()
            return
        self.workers.cancel_group(self, "tag-picker")
        self.dismiss(None)


#: Option ids of folded families in the tag picker (no tag contains a NUL).
UNFOLD = "\0unfold:"
