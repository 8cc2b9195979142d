"""OCI image layouts on disk (``oci:PATH[:TAG]``) as a registry backend: the format skopeo and umoci write.

The reads themselves are :mod:`nbcatalog.registry.layoutread`'s; this backend runs them in worker
threads, so a slow disk or a network mount never stalls the event loop other reads share.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncGenerator

from nbcatalog.errors import DigestMismatchError
from nbcatalog.oci import Descriptor, ManifestBlob
from nbcatalog.refs import AnyRef
from nbcatalog.registry import layoutread


class OciLayoutBackend:
    """A :class:`~nbcatalog.registry.base.RegistryBackend` over a layout directory."""

    async def aclose(self) -> None:
        return None

    async def list_tags(self, repo: AnyRef) -> list[str]:
        return await asyncio.to_thread(layoutread.list_tags, repo)

    async def get_manifest(self, ref: AnyRef) -> ManifestBlob:
        return await asyncio.to_thread(layoutread.read_manifest, ref)

    async def resolve_digest(self, ref: AnyRef) -> str:
        if ref.digest:
            return ref.digest
        return await asyncio.to_thread(layoutread.resolve_digest, ref)

    async def get_blob(self, ref: AnyRef, descriptor: Descriptor, *, max_size: int) -> bytes:
        return await asyncio.to_thread(layoutread.read_verified, ref, descriptor.digest, max_size, descriptor.size)

    async def stream_blob(self, ref: AnyRef, descriptor: Descriptor) -> AsyncGenerator[bytes, None]:
        algorithm = descriptor.digest.partition(":")[0]
        hasher = hashlib.new(algorithm)
        declared = f"longer than its declared {descriptor.size} bytes"
        handle, size = await asyncio.to_thread(
            layoutread.open_blob, ref, descriptor.digest, DigestMismatchError, declared
        )
        received = 0
        with handle:
            if size > descriptor.size:  # refused before a byte is read
                raise DigestMismatchError(f"blob {descriptor.digest} is {size} bytes, {declared}", where=str(ref))
            while chunk := await asyncio.to_thread(handle.read, layoutread.CHUNK):
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
