"""The protocol every backend speaks: the httpx distribution client, skopeo, and ``oci:`` layouts.

All answers are verified: a manifest's bytes hash to the digest it was asked for (or that the
registry reported), a blob's stream raises :class:`~nbcatalog.errors.DigestMismatchError` after its
last chunk when it does not match. Consumers commit results only when the stream ended normally.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Protocol

from nbcatalog.oci import Descriptor, ManifestBlob
from nbcatalog.refs import AnyRef


class RegistryBackend(Protocol):
    """Read-only access to one kind of image store."""

    async def list_tags(self, repo: AnyRef) -> list[str]:
        """Every tag of ``repo``, in the order the store gave them (pagination followed)."""
        ...

    async def get_manifest(self, ref: AnyRef) -> ManifestBlob:
        """The manifest or index ``ref`` names (by digest if pinned, else by tag), verified."""
        ...

    async def resolve_digest(self, ref: AnyRef) -> str:
        """The digest ``ref`` points at now (a HEAD where the store allows it)."""
        ...

    async def get_blob(self, ref: AnyRef, descriptor: Descriptor, *, max_size: int) -> bytes:
        """A small blob (a config) read whole, verified, refused past ``max_size`` bytes."""
        ...

    def stream_blob(self, ref: AnyRef, descriptor: Descriptor) -> AsyncGenerator[bytes, None]:
        """A blob's bytes in chunks; the digest is checked when the last chunk has been read."""
        ...

    async def aclose(self) -> None: ...
