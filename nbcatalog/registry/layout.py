"""OCI image layouts on disk (``oci:PATH[:TAG]``), the format skopeo and umoci write.

Tags are the ``org.opencontainers.image.ref.name`` annotations of ``index.json``; content is read
from ``blobs/<alg>/<hex>`` and verified like registry content, so a corrupted layout is caught too.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from nbcatalog.errors import BadInputError, DigestMismatchError, NotFoundError, SizeLimitError
from nbcatalog.oci import MAX_MANIFEST_BYTES, OCI_INDEX, REF_NAME_ANNOTATION, Descriptor, ManifestBlob
from nbcatalog.refs import AnyRef, OciLayoutRef, validate_digest

CHUNK = 1024 * 1024


def _layout_dir(ref: AnyRef) -> Path:
    assert isinstance(ref, OciLayoutRef)
    return Path(ref.path).expanduser()


def _read_index(ref: AnyRef) -> dict[str, Any]:
    root = _layout_dir(ref)
    if not (root / "oci-layout").is_file():
        raise BadInputError("not an OCI image layout (no oci-layout file)", where=str(root))
    try:
        data = json.loads((root / "index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise BadInputError(f"unreadable index.json: {exc}", where=str(root)) from exc
    if not isinstance(data, dict) or not isinstance(data.get("manifests"), list):
        raise BadInputError("index.json has no manifests list", where=str(root))
    return data


def _blob_path(ref: AnyRef, digest: str) -> Path:
    algorithm, _, hex_part = validate_digest(digest, reference=str(ref)).partition(":")
    return _layout_dir(ref) / "blobs" / algorithm / hex_part


def _read_verified(ref: AnyRef, digest: str, cap: int) -> bytes:
    path = _blob_path(ref, digest)
    try:
        size = path.stat().st_size
        if size > cap:
            raise SizeLimitError(f"blob {digest} is {size} bytes (cap {cap})", where=str(ref))
        with path.open("rb") as handle:  # read at most cap + 1: a blob may be a link to /dev/zero
            raw = handle.read(cap + 1)
        if len(raw) > cap:
            raise SizeLimitError(f"blob {digest} is over the {cap}-byte cap", where=str(ref))
    except FileNotFoundError as exc:
        raise NotFoundError(f"blob {digest} missing from the layout", where=str(ref)) from exc
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
        for entry in index["manifests"]:
            name = (entry.get("annotations") or {}).get(REF_NAME_ANNOTATION)
            if name and name not in tags:
                tags.append(str(name))
        return tags

    def _descriptor_for(self, ref: AnyRef, index: dict[str, Any]) -> Descriptor:
        entries = [Descriptor.from_json(e) for e in index["manifests"]]
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
        raw = await asyncio.to_thread(_read_verified, ref, descriptor.digest, MAX_MANIFEST_BYTES)
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
        return await asyncio.to_thread(_read_verified, ref, descriptor.digest, max_size)

    async def stream_blob(self, ref: AnyRef, descriptor: Descriptor) -> AsyncIterator[bytes]:
        path = _blob_path(ref, descriptor.digest)
        algorithm = descriptor.digest.partition(":")[0]
        hasher = hashlib.new(algorithm)
        try:
            handle = path.open("rb")
        except FileNotFoundError as exc:
            raise NotFoundError(f"blob {descriptor.digest} missing from the layout", where=str(ref)) from exc
        received = 0
        with handle:
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
