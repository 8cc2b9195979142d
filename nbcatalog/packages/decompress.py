"""Push-style decompression of layer blobs: feed compressed chunks, get tar bytes back.

Push (not pull) so one walker serves an async HTTP stream and a file alike. The codec is sniffed
from the first bytes (registries mislabel layers); the fastest available gzip (python-isal) is used.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import IO, Any, Protocol, cast

from nbcatalog.errors import RegistryError, SizeLimitError

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: Output produced per call is bounded, so a small gzip bomb cannot inflate memory in one step.
MAX_OUTPUT_PER_STEP = 4 * 1024 * 1024
#: A layer may inflate to this much whatever its size, and beyond it to this many times the compressed
#: bytes read so far: real layers stay far below (text ~5x), while a bomb (gzip of zeros ~1000x, zstd
#: ~30000x) is stopped after ~1 GiB of work instead of filling memory or running for minutes.
INFLATE_FLOOR = 1024 * 1024 * 1024
MAX_INFLATION_RATIO = 100


class _Inflater(Protocol):
    @property
    def unconsumed_tail(self) -> bytes: ...
    @property
    def unused_data(self) -> bytes: ...
    @property
    def eof(self) -> bool: ...

    def decompress(self, data: bytes, max_length: int = ...) -> bytes: ...


#: What a gzip inflater raises for corrupt data; isal adds its own ``IsalError`` (not a zlib.error).
_GZIP_ERRORS: tuple[type[Exception], ...] = (zlib.error, OSError, ValueError)


def _gzip_inflater() -> _Inflater:
    global _GZIP_ERRORS
    try:
        from isal import isal_zlib

        inflater: _Inflater = isal_zlib.decompressobj(31)
        _GZIP_ERRORS = (zlib.error, OSError, ValueError, cast(type[Exception], isal_zlib.error))
    except ImportError:  # pragma: no cover - isal is a dependency, zlib the fallback
        inflater = zlib.decompressobj(31)
    return inflater


def gzip_backend() -> str:
    """Which gzip implementation is in use (reported by the benchmark)."""
    try:
        import isal  # noqa: F401
    except ImportError:  # pragma: no cover
        return "zlib"
    return "isal"


class Decompressor:
    """Turns compressed chunks into uncompressed chunks; ``codec`` is gzip, zstd or none.

    With a ``sink`` every piece (at most a few MiB) goes straight to it and ``feed`` returns nothing,
    so memory stays bounded however far the data inflates; without one the pieces are returned.
    """

    def __init__(self, where: str = "layer", sink: Callable[[bytes], None] | None = None) -> None:
        self.where = where
        self.codec: str | None = None
        self._pending = b""
        self._gzip: _Inflater | None = None
        self._zstd: Any = None
        self._sink = sink
        self._out: list[bytes] = []
        self.compressed_bytes = 0
        self.uncompressed_bytes = 0

    def feed(self, chunk: bytes) -> list[bytes]:
        self.compressed_bytes += len(chunk)
        if self.codec is None:
            self._pending += chunk
            if len(self._pending) < 4:
                return []
            chunk, self._pending = self._pending, b""
            self._choose(chunk)
        if self.codec == "none":
            self._emit(chunk)
        elif self.codec == "zstd":
            self._feed_zstd(chunk)
        else:
            self._feed_gzip(chunk)
        return self._take()

    def close(self) -> list[bytes]:
        """Flush; raise if the stream ended inside a compressed member."""
        if self.codec is None:
            if not self._pending:
                return []
            self.codec = "none"
            data, self._pending = self._pending, b""
            self._emit(data)
            return self._take()
        if self.codec == "gzip" and self._gzip is not None and not self._gzip.eof:
            raise RegistryError("compressed layer ends early (truncated gzip stream)", where=self.where)
        if self.codec == "zstd":
            self._zstd.flush()
        return self._take()

    def _take(self) -> list[bytes]:
        out, self._out = self._out, []
        return out

    def _emit(self, piece: bytes) -> None:
        self.uncompressed_bytes += len(piece)
        allowed = INFLATE_FLOOR + MAX_INFLATION_RATIO * self.compressed_bytes
        if self.codec != "none" and self.uncompressed_bytes > allowed:
            raise SizeLimitError(
                f"layer inflates past {self.uncompressed_bytes} bytes from {self.compressed_bytes} compressed "
                f"(over {MAX_INFLATION_RATIO}x): refusing a likely decompression bomb",
                where=self.where,
            )
        if self._sink is None:
            self._out.append(piece)
        else:
            self._sink(piece)

    def _choose(self, head: bytes) -> None:
        if head.startswith(GZIP_MAGIC):
            self.codec = "gzip"
            self._gzip = _gzip_inflater()
        elif head.startswith(ZSTD_MAGIC):
            import zstandard

            self.codec = "zstd"
            # A writer, not decompressobj(): its output arrives in bounded pieces (a zstd bomb
            # inflates ~30000x, so one decompress() call could return gigabytes).
            self._zstd = zstandard.ZstdDecompressor().stream_writer(
                cast(IO[bytes], _Emitter(self._emit)), write_return_read=True
            )
        else:
            self.codec = "none"

    def _feed_gzip(self, data: bytes) -> None:
        while data:
            inflater = self._gzip
            assert inflater is not None
            if inflater.eof:
                # Another gzip member follows (concatenated gzip is valid); padding zeros are not.
                if not data.strip(b"\0"):
                    return
                inflater = self._gzip = _gzip_inflater()
            try:
                piece = inflater.decompress(data, MAX_OUTPUT_PER_STEP)
            except _GZIP_ERRORS as exc:
                raise RegistryError(f"corrupt gzip layer: {exc}", where=self.where) from exc
            if piece:
                self._emit(piece)
            data = inflater.unconsumed_tail or (inflater.unused_data if inflater.eof else b"")

    def _feed_zstd(self, data: bytes) -> None:
        import zstandard

        try:
            self._zstd.write(data)
        except zstandard.ZstdError as exc:
            raise RegistryError(f"corrupt zstd layer: {exc}", where=self.where) from exc


class _Emitter:
    """The file-like target of zstandard's stream writer."""

    def __init__(self, emit: Callable[[bytes], None]) -> None:
        self._emit = emit

    def write(self, data: bytes) -> int:
        self._emit(bytes(data))
        return len(data)
