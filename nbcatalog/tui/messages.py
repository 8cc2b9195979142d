"""Messages the app's workers post upwards; screens react to them (attributes down, messages up)."""

from __future__ import annotations

from textual.message import Message


class CatalogChanged(Message):
    """The catalog was edited, saved or its facts (lineage, tags, audit) arrived: redraw from the app."""


class LayerProgressed(Message):
    """One layer of a package scan moved on; ``scan`` tells concurrent scans (diff's two sides) apart."""

    def __init__(self, scan: str, digest: str, done: int, total: int) -> None:
        super().__init__()
        self.scan = scan
        self.digest = digest
        self.done = done
        self.total = total
