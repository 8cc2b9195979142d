"""What every screen of the app shares: typed access to the app that owns the session and catalog."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from collections.abc import Mapping

    from textual.app import App

    from nbcatalog.tui.app import NbcatalogApp


class AppScreenMixin:
    """Mixed into screens (before ``Screen``/``ModalScreen``) so ``self.nb_app`` is the typed app.

    A plain class, not a widget: it adds nothing to Textual's CSS types, bindings or messages.
    """

    if TYPE_CHECKING:
        app: App[Any]

    @property
    def nb_app(self) -> NbcatalogApp:
        from nbcatalog.tui.app import NbcatalogApp

        assert isinstance(self.app, NbcatalogApp)
        return self.app

    def clear_filter(self, lists: Mapping[str, str]) -> bool:
        """``esc``'s first step, the same on every screen: in a filter (``lists`` maps each filter's
        selector to its list's) that holds text, clear it and go to its list; True if it did.

        An empty filter, or any other focus, is the caller's to leave. So esc, esc always leaves,
        wherever the focus went meanwhile (a tab that focuses its filter when it opens may do so
        late on a loaded machine).
        """
        from textual.screen import Screen
        from textual.widgets import Input

        screen = cast("Screen[Any]", self)  # mixed into screens only
        focused = screen.focused
        for box, target in lists.items():
            widget = screen.query_one(box)
            if focused is widget and isinstance(widget, Input) and widget.value:
                widget.value = ""
                screen.query_one(target).focus()
                return True
        return False
