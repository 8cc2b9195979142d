"""OCI image layouts on disk (``oci:PATH[:TAG]``), the format skopeo and umoci write.

Tags are the ``org.opencontainers.image.ref.name`` annotations of ``index.json``; content is read
from ``blobs/<alg>/<hex>`` and verified like registry content, so a corrupted layout is caught too.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any, BinaryIO

from nbcatalog import limits, localfiles
from nbcatalog.errors import (
    BadInputError,
    DigestMismatchError,
    NbcatalogError,
    NotFoundError,
    RegistryError,
    SizeLimitError,
)
from nbcatalog.oci import OCI_INDEX, REF_NAME_ANNOTATION, Descriptor, ManifestBlob
from nbcatalog.refs import AnyRef, OciLayoutRef, validate_digest

CHUNK = 1024 * 1024


def _layout_dir(ref: AnyRef) -> Path:
    assert isinstance(ref, OciLayoutRef)
    return Path(ref.path).expanduser()


def _read_index(ref: AnyRef) -> dict[str, Any]:
    """``index.json``, read as any local file is: regular, within the ``file-bytes`` limit."""
    root = _layout_dir(ref)
    if not (root / "oci-layout").is_file():
        raise BadInputError("not an OCI image layout (no oci-layout file)", where=str(root))
    index_path = root / "index.json"
    raw = localfiles.read_bytes(index_path, what="index.json")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise BadInputError(f"unreadable index.json: {exc}", where=str(index_path)) from None
    if not isinstance(data, dict) or not isinstance(data.get("manifests"), list):
        raise BadInputError("index.json has no manifests list", where=str(root))
    return data


def _blob_path(ref: AnyRef, digest: str) -> Path:
    algorithm, _, hex_part = validate_digest(digest, reference=str(ref)).partition(":")
    return _layout_dir(ref) / "blobs" / algorithm / hex_part


def _open_blob(ref: AnyRef, digest: str, refused: type[NbcatalogError], bound: str) -> tuple[BinaryIO, int]:
    """The blob's file, open, and its size. A blob that is no regular file (a link to ``/dev/zero``,
    a FIFO) is ``refused`` unread, naming it: nothing could hold it to ``bound``."""
    try:
        return localfiles.open_regular(_blob_path(ref, digest), what=f"blob {digest}")
    except localfiles.MissingFileError as exc:
        raise NotFoundError(f"blob {digest} missing from the layout", where=str(ref)) from exc
    except localfiles.NotRegularFileError as exc:
        message = f"blob {digest} is {exc.kind}, not a regular file: refused unread, as it could be {bound}"
        raise refused(message, where=str(ref)) from None


def _read_verified(ref: AnyRef, digest: str, cap: int, declared: int = 0, limit: str = "config_bytes") -> bytes:
    """A whole blob of at most ``cap`` bytes (``limit``'s value) and of its ``declared`` size, verified."""
    bounds = limits.current()
    over = bounds.reached(limit, f"blob {digest} is over the limit")
    handle, size = _open_blob(ref, digest, SizeLimitError, f"over the limit ({bounds.hint(limit)})")
    with handle:
        if size > cap:
            raise SizeLimitError(
                bounds.reached(limit, f"blob {digest} of {size} bytes is over the limit"), where=str(ref)
            )
        if declared and size > declared:
            raise DigestMismatchError(
                f"blob {digest} is {size} bytes, longer than its declared {declared} bytes", where=str(ref)
            )
        raw = localfiles.read_at_most(handle, cap + 1, expected=size)  # it may grow meanwhile
    if len(raw) > cap:
        raise SizeLimitError(over, where=str(ref))
    algorithm = digest.partition(":")[0]
    computed = f"{algorithm}:{hashlib.new(algorithm, raw).hexdigest()}"
    if computed != digest:
        raise DigestMismatchError(f"blob content hashes to {computed}, expected {digest}", where=str(ref))
    return raw


class OciLayoutBackend:
    """A :class:`~nbcatalog.registry.base.RegistryBackend` over a layout directory."""

    async def aclose(self) -> None:
        return None

    async def list_tags(self, repo: AnyRef) -> list[str]:
        index = await asyncio.to_thread(_read_index, repo)
        tags: list[str] = []
        for entry in self._entries(repo, index):
            name = entry.annotations.get(REF_NAME_ANNOTATION)
            if name and name not in tags:
                tags.append(name)
        return tags

    @staticmethod
    def _entries(ref: AnyRef, index: dict[str, Any]) -> list[Descriptor]:
        """index.json's descriptors; one that is not a descriptor (a string, an object without a
        digest) makes the whole index unreadable, naming the entry: a layout is the user's own files."""
        entries = []
        for number, entry in enumerate(index["manifests"]):
            try:
                entries.append(Descriptor.from_json(entry))
            except RegistryError as exc:
                where = str(_layout_dir(ref) / "index.json")
                raise BadInputError(f"manifests[{number}]: {exc.message}", where=where) from None
        return entries

    def _descriptor_for(self, ref: AnyRef, index: dict[str, Any]) -> Descriptor:
        entries = self._entries(ref, index)
        if ref.digest:
            return next((d for d in entries if d.digest == ref.digest), Descriptor(OCI_INDEX, ref.digest, 0))
        if ref.tag is None and len(entries) == 1:
            return entries[0]
        wanted = ref.tag or "latest"
        for descriptor in entries:
            if descriptor.annotations.get(REF_NAME_ANNOTATION) == wanted:
                return descriptor
        raise NotFoundError(f"no image tagged {wanted!r} in the layout", where=str(ref))

    async def get_manifest(self, ref: AnyRef) -> ManifestBlob:
        index = await asyncio.to_thread(_read_index, ref)
        descriptor = self._descriptor_for(ref, index)
        raw = await asyncio.to_thread(
            _read_verified, ref, descriptor.digest, limits.current().manifest_bytes, descriptor.size, "manifest_bytes"
        )
        media_type = descriptor.media_type
        if not media_type or descriptor.size == 0:
            try:
                body = json.loads(raw)
            except (ValueError, RecursionError):
                body = None  # parsing the manifest says what is wrong with it, naming the image
            media_type = str(body.get("mediaType") or "") if isinstance(body, dict) else ""
        return ManifestBlob(media_type, descriptor.digest, raw)

    async def resolve_digest(self, ref: AnyRef) -> str:
        if ref.digest:
            return ref.digest
        index = await asyncio.to_thread(_read_index, ref)
        return self._descriptor_for(ref, index).digest

    async def get_blob(self, ref: AnyRef, descriptor: Descriptor, *, max_size: int) -> bytes:
        return await asyncio.to_thread(_read_verified, ref, descriptor.digest, max_size, descriptor.size)

    async def stream_blob(self, ref: AnyRef, descriptor: Descriptor) -> AsyncGenerator[bytes, None]:
        algorithm = descriptor.digest.partition(":")[0]
        hasher = hashlib.new(algorithm)
        declared = f"longer than its declared {descriptor.size} bytes"
        handle, size = await asyncio.to_thread(_open_blob, ref, descriptor.digest, DigestMismatchError, declared)
        received = 0
        with handle:
            if size > descriptor.size:  # refused before a byte is read
                raise DigestMismatchError(f"blob {descriptor.digest} is {size} bytes, {declared}", where=str(ref))
            while chunk := await asyncio.to_thread(handle.read, CHUNK):
                received += len(chunk)
                if received > descriptor.size:  # size is required; a missing one (0) allows nothing
                    raise DigestMismatchError(
                        f"blob {descriptor.digest} is longer than its declared {descriptor.size} bytes", where=str(ref)
                    )
                hasher.update(chunk)
                yield chunk
        computed = f"{algorithm}:{hasher.hexdigest()}"
        if computed != descriptor.digest:
            raise DigestMismatchError(
                f"blob content hashes to {computed}, expected {descriptor.digest}", where=str(ref)
            )
