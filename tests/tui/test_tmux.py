"""The app as a person drives it: a real terminal (tmux, 80x24), real key presses, the screen read back.

Pilot tests call the app in-process; this one runs ``python -m nbcatalog`` in a tmux pane, types into
it with ``send-keys`` and reads the pane with ``capture-pane``, so terminal input parsing, key
repeat and the real event loop are all in the path (issue 13's "as a person would").
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from nbcatalog.demo import DemoPaths

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is installed by scripts/setup")


class Pane:
    def __init__(self, socket: str, session: str) -> None:
        self.socket, self.session = socket, session

    def tmux(self, *args: str) -> str:
        result = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10)
        return result.stdout

    def keys(self, *keys: str, literal: bool = False) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", self.session, *(["-l"] if literal else []), key)
            time.sleep(0.05)

    def type(self, text: str) -> None:
        """As a person types: one key at a time (a burst sent at once may arrive before the focus moves)."""
        time.sleep(0.2)
        for char in text:
            self.keys(char, literal=True)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.session)

    def alive(self) -> bool:
        return subprocess.run(["tmux", "-L", self.socket, "has-session", "-t", self.session],
                              capture_output=True).returncode == 0  # fmt: skip

    def wait_gone(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if text not in shown:
                return shown
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never went away; the pane shows:\n{self.screen()}")

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the pane shows:\n{self.screen()}")


@pytest.fixture
def pane(demo: DemoPaths, tmp_path: Path) -> Iterator[tuple[Pane, Path]]:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(demo.catalog.read_text())
    socket, session = f"nbcatalog-test-{uuid.uuid4().hex[:8]}", "app"
    env = {**os.environ, "HOME": str(tmp_path), "NBCATALOG_CACHE_DIR": str(tmp_path / "cache")}
    command = f"{sys.executable} -m nbcatalog --catalog {catalog}; sleep 0.1"
    subprocess.run(
        ["tmux", "-L", socket, "new-session", "-d", "-x", "80", "-y", "24", "-s", session, command],
        check=True, env=env, timeout=10,
    )  # fmt: skip
    try:
        yield Pane(socket, session), catalog
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=10)


def test_typing_names_at_80x24_leaves_the_catalog_as_it_was_and_q_q_stays_open(pane: tuple[Pane, Path]) -> None:
    terminal, catalog = pane
    before = catalog.read_text()
    terminal.wait_for("★ default")  # the tree is painted
    terminal.wait_for("↑ v1.10.0")  # and the tags are read

    terminal.keys("/")
    terminal.type("jupyter")  # j, p and r were commands; typed into the filter they are text
    shown = terminal.wait_gone("codeserver")  # filtered: the tree keeps jupyter and its ancestors
    assert "jupyter-pytorch" in shown and "Profiles & audit" not in shown and "modified" not in shown
    terminal.keys("Escape")
    terminal.wait_for("codeserver")

    terminal.keys("Enter")  # open the first image, then its Packages tab
    terminal.wait_for("Tags")
    terminal.keys("2")
    terminal.wait_for("bash")  # the scan has run
    terminal.type("tornado")  # t, d and s were Use tag, Diff tag and Sort on the hidden Tags table
    shown = terminal.wait_for("tornado")
    shown = terminal.wait_gone("bash")
    assert "0 shown of" in shown and "now uses" not in shown
    # one Escape at a time, each after the last one's effect, as a person presses them: two ESC
    # bytes read together (a loaded machine) are one alt+escape to the terminal's key parser
    terminal.keys("Escape")
    terminal.wait_for("filter by name")  # the filter is cleared
    time.sleep(0.3)
    terminal.keys("Escape")
    terminal.wait_for("codeserver")
    assert catalog.read_text() == before and "modified" not in terminal.screen()

    terminal.keys("G")  # the last row (rstudio): never the default
    time.sleep(0.3)
    terminal.keys("*")  # an edit: it becomes the default
    terminal.wait_for("modified")
    terminal.keys("q", "q")  # the second q is no answer
    shown = terminal.wait_for("unsaved edit")
    time.sleep(0.5)
    assert terminal.alive() and "unsaved edit" in terminal.screen()
    terminal.keys("Escape")
    time.sleep(0.3)
    assert terminal.alive() and "unsaved edit" not in terminal.screen()
    terminal.keys("q")
    terminal.wait_for("unsaved edit")
    terminal.keys("d")  # discard, said as such
    deadline = time.monotonic() + 10
    while terminal.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not terminal.alive()
    assert catalog.read_text() == before
