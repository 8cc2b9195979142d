"""The app driven by Textual's Pilot over the offline demo (oci: layouts): browse, compare, curate, save."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest
from textual.widgets import Input, OptionList

from nbcatalog.catalog import load_catalog
from nbcatalog.demo import DemoPaths
from nbcatalog.tui.screens.add_image import AddImageScreen
from nbcatalog.tui.screens.catalog import CatalogScreen
from nbcatalog.tui.screens.dialogs import ChoiceScreen, ConfirmScreen, QuitScreen, TagPickerScreen
from nbcatalog.tui.screens.diff import DiffScreen
from nbcatalog.tui.screens.help import HelpScreen
from nbcatalog.tui.screens.image import ImageScreen
from nbcatalog.tui.screens.plan import PlanScreen
from nbcatalog.tui.screens.profiles import ProfilesScreen
from nbcatalog.tui.widgets.lineage_tree import LineageTree
from nbcatalog.yamlio import current_umask
from tests.tui.helpers import (
    HEAD_COMMENT,
    make_app,
    notices,
    read,
    settle,
    static_text,
    table_rows,
    tree_labels,
    write,
)

SIZE = (100, 30)


def _disk_full(*_: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


async def select(pilot: object, name: str) -> None:
    app = pilot.app  # type: ignore[attr-defined]
    app.screen.query_one(LineageTree).select_name(name)
    await pilot.pause()  # type: ignore[attr-defined]


async def test_first_paint_comes_from_the_catalog_then_lineage_and_tags_fill_in(catalog_path: Path) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        first = tree_labels(app)  # before any worker could have answered: the declared tree
        assert list(first) == ["base", "jupyter", "jupyter-pytorch", "jupyter-pytorch-cuda", "codeserver", "rstudio"]
        assert "CUDA" not in first["jupyter-pytorch-cuda"]
        await settle(pilot)
        labels = tree_labels(app)
        assert "[CUDA 12.1]" in labels["jupyter-pytorch-cuda"]
        assert "↑ v1.10.0" in labels["codeserver"]  # newer tag in its family
        assert "stale-base" in labels["codeserver"]  # built on base v1.9.1, the catalog has v1.10.0
        assert "↑" not in labels["jupyter"]
        assert "★ default" in labels["jupyter"]
        facts = static_text(app, "#facts")
        assert "base" in facts
        assert not app.screen.query_one("#busy").display


async def test_typing_filters_the_tree_keeping_ancestors(catalog_path: Path) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", "c", "u", "d", "a")  # '/' opens the filter; then letters are text
        assert app.screen.query_one("#filter", Input).value == "cuda"
        assert list(tree_labels(app)) == ["base", "jupyter", "jupyter-pytorch-cuda"]
        await pilot.press("escape")
        assert len(tree_labels(app)) == 6


async def test_open_an_image_and_walk_its_tabs(catalog_path: Path) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, "codeserver")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ImageScreen)
        rows = table_rows(app, "#tags-table")
        tags = [row[0] for row in rows]
        assert tags[:3] == ["v1.10.0 ↑", "v1.9.1 ●", "v1.9.0"]  # newest first, newer marked, current marked
        assert rows[0][2].startswith("2025-")
        await pilot.click("#tags-table", offset=(2, 0))  # the TAG header: oldest first now
        assert table_rows(app, "#tags-table")[0][0] == "v1.9.0"

        await pilot.press("2")  # packages: scanned on first visit, per-layer progress
        await settle(pilot)
        packages = table_rows(app, "#packages-table")
        names = {(row[0], row[1]) for row in packages}
        assert ("apt", "bash") in names
        assert any(ecosystem == "pip" for ecosystem, _ in names)
        app.screen.query_one("#package-filter", Input).value = "bash"
        await pilot.pause()
        assert [row[1] for row in table_rows(app, "#packages-table")] == ["bash"]
        assert "shown of" in static_text(app, "#package-count")
        assert app.screen.focused is app.screen.query_one("#package-filter")  # Packages' job is search
        await pilot.press("escape")  # clears the filter and leaves it for the table: keys are commands again
        assert app.screen.query_one("#package-filter", Input).value == ""

        await pilot.press("3")
        layers = table_rows(app, "#layers-table")
        assert len(layers) >= 3 and all(row[3].startswith("application/vnd.oci.image.layer") for row in layers)
        assert table_rows(app, "#history-table")
        await pilot.press("4")
        assert "No CUDA" in static_text(app, "#cuda-facts")
        await pilot.press("escape")
        assert isinstance(app.screen, CatalogScreen)


async def test_cuda_tab_lists_the_evidence(catalog_path: Path) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        app.open_image("jupyter-pytorch-cuda")
        await settle(pilot)
        await pilot.press("4")
        text = static_text(app, "#cuda-facts")
        assert "CUDA 12.1" in text and "NVIDIA_REQUIRE_CUDA" in text


async def test_diff_two_catalog_images_coloured_filtered_counted(catalog_path: Path) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        app.open_diff("jupyter", "jupyter-pytorch")
        await settle(pilot)
        assert isinstance(app.screen, DiffScreen)
        rows = table_rows(app, "#diff-table")
        assert rows and any(row[0] == "+" and row[2] == "torch" for row in rows)
        counts = static_text(app, "#diff-counts")
        assert "added" in counts and f"of {len(rows)} changes" in counts
        app.screen.query_one("#diff-filter", Input).value = "torch"
        await pilot.pause()
        filtered = [row[2] for row in table_rows(app, "#diff-table")]
        assert "torch" in filtered and all("torch" in name for name in filtered) and len(filtered) < len(rows)


async def test_diff_two_tags_typed_as_name_colon_tag(catalog_path: Path) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        app.open_diff()
        await pilot.pause()
        await pilot.press(*"jupyter:v1.9.0", "enter", *"jupyter:v1.10.0", "enter")
        await settle(pilot)
        rows = table_rows(app, "#diff-table")
        assert any(row[0] in ("↑", "↓", "~") for row in rows), rows


async def test_change_a_tag_and_save_keeps_comments(catalog_path: Path) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await select(pilot, "codeserver")
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TagPickerScreen)
        options = app.screen.query_one("#tags", OptionList)
        first = options.get_option_at_index(options.highlighted or 0)
        assert first.id == "v1.10.0"  # the newer tag comes first, highlighted
        await pilot.press("enter")
        assert isinstance(app.screen, PlanScreen) and not app.dirty  # what the move means, first
        await settle(pilot)
        await pilot.press("y")
        assert app.dirty and "modified" in app.sub_title
        assert "tag: v1.9.1" in read(catalog_path)  # nothing written before saving
        await pilot.press("ctrl+s")
        assert not app.dirty
    text = read(catalog_path)
    assert text.startswith(HEAD_COMMENT)
    assert "# pinned until the VS Code extension is fixed" in text
    assert load_catalog(catalog_path).get("codeserver").tag == "v1.10.0"


async def test_quitting_with_unsaved_changes_asks(catalog_path: Path) -> None:
    before = read(catalog_path)
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, "rstudio")
        await pilot.press("asterisk")  # make rstudio the default
        assert app.dirty
        await pilot.press("q")
        assert isinstance(app.screen, QuitScreen)
        await pilot.press("escape")  # cancel: still running, still dirty
        assert isinstance(app.screen, CatalogScreen) and app.dirty
        await pilot.press("q", "q")  # a second q is no answer: the app stays open
        assert isinstance(app.screen, QuitScreen) and app.is_running
        await pilot.press("d")  # discard, said as such
    assert app.return_value == 0
    assert read(catalog_path) == before


async def test_every_way_to_quit_asks_about_unsaved_changes(catalog_path: Path) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, "rstudio")
        await pilot.press("asterisk", "ctrl+q")  # Textual's own quit key
        assert isinstance(app.screen, QuitScreen)
        await pilot.press("escape")
        quit_command = next(c for c in app.get_system_commands(app.screen) if c.title == "Quit")
        await quit_command.callback()  # the palette's Quit
        await pilot.pause()
        assert isinstance(app.screen, QuitScreen) and app.is_running
        await pilot.press("escape")
        assert app.dirty


async def test_save_and_quit_from_the_question(catalog_path: Path) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, "rstudio")
        await pilot.press("asterisk", "q")
        assert isinstance(app.screen, QuitScreen)
        await pilot.press("s")
    catalog = load_catalog(catalog_path)
    assert catalog.get("rstudio").default and not catalog.get("jupyter").default
    assert read(catalog_path).startswith(HEAD_COMMENT)


async def test_refused_edits_are_notifications_and_change_nothing(catalog_path: Path) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, "base")
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        assert any("parent of" in text for text in notices(app))
        assert not app.dirty and app.document.catalog.find("base") is not None
        await select(pilot, "jupyter")
        await pilot.press("P")  # parent: jupyter-pytorch would make a cycle
        assert isinstance(app.screen, ChoiceScreen)
        options = app.screen.query_one(OptionList)
        options.highlighted = [options.get_option_at_index(i).id for i in range(options.option_count)].index(
            "jupyter-pytorch"
        )
        await pilot.press("enter")
        assert any("cycle" in text for text in notices(app))
        assert app.document.catalog.get("jupyter").parent == "base" and not app.dirty


async def test_set_kind_gpu_and_remove(catalog_path: Path) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, "rstudio")
        await pilot.press("e", "down", "down", "down", "enter", "down", "enter")  # Edit › GPU…: auto -> true
        await pilot.press("e", "down", "down", "enter", "home", "enter")  # Edit › Kind…: rstudio -> jupyter
        catalog = app.document.catalog
        assert catalog.get("rstudio").gpu is True and catalog.get("rstudio").kind == "jupyter"
        await pilot.press("x", "y")
        assert app.document.catalog.find("rstudio") is None
        await pilot.press("ctrl+s")
    assert load_catalog(catalog_path).find("rstudio") is None


async def test_add_an_image_picking_one_of_its_tags(catalog_path: Path, demo: object) -> None:
    app = make_app(catalog_path)
    layout = app.document.catalog.get("rstudio").image
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        assert isinstance(app.screen, AddImageScreen)
        await pilot.press(*layout, "enter")
        await settle(pilot)
        options = app.screen.query_one("#tags", OptionList)
        assert options.get_option_at_index(0).id == "v1.10.0"  # newest first
        await pilot.press("down", "enter")  # v1.9.1; focus moves to the name
        name = app.screen.query_one("#name", Input)
        assert name.value == "rstudio"  # proposed from the repository; taken
        name.value = "rstudio-old"
        await pilot.press("enter")
        added = app.document.catalog.get("rstudio-old")
        assert (added.image, added.tag) == (layout, "v1.9.1")
        assert app.dirty


async def test_profiles_preview_audit_and_write(catalog_path: Path) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("p")
        assert isinstance(app.screen, ProfilesScreen)
        preview = static_text(app, "#preview-kubeflow")
        assert "spawnerFormDefaults" in preview and "new" in preview
        assert "profile_list" in static_text(app, "#preview-kubespawner")
        await pilot.press("w")
        written = sorted(p.relative_to(catalog_path.parent) for p in (catalog_path.parent / "profiles").rglob("*.*"))
        assert [str(p) for p in written] == [
            "profiles/jupyterhub/values.yaml",
            "profiles/kubeflow/spawner_ui_config.yaml",
            "profiles/kubespawner/profile_list.py",
            "profiles/workspacekind/workspacekind.yaml",
        ]
        expected = 0o666 & ~current_umask()  # not mkstemp's 0600 (issue 11)
        assert {oct(stat.S_IMODE((catalog_path.parent / p).stat().st_mode)) for p in written} == {oct(expected)}
        assert "up to date" in static_text(app, "#preview-kubeflow")
        app.screen.query_one("#profile-tabs").active = "audit"  # type: ignore[attr-defined]
        await pilot.pause()
        assert static_text(app, "#audit-summary")


async def test_export_refuses_an_unsaved_catalog(catalog_path: Path) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, "rstudio")
        await pilot.press("asterisk", "p", "w")
        assert not (catalog_path.parent / "profiles").exists()
        assert any("save the catalog first" in text for text in notices(app))


async def test_help_and_palette_list_every_action(catalog_path: Path) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        titles = {command.title for command in app.get_system_commands(app.screen)}
        for wanted in ("Open image", "Change tag", "Add image", "Remove image", "Set parent", "Set kind",
                       "Set GPU", "Make default", "Diff", "Save catalog", "Profiles & audit", "Export profiles",
                       "Help", "Toggle light/dark"):  # fmt: skip
            assert wanted in titles
        await pilot.press("ctrl+t")
        assert app.theme == "textual-light"


async def test_palette_runs_an_action(catalog_path: Path) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Profiles & audit")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ProfilesScreen)


async def test_palette_offers_the_current_screens_keys(catalog_path: Path) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        app.open_profiles()
        await pilot.pause()
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {"Profiles: Write profiles/", "Profiles: Re-audit", "Change tag"} <= titles
        for opened, wanted in ((app.open_image, "Image: Cancel the scan"), (app.open_diff, "Diff: Cancel the scan")):
            await app.pop_screen()
            opened("jupyter")
            await pilot.pause()
            assert wanted in {command.title for command in app.get_system_commands(app.screen)}


async def test_saving_over_a_file_changed_on_disk_is_refused_then_reloaded(catalog_path: Path) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, "rstudio")
        await pilot.press("asterisk")
        write(catalog_path, read(catalog_path).replace("tag: v1.9.1", "tag: v1.10.0") + "# someone else's edit\n")
        await pilot.press("ctrl+s")
        assert app.dirty and any("changed on disk" in n and "Reload catalog" in n for n in notices(app))
        assert "Reload catalog" in {command.title for command in app.get_system_commands(app.screen)}
        app.action_reload()
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)  # unsaved edits are not dropped without asking
        await pilot.press("y")
        await pilot.pause()
        assert not app.dirty and app.document.catalog.get("codeserver").tag == "v1.10.0"
        assert app.document.catalog.get("jupyter").default  # the dropped edit made rstudio the default
        await select(pilot, "rstudio")
        await pilot.press("asterisk", "ctrl+s")
        assert not app.dirty
    text = read(catalog_path)
    assert text.endswith("# someone else's edit\n") and text.startswith(HEAD_COMMENT)
    assert load_catalog(catalog_path).get("rstudio").default


async def test_mouse_first_click_selects_second_opens(catalog_path: Path) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.click("#tree", offset=(8, 5))  # the rstudio row
        await pilot.pause()
        assert isinstance(app.screen, CatalogScreen)
        assert "rstudio" in static_text(app, "#facts")
        await pilot.click("#tree", offset=(8, 5))
        await pilot.pause()
        assert isinstance(app.screen, ImageScreen) and app.screen.entry_name == "rstudio"


async def test_using_an_older_tag_marks_the_tags_newer_than_it(catalog_path: Path) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        app.open_image("codeserver")
        await settle(pilot)
        table = app.screen.query_one("#tags-table")
        rows = [row[0] for row in table_rows(app, "#tags-table", headings=True)]
        table.move_cursor(row=rows.index("v1.9.0"))  # type: ignore[attr-defined]
        await pilot.press("t")
        assert isinstance(app.screen, PlanScreen)
        await pilot.press("y")
        await pilot.pause()
        assert app.document.catalog.get("codeserver").tag == "v1.9.0" and app.dirty
        assert [row[0] for row in table_rows(app, "#tags-table")][:3] == ["v1.10.0 ↑", "v1.9.1 ↑", "v1.9.0 ●"]


async def test_a_failed_export_is_a_notification_naming_the_file(
    catalog_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        app.open_profiles()
        await pilot.pause()
        with monkeypatch.context() as patch:
            patch.setattr(os, "fsync", _disk_full)
            await pilot.press("w")
        failed = [n for n in notices(app) if n.startswith("Export failed")]
        assert len(failed) == 1 and "profiles/" in failed[0] and "No space left" in failed[0], notices(app)
        assert not any("wrote" in n or "up to date" in n for n in notices(app))
        assert not list((catalog_path.parent / "profiles").rglob("*.*"))  # no file, no temp file left
        assert isinstance(app.screen, ProfilesScreen) and app.is_running


async def test_export_from_the_app_keeps_a_hand_edited_file_and_says_so(catalog_path: Path) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        app.open_profiles()
        await pilot.pause()
        await pilot.press("w")
        generated = catalog_path.parent / "profiles" / "jupyterhub" / "values.yaml"
        edited = read(generated) + "# tuned by hand\n"
        write(generated, edited)
        await pilot.press("w")
        assert read(generated) == edited
        assert any(n.startswith("Not written") and "edited by hand" in n for n in notices(app)), notices(app)
        assert "edited by hand" in static_text(app, "#preview-jupyterhub")


async def test_a_failed_save_keeps_the_edits_and_the_old_file(
    catalog_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = read(catalog_path)
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        await select(pilot, "rstudio")
        await pilot.press("asterisk")

        with monkeypatch.context() as patch:
            patch.setattr(os, "fsync", _disk_full)
            await pilot.press("ctrl+s")
        assert any("Save failed" in n and "No space left" in n for n in notices(app)), notices(app)
        assert app.dirty and app.is_running and read(catalog_path) == before
        await pilot.press("ctrl+s")
        assert not app.dirty
    assert load_catalog(catalog_path).get("rstudio").default


async def test_the_tags_table_sorts_from_the_keyboard(catalog_path: Path) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        app.open_image("codeserver")
        await settle(pilot)
        await pilot.press("s")  # tag -> digest
        await pilot.press("s")  # -> created, newest first
        created = [row[2] for row in table_rows(app, "#tags-table")]
        assert created == sorted(created, reverse=True) and created[0] > created[-1]
        await pilot.press("s", "s", "s")  # size, platforms, back to the tag
        assert table_rows(app, "#tags-table")[0][0] == "v1.9.0"  # oldest release first, families kept
        header = [str(column.label) for column in app.screen.query_one("#tags-table").columns.values()]  # type: ignore[attr-defined]
        assert header[0] == "TAG ▲"  # the sort column and its direction, in the header
        assert "Image: Sort" in {command.title for command in app.get_system_commands(app.screen)}


async def test_an_empty_catalog_is_a_start_not_an_error(demo: DemoPaths, tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    write(path, "# our images, from scratch\n")
    app = make_app(path)
    layout = load_catalog(demo.catalog).get("rstudio").image
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "the catalog is empty" in static_text(app, "#facts")
        assert notices(app) == []  # nothing to audit yet is no failure
        app.edit("add", lambda doc: doc.add_image({"name": "rstudio", "image": layout, "tag": "v1.9.1"}), facts=True)
        await settle(pilot)
        assert "↑ v1.10.0" in tree_labels(app)["rstudio"]
        assert not [n for n in notices(app) if "Failed" in n]
        await pilot.press("ctrl+s")
    assert read(path).startswith("# our images, from scratch\n") and load_catalog(path).get("rstudio")
