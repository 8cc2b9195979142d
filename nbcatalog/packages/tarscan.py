"""A push-style tar header scanner that keeps only the members asked for.

``tarfile`` costs ~42 µs per member and reads every member's data into its buffers; this scanner
parses the 512-byte headers itself (ustar, GNU ``L``/``K`` long names, pax ``path``/``linkpath``/
``size``), hops over unwanted data without copying it, and hands wanted files to a sink. It also
records what overlays need: whiteouts (``.wh.NAME``), opaque directories (``.wh..wh..opq``) and
symlinks at interesting paths; a hard link to a captured file yields that file's bytes again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from nbcatalog.errors import RegistryError

BLOCK = 512
_ZERO_BLOCK = bytes(BLOCK)
WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
#: Captured files kept for later hard links, and bytes delivered again through them: at most this much per layer.
HARDLINK_BUDGET = 32 * 1024 * 1024
#: Pax records and GNU long names past this are hostile (real ones are bytes to kilobytes): skipped unread.
MAX_META_BYTES = 1024 * 1024

#: path -> size cap in bytes (0: not wanted). Paths are normalised: no ``./`` or ``/`` prefix.
WantFn = Callable[[str], int]
Sink = Callable[[str, bytes], None]

_REGULAR = (b"0", b"\0", b"7", b"")
#: Type flags ``_headers`` passes over itself: regular files (``0``, NUL, ``7``) and directories (``5``).
_DIRECTORY, _LONGNAME = ord("5"), ord("L")
_FAST_KINDS = frozenset({ord("0"), 0, ord("7"), _DIRECTORY})
_META_PAX, _META_LONGNAME, _META_LONGLINK = "pax", "longname", "longlink"


def normalise_member_name(name: str) -> str:
    """``./usr/lib/`` and ``/usr/lib`` are both ``usr/lib``."""
    while name.startswith("./"):
        name = name[2:]
    name = name.strip("/")
    return "" if name == "." else name


@dataclass(slots=True)
class TarSummary:
    """What a layer's tar said besides the captured files."""

    whiteouts: list[str] = field(default_factory=list)
    opaque_dirs: list[str] = field(default_factory=list)
    symlinks: dict[str, str] = field(default_factory=dict)
    oversized: list[str] = field(default_factory=list)
    dangling_hardlinks: list[str] = field(default_factory=list)
    members: int = 0


class TarScanner:
    """Feed uncompressed tar bytes in any chunking; ``close()`` checks the archive was complete."""

    def __init__(
        self,
        wanted: WantFn,
        sink: Sink,
        *,
        where: str = "layer",
        keep_symlink: Callable[[str], bool] | None = None,
    ) -> None:
        self.wanted = wanted
        self.sink = sink
        self.where = where
        self.keep_symlink = keep_symlink or (lambda path: wanted(path) > 0)
        self.summary = TarSummary()
        self._header_buf = bytearray()
        self._skip = 0
        self._collect: bytearray | None = None
        self._collect_left = 0
        self._collect_kind = ""  # a path to sink, or one of the _META kinds
        self._after_collect_skip = 0
        self._pax: dict[str, str] = {}
        self._long_name: str | None = None
        self._long_link: str | None = None
        self._kept: dict[str, bytes] = {}
        self._kept_bytes = 0
        self._relinked_bytes = 0
        self._ended = False
        self._zero_blocks = 0
        self.offset = 0

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        pos, end = 0, len(data)
        self.offset += end
        while pos < end:
            if self._zero_blocks >= 2:
                return  # past the end-of-archive marker: padding (or junk some tools append)
            if self._skip:
                step = min(self._skip, end - pos)
                self._skip -= step
                pos += step
            elif self._collect is not None:
                step = min(self._collect_left, end - pos)
                self._collect += view[pos : pos + step]
                self._collect_left -= step
                pos += step
                if not self._collect_left:
                    self._finish_collect()
            elif self._header_buf or end - pos < BLOCK:
                step = min(BLOCK - len(self._header_buf), end - pos)
                self._header_buf += view[pos : pos + step]
                pos += step
                if len(self._header_buf) == BLOCK:
                    block = bytes(self._header_buf)
                    self._header_buf.clear()
                    self._header(block)
            else:
                pos = self._headers(data, pos, end)

    def _headers(self, data: bytes, pos: int, end: int) -> int:
        """Whole headers at ``pos``: the common ones (a plain file nobody wants, a directory, either
        after a GNU long name) are passed over in this loop without a call or a copy, which is most of
        a layer; any other goes through ``_header``. Returns where it stopped, having set ``_skip``
        for a body that runs past ``end``."""
        if self._pax or self._long_name is not None or self._long_link is not None:
            self._header(data[pos : pos + BLOCK])  # a pax or GNU long-name record applies to this one
            return pos + BLOCK
        wanted, members = self.wanted, 0
        try:
            while end - pos >= BLOCK:
                size = _plain_size(data, pos)
                if size is None:
                    break
                kind = data[pos + 156]
                long_name = None
                if kind == _LONGNAME:
                    after = pos + BLOCK + ((size + BLOCK - 1) & ~(BLOCK - 1))
                    if size > MAX_META_BYTES or end - after < BLOCK:
                        break
                    long_name = _cstr(data[pos + BLOCK : pos + BLOCK + size])
                    pos = after
                    size = _plain_size(data, pos)
                    kind = data[pos + 156]
                if size is None or kind not in _FAST_KINDS:
                    self._long_name = long_name
                    break
                if kind != _DIRECTORY:
                    name = long_name or data[pos : pos + 100].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
                    if name[:1] in "./" or name[-1:] == "/":
                        name = normalise_member_name(name)
                    if WHITEOUT_PREFIX in name or wanted(name):
                        self._long_name = long_name
                        break
                members += 1
                self._zero_blocks = 0
                self._ended = False
                pos += BLOCK + ((size + BLOCK - 1) & ~(BLOCK - 1))
            else:
                if pos > end:  # the last body runs into the next chunk
                    self._skip, pos = pos - end, end
                return pos
        finally:
            self.summary.members += members
        self._header(data[pos : pos + BLOCK])
        return pos + BLOCK

    def close(self) -> TarSummary:
        mid_member = self._skip or self._collect is not None or self._header_buf.strip(b"\0")
        if mid_member and not self._ended:
            raise RegistryError("layer tar ends in the middle of a member (truncated)", where=self.where)
        return self.summary

    # -- headers -----------------------------------------------------------------------------------

    def _header(self, block: bytes) -> None:
        if block == _ZERO_BLOCK:
            self._zero_blocks += 1
            if self.summary.members:
                self._ended = True
            return
        self._zero_blocks = 0
        self._ended = False
        # The checksum costs two 512-byte sums per member; a ustar/GNU magic is the cheap check that
        # the stream is still in step, and only headers without one (old v7 tars) pay for the sum.
        if block[257:262] != b"ustar" and _octal(block[148:156]) != sum(block[:148]) + 256 + sum(block[156:]):
            raise RegistryError(f"corrupt tar header near byte {self.offset} (bad checksum)", where=self.where)
        size = _size(block[124:136])
        if size is None:
            raise RegistryError(f"corrupt tar header near byte {self.offset} (bad size)", where=self.where)
        kind = block[156:157]
        if kind in (b"x", b"L", b"K"):
            if size > MAX_META_BYTES:
                self._skip = (size + BLOCK - 1) & ~(BLOCK - 1)
                return
            meta = {b"x": _META_PAX, b"L": _META_LONGNAME, b"K": _META_LONGLINK}[kind]
            self._start_collect(meta, size)
            return
        pax, self._pax = self._pax, {}
        if "size" in pax and pax["size"].isdigit():
            size = int(pax["size"])
        name = pax.get("path") or self._long_name or _header_name(block)
        long_link, self._long_name, self._long_link = self._long_link, None, None
        self.summary.members += 1
        path = normalise_member_name(name)
        padded = (size + BLOCK - 1) & ~(BLOCK - 1)
        if kind in _REGULAR:
            self._regular(path, size, padded)
            return
        self._skip = padded
        if kind not in (b"1", b"2"):
            return
        link = pax.get("linkpath") or long_link or _cstr(block[157:257])
        if kind == b"1":
            self._hardlink(path, normalise_member_name(link))
        elif self.keep_symlink(path):
            self.summary.symlinks[path] = link

    def _regular(self, path: str, size: int, padded: int) -> None:
        slash = path.rfind("/")
        base = path[slash + 1 :]
        if base.startswith(WHITEOUT_PREFIX):
            parent = path[: slash + 1] if slash >= 0 else ""
            if base == OPAQUE_MARKER:
                self.summary.opaque_dirs.append(parent.rstrip("/"))
            else:
                self.summary.whiteouts.append(parent + base[len(WHITEOUT_PREFIX) :])
            self._skip = padded
            return
        cap = self.wanted(path)
        if not cap:
            self._skip = padded
            return
        if size > cap:
            self.summary.oversized.append(path)
            self._skip = padded
            return
        self._start_collect(path, size)

    def _hardlink(self, path: str, target: str) -> None:
        if not self.wanted(path):
            return
        data = self._kept.get(target)
        if data is None:
            self.summary.dangling_hardlinks.append(path)
        elif self._relinked_bytes + len(data) > HARDLINK_BUDGET:
            # thousands of links to one big file would each be parsed again: a few KiB of tar, minutes of CPU
            self.summary.oversized.append(path)
        else:
            self._relinked_bytes += len(data)
            self._deliver(path, data)

    def _start_collect(self, kind: str, size: int) -> None:
        self._collect_kind = kind
        self._after_collect_skip = ((size + BLOCK - 1) & ~(BLOCK - 1)) - size
        self._collect = bytearray()
        self._collect_left = size
        if not size:
            self._finish_collect()

    def _finish_collect(self) -> None:
        assert self._collect is not None
        data, kind = bytes(self._collect), self._collect_kind
        self._collect = None
        self._skip = self._after_collect_skip
        if kind == _META_PAX:
            self._pax = _parse_pax(data)
        elif kind == _META_LONGNAME:
            self._long_name = _cstr(data)
        elif kind == _META_LONGLINK:
            self._long_link = _cstr(data)
        else:
            self._deliver(kind, data)

    def _deliver(self, path: str, data: bytes) -> None:
        if self._kept_bytes + len(data) <= HARDLINK_BUDGET:
            self._kept[path] = data
            self._kept_bytes += len(data)
        self.sink(path, data)


def _plain_size(data: bytes, pos: int) -> int | None:
    """The size in the header at ``pos`` if it is a plain one ``TarScanner._headers`` may take: ustar or
    GNU magic, 11 octal size digits ended by NUL or space, no POSIX name prefix; else None."""
    if (
        not data.startswith(b"ustar", pos + 257)
        or data[pos + 135] not in (0, 32)
        or (data[pos + 262] == 0 and data[pos + 345] != 0)
    ):
        return None
    try:
        size = int(data[pos + 124 : pos + 135], 8)
    except ValueError:  # base-256 or garbage: _header decides
        return None
    return size if size >= 0 else None


def _cstr(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _header_name(block: bytes) -> str:
    name = _cstr(block[:100])
    if block[257:263] == b"ustar\0":  # POSIX ustar: a prefix field (GNU uses those bytes otherwise)
        prefix = _cstr(block[345:500])
        if prefix:
            return f"{prefix}/{name}"
    return name


def _octal(field: bytes) -> int | None:
    text = field.split(b"\0", 1)[0].strip()
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        return None


def _size(field: bytes) -> int | None:
    if field[0] & 0x80:  # GNU base-256 for members >= 8 GiB
        return int.from_bytes(field[1:], "big")
    return _octal(field)


def _parse_pax(data: bytes) -> dict[str, str]:
    """Pax records are ``LEN key=value\\n`` with LEN counting the whole record."""
    out: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(data[pos:space])
        except ValueError:
            break
        if length <= 0:
            break
        record = data[space + 1 : pos + length - 1]
        key, _, value = record.partition(b"=")
        out[key.decode("utf-8", "replace")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return out
