"""Small pieces of the distribution protocol: digests, capped body reads, tag pages, ``Link`` headers.

Pure helpers (and one body reader) kept apart from the client so it stays about requests and retries.
"""

from __future__ import annotations

import asyncio
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
    except (ValueError, RecursionError) as exc:  # RecursionError: [[[[... nested past the parser's depth
        raise RegistryError(f"tag list is not JSON: {str(exc)[:200]}", where=where) from exc
    tags = body.get("tags") if isinstance(body, dict) else None
    if tags is None:
        return []
    if not isinstance(tags, list):
        raise RegistryError("tag list has no 'tags' array", where=where)
    return [t for t in tags if isinstance(t, str)]


#: Where :meth:`DistributionClient._send` leaves the loop time by which the whole exchange, body
#: included, must be over (``limits.request_seconds`` from the attempt's start).
DEADLINE = "nbcatalog.deadline"


async def read_capped(
    response: httpx.Response, cap: int, where: str, *, truncate: bool = False, limit: str | None = None, what: str = ""
) -> bytes:
    """Read a body, refusing (or, for error bodies, cutting) anything past ``cap`` bytes.

    ``limit`` names the :mod:`nbcatalog.limits` entry behind ``cap`` so the refusal says how to
    raise it; ``what`` names the body (``manifest``, ``token answer``). The read ends by the
    response's deadline (see :data:`DEADLINE`); whatever ends it early closes the response, so the
    connection's slot is never left taken.
    """
    label = what or "response"
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > cap and not truncate:
        await response.aclose()
        raise SizeLimitError(_over(f"{label} of {declared} bytes", cap, limit), where=where)
    parts: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout_at(response.extensions.get(DEADLINE)):
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > cap:
                    await response.aclose()
                    if truncate:
                        break
                    raise SizeLimitError(_over(f"{label} of more than {cap} bytes", cap, limit), where=where)
                parts.append(chunk)
    except TimeoutError:
        await response.aclose()
        raise RegistryError(too_slow(label, size), where=where) from None
    except BaseException:
        await response.aclose()
        raise
    return b"".join(parts)


def too_slow(label: str, received: int | None = None) -> str:
    """The one line for an exchange that outlived ``request-seconds`` (a registry sending 1 byte/s)."""
    from nbcatalog import limits

    got = f", {received} bytes in" if received else ""
    seconds = limits.name_value(limits.current(), "request_seconds")
    return limits.current().reached("request_seconds", f"{label} not complete after {seconds}{got}")


def _over(what: str, cap: int, limit: str | None) -> str:
    if limit is None:
        return f"{what} exceeds the {cap}-byte cap"
    from nbcatalog import limits

    return limits.current().reached(limit, f"{what} is over the limit")
