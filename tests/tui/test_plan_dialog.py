"""The app shows what a tag bump costs and changes before the edit, and what a node must hold.

Against the real registry: the figures are computed here from the pushed artifacts themselves, not
taken from nbcatalog, so the dialog and the status line are checked against an independent sum.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from nbcatalog.catalog import load_catalog
from nbcatalog.localfiles import human_size
from nbcatalog.tui.app import NbcatalogApp
from nbcatalog.tui.screens.catalog import CatalogScreen
from nbcatalog.tui.screens.dialogs import TagPickerScreen
from nbcatalog.tui.screens.image import ImageScreen
from nbcatalog.tui.screens.plan import PlanScreen
from nbcatalog.tui.widgets.lineage_tree import LineageTree
from tests.support.images import StandardImages
from tests.tui.helpers import make_app, read, settle, static_text, table_rows
from tests.tui.test_registry import SIZE, write_catalog


def _pull_bytes(images: StandardImages) -> int:
    have = {layer.digest for layer in images.layered.image.layers}
    return sum(layer.size for layer in images.layered_v2.image.layers if layer.digest not in have)


async def _open_plan(pilot: Pilot[Any], app: NbcatalogApp) -> None:
    app.screen.query_one(LineageTree).select_name("layered")
    await pilot.pause()
    await pilot.press("t")
    await settle(pilot)
    assert isinstance(app.screen, TagPickerScreen)
    await pilot.press("enter")  # v2.0.0, the newer tag, is highlighted
    await settle(pilot)
    assert isinstance(app.screen, PlanScreen)


async def test_a_tag_bump_shows_the_plan_and_n_keeps_the_tag(test_images: StandardImages, tmp_path: Path) -> None:
    path = write_catalog(tmp_path, test_images.host)
    before = read(path)
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _open_plan(pilot, app)
        facts = static_text(app, "#plan-facts")
        assert f"Pull per node  {human_size(_pull_bytes(test_images))}" in facts, facts
        assert "Packages" in facts and "Policy" in facts
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, CatalogScreen)
        assert app.document.catalog.get("layered").tag == "v1.0.0" and not app.dirty
    assert read(path) == before


async def test_y_applies_the_tag_as_an_unsaved_edit(test_images: StandardImages, tmp_path: Path) -> None:
    path = write_catalog(tmp_path, test_images.host)
    before = read(path)
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _open_plan(pilot, app)
        await pilot.press("y")
        await settle(pilot)
        assert app.document.catalog.get("layered").tag == "v2.0.0" and app.dirty
        assert read(path) == before  # the plan is read before saving; ctrl+s saves
        await pilot.press("ctrl+s")
        await settle(pilot)
    assert load_catalog(path).get("layered").tag == "v2.0.0"


async def test_the_image_screen_tag_key_goes_through_the_plan_too(test_images: StandardImages, tmp_path: Path) -> None:
    path = write_catalog(tmp_path, test_images.host)
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one(LineageTree).select_name("layered")
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ImageScreen)
        rows = [row[0] for row in table_rows(app, "#tags-table", headings=True)]
        app.screen.query_one("#tags-table").move_cursor(row=rows.index("v2.0.0 ↑"))  # type: ignore[attr-defined]
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, PlanScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.document.catalog.get("layered").tag == "v1.0.0"


async def test_the_catalog_screen_shows_the_node_disk(test_images: StandardImages, tmp_path: Path) -> None:
    path = write_catalog(tmp_path, test_images.host)
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        images = (test_images.base, test_images.layered, test_images.zstd)
        unique = {layer.digest: layer.size for pushed in images for layer in pushed.image.layers}
        line = static_text(app, "#node-disk")
        assert f"node disk: all {human_size(sum(unique.values()))} · CPU" in line, line
        assert line.rstrip().endswith("GPU 0 bytes")  # nothing here needs a GPU


async def test_the_catalog_policy_judges_the_apps_findings_and_the_plan(
    test_images: StandardImages, tmp_path: Path
) -> None:
    path = write_catalog(tmp_path, test_images.host)
    path.write_text(read(path).replace("images:\n", "policy:\n  registries: [registry.example.com/]\nimages:\n", 1))
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        kinds = {f.kind for f in app.facts.findings.get("layered", [])}
        assert "policy-registry" in kinds  # the same rule `nbcatalog audit` applies
        await _open_plan(pilot, app)
        facts = static_text(app, "#plan-facts")
        assert "policy-registry" in facts and "Risky" in facts  # the candidate fails the policy
