"""Hand-crafted hostile layer blobs: decompression bombs and tars with entries no image builder writes."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import zstandard

from nbcatalog import ocibuild as b
from nbcatalog.oci import sha256_digest

ZERO_MIB = bytes(1 << 20)
BLOCK = 512


def member(
    name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, link: str = "", size: int | None = None
) -> bytes:
    """One raw tar member (GNU header + padded data); ``size`` may lie about the data that follows."""
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.size = len(data) if size is None else size
    info.mode = 0o644
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = 1, 5
    header = info.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape")
    pad = (-len(data)) % BLOCK
    return header + data + bytes(pad)


def end_of_archive() -> bytes:
    return bytes(2 * BLOCK)


def gzip_bomb(header: bytes, mib: int, tail: bytes = b"") -> bytes:
    """``header`` then ``mib`` MiB of zeros as concatenated gzip members (~1 KiB per MiB), then ``tail``."""
    return gzip_parts([(header, mib)], tail)


def gzip_parts(parts: list[tuple[bytes, int]], tail: bytes = b"", fill: bytes = ZERO_MIB) -> bytes:
    """Each (bytes, n) as the bytes then n copies of the 1 MiB ``fill``, as gzip members: a huge
    tar stream made without ever holding it (fills are 512-aligned, so members stay in step)."""
    filler = gzip.compress(fill, 9, mtime=0)
    out = [gzip.compress(head, 9, mtime=0) + filler * mib for head, mib in parts]
    return b"".join(out) + (gzip.compress(tail, mtime=0) if tail else b"")


def zstd_bomb(header: bytes, gib: int) -> bytes:
    """Like :func:`gzip_bomb` with zstd frames of 8 MiB of zeros (a few hundred bytes each: ~30000x)."""
    compressor = zstandard.ZstdCompressor(level=3)
    frame = compressor.compress(bytes(8 << 20))
    return compressor.compress(header) + frame * (gib * 128)


def layer_from_blob(blob: bytes, compression: b.Compression) -> b.Layer:
    """A registry layer around arbitrary bytes (the diff_id is not checked by readers)."""
    return b.Layer(blob, b.layer_media_type(compression), sha256_digest(blob), sha256_digest(blob), compression)


_CHILD = r"""
import json, sys, time
from nbcatalog.errors import NbcatalogError
from nbcatalog.packages import files
from nbcatalog.packages.layer import LayerReader

blob = open(sys.argv[1], "rb").read()
reader = LayerReader(files.size_cap, lambda p, d: files.parse_file(p, d)[1], keep_symlink=files.keep_symlink)
started = time.monotonic()

def status(field):
    # VmHWM is this process's own peak; ru_maxrss also counts the parent's memory at fork time
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])


before = status("VmRSS")
out = {"error": None, "packages": [], "warnings": []}
try:
    for start in range(0, len(blob), 1 << 20):
        reader.feed(blob[start:start + (1 << 20)])
    result = reader.finish()
    out["packages"] = sorted(p.name for parsed in result.files.values() for p in parsed.packages)
    out["warnings"] = result.warnings
    out["uncompressed"] = result.uncompressed_bytes
except NbcatalogError as exc:
    out["error"] = f"{type(exc).__name__}: {exc}"
out["seconds"] = time.monotonic() - started
out["rss_growth_mib"] = (status("VmHWM") - before) / 1024
print(json.dumps(out))
"""


def read_in_child(blob: bytes, tmp_path: Path) -> dict[str, Any]:
    """Walk ``blob`` in a fresh interpreter: its peak RSS is then the walk's alone."""
    path = tmp_path / "layer.blob"
    path.write_bytes(blob)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, timeout=120, env=env, check=True
    )
    doc: dict[str, Any] = json.loads(done.stdout)
    return doc


def tar_gz(*members: bytes) -> bytes:
    return gzip.compress(b"".join(members) + end_of_archive(), mtime=0)


def status_record(name: str, version: str = "1.0-1") -> bytes:
    return f"Package: {name}\nStatus: install ok installed\nVersion: {version}\nArchitecture: amd64\n\n".encode()
