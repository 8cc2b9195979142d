"""One layer read as a stream: decompress, scan the tar, keep (converted) wanted files.

The result is what the cache stores per layer digest and what overlays apply in order, so it
holds only small things: converted files, removals (whiteouts, symlinks over interesting paths,
files too big to read) and opaque directories.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from nbcatalog.packages.model import Package, ParsedFile

if TYPE_CHECKING:  # imported when a layer is read: a warm run only decodes cached results
    from nbcatalog.packages.tarscan import WantFn

T = TypeVar("T")


@dataclass(slots=True)
class LayerResult(Generic[T]):
    """Files a layer adds (converted), paths it removes from lower layers, its opaque dirs."""

    files: dict[str, T] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    opaque_dirs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    uncompressed_bytes: int = 0


class LayerReader(Generic[T]):
    """Push compressed chunks with ``feed``; ``finish`` validates the end and returns the result."""

    def __init__(
        self,
        wanted: WantFn,
        convert: Callable[[str, bytes], T],
        *,
        keep_symlink: Callable[[str], bool] | None = None,
        where: str = "layer",
    ) -> None:
        from nbcatalog.packages.decompress import Decompressor
        from nbcatalog.packages.tarscan import TarScanner

        self.result: LayerResult[T] = LayerResult()
        self._convert = convert
        # Pieces go straight from the decompressor to the scanner: memory stays bounded by a piece.
        self._decompressor = Decompressor(where, self._scan)
        self._scanner = TarScanner(wanted, self._sink, where=where, keep_symlink=keep_symlink)

    def _sink(self, path: str, data: bytes) -> None:
        self.result.files[path] = self._convert(path, data)

    def _scan(self, piece: bytes) -> None:
        self.result.uncompressed_bytes += len(piece)
        self._scanner.feed(piece)

    def feed(self, chunk: bytes) -> None:
        self._decompressor.feed(chunk)

    def finish(self) -> LayerResult[T]:
        self._decompressor.close()
        summary = self._scanner.close()
        result = self.result
        result.opaque_dirs = summary.opaque_dirs
        result.removed = [*summary.whiteouts, *summary.symlinks, *summary.oversized]
        result.warnings.extend(f"/{path}: too large to read, skipped" for path in summary.oversized)
        result.warnings.extend(
            f"/{path}: hard link to a file that was not read, skipped" for path in summary.dangling_hardlinks
        )
        return result


# -- cache encodings ------------------------------------------------------------------------------


def _encode_parsed(parsed: ParsedFile) -> dict[str, Any]:
    entry: dict[str, Any] = {"p": [p.to_row() for p in parsed.packages], "w": parsed.warnings}
    if parsed.content is not None:
        entry["c"] = parsed.content.decode("latin-1")
    return entry


def _decode_parsed(entry: dict[str, Any]) -> ParsedFile:
    content = entry.get("c")
    return ParsedFile(
        [Package.from_row(row) for row in entry["p"]],
        list(entry["w"]),
        content.encode("latin-1") if isinstance(content, str) else None,
    )


def encode_packages(result: LayerResult[ParsedFile]) -> bytes:
    doc: dict[str, Any] = {
        "files": {path: _encode_parsed(parsed) for path, parsed in result.files.items()},
        "removed": result.removed,
        "opaque": result.opaque_dirs,
        "warnings": result.warnings,
        "size": result.uncompressed_bytes,
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def decode_packages(raw: bytes) -> LayerResult[ParsedFile]:
    doc = json.loads(raw)
    files = {path: _decode_parsed(entry) for path, entry in doc["files"].items()}
    return LayerResult(files, doc["removed"], doc["opaque"], doc["warnings"], int(doc.get("size", 0)))


def encode_files(result: LayerResult[bytes]) -> bytes:
    doc = {
        "files": {path: data.decode("latin-1") for path, data in result.files.items()},
        "removed": result.removed,
        "opaque": result.opaque_dirs,
        "warnings": result.warnings,
        "size": result.uncompressed_bytes,
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def decode_files(raw: bytes) -> LayerResult[bytes]:
    doc = json.loads(raw)
    files = {path: text.encode("latin-1") for path, text in doc["files"].items()}
    return LayerResult(files, doc["removed"], doc["opaque"], doc["warnings"], int(doc.get("size", 0)))
