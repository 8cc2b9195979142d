"""Every key in one place; the command palette (ctrl+p) lists the same actions by name."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# nbcatalog keys

**Everywhere**: `ctrl+p` command palette (every action by name) · `ctrl+s` save the catalog ·
`?`/`F1` this help · `ctrl+t` light/dark theme · `q` quit (asks when there are unsaved changes) ·
`escape` back

**Catalog** (the lineage tree; parents inferred from layers, declared ones where no layers tell)
- type letters to filter, `/` focus the filter, `escape` clear it
- `enter` open the image · `d` diff (with its newest tag, else its parent) · `p` profiles & audit
- `t` change the tag (newer tags first) · `a` add an image · `x` remove it
- `P` set the parent · `k` kind · `g` GPU (auto/true/false) · `*` make it the default · `r` refresh ·
  `ctrl+x` stop reading the registries (lineage, tags, audit)

Badges: `[CUDA 12.1]` detected CUDA · `↑ v1.10.0` a newer tag · `✗ missing tag` ·
`≠ declared X` layers disagree with the declared parent · `⚠ kind` audit/lineage findings.

**Image**: `1`-`4` tabs (tags, packages, layers & history, CUDA) · `s` or a header click sorts ·
`enter` open that tag · `t` use the highlighted tag in the catalog · `d` diff with it ·
`ctrl+x` cancel a package scan

**Diff**: A and B take a catalog name, `NAME:TAG` or a reference · `enter`/`ctrl+r` compare ·
filter by ecosystem, change kind and name

**Profiles**: one tab per export format (preview of `nbcatalog export`), the audit's findings ·
`w` write profiles/ (from the saved catalog) · `r` audit again
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help"):
            yield Markdown(HELP)

    def action_close(self) -> None:
        self.dismiss(None)
