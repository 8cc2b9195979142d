"""Snapshots of the main screens (pytest-textual-snapshot; ``--snapshot-update`` after a deliberate change).

The demo lives at a fixed path and has fixed dates, so what is rendered is the same on every run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from nbcatalog.demo import DemoPaths
from tests.tui import scenes
from tests.tui.helpers import make_app

WIDE = (100, 30)


@pytest.mark.parametrize("name", list(scenes.SCENES))
def test_screen(name: str, demo: DemoPaths, snap_compare: Callable[..., bool]) -> None:
    assert snap_compare(make_app(demo.catalog), run_before=scenes.SCENES[name], terminal_size=WIDE)


def test_catalog_at_80x24(demo: DemoPaths, snap_compare: Callable[..., Any]) -> None:
    assert snap_compare(make_app(demo.catalog), run_before=scenes.catalog, terminal_size=(80, 24))


def test_catalog_on_a_wide_terminal(demo: DemoPaths, snap_compare: Callable[..., Any]) -> None:
    assert snap_compare(make_app(demo.catalog), run_before=scenes.catalog, terminal_size=(160, 40))
