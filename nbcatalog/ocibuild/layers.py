"""Tar layers from file entries: regular files, dirs, symlinks, hardlinks, whiteouts; gzip, zstd or none.

Deterministic (fixed mtimes, no user names), so the same entries always give the same digests.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from nbcatalog.oci import DOCKER_LAYER_GZIP, OCI_LAYER, OCI_LAYER_GZIP, OCI_LAYER_ZSTD, sha256_digest

#: 2024-01-01T00:00:00Z: every tar member gets it unless told otherwise.
FIXED_MTIME = 1704067200
DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar"

Compression = Literal["gzip", "zstd", "none"]
EntryKind = Literal["file", "dir", "symlink", "hardlink"]


def canonical_json(doc: Mapping[str, Any]) -> bytes:
    """Compact, key-sorted JSON: what gets hashed is stable across runs."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One tar member. ``target`` is the link target for symlinks and hardlinks."""

    path: str
    kind: EntryKind = "file"
    data: bytes = b""
    mode: int | None = None
    target: str = ""
    uid: int = 0
    gid: int = 0
    mtime: int = FIXED_MTIME


def file(path: str, data: bytes | str, mode: int = 0o644, uid: int = 0, gid: int = 0) -> FileEntry:
    raw = data.encode() if isinstance(data, str) else data
    return FileEntry(path, "file", raw, mode, uid=uid, gid=gid)


def directory(path: str, mode: int = 0o755, uid: int = 0, gid: int = 0) -> FileEntry:
    return FileEntry(path, "dir", mode=mode, uid=uid, gid=gid)


def symlink(path: str, target: str) -> FileEntry:
    return FileEntry(path, "symlink", mode=0o777, target=target)


def hardlink(path: str, target: str) -> FileEntry:
    """A hard link to ``target``, a path given as in the same layer (no leading ``/``)."""
    return FileEntry(path, "hardlink", mode=0o644, target=target)


def whiteout(path: str) -> FileEntry:
    """Deletes ``path`` (from a lower layer) by the AUFS convention: ``DIR/.wh.NAME``."""
    parent, _, name = path.strip("/").rpartition("/")
    return file(f"{parent}/.wh.{name}" if parent else f".wh.{name}", b"", mode=0o600)


def opaque(dir_path: str) -> FileEntry:
    """Hides everything lower layers put in ``dir_path``: ``DIR/.wh..wh..opq``."""
    return file(f"{dir_path.strip('/')}/.wh..wh..opq", b"", mode=0o600)


def _parents(entries: Sequence[FileEntry]) -> list[FileEntry]:
    """Directory entries for every parent not listed, so tools that extract strictly are happy."""
    listed = {entry.path.strip("/") for entry in entries if entry.kind == "dir"}
    missing: list[FileEntry] = []
    for entry in entries:
        parts = entry.path.strip("/").split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            parent = "/".join(parts[:depth])
            if parent not in listed:
                listed.add(parent)
                missing.append(directory(parent))
    return missing


def build_tar(entries: Iterable[FileEntry], *, member_prefix: str = "", add_parents: bool = True) -> bytes:
    """An uncompressed PAX tar of ``entries`` in the given order (missing parent dirs first).

    ``member_prefix="./"`` names members like debootstrap and ``tar -C root .`` do.
    """
    listed = list(entries)
    ordered = (_parents(listed) if add_parents else []) + listed
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for entry in ordered:
            name = member_prefix + entry.path.strip("/")
            info = tarfile.TarInfo(name + ("/" if entry.kind == "dir" else ""))
            info.mtime = entry.mtime
            info.uid, info.gid = entry.uid, entry.gid
            info.uname = info.gname = ""
            if entry.kind == "file":
                info.type = tarfile.REGTYPE
                info.size = len(entry.data)
                info.mode = 0o644 if entry.mode is None else entry.mode
                archive.addfile(info, io.BytesIO(entry.data))
                continue
            if entry.kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755 if entry.mode is None else entry.mode
            elif entry.kind == "symlink":
                info.type, info.mode, info.linkname = tarfile.SYMTYPE, 0o777, entry.target
            else:
                info.type = tarfile.LNKTYPE
                info.mode = 0o644 if entry.mode is None else entry.mode
                info.linkname = member_prefix + entry.target.strip("/")
            archive.addfile(info)
    return buffer.getvalue()


def host_file(source: str | Path, path: str | None = None, mode: int = 0o644) -> FileEntry:
    """A real file of this machine (e.g. ``/var/lib/dpkg/status``) placed at ``path`` in the layer."""
    return file(path or str(source).lstrip("/"), Path(source).read_bytes(), mode)


def tar_directory(root: str | Path, *, member_prefix: str = "./") -> bytes:
    """A tar of a whole directory tree (a debootstrap rootfs), sorted, owners and mtimes kept as found."""
    base = Path(root)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        archive.add(base, arcname=member_prefix.rstrip("/") or ".", recursive=False)
        for path in sorted(base.rglob("*")):
            archive.add(path, arcname=member_prefix + str(path.relative_to(base)), recursive=False)
    return buffer.getvalue()


def compress(data: bytes, compression: Compression) -> bytes:
    if compression == "gzip":
        return gzip.compress(data, compresslevel=6, mtime=0)
    if compression == "zstd":
        import zstandard

        return zstandard.ZstdCompressor(level=3).compress(data)
    return data


@dataclass(frozen=True, slots=True)
class Layer:
    """A layer blob and the facts a manifest and a config need about it."""

    blob: bytes
    media_type: str
    digest: str
    diff_id: str
    compression: Compression
    created_by: str = ""

    @property
    def size(self) -> int:
        return len(self.blob)

    def descriptor(self) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


def layer_media_type(compression: Compression, *, docker: bool = False) -> str:
    if docker and compression == "gzip":
        return DOCKER_LAYER_GZIP
    if docker and compression == "none":
        return DOCKER_LAYER_TAR
    return {"gzip": OCI_LAYER_GZIP, "zstd": OCI_LAYER_ZSTD, "none": OCI_LAYER}[compression]


def build_layer(
    entries: Iterable[FileEntry],
    compression: Compression = "gzip",
    *,
    created_by: str = "",
    member_prefix: str = "",
    docker: bool = False,
    add_parents: bool = True,
) -> Layer:
    tar = build_tar(entries, member_prefix=member_prefix, add_parents=add_parents)
    return layer_from_tar(tar, compression, created_by=created_by, docker=docker)


def layer_from_tar(
    tar: bytes, compression: Compression = "gzip", *, created_by: str = "", docker: bool = False
) -> Layer:
    """A layer from tar bytes made elsewhere (a debootstrap rootfs, a hand-crafted odd archive)."""
    blob = compress(tar, compression)
    return Layer(
        blob=blob,
        media_type=layer_media_type(compression, docker=docker),
        digest=sha256_digest(blob),
        diff_id=sha256_digest(tar),
        compression=compression,
        created_by=created_by or f"COPY layer-{sha256_digest(tar)[7:19]} / # buildkit",
    )
