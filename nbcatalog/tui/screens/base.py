"""What every screen of the app shares: typed access to the app that owns the session and catalog."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
