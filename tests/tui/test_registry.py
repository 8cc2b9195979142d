"""The app against the real local registry (docker-registry on loopback), and through a failing proxy."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import OptionList, Select

from nbcatalog.catalog import load_catalog
from nbcatalog.tui.screens.catalog import CatalogScreen
from nbcatalog.tui.screens.dialogs import TagPickerScreen
from nbcatalog.tui.screens.diff import DiffScreen
from nbcatalog.tui.screens.help import HelpScreen
from nbcatalog.tui.screens.image import ImageScreen
from nbcatalog.tui.widgets.lineage_tree import LineageTree
from tests.support.images import ManyTags, StandardImages
from tests.support.proxy import PaginatingProxy
from tests.support.registry import Pusher, RegistryServer
from tests.tui.helpers import make_app, notices, read, settle, static_text, table_rows, tree_labels

SIZE = (100, 30)


def write_catalog(directory: Path, host: str) -> Path:
    path = directory / "catalog.yaml"
    path.write_text(
        "# images from the team registry\n"
        "images:\n"
        "  - name: base\n"
        f"    image: {host}/test/base\n"
        "    tag: latest\n"
        "    hidden: true\n"
        "  - name: layered\n"
        f"    image: {host}/test/layered\n"
        "    tag: v1.0.0  # the one users know\n"
        "    parent: base\n"
        "    default: true\n"
        "  - name: zstd\n"
        f"    image: {host}/test/zstd\n"
        "    tag: v1.0.0\n"
    )
    return path


async def test_browse_and_move_a_tag_on_the_real_registry(test_images: StandardImages, tmp_path: Path) -> None:
    path = write_catalog(tmp_path, test_images.host)
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        labels = tree_labels(app)
        assert "↑ v2.0.0" in labels["layered"]
        assert "⚠ mutable-tag" in labels["base"]  # the audit's findings
        assert "stale-tag" not in labels["layered"]  # one cause, one badge: the ↑ says it
        assert app.lineage["layered"].inferred_parent == "base"
        assert not [n for n in notices(app) if "failed" in n.lower()]

        app.screen.query_one(LineageTree).select_name("layered")
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ImageScreen)
        tags = [row[0] for row in table_rows(app, "#tags-table")]
        assert tags == ["v2.0.0 ↑", "v1.0.0 ●"]
        await pilot.press("2")
        await settle(pilot)
        assert "0 shown of 0: no packages found" in static_text(app, "#package-count")  # the scan ran to the end
        await pilot.press("escape", "escape", "t")  # out of the package filter, back to the tree, pick a tag
        await settle(pilot)
        assert isinstance(app.screen, TagPickerScreen)
        options = app.screen.query_one("#tags", OptionList)
        assert options.get_option_at_index(options.highlighted or 0).id == "v2.0.0"
        await pilot.press("enter")  # what the move costs and changes comes first
        await settle(pilot)
        await pilot.press("y", "ctrl+s")
        await settle(pilot)  # lineage, tags and audit again for the new tag
        assert "stale-tag" not in tree_labels(app)["layered"] and "↑" not in tree_labels(app)["layered"]
    assert load_catalog(path).get("layered").tag == "v2.0.0"
    assert "# images from the team registry" in read(path) and "# the one users know" in read(path)


@pytest.fixture
def failing(paginating_proxy: PaginatingProxy, test_images: StandardImages) -> PaginatingProxy:
    return paginating_proxy


async def test_a_registry_failing_mid_way_is_a_notification_and_the_app_stays_usable(
    failing: PaginatingProxy, tmp_path: Path
) -> None:
    path = write_catalog(tmp_path, failing.host)
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)  # healthy at first
        assert "↑ v2.0.0" in tree_labels(app)["layered"]
        failing.add_fault("reset", r"/blobs/", times=-1)  # then every layer download breaks
        app.screen.query_one(LineageTree).select_name("zstd")
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        assert any("scanning" in n and "failed" in n for n in notices(app)), notices(app)
        assert table_rows(app, "#packages-table") == []
        failing.add_fault("status", r"/tags/list", times=-1, status=500)  # and the tag lists too
        await pilot.press("escape", "escape", "r")  # out of the package filter, back to the tree, re-read
        await settle(pilot)
        assert isinstance(app.screen, CatalogScreen)
        assert "registry error" in tree_labels(app)["layered"]
        assert any("Listing tags failed" in n for n in notices(app))
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, CatalogScreen)
        assert app.is_running


async def test_a_stalled_scan_is_cancelled_from_the_keyboard(failing: PaginatingProxy, tmp_path: Path) -> None:
    path = write_catalog(tmp_path, failing.host)
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        failing.add_fault("stall", r"/blobs/", times=-1, delay=30)  # layer downloads hang half-way
        app.open_image("layered")
        await pilot.pause()
        await pilot.press("2")
        await pilot.pause(0.5)
        assert app.screen.query_one("#package-progress").display  # the scan shows it is reading
        running = [worker for worker in app.workers if worker.is_running]
        assert any(worker.group == "image-packages" for worker in running)
        await pilot.press("ctrl+x")
        await pilot.pause()
        assert not [worker for worker in app.workers if worker.is_running and worker.node is app.screen]
        assert any("cancelled" in n for n in notices(app))
        assert not app.screen.query_one("#package-progress").display
        await pilot.press("escape", "escape")  # the package filter has the focus: out of it, then back
        assert isinstance(app.screen, CatalogScreen)


async def test_a_slow_registry_can_be_left_from_the_catalog(failing: PaginatingProxy, tmp_path: Path) -> None:
    """ctrl+x stops the lineage, tag and audit workers; the first paint stays usable; r reads again."""
    path = write_catalog(tmp_path, failing.host)
    failing.add_fault("stall", r"/v2/.+", times=-1, delay=30)  # every answer hangs half-way
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        assert app.screen.query_one("#busy").display
        assert {w.group for w in app.workers if w.is_running} >= {"lineage", "facts"}
        await pilot.press("ctrl+x")
        await pilot.pause()
        assert not [w for w in app.workers if w.is_running and w.group in ("lineage", "facts")]
        assert not app.screen.query_one("#busy").display
        assert any("cancelled" in n for n in notices(app))
        assert list(tree_labels(app)) == ["base", "layered", "zstd"]  # the catalog's own tree, still there
        failing.reset()
        await pilot.press("r")
        await settle(pilot)
        assert "↑ v2.0.0" in tree_labels(app)["layered"]


@pytest.fixture(scope="module")
def pytorch_releases(pusher: Pusher, registry: RegistryServer) -> str:
    """The demo's jupyter-pytorch at v1.9.1 and v1.10.0 (multi-arch), real package databases, in the registry."""
    from nbcatalog.demodata.images import build_release
    from nbcatalog.demodata.releases import RELEASES

    repository = f"{registry.host}/tuidemo/jupyter-pytorch"
    for release in RELEASES:
        pusher.push("tuidemo/jupyter-pytorch", build_release(release)["jupyter-pytorch"], [release.tag])
    return repository


async def test_packages_and_a_diff_read_from_the_real_registry(pytorch_releases: str, tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(f"images:\n  - name: pytorch\n    image: {pytorch_releases}\n    tag: v1.9.1\n")
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "↑ v1.10.0" in tree_labels(app)["pytorch"]
        await pilot.press("enter", "2")
        await settle(pilot)
        assert isinstance(app.screen, ImageScreen)
        packages = {(row[0], row[1]): row[2] for row in table_rows(app, "#packages-table")}
        assert packages[("pip", "torch")] == "2.4.1+cpu" and ("apt", "bash") in packages
        app.screen.query_one("#ecosystem", Select).value = "conda"
        await pilot.pause()
        assert {row[0] for row in table_rows(app, "#packages-table")} == {"conda"}

        await pilot.press("escape", "escape", "d")  # out of the filter, back to the tree; diff with the newest tag
        await settle(pilot)
        assert isinstance(app.screen, DiffScreen)
        rows = table_rows(app, "#diff-table")
        assert rows[[r[2] for r in rows].index("torch")][:5] == ["↑", "pip", "torch", "2.4.1+cpu", "2.5.1+cpu"]
        assert any(row[0] == "+" for row in rows) and any(row[0] == "-" for row in rows)
        assert "upgraded" in static_text(app, "#diff-counts")
        app.screen.query_one("#diff-kind", Select).value = "added"
        await pilot.pause()
        assert {row[0] for row in table_rows(app, "#diff-table")} == {"+"}


async def test_a_repository_of_1100_tags_shows_the_newest_and_says_so(many_tags: ManyTags, tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(f"images:\n  - name: many\n    image: {many_tags.host}/{many_tags.repository}\n    tag: v0.0.1\n")
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        app.open_image("many")
        await settle(pilot)
        rows = table_rows(app, "#tags-table")
        tags = [row[0].split()[0] for row in rows]
        assert tags[:2] == ["v10.9.9", "v10.9.8"] and len(tags) == 1100  # every tag, newest first
        assert all(row[1] != "…" for row in rows[:60]) and rows[100][1] == "…"  # details of the newest read
        assert "1100 tags; details of 61 read" in static_text(app, "#tag-count")
