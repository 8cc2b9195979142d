"""One progress bar per layer while a package scan reads an image, replaced in place as bytes arrive."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, ProgressBar

from nbcatalog.safetext import safe_rich_text
from nbcatalog.tui.messages import LayerProgressed


class LayerProgress(Vertical):
    """Bars keyed by layer digest; cached layers show as full at once."""

    DEFAULT_CLASSES = "layer-progress"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._bars: dict[str, ProgressBar] = {}

    def compose(self) -> ComposeResult:
        yield Label("", classes="progress-title")

    def reset(self, title: str) -> None:
        self._bars.clear()
        for row in self.query(".layer-row"):
            row.remove()
        self.query_one(".progress-title", Label).update(safe_rich_text(title))  # it names the image
        self.display = True

    def advance(self, digest: str, done: int, total: int) -> None:
        bar = self._bars.get(digest)
        if bar is None:
            bar = ProgressBar(total=max(total, 1), show_eta=False)
            self._bars[digest] = bar
            self.mount(
                Horizontal(
                    Label(safe_rich_text(digest.partition(":")[2][:12]), classes="layer-digest"),
                    bar,
                    classes="layer-row",
                )
            )
        bar.update(total=max(total, 1), progress=min(done, max(total, 1)))

    def finish(self) -> None:
        self.display = False


def progress_poster(post: Callable[[LayerProgressed], object], scan: str) -> Callable[[str, int, int], None]:
    """A ``ProgressFn`` for image_packages that posts at most ~one message per percent per layer."""
    last: dict[str, int] = {}

    def report(digest: str, done: int, total: int) -> None:
        percent = 100 if total <= 0 else min(100, done * 100 // total)
        if last.get(digest) == percent:
            return
        last[digest] = percent
        post(LayerProgressed(scan, digest, done, total))

    return report
