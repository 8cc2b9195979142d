"""The one way nbcatalog reads a user's local file: a regular file, of bounded size, never blocking.

A path on the command line or in a kustomization may name anything: ``/dev/zero`` (endless), a FIFO
(a read that waits forever for a writer), a directory, a 100 MB file. So every read here first
``stat``\\s the path and refuses anything but a regular file, opens it with ``O_NONBLOCK`` (a FIFO
swapped in after the check cannot block the open), checks the open descriptor again, refuses a file
over the cap before reading a byte, and then reads at most cap + 1 bytes (a file that grows in the
meantime is caught too). Standard input is read only where the caller allows it, and only as ``-``.
Each refusal is a :class:`~nbcatalog.errors.BadInputError` naming the file: one line, exit code 2.
"""

from __future__ import annotations

import os
import stat
import sys
from typing import BinaryIO

from nbcatalog import limits
from nbcatalog.errors import BadInputError

STDIN = "-"
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class NotRegularFileError(BadInputError):
    """The path is a FIFO, a device, a directory or a socket: nothing was read from it."""

    def __init__(self, kind: str, *, where: str) -> None:
        super().__init__(f"is {kind}, not a regular file", where=where)
        self.kind = kind


class MissingFileError(BadInputError):
    """There is nothing at the path (or a symlink that leads nowhere)."""


class FileTooLargeError(BadInputError):
    """The file is over its cap: refused before reading (``size`` is what it holds, at least)."""

    def __init__(self, message: str, *, size: int, where: str) -> None:
        super().__init__(message, where=where)
        self.size = size


def kind_of(mode: int) -> str:
    """``a FIFO``, ``a directory``...: what a non-regular file is, for an error message."""
    return next((kind for test, kind in _KINDS if test(mode)), "not a regular file")


def _os_error(exc: OSError, where: str, what: str) -> BadInputError:
    if isinstance(exc, FileNotFoundError):
        return MissingFileError("file not found", where=where)
    return BadInputError(f"cannot read {what}: {exc.strerror or exc}", where=where)


def regular_stat(path: str | os.PathLike[str], *, what: str = "the file") -> os.stat_result:
    """``os.stat(path)`` (links followed), refusing a missing or non-regular file by name."""
    where = os.fspath(path)
    try:
        info = os.stat(path)
    except OSError as exc:
        raise _os_error(exc, where, what) from None
    if not stat.S_ISREG(info.st_mode):
        raise NotRegularFileError(kind_of(info.st_mode), where=where)
    return info


def refuse_non_regular(path: str | os.PathLike[str]) -> None:
    """Refuse an existing path (links followed) that is not a regular file; a missing one is fine.

    For writers (``yamlio.atomic_write_text``): a target that is ``/dev/null``, a FIFO or a directory
    is never replaced by a rename. A path that cannot be looked at is left to the write to report.
    """
    try:
        info = os.stat(path)
    except OSError:
        return
    if not stat.S_ISREG(info.st_mode):
        raise NotRegularFileError(kind_of(info.st_mode), where=os.fspath(path))


def human_size(size: int) -> str:
    """``100.0 MiB``: a size for an error message, in the units the limits are written in."""
    for unit, scale in (("GiB", limits.GiB), ("MiB", limits.MiB), ("KiB", limits.KiB)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def _too_large(size: int, cap: int, limit: str, where: str, *, at_least: bool = False) -> FileTooLargeError:
    active = limits.current()
    shown = limits.format_value("bytes", cap) if getattr(active, limit, None) == cap else f"{cap}-byte"
    more = "more than " if at_least else ""
    message = f"is {more}{human_size(size)}, over the {shown} limit for files ({active.hint(limit)})"
    return FileTooLargeError(message, size=size, where=where)


def open_regular(path: str | os.PathLike[str], *, what: str = "the file") -> tuple[BinaryIO, int]:
    """A binary handle on ``path`` (the caller closes it) and its size, once both the path and the
    open file are regular.

    The open itself never blocks (``O_NONBLOCK``): a FIFO put there after the ``stat`` returns at
    once, and is then refused by the second check, on the descriptor.
    """
    regular_stat(path, what=what)
    where = os.fspath(path)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise _os_error(exc, where, what) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFileError(kind_of(info.st_mode), where=where)
        return os.fdopen(fd, "rb"), info.st_size
    except BaseException:
        os.close(fd)
        raise


def read_at_most(handle: BinaryIO, limit: int, *, expected: int = 0) -> bytes:
    """Up to ``limit`` bytes of ``handle``, in pieces sized by what ``stat`` said (``expected``):
    a 1 KiB file under a 1 GiB cap never asks for a 1 GiB buffer."""
    step = max(expected + 1, 1 << 16)
    parts: list[bytes] = []
    total = 0
    while total < limit:
        piece = handle.read(min(step, limit - total))
        if not piece:
            break
        parts.append(piece)
        total += len(piece)
    return b"".join(parts)


def read_bytes(
    path: str | os.PathLike[str],
    *,
    what: str = "the file",
    cap: int | None = None,
    limit: str = "file_bytes",
    allow_stdin: bool = False,
) -> bytes:
    """The whole of a regular file of at most ``cap`` bytes (default: the ``limit`` in force).

    ``-`` is standard input only when ``allow_stdin``; otherwise it is a file named ``-``.
    """
    bound = int(getattr(limits.current(), limit) if cap is None else cap)
    where = os.fspath(path)
    if allow_stdin and where == STDIN:
        data = sys.stdin.buffer.read(bound + 1)
        if len(data) > bound:
            raise _too_large(bound, bound, limit, "standard input", at_least=True)
        return data
    handle, size = open_regular(path, what=what)
    with handle:
        if size > bound:
            raise _too_large(size, bound, limit, where)
        try:
            data = read_at_most(handle, bound + 1, expected=size)
        except OSError as exc:
            raise _os_error(exc, where, what) from None
    if len(data) > bound:  # it grew since the check
        raise _too_large(bound, bound, limit, where, at_least=True)
    return data


def read_text(
    path: str | os.PathLike[str],
    *,
    what: str = "the file",
    cap: int | None = None,
    limit: str = "file_bytes",
    allow_stdin: bool = False,
    newline: str | None = None,
) -> str:
    """Like :func:`read_bytes`, decoded as UTF-8 (a decode error names the file and the byte).

    ``newline=None`` turns ``\\r\\n`` and ``\\r`` into ``\\n`` as ``open()`` does in text mode;
    ``newline=""`` keeps every byte (for rewriting a file in place).
    """
    raw = read_bytes(path, what=what, cap=cap, limit=limit, allow_stdin=allow_stdin)
    where = "standard input" if allow_stdin and os.fspath(path) == STDIN else os.fspath(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInputError(f"cannot read {what}: not UTF-8 (byte {exc.start}: {exc.reason})", where=where) from None
    if newline is None and "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def read_text_if_exists(
    path: str | os.PathLike[str], *, what: str = "the file", newline: str | None = None
) -> str | None:
    """:func:`read_text`, or None when nothing is there (a target about to be written, say)."""
    try:
        return read_text(path, what=what, newline=newline)
    except MissingFileError:
        return None
