"""Layers applied in order, as overlayfs would: later files replace earlier ones, whiteouts and
symlinks remove a path and everything under it, opaque directories hide all lower content."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from typing import TypeVar

from nbcatalog.packages.layer import LayerResult

T = TypeVar("T")


def _drop_subtree(state: dict[str, tuple[int, T]], keys: list[str], root: str, *, keep_root: bool) -> None:
    if not keep_root:
        state.pop(root, None)
    prefix = root + "/" if root else ""
    start = bisect_left(keys, prefix)
    for key in keys[start:]:
        if not key.startswith(prefix):
            break
        state.pop(key, None)


def apply_layers(layers: Iterable[LayerResult[T]]) -> dict[str, tuple[int, T]]:
    """path -> (index of the layer that provided it, its content) for the merged filesystem."""
    state: dict[str, tuple[int, T]] = {}
    for index, layer in enumerate(layers):
        if layer.removed or layer.opaque_dirs:
            keys = sorted(state)
            for directory in layer.opaque_dirs:
                _drop_subtree(state, keys, directory, keep_root=True)
            for path in layer.removed:
                _drop_subtree(state, keys, path, keep_root=False)
        for path, content in layer.files.items():
            state[path] = (index, content)
    return state
