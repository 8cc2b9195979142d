"""The command palette's entries: every action of the app, by name, wherever it applies."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand
from textual.screen import Screen

if TYPE_CHECKING:
    from nbcatalog.tui.app import NbcatalogApp

#: (title, help, action on the catalog screen)
CATALOG_ACTIONS = (
    ("Open image", "tags, packages, layers and CUDA of the selected image", "open"),
    ("Change tag", "pick a tag for the selected image, newer tags first", "change_tag"),
    ("Add image", "add a repository's tag to the catalog", "add_image"),
    ("Remove image", "remove the selected image from the catalog", "remove_image"),
    ("Set parent", "declare the selected image's parent", "set_parent"),
    ("Set kind", "jupyter, codeserver or rstudio", "set_kind"),
    ("Set GPU", "auto (detect CUDA), true or false", "set_gpu"),
    ("Make default", "the image spawner forms preselect", "set_default"),
    ("Diff", "compare the packages of two images or tags", "diff"),
    ("Filter", "filter the tree by name, tag, kind or repository", "focus_filter"),
    ("Refresh", "infer the lineage, list tags and audit again", "refresh"),
    ("Cancel reading", "stop inferring the lineage, listing tags and auditing", "cancel"),
)


def app_commands(app: NbcatalogApp, screen: Screen[Any]) -> Iterable[SystemCommand]:
    from nbcatalog.tui.screens.catalog import CatalogScreen

    if not isinstance(screen, CatalogScreen):
        yield from screen_commands(screen)
    catalog_screen = next((s for s in reversed(app.screen_stack) if isinstance(s, CatalogScreen)), None)
    if catalog_screen is not None:
        for title, help_text, action in CATALOG_ACTIONS:
            yield SystemCommand(title, help_text, _runner(app, catalog_screen, action))
    yield SystemCommand("Save catalog", "write catalog.yaml atomically, comments kept", app.action_save)
    yield SystemCommand("Undo", "take back the last edit (key u; again for the one before)", app.action_undo)
    yield SystemCommand("Unsaved changes", "what ctrl+s would write, as a diff (key c)", app.action_changes)
    yield SystemCommand("Messages", "every notification of this run again (key ctrl+l)", app.action_messages)
    yield SystemCommand("Reload catalog", "read catalog.yaml again from disk (asks before dropping edits)",
                        app.action_reload)  # fmt: skip
    yield SystemCommand("Profiles & audit", "export previews per format and the audit findings", app.open_profiles)
    yield SystemCommand("Export profiles", "write profiles/ from the saved catalog", lambda: _export(app))
    yield SystemCommand("Compare images", "diff the packages of two references", app.open_diff)
    yield SystemCommand("Help", "every key binding", app.action_help)
    yield SystemCommand("Toggle light/dark", "switch the theme", app.action_toggle_theme)


def screen_commands(screen: Screen[Any]) -> Iterable[SystemCommand]:
    """The current screen's own keys (image tabs, use tag, write profiles...) by their description."""
    from textual.binding import Binding

    where = type(screen).__name__.removesuffix("Screen")
    for binding in type(screen).BINDINGS:
        if isinstance(binding, Binding) and binding.description and binding.action != "back":
            title = f"{where}: {binding.description}"
            yield SystemCommand(title, f"key {binding.key}", _action(screen, binding.action))


def _action(screen: Screen[Any], action: str) -> Any:
    async def run() -> None:
        await screen.run_action(action)

    return run


def _runner(app: NbcatalogApp, screen: Screen[Any], action: str) -> Any:
    async def run() -> None:
        while app.screen is not screen and len(app.screen_stack) > 1:
            await app.pop_screen()
        await screen.run_action(action)

    return run


def _export(app: NbcatalogApp) -> None:
    from nbcatalog.tui.screens.profiles import ProfilesScreen

    if not isinstance(app.screen, ProfilesScreen):
        app.open_profiles()
    app.call_later(lambda: app.screen.run_action("write"))
