"""Every key in one place; the command palette (ctrl+p) lists the same actions by name."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Markdown

HELP = """\
# nbcatalog keys

One rule: in a list, letters are commands; in a filter or a text box, every key is text. `/` opens
the filter of the list you are on; `escape` clears it and goes back to the list (in an empty filter
it goes back a screen).

**Everywhere**: `ctrl+p` command palette (every action by name) · `ctrl+s` save the catalog ·
`u` undo the last edit (again for the one before) · `c` the unsaved changes as a diff ·
`ctrl+l` messages (every notification again) · `?`/`F1` this help · `ctrl+t` light/dark theme ·
`q` quit (asks when there are unsaved changes: `s` save, `d` discard, `escape` stay) · `escape` back

**Every list**: `j`/`k` or arrows move · `g`/`G` first/last · `ctrl+d`/`ctrl+u` half a page

**Catalog** (the lineage tree; parents inferred from layers, declared ones where no layers tell)
- `/` filter by name, tag, kind or repository
- `enter` open the image · `d` diff (with its newest tag, else its parent) · `p` profiles & audit
- `t` change the tag (newer tags first) · `a` add an image · `x` remove it · `e` edit a field
  (tag, parent, kind, GPU, default) · `P` set the parent · `*` make it the default · `r` refresh ·
  `ctrl+x` stop reading the registries (lineage, tags, audit)

Badges: `[CUDA 12.1]` detected CUDA · `↑ v1.10.0` a newer tag · `✗ missing tag` ·
`≠ declared X` layers disagree with the declared parent · `⚠ kind` audit/lineage findings; dimmed
while the registries are read again.

**Image**: `1`-`4` tabs (tags, packages, layers & history, CUDA); opening a tab focuses its list
(Packages: its filter). On Tags: every tag grouped by family, `sha-…` builds folded (`o` or
`enter` on the heading unfolds) · `/` fuzzy filter · `s` or a header click sorts (the header shows
the column and direction) · `enter` open that tag · `t` use it in the catalog · `d` diff with it ·
`ctrl+x` cancel a package scan

**Diff**: A and B take a catalog name, `NAME:TAG` or a reference · `enter`/`ctrl+r` compare ·
`/` filter by name, and by ecosystem and change kind

**Profiles**: one tab per export format (preview of `nbcatalog export`), the audit's findings; the
warnings export prints and anything it would refuse are shown above the tabs ·
`w` write profiles/ (from the saved catalog; says where the files went) · `r` audit again
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help"):
            yield Markdown(HELP)
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)
