"""Issue 14, class 1: what a registry or an image says is shown, never obeyed.

An image's pusher chooses its tag names, its config (User, ports, Entrypoint, Env, labels, history),
its package databases and the paths they sit at. Printed raw, an ESC or CSI in any of them retitles
the admin's terminal, clears it or forges a line; in the app, Rich markup in them styles, links or
runs an action. These tests build such an image (``hostile_images``) and run the real CLI and the
real app on it: no raw control character may come out, the escaped spelling must, JSON must still
parse to the original strings, and the app must show markup as the characters it is.
"""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from nbcatalog.cli.output import TerminalGuard, guard_output, style
from tests.cli.run import Result, run_cli
from tests.reliability import capped
from tests.reliability.hostile_images import (
    APT_NAME,
    APT_VERSION,
    BASH_VERSION,
    C1_CSI,
    CLEAR,
    CLICK,
    HISTORY_STEP,
    HOSTILE,
    HOSTILE_TAGS,
    LABEXT_NAME,
    LINK,
    MARKUP,
    OSC8_LINK,
    OSC_TITLE,
    PIP_NAME,
    PIP_VERSION,
    RLO,
    SHOWN,
    SITE,
    HostileLayout,
    build_hostile_layout,
    write_catalog,
)

#: What must never reach a terminal raw: ESC, the C1 range (0x9b is CSI), bidi controls.
RAW_CONTROL = re.compile("[\x1b\x80-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: The colour codes nbcatalog's own ``style()`` writes (and nothing else may).
OWN_SGR = re.compile(r"\x1b\[(?:0|(?:1|2|31|32|33|34|36)(?:;(?:1|2|31|32|33|34|36))*)m")


def assert_inert(text: str, *, own_colour: bool = False) -> None:
    """No raw control in ``text``; with ``own_colour``, only after removing style()'s own codes."""
    if own_colour:
        text = OWN_SGR.sub("", text)
    found = sorted({f"U+{ord(char):04X}" for char in RAW_CONTROL.findall(text)})
    assert not found, f"raw control characters {found} in:\n{text!r}"


def assert_clean(result: Result | capped.Capped, *, own_colour: bool = False) -> None:
    assert result.code == 0, (result.code, result.err)
    assert_inert(result.out, own_colour=own_colour)
    assert_inert(result.err, own_colour=own_colour)


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> HostileLayout:
    return build_hostile_layout(tmp_path_factory.mktemp("hostile") / "layout")


# -- the CLI ----------------------------------------------------------------------------------------


def test_tags_are_listed_escaped_and_round_trip_in_json(
    layout: HostileLayout, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = run_cli(capsys, "--no-cache", "tags", layout.repo)
    assert_clean(plain)
    lines = plain.out.splitlines()
    assert lines == ["v1", "v2", *(f"t{SHOWN[text]}" for text in HOSTILE)]  # one line per tag, none forged

    details = run_cli(capsys, "--no-cache", "tags", layout.repo, "--details")
    assert_clean(details)
    for text in HOSTILE:
        assert f"t{SHOWN[text]} " in details.out
    assert SHOWN[CLEAR] + "2024" in details.out  # the config's created, also the image's to choose

    for extra in ([], ["--details"]):
        listed = run_cli(capsys, "--no-cache", "tags", layout.repo, "--json", *extra)
        assert_clean(listed)
        tags = [row["tag"] for row in listed.json()["tags"]]
        assert tags == ["v1", "v2", *HOSTILE_TAGS]  # JSON still says exactly what the registry said
    assert {row["created"] for row in listed.json()["tags"][1:]} == {f"{CLEAR}2024-01-01T00:00:00Z"}


def test_inspect_shows_the_config_escaped_one_line_per_fact(
    layout: HostileLayout, capsys: pytest.CaptureFixture[str]
) -> None:
    shown = run_cli(capsys, "--no-cache", "inspect", layout.hostile)
    assert_clean(shown)
    facts = {line.split("  ", 1)[0]: line.split("  ", 1)[1].strip() for line in shown.out.splitlines()[:12]}
    assert facts["User"] == SHOWN[OSC_TITLE]
    assert facts["Entrypoint"] == SHOWN[OSC8_LINK]
    assert facts["Cmd"] == f"{SHOWN[C1_CSI]} {CLICK}"
    assert facts["Created"] == SHOWN[CLEAR] + "2024-01-01T00:00:00Z"
    assert facts["Ports"] == f"8888{SHOWN[CLEAR]}/tcp, 8888/tcp, {MARKUP}"
    assert f"  EVIL={SHOWN[RLO]}gnp.exe\n" in shown.out
    assert f"  LINK={LINK}\n" in shown.out
    assert f"  evil{SHOWN[OSC_TITLE]}={MARKUP}\n" in shown.out
    # the RUN step's own newline is shown escaped: the history stays one line per step
    history = shown.out.split("\nHistory\n", 1)[1].splitlines()
    assert any(line.endswith(f"RUN echo {SHOWN[OSC_TITLE]}\\x0aecho {CLICK}") for line in history), history

    document = run_cli(capsys, "--no-cache", "inspect", layout.hostile, "--json")
    assert_clean(document)
    doc = document.json()
    assert doc["user"] == OSC_TITLE
    assert doc["entrypoint"] == [OSC8_LINK] and doc["cmd"] == [C1_CSI, CLICK]
    assert doc["env"]["EVIL"] == f"{RLO}gnp.exe" and doc["labels"][f"evil{OSC_TITLE}"] == MARKUP
    assert HISTORY_STEP in [entry["created_by"] for entry in doc["history"]]
    assert json.loads(json.dumps(doc, ensure_ascii=False)) == doc


def test_packages_show_names_versions_and_paths_escaped(
    layout: HostileLayout, capsys: pytest.CaptureFixture[str]
) -> None:
    shown = run_cli(capsys, "--no-cache", "packages", layout.hostile)
    assert_clean(shown)
    for text in (APT_NAME, APT_VERSION, BASH_VERSION, PIP_NAME, PIP_VERSION, LABEXT_NAME, "/" + SITE):
        escaped = text
        for raw, spelled in SHOWN.items():
            escaped = escaped.replace(raw, spelled)
        assert escaped in shown.out, escaped
    assert "/broken" + SHOWN[CLEAR] in shown.err  # the scan's warning names the hostile path, escaped

    document = run_cli(capsys, "--no-cache", "packages", layout.hostile, "--json")
    assert_clean(document)
    found = {(p["ecosystem"], p["name"], p["version"]) for p in document.json()["packages"]}
    assert {("apt", APT_NAME, APT_VERSION), ("pip", PIP_NAME, PIP_VERSION), ("apt", "bash", BASH_VERSION)} <= found


def test_diff_shows_hostile_changes_escaped(layout: HostileLayout, capsys: pytest.CaptureFixture[str]) -> None:
    shown = run_cli(capsys, "--no-cache", "diff", layout.plain, layout.hostile)
    assert_clean(shown)
    assert f"5.2 → 5.3{SHOWN[OSC8_LINK]}" in shown.out
    assert f"+ evil{SHOWN[OSC_TITLE]}" in shown.out and f"+ {PIP_NAME}" in shown.out

    document = run_cli(capsys, "--no-cache", "diff", layout.plain, layout.hostile, "--json")
    assert_clean(document)
    changes = {change["name"]: change for change in document.json()["changes"]}
    assert changes["bash"]["b_version"] == BASH_VERSION and APT_NAME in changes and PIP_NAME in changes


def test_colour_still_works_and_is_the_only_escape_sequence(
    layout: HostileLayout, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    for args in (("tags", layout.repo, "--details"), ("inspect", layout.hostile), ("packages", layout.hostile)):
        shown = run_cli(capsys, "--no-cache", *args)
        assert_clean(shown, own_colour=True)
        assert "\x1b[1m" in shown.out and "\x1b[0m" in shown.out, args  # nbcatalog's own bold still there
    assert "\x1b[1mTAG\x1b[0m" in run_cli(capsys, "--no-cache", "tags", layout.repo, "--details").out


def test_in_a_child_process_as_a_shell_sees_it(layout: HostileLayout, tmp_path: Path) -> None:
    env = {"NBCATALOG_CACHE_DIR": str(tmp_path / "cache")}
    for args in (("tags", layout.repo, "--details"), ("inspect", layout.hostile), ("packages", layout.hostile)):
        shown = capped.run(*args, env=env)
        assert_clean(shown)
        assert SHOWN[OSC_TITLE] in shown.out, args
    listed = capped.run("tags", layout.repo, "--json", env=env)
    assert_clean(listed)
    assert [row["tag"] for row in json.loads(listed.out)["tags"]][2:] == list(HOSTILE_TAGS)


def test_the_output_guard_lets_only_nbcatalogs_own_colour_through(monkeypatch: pytest.MonkeyPatch) -> None:
    """The net under the escaping: a write that forgot to escape is escaped by stdout itself."""
    monkeypatch.setenv("FORCE_COLOR", "1")
    raw = io.StringIO()
    guard = TerminalGuard(raw)
    print(style("TAG", "bold", "cyan"), *HOSTILE, "\x1b[5m", "\x1b[31;5m", "a\tb", file=guard)
    written = raw.getvalue()
    assert written.startswith("\x1b[1;36mTAG\x1b[0m ") and written.endswith(" a\tb\n")
    assert_inert(written, own_colour=True)
    assert all(SHOWN[text] in written for text in HOSTILE)
    assert "\\x1b[5m \\x1b[31;5m" in written  # SGR codes style() never writes (blink) are escaped
    assert style(OSC_TITLE, "red") == f"\x1b[31m{SHOWN[OSC_TITLE]}\x1b[0m"  # style escapes what it colours

    monkeypatch.setattr(sys, "stdout", io.StringIO())
    guard_output()
    guard_output()  # installed once, however often main() runs in one process
    assert isinstance(sys.stdout, TerminalGuard) and not isinstance(sys.stdout.stream, TerminalGuard)


def test_the_cli_entry_installs_the_guard(layout: HostileLayout, capsys: pytest.CaptureFixture[str]) -> None:
    run_cli(capsys, "--no-cache", "tags", layout.repo, "--json")
    assert isinstance(sys.stdout, TerminalGuard) and isinstance(sys.stderr, TerminalGuard)
    print(f"forgotten {OSC_TITLE}{C1_CSI}{RLO}")
    out = capsys.readouterr().out
    assert_inert(out)
    assert out == f"forgotten {SHOWN[OSC_TITLE]}{SHOWN[C1_CSI]}{SHOWN[RLO]}\n"


# -- the app ----------------------------------------------------------------------------------------

SIZE = (160, 50)


def rendered(widget: Any) -> tuple[str, list[Any]]:
    """What Textual paints for ``widget``: its text, and the styles of its segments."""
    from textual.geometry import Region

    strips = widget.render_lines(Region(0, 0, *widget.outer_size))  # padding and border included
    text = "\n".join("".join(segment.text for segment in strip) for strip in strips)
    return text, [segment.style for strip in strips for segment in strip if segment.style is not None]


def assert_shown_as_text(widget: Any, *expected: str) -> str:
    """Painted with no raw control, no link and no click action; ``expected`` appear literally."""
    text, styles = rendered(widget)
    assert_inert(text)
    for wanted in expected:
        assert wanted in text, f"{wanted!r} not shown in:\n{text}"
    assert not [s.link for s in styles if s.link], "a link from data"
    assert not [s.meta for s in styles if "@click" in s.meta], "a click action from data"
    return text


async def test_the_app_shows_tags_config_and_packages_as_text(layout: HostileLayout, tmp_path: Path) -> None:
    from nbcatalog.tui.screens.image import ImageScreen
    from tests.tui.helpers import make_app, settle

    app = make_app(write_catalog(tmp_path, layout))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_image("evil")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ImageScreen)
        assert_shown_as_text(
            screen.query_one("#tags-table"), f"t{MARKUP}", f"t{CLICK}", f"t{LINK}", f"t{SHOWN[OSC_TITLE]}"
        )
        assert_shown_as_text(screen.query_one("#tags-table"), f"t{SHOWN[C1_CSI]}", f"t{SHOWN[RLO]}")

        await pilot.press("3")
        await settle(pilot)
        assert_shown_as_text(screen.query_one("#config-facts"), SHOWN[OSC_TITLE], SHOWN[OSC8_LINK], CLICK, MARKUP)
        history = assert_shown_as_text(screen.query_one("#history-table"), f"LABEL evil{SHOWN[OSC_TITLE]}")
        assert f"RUN echo {SHOWN[OSC_TITLE]}\\x0aecho {CLICK}" in history

        await pilot.press("2")
        await settle(pilot)
        assert_shown_as_text(
            screen.query_one("#packages-table"), APT_NAME.replace(OSC_TITLE, SHOWN[OSC_TITLE]), PIP_NAME
        )
        assert app.is_running and isinstance(app.screen, ImageScreen)


async def test_a_notification_about_a_hostile_tag_shows_it_literally(layout: HostileLayout, tmp_path: Path) -> None:
    from textual.widgets import DataTable
    from textual.widgets._toast import Toast

    from nbcatalog.tui.screens.dialogs import MessagesScreen
    from tests.tui.helpers import make_app, notices, settle

    app = make_app(write_catalog(tmp_path, layout))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.open_image("evil")
        await settle(pilot)
        table = app.screen.query_one("#tags-table", DataTable)
        keys = [row.key.value for row in table.ordered_rows]
        table.move_cursor(row=keys.index(f"t{MARKUP}"))
        await pilot.press("t")  # use that tag in the catalog: the plan for it first, its title literal
        await settle(pilot)
        from nbcatalog.tui.screens.plan import PlanScreen

        assert isinstance(app.screen, PlanScreen)
        assert_shown_as_text(app.screen.query_one(".dialog-title"), f"to t{MARKUP}?")
        await pilot.press("y")  # "evil now uses t[red]x[/red]" says the app
        await pilot.pause()
        app.notify(f"tag {MARKUP} {LINK} {OSC_TITLE}{C1_CSI}", title=f"about {CLICK}")
        await pilot.pause()
        assert any(f"uses t{MARKUP} " in notice for notice in notices(app)), notices(app)
        toasts = list(app.screen.query(Toast))
        assert toasts
        shown = "\n".join(assert_shown_as_text(toast) for toast in toasts)
        for piece in (f"uses t{MARKUP} ", f"tag {MARKUP}", LINK, SHOWN[OSC_TITLE], SHOWN[C1_CSI], f"about {CLICK}"):
            assert piece in shown, (piece, shown)  # a toast wraps its lines: each piece is on one of them

        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, MessagesScreen)
        assert_shown_as_text(app.screen.query_one("#messages-log"), MARKUP, LINK, SHOWN[OSC_TITLE], f"about {CLICK}")
        assert app.is_running


async def test_the_tag_picker_lists_hostile_tags_as_text(layout: HostileLayout, tmp_path: Path) -> None:
    from nbcatalog.tui.screens.dialogs import TagPickerScreen
    from tests.tui.helpers import make_app, settle

    app = make_app(write_catalog(tmp_path, layout))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TagPickerScreen)
        assert_shown_as_text(app.screen.query_one("#tags"), f"t{MARKUP}", f"t{CLICK}", f"t{SHOWN[OSC_TITLE]}")
