"""Issue 13: every defect an admin hit, reproduced as it happened, on the offline demo and loopback.

1 typing in Packages edited the catalog · 2 typing on the tree ran commands · 3 a registry that
never answers was read forever · 4 ``q q`` discarded edits · 5 exported profiles failed the app's own
audit · 6 long tag lists had no search · 7 the cursor and badges wandered.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Footer, Input, OptionList

from nbcatalog.catalog import load_catalog
from nbcatalog.tui.screens.catalog import CatalogScreen
from nbcatalog.tui.screens.dialogs import ChangesScreen, MessagesScreen, QuitScreen, TagPickerScreen
from nbcatalog.tui.screens.image import ImageScreen
from nbcatalog.tui.screens.profiles import ProfilesScreen
from nbcatalog.tui.widgets.lineage_tree import LineageTree
from tests.tui.helpers import make_app, read, settle, static_text, table_rows, tree_labels

SIZE = (100, 30)


async def _select(pilot: object, name: str) -> None:
    app = pilot.app  # type: ignore[attr-defined]
    app.screen.query_one(LineageTree).select_name(name)
    await pilot.pause()  # type: ignore[attr-defined]


def _cursor_name(app: object) -> str | None:
    tree = app.screen.query_one(LineageTree)  # type: ignore[attr-defined]
    node = tree.cursor_node
    return None if node is None else str(node.data)


# -- 1: typing in Packages -------------------------------------------------------------------------


async def test_typing_a_package_name_never_edits_the_catalog(catalog_path: Path) -> None:
    before = read(catalog_path)
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _select(pilot, "jupyter")
        await pilot.press("enter")
        await settle(pilot)
        tags_before = table_rows(app, "#tags-table")
        await pilot.press("2")
        await settle(pilot)
        assert app.screen.focused is app.screen.query_one("#package-filter")  # the tab focuses its filter
        await pilot.press(*"tornado")  # t, d, s were Use tag, Diff tag and Sort on the hidden Tags table
        await pilot.pause()
        assert isinstance(app.screen, ImageScreen)
        assert app.screen.query_one("#package-filter", Input).value == "tornado"
        assert not app.document.dirty and app.document.catalog.get("jupyter").tag == "v1.10.0"
        assert app.screen.sort_column == "tag" and table_rows(app, "#tags-table") == tags_before
        # and off the filter, on the Packages tab, the Tags tab's letters are no commands either
        await pilot.press("escape", "t", "d", "s")
        await pilot.pause()
        assert isinstance(app.screen, ImageScreen) and not app.document.dirty
        footer_keys = {b.binding.key for b in app.screen.active_bindings.values() if b.binding.show and b.enabled}  # type: ignore[attr-defined]
        assert not {"t", "d", "s"} & footer_keys  # the footer shows what the visible tab does
        assert "Image jupyter:v1.10.0" in static_text(app, "#image-title")
    assert read(catalog_path) == before


async def test_escape_clears_a_filter_with_text_and_leaves_from_an_empty_one(catalog_path: Path) -> None:
    """esc, esc always leaves the image, even when the filter got the focus back in between (the
    Packages tab focuses its filter when it opens; under load that can land after the first esc)."""
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _select(pilot, "jupyter")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press(*"bash", "escape")
        await pilot.pause()
        assert isinstance(app.screen, ImageScreen)  # the first esc cleared the filter only
        assert app.screen.query_one("#package-filter", Input).value == ""
        app.screen.query_one("#package-filter", Input).focus()  # the late re-focus, by hand
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ImageScreen)


# -- 2: the tree filter --------------------------------------------------------------------------------


async def test_every_letter_goes_into_the_tree_filter_and_none_runs_a_command(catalog_path: Path) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"pytorch")  # p opened Profiles, r re-audited
        await pilot.pause()
        assert isinstance(app.screen, CatalogScreen) and not app.document.dirty
        assert app.screen.query_one("#filter", Input).value == "pytorch"
        assert set(tree_labels(app)) == {"base", "jupyter", "jupyter-pytorch", "jupyter-pytorch-cuda"}
        box = app.screen.query_one("#filter", Input)
        box.value = ""
        await pilot.press(*"taxdkgrP")  # letters that were commands: all text now
        assert box.value == "taxdkgrP" and not app.document.dirty and isinstance(app.screen, CatalogScreen)
        assert "no image matches 'taxdkgrP'" in static_text(app, "#no-matches")  # not a blank tree
        assert app.screen.query_one("#no-matches").display
        await pilot.press("escape")  # clears and goes back to the tree
        assert box.value == "" and app.screen.focused is app.screen.query_one(LineageTree)
        first = _cursor_name(app)
        await pilot.press("j")  # moves down, never into the filter
        assert _cursor_name(app) != first and box.value == ""
        await pilot.press("k")
        assert _cursor_name(app) == first
        await pilot.press("G")
        assert _cursor_name(app) == list(tree_labels(app))[-1]
        await pilot.press("g")
        assert _cursor_name(app) == next(iter(tree_labels(app)))


# -- 3: a registry that accepts and never answers -------------------------------------------------------


@pytest.fixture
def silent_registry() -> Iterator[str]:
    """Accepts every connection on loopback and never sends a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


async def test_a_registry_that_never_answers_surfaces_as_one_status_line(
    silent_registry: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbcatalog import limits

    monkeypatch.setattr(limits, "_active", limits.Limits().replace(request_seconds=1.5))
    path = tmp_path / "catalog.yaml"
    path.write_text(
        "images:\n"
        + "".join(f"  - name: img{i}\n    image: {silent_registry}/team/img{i}\n    tag: v1.0.{i}\n" for i in range(3))
    )
    app = make_app(path, insecure_registries=frozenset({silent_registry}), timeout=60.0)
    async with app.run_test(size=SIZE) as pilot:
        started = asyncio.get_running_loop().time()
        await settle(pilot)
        took = asyncio.get_running_loop().time() - started
        assert took < 20, f"the app waited {took:.1f} s"  # not 4 minutes of "reading…"
        assert not app.screen.query_one("#busy").display
        status = static_text(app, "#registry-status")
        assert status.startswith(f"✗ {silent_registry}: ") and "r retries" in status
        assert "answer to GET /v2/ not complete after 1.5s" in status and "request-seconds" in status
        assert status.count("✗") == 1  # one line for the host, not one per image
        labels = tree_labels(app)
        assert all(label.count("✗") + label.count("⚠") == 1 for label in labels.values()), labels  # one badge
        toasts = [n for n in app._notifications if n.severity == "error"]
        assert len(toasts) <= 2, [n.message for n in toasts]  # no stack of six
        await pilot.press("ctrl+l")
        assert isinstance(app.screen, MessagesScreen)
        assert silent_registry in static_text(app, "#messages-log")


# -- 4: quitting ------------------------------------------------------------------------------------


async def test_q_q_keeps_the_app_open_and_the_dialog_names_the_edits(catalog_path: Path) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _select(pilot, "rstudio")
        await pilot.press("asterisk")
        await pilot.press("q", "q")
        assert app.is_running and isinstance(app.screen, QuitScreen)
        assert "1 unsaved edit" in str(app.screen.query_one(".dialog-title").render())
        assert "rstudio: made the default" in static_text(app, "#quit-edits")
        keys = {b.binding.key for b in app.screen.active_bindings.values() if b.binding.show and b.enabled}  # type: ignore[attr-defined]
        assert {"s", "d", "escape"} <= keys and "t" not in keys  # the dialog's own keys, not the catalog's
        assert app.screen.query(Footer)
        await pilot.press("escape")
        assert isinstance(app.screen, CatalogScreen) and app.document.dirty


# -- undo and the pending-changes view ---------------------------------------------------------------


async def test_u_undoes_edit_after_edit_and_c_shows_the_diff(catalog_path: Path) -> None:
    before = read(catalog_path)
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _select(pilot, "rstudio")
        await pilot.press("asterisk")
        await _select(pilot, "codeserver")
        await pilot.press("x", "y")  # removed
        await settle(pilot)
        assert app.document.catalog.find("codeserver") is None
        await pilot.press("c")
        assert isinstance(app.screen, ChangesScreen)
        diff = static_text(app, "#changes-diff")
        assert "removed codeserver" in diff and "rstudio: made the default" in diff
        assert "-  - name: codeserver" in diff
        await pilot.press("escape", "u")
        assert app.document.catalog.find("codeserver") is not None
        await pilot.press("u")
        assert not app.document.dirty and not app.dirty and app.document.text() == before
        await pilot.press("u")
        assert any("nothing to undo" in n.message for n in app._notifications)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_value == 0 and read(catalog_path) == before


# -- 5: export from the app ------------------------------------------------------------------------------


async def test_removing_the_only_rstudio_image_then_exporting_passes_the_audit(
    catalog_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _select(pilot, "rstudio")
        await pilot.press("x", "y", "ctrl+s")
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, ProfilesScreen)
        warnings = static_text(app, "#export-warnings")
        assert "cannot bind a GPU to an image" in warnings  # what `nbcatalog export` prints, shown here
        await pilot.press("w")
        await settle(pilot)
        assert any("Wrote" in (n.title or "") and "spawner_ui_config.yaml" in n.message for n in app._notifications)
    spawner = (catalog_path.parent / "profiles" / "kubeflow" / "spawner_ui_config.yaml").read_text()
    import yaml

    form = yaml.safe_load(spawner.split("\n", 5)[-1] if spawner.startswith("#") else spawner)["spawnerFormDefaults"]
    assert "imageGroupTwo" not in form  # left out, never `value: ""`
    assert all(form[s].get("value") for s in ("image", "imageGroupOne") if s in form)
    from tests.cli.run import run_cli

    audited = run_cli(capsys, "audit", "--offline", "--json", str(catalog_path.parent / "profiles"))
    assert "invalid-reference" not in {f["kind"] for f in audited.json()["findings"]}


def test_preflight_refuses_an_empty_value_and_a_duplicate_option(tmp_path: Path) -> None:
    from nbcatalog.exporters.files import PlannedFile
    from nbcatalog.exporters.preflight import preflight

    text = (
        "spawnerFormDefaults:\n  image:\n    value: ''\n    options:\n"
        "    - ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter:v1.10.0\n"
        "    - ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter:v1.10.0\n"
    )
    problems = preflight([PlannedFile(tmp_path / "spawner_ui_config.yaml", text, "kubeflow")])
    assert [(p.line, "twice" in p.message) for p in problems] == [(3, False), (6, True)], problems


# -- 6: long tag lists ----------------------------------------------------------------------------------


async def test_tags_are_searchable_in_the_tab_and_the_picker(catalog_path: Path) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _select(pilot, "codeserver")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("slash", *"v191")
        await settle(pilot)
        assert [row[0] for row in table_rows(app, "#tags-table")] == ["v1.9.1 ●"]  # fuzzy: v191 -> v1.9.1
        assert "1 of 4 tags match 'v191'" in static_text(app, "#tag-count")
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, CatalogScreen)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TagPickerScreen)
        await pilot.press(*"lat")
        options = app.screen.query_one("#tags", OptionList)
        assert options.get_option_at_index(options.highlighted or 0).id == "latest"
        await pilot.press("escape")  # clears the filter, stays
        assert isinstance(app.screen, TagPickerScreen)
        await pilot.press("escape")  # cancels
        assert isinstance(app.screen, CatalogScreen) and not app.document.dirty


def test_build_families_fold_and_aliases_are_found() -> None:
    from nbcatalog.taglist import aliases, fuzzy_score, group_tags

    tags = ["v1.10.0", "v1.9.1", "latest", *(f"sha-{i:07x}f" for i in range(55))]
    groups = group_tags(tags)
    assert [g.label for g in groups] == ["vN.N.N", "moving (latest, main…)", "sha-<hex>"]
    assert groups[-1].folded and len(groups[-1].tags) == 55 and not groups[0].folded
    assert not group_tags(tags, unfolded={"sha-<hex>"})[-1].folded
    assert aliases({"latest": "sha256:a", "v1.10.0": "sha256:a", "v1.9.1": "sha256:b"}) == {
        "latest": ["v1.10.0"],
        "v1.10.0": ["latest"],
    }
    assert fuzzy_score("v110", "v1.10.0") is not None and fuzzy_score("v110", "v1.9.1") is None
    assert (fuzzy_score("cu12", "cuda12-2024-05-27") or 0) > (fuzzy_score("cu12", "x-c-u-1-2") or 0)


# -- 7: the cursor and the badges ------------------------------------------------------------------------


async def test_the_cursor_stays_where_the_admin_works(catalog_path: Path, demo: object) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        order = list(tree_labels(app))
        await _select(pilot, "codeserver")
        await pilot.press("x", "y")
        await settle(pilot)
        expected = order[order.index("codeserver") + 1]
        assert _cursor_name(app) == expected  # the next row, not base
        assert f"Name       {expected}" in static_text(app, "#facts") or expected in static_text(app, "#facts")
        await pilot.press("P")  # the next P acts on the row the cursor is on
        assert expected in str(app.screen.query_one(".dialog-title").render())


async def test_a_bumped_tag_never_reads_as_stale_against_itself(catalog_path: Path) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "↑ v1.10.0" in tree_labels(app)["codeserver"]
        app.edit("bump", lambda doc: doc.set_tag("codeserver", "v1.10.0"), facts=False)
        await pilot.pause()
        label = tree_labels(app)["codeserver"]
        assert "v1.10.0" in label and "↑" not in label and "stale-tag" not in label  # old facts not shown
    assert load_catalog(catalog_path).get("codeserver").tag == "v1.9.1"  # never saved


async def test_findings_are_filtered_and_the_palette_has_undo_and_changes(catalog_path: Path) -> None:
    app = make_app(catalog_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {"Undo", "Unsaved changes", "Messages"} <= titles
        await pilot.press("p")
        await settle(pilot)
        everything = table_rows(app, "#audit-table")
        assert everything
        await pilot.press("slash")
        await pilot.press(*"stale-tag")
        await pilot.pause()
        assert app.screen.query_one("#finding-filter", Input).value == "stale-tag"
        rows = table_rows(app, "#audit-table")
        assert rows and all(row[1] == "stale-tag" for row in rows)
        await pilot.press(*" nosuchthing")
        await pilot.pause()
        assert table_rows(app, "#audit-table") == []
        await pilot.press("escape")
        assert table_rows(app, "#audit-table") == everything and isinstance(app.screen, ProfilesScreen)
