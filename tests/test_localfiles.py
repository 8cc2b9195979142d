"""nbcatalog.localfiles: regular files only, the size cap before reading, an open that never blocks."""

from __future__ import annotations

import io
import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from nbcatalog import limits, localfiles
from nbcatalog.errors import BadInputError
from nbcatalog.localfiles import FileTooLargeError, MissingFileError, NotRegularFileError


@pytest.fixture
def small_limit() -> Iterator[None]:
    limits.configure(limits.Limits().replace(file_bytes=1000))
    yield
    limits.configure(None)


def _within(seconds: float, call: Callable[[], Any]) -> BaseException | None:
    """Run ``call`` in a daemon thread; fail if it is still running after ``seconds`` (it blocked)."""
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            call()
            outcome.append(None)
        except BaseException as exc:  # handed to the test
            outcome.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still blocked after {seconds}s"
    return outcome[0]


def test_a_regular_file_is_read_with_text_newlines(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_bytes(b"a: 1\r\nb: 2\rc: 3\n")
    assert localfiles.read_text(path) == "a: 1\nb: 2\nc: 3\n"
    assert localfiles.read_text(path, newline="") == "a: 1\r\nb: 2\rc: 3\n"
    assert localfiles.read_bytes(path) == b"a: 1\r\nb: 2\rc: 3\n"


def test_a_symlink_to_a_regular_file_is_read_through(tmp_path: Path) -> None:
    (tmp_path / "real.yaml").write_text("x: 1\n")
    (tmp_path / "link.yaml").symlink_to(tmp_path / "real.yaml")
    assert localfiles.read_text(tmp_path / "link.yaml") == "x: 1\n"


def test_missing_files_and_dangling_links(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError, match="file not found") as caught:
        localfiles.read_text(tmp_path / "nope.yaml")
    assert caught.value.where == str(tmp_path / "nope.yaml") and caught.value.exit_code == 2
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    assert localfiles.read_text_if_exists(tmp_path / "dangling") is None


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda p: p.mkdir(), "a directory"),
        (lambda p: os.mkfifo(p), "a FIFO"),
        (lambda p: p.symlink_to("/dev/zero"), "a character device"),
    ],
    ids=["directory", "fifo", "dev-zero"],
)
def test_anything_but_a_regular_file_is_refused_unopened(tmp_path: Path, make: Any, kind: str) -> None:
    path = tmp_path / "catalog.yaml"
    make(path)
    error = _within(5, lambda: localfiles.read_text(path))
    assert isinstance(error, NotRegularFileError) and error.kind == kind
    assert str(error) == f"{path}: is {kind}, not a regular file"
    with pytest.raises(NotRegularFileError):
        localfiles.read_text_if_exists(path)  # there, so not "missing"


def test_a_fifo_swapped_in_after_the_stat_neither_blocks_nor_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race the second check is for: the path passed ``stat``, then became a FIFO."""
    fifo = tmp_path / "swapped.yaml"
    os.mkfifo(fifo)
    monkeypatch.setattr(localfiles, "regular_stat", lambda path, what="": os.stat(tmp_path))
    error = _within(5, lambda: localfiles.read_bytes(fifo))
    assert isinstance(error, NotRegularFileError) and error.kind == "a FIFO"


def test_an_oversized_file_is_refused_before_a_byte_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as handle:
        handle.truncate(100 * 1000 * 1000)  # sparse: 100 MB that cost no disk
    monkeypatch.setattr(localfiles, "read_at_most", lambda *a, **k: pytest.fail("read an oversized file"))
    with pytest.raises(FileTooLargeError) as caught:
        localfiles.read_bytes(path)
    assert str(caught.value) == (
        f"{path}: is 95.4 MiB, over the 16MiB limit for files "
        "(raise with --limit file-bytes=N or NBCATALOG_LIMIT_FILE_BYTES)"
    )
    assert caught.value.exit_code == 2


def test_the_cap_is_the_limit_in_force_and_its_edge(tmp_path: Path, small_limit: None) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(b"x" * 1000)
    assert len(localfiles.read_bytes(path)) == 1000
    path.write_bytes(b"x" * 1001)
    with pytest.raises(FileTooLargeError, match="over the 1000B limit"):
        localfiles.read_bytes(path)
    assert len(localfiles.read_bytes(path, cap=2000)) == 1001


def test_a_file_that_grows_after_the_check_is_read_no_further_than_the_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_limit: None
) -> None:
    path = tmp_path / "growing.yaml"
    path.write_bytes(b"x" * 5000)
    opened = localfiles.open_regular
    monkeypatch.setattr(localfiles, "open_regular", lambda p, what="": (opened(p, what=what)[0], 10))  # stat said 10
    with pytest.raises(FileTooLargeError, match="is more than 1000 bytes, over the 1000B limit"):
        localfiles.read_bytes(path)


def test_stdin_only_as_dash_and_only_where_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_limit: None
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"images: []\n")))
    assert localfiles.read_text("-", allow_stdin=True) == "images: []\n"
    with pytest.raises(MissingFileError):
        localfiles.read_text("-")  # a file named "-", not standard input
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"x" * 5000)))
    with pytest.raises(FileTooLargeError, match="standard input: is more than"):
        localfiles.read_text("-", allow_stdin=True)


def test_text_that_is_not_utf8_names_the_file_and_byte(tmp_path: Path) -> None:
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"a: \xff\n")
    with pytest.raises(BadInputError, match=r"cannot read the catalog: not UTF-8 \(byte 3") as caught:
        localfiles.read_text(path, what="the catalog")
    assert caught.value.where == str(path)


def test_writers_may_replace_regular_files_and_create_new_ones(tmp_path: Path) -> None:
    localfiles.refuse_non_regular(tmp_path / "new.yaml")
    (tmp_path / "old.yaml").write_text("x")
    localfiles.refuse_non_regular(tmp_path / "old.yaml")
    with pytest.raises(NotRegularFileError, match="is a character device"):
        localfiles.refuse_non_regular("/dev/null")
    with pytest.raises(NotRegularFileError, match="is a directory"):
        localfiles.refuse_non_regular(tmp_path)


def test_sizes_read_in_the_limits_units() -> None:
    assert localfiles.human_size(512) == "512 bytes"
    assert localfiles.human_size(16 * 1024 * 1024) == "16.0 MiB"
    assert localfiles.human_size(3 * 1024**3) == "3.0 GiB"
