"""Add an image: type a repository, pick one of its tags (listed in a worker), name it, choose a kind."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, LoadingIndicator, OptionList, Select
from textual.widgets.option_list import Option

from nbcatalog.catalog import KINDS
from nbcatalog.errors import NbcatalogError
from nbcatalog.limits import fresh_request_budget
from nbcatalog.refs import parse_reference
from nbcatalog.safetext import safe_rich_text
from nbcatalog.tui.screens.base import AppScreenMixin
from nbcatalog.tui.state import default_name, newest_first

if TYPE_CHECKING:
    pass


class AddImageScreen(AppScreenMixin, ModalScreen[dict[str, Any] | None]):
    """Returns the new entry's fields; the catalog document validates them when they are added."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog tall", id="add-dialog"):
            yield Label("Add an image", classes="dialog-title")
            yield Input(placeholder="repository, e.g. quay.io/jupyter/scipy-notebook or oci:DIR", id="reference")
            yield LoadingIndicator(id="loading")
            yield OptionList(id="tags")
            with Horizontal(classes="form-row"):
                yield Input(placeholder="name", id="name")
                yield Select([(kind, kind) for kind in KINDS], value="jupyter", allow_blank=False, id="kind")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Add", variant="primary", id="add")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#loading").display = False
        self.query_one("#tags").display = False
        self.query_one("#reference", Input).focus()

    @on(Input.Submitted, "#reference")
    def reference_entered(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            ref = parse_reference(event.value.strip())
        except NbcatalogError as exc:
            self.notify(str(exc), severity="error")
            return
        name_input = self.query_one("#name", Input)
        if not name_input.value:
            name_input.value = default_name(str(ref.repo_only()))
        self.query_one("#loading").display = True
        self.list_tags(str(ref.repo_only()), ref.tag)

    @work(exclusive=True, exit_on_error=False, group="add-tags")
    async def list_tags(self, repository: str, wanted: str | None) -> None:
        fresh_request_budget()  # this read's own count against the requests limit
        try:
            tags = await self.nb_app.session.list_tags(parse_reference(repository))
        except NbcatalogError as exc:
            self.query_one("#loading").display = False
            self.notify(f"listing tags of {repository} failed: {exc}", severity="error", timeout=8)
            return
        options = self.query_one("#tags", OptionList)
        options.clear_options()
        newest = newest_first(tags)
        for tag in newest:
            options.add_option(Option(safe_rich_text(tag, "bold" if tag == wanted else ""), id=tag))
        self.query_one("#loading").display = False
        options.display = True
        if newest:
            options.highlighted = newest.index(wanted) if wanted in newest else 0
            options.focus()
        else:
            self.notify(f"{repository} has no tags", severity="warning")

    @on(OptionList.OptionSelected, "#tags")
    def tag_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.query_one("#name", Input).focus()

    @on(Input.Submitted, "#name")
    def name_entered(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "add":
            self.submit()
        else:
            self.dismiss(None)

    def submit(self) -> None:
        options = self.query_one("#tags", OptionList)
        text = self.query_one("#reference", Input).value.strip()
        if options.highlighted is None or not options.display:
            self.notify("type a repository, press Enter and pick a tag", severity="warning")
            return
        try:
            repository = str(parse_reference(text).repo_only())
        except NbcatalogError as exc:
            self.notify(str(exc), severity="error")
            return
        tag = options.get_option_at_index(options.highlighted).id
        kind = self.query_one("#kind", Select).value
        self.dismiss(
            {"name": self.query_one("#name", Input).value.strip(), "image": repository, "tag": tag, "kind": kind}
        )

    def action_cancel(self) -> None:
        self.dismiss(None)
