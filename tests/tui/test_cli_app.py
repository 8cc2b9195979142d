"""``nbcatalog`` with no command: bad catalogs are one error line (exit 2); on a terminal the app runs."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from nbcatalog.cli.main import main
from nbcatalog.demo import DemoPaths


def test_missing_catalog_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--catalog", str(tmp_path / "nope.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope.yaml" in err and "nbcatalog demo" in err


def test_broken_catalog_names_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text("images:\n  - name: a\n    image: quay.io/jupyter/base-notebook\n    tag: x\n    dispaly_name: A\n")
    assert main(["--catalog", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{path}:5" in err and "display_name" in err


def test_no_terminal_is_a_clear_error(demo: DemoPaths, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--catalog", str(demo.catalog)]) == 2
    assert "needs a terminal" in capsys.readouterr().err


def _read_until(fd: int, wanted: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while wanted not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


def test_the_app_starts_on_a_terminal_and_quits(demo: DemoPaths, tmp_path: Path) -> None:
    """The real entry point in a pseudo-terminal: first paint shows the catalog, ``q`` exits 0."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    process = subprocess.Popen(
        [sys.executable, "-m", "nbcatalog", "--catalog", str(demo.catalog)],
        stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
    )  # fmt: skip
    os.close(slave)
    try:
        screen = _read_until(master, b"jupyter-pytorch-cuda", 20)
        assert b"jupyter-pytorch-cuda" in screen
        os.write(master, b"q")
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
