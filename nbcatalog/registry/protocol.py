"""Small pieces of the distribution protocol: digests, capped body reads, tag pages, ``Link`` headers.

Pure helpers (and one body reader) kept apart from the client so it stays about requests and retries.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx

from nbcatalog.errors import RegistryError, SizeLimitError


def hasher_for(digest: str) -> Any:
    algorithm = digest.partition(":")[0]
    if algorithm not in ("sha256", "sha512"):
        raise RegistryError(f"unsupported digest algorithm {algorithm!r}", where=digest)
    return hashlib.new(algorithm)


def digest_of(raw: bytes, like: str) -> str:
    algorithm = like.partition(":")[0] or "sha256"
    hasher = hasher_for(f"{algorithm}:")
    hasher.update(raw)
    return f"{algorithm}:{hasher.hexdigest()}"


def media_type_of(response: httpx.Response) -> str:
    return str(response.headers.get("Content-Type", "")).split(";")[0].strip()


def next_link(header: str | None, current: httpx.URL) -> httpx.URL | None:
    """The ``rel="next"`` target of a ``Link`` header, resolved against the current page."""
    if not header:
        return None
    for part in header.split(","):
        target, _, params = part.partition(";")
        if 'rel="next"' in params.replace(" ", "") or "rel=next" in params.replace(" ", ""):
            return current.join(target.strip().strip("<>"))
    return None


def tags_from_page(raw: bytes, where: str) -> list[str]:

    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise RegistryError(f"tag list is not JSON: {exc}", where=where) from exc
    tags = body.get("tags") if isinstance(body, dict) else None
    if tags is None:
        return []
    if not isinstance(tags, list):
        raise RegistryError("tag list has no 'tags' array", where=where)
    return [t for t in tags if isinstance(t, str)]


async def read_capped(response: httpx.Response, cap: int, where: str, *, truncate: bool = False) -> bytes:
    """Read a body, refusing (or, for error bodies, cutting) anything past ``cap`` bytes."""
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > cap and not truncate:
        await response.aclose()
        raise SizeLimitError(f"response of {declared} bytes exceeds the {cap}-byte cap", where=where)
    parts: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > cap:
            await response.aclose()
            if truncate:
                break
            raise SizeLimitError(f"response exceeds the {cap}-byte cap", where=where)
        parts.append(chunk)
    return b"".join(parts)
