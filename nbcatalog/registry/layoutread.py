"""Synchronous reads of an OCI image layout on disk (``oci:PATH[:TAG]``): index.json, tags, verified blobs.

Tags are the ``org.opencontainers.image.ref.name`` annotations of ``index.json``; content is read
from ``blobs/<alg>/<hex>`` and verified like registry content, so a corrupted layout is caught too.

Kept apart from the async backend (:mod:`nbcatalog.registry.layout`, which runs these in worker
threads) so that a warm command on a layout (:mod:`nbcatalog.packages.warm`) reads it without
starting an event loop, or importing one.
"""

from __future__ import annotations

import hashlib
import json
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

#: Bytes read from a blob file at a time when streaming it.
CHUNK = 1024 * 1024


def layout_dir(ref: AnyRef) -> Path:
    assert isinstance(ref, OciLayoutRef)
    return Path(ref.path).expanduser()


def read_index(ref: AnyRef) -> dict[str, Any]:
    """``index.json``, read as any local file is: regular, within the ``file-bytes`` limit."""
    root = layout_dir(ref)
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


def blob_path(ref: AnyRef, digest: str) -> Path:
    algorithm, _, hex_part = validate_digest(digest, reference=str(ref)).partition(":")
    return layout_dir(ref) / "blobs" / algorithm / hex_part


def open_blob(ref: AnyRef, digest: str, refused: type[NbcatalogError], bound: str) -> tuple[BinaryIO, int]:
    """The blob's file, open, and its size. A blob that is no regular file (a link to ``/dev/zero``,
    a FIFO) is ``refused`` unread, naming it: nothing could hold it to ``bound``."""
    try:
        return localfiles.open_regular(blob_path(ref, digest), what=f"blob {digest}")
    except localfiles.MissingFileError as exc:
        raise NotFoundError(f"blob {digest} missing from the layout", where=str(ref)) from exc
    except localfiles.NotRegularFileError as exc:
        message = f"blob {digest} is {exc.kind}, not a regular file: refused unread, as it could be {bound}"
        raise refused(message, where=str(ref)) from None


def read_verified(ref: AnyRef, digest: str, cap: int, declared: int = 0, limit: str = "config_bytes") -> bytes:
    """A whole blob of at most ``cap`` bytes (``limit``'s value) and of its ``declared`` size, verified."""
    bounds = limits.current()
    over = bounds.reached(limit, f"blob {digest} is over the limit")
    handle, size = open_blob(ref, digest, SizeLimitError, f"over the limit ({bounds.hint(limit)})")
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


def entries(ref: AnyRef, index: dict[str, Any]) -> list[Descriptor]:
    """index.json's descriptors; one that is not a descriptor (a string, an object without a
    digest) makes the whole index unreadable, naming the entry: a layout is the user's own files."""
    found = []
    for number, entry in enumerate(index["manifests"]):
        try:
            found.append(Descriptor.from_json(entry))
        except RegistryError as exc:
            where = str(layout_dir(ref) / "index.json")
            raise BadInputError(f"manifests[{number}]: {exc.message}", where=where) from None
    return found


def list_tags(repo: AnyRef) -> list[str]:
    """The layout's tags, each once, in index.json's order."""
    tags: list[str] = []
    for entry in entries(repo, read_index(repo)):
        name = entry.annotations.get(REF_NAME_ANNOTATION)
        if name and name not in tags:
            tags.append(name)
    return tags


def descriptor_for(ref: AnyRef, index: dict[str, Any]) -> Descriptor:
    """The index entry ``ref`` names: by digest, by tag (``latest`` when none), or the only one."""
    found = entries(ref, index)
    if ref.digest:
        return next((d for d in found if d.digest == ref.digest), Descriptor(OCI_INDEX, ref.digest, 0))
    if ref.tag is None and len(found) == 1:
        return found[0]
    wanted = ref.tag or "latest"
    for descriptor in found:
        if descriptor.annotations.get(REF_NAME_ANNOTATION) == wanted:
            return descriptor
    raise NotFoundError(f"no image tagged {wanted!r} in the layout", where=str(ref))


def read_manifest(ref: AnyRef) -> ManifestBlob:
    """The manifest or index ``ref`` names, verified against its digest and declared size."""
    descriptor = descriptor_for(ref, read_index(ref))
    raw = read_verified(ref, descriptor.digest, limits.current().manifest_bytes, descriptor.size, "manifest_bytes")
    media_type = descriptor.media_type
    if not media_type or descriptor.size == 0:
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            body = None  # parsing the manifest says what is wrong with it, naming the image
        media_type = str(body.get("mediaType") or "") if isinstance(body, dict) else ""
    return ManifestBlob(media_type, descriptor.digest, raw)


def resolve_digest(ref: AnyRef) -> str:
    return ref.digest or descriptor_for(ref, read_index(ref)).digest
