"""Lists that move the same way everywhere: arrows, and ``j``/``k``, ``g``/``G``, ``ctrl+d``/``ctrl+u``.

Every list of the app (the tree, tags, packages, layers, findings, pickers) is one of these, so the
keys an admin learns on one screen work on all of them (as in k9s and lazygit). These letters are
bound on the list itself: with a list focused they move, and a screen never binds them to a
command, so no key does two things.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import DataTable, OptionList, Tree

#: Shown once in the help screen; the same on every list.
MOVE_KEYS = "j/k or ↓/↑ move · g/G first/last · ctrl+d/ctrl+u half a page"


def _moves(first: str, last: str) -> list[BindingType]:
    """The movement keys, bound to each widget's own first/last actions (names differ per widget)."""
    return [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", first, "First", show=False),
        Binding("G", last, "Last", show=False),
        Binding("ctrl+d", "half_page(1)", "Half page down", show=False),
        Binding("ctrl+u", "half_page(-1)", "Half page up", show=False),
    ]


class ListTable(DataTable[Any]):
    """A DataTable with the app's movement keys."""

    BINDINGS: ClassVar[list[BindingType]] = _moves("scroll_top", "scroll_bottom")

    def action_half_page(self, direction: int) -> None:
        if self.row_count:
            step = max(1, self.scrollable_content_region.height // 2)
            row = min(max(self.cursor_row + direction * step, 0), self.row_count - 1)
            self.move_cursor(row=row)


class ListOptions(OptionList):
    """An OptionList with the app's movement keys."""

    BINDINGS: ClassVar[list[BindingType]] = _moves("first", "last")

    def action_half_page(self, direction: int) -> None:
        if self.option_count:
            step = max(1, self.scrollable_content_region.height // 2)
            current = self.highlighted if self.highlighted is not None else 0
            self.highlighted = min(max(current + direction * step, 0), self.option_count - 1)


class ListTree(Tree[str]):
    """A Tree with the app's movement keys."""

    BINDINGS: ClassVar[list[BindingType]] = _moves("first", "last")

    def action_first(self) -> None:
        self.cursor_line = 0

    def action_last(self) -> None:
        self.cursor_line = max(0, self.last_line)

    def action_half_page(self, direction: int) -> None:
        step = max(1, self.scrollable_content_region.height // 2)
        self.cursor_line = min(max(self.cursor_line + direction * step, 0), max(0, self.last_line))
