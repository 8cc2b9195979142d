"""The OCI distribution API over one shared ``httpx.AsyncClient``.

Every manifest and blob is verified against its digest before anyone sees it; pagination follows
``Link`` exactly and never leaves the registry host; requests are retried per :mod:`.retry`; blob
streams that break mid-way resume with ``Range`` instead of starting over.

A host whose name does not resolve, or whose ``/v2/`` ping cannot connect, is an
:class:`~nbcatalog.errors.UnreachableHostError`: every request to it fails alike, so callers can
stop asking it. A name failure is not retried, and requests already waiting for that host when it
happened share it instead of each asking the resolver again.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import Counter
from collections.abc import AsyncGenerator, Callable, Mapping

import httpx

from nbcatalog import limits
from nbcatalog.errors import (
    AuthError,
    DigestMismatchError,
    NotFoundError,
    RegistryError,
    SizeLimitError,
    UnreachableHostError,
)
from nbcatalog.oci import MANIFEST_ACCEPT, Descriptor, ManifestBlob
from nbcatalog.refs import AnyRef, ImageRef, is_loopback_host
from nbcatalog.registry.auth import RegistryAuth
from nbcatalog.registry.pacing import HostPacer
from nbcatalog.registry.protocol import (
    DEADLINE,
    digest_of,
    hasher_for,
    media_type_of,
    next_link,
    read_capped,
    tags_from_page,
    too_slow,
)
from nbcatalog.registry.retry import RETRYABLE_STATUS, RetryPolicy

log = logging.getLogger("nbcatalog.http")

TAG_PAGE_SIZE = 1000

_NOT_FOUND_MESSAGES = {
    "MANIFEST_UNKNOWN": "manifest not found (no such tag or digest)",
    "NAME_UNKNOWN": "repository not found",
    "BLOB_UNKNOWN": "blob not found",
}


class DistributionClient:
    """A :class:`~nbcatalog.registry.base.RegistryBackend` speaking HTTP to registries."""

    def __init__(
        self,
        *,
        clients: Callable[[str], httpx.AsyncClient],
        is_insecure: Callable[[str], bool],
        auth: RegistryAuth,
        limiter: asyncio.Semaphore,
        pacer: Callable[[str], HostPacer] | None = None,
        policy: RetryPolicy | None = None,
        remembered: Mapping[str, str] | None = None,
    ) -> None:
        self._clients = clients
        self._is_insecure = is_insecure
        self._auth = auth
        #: Layer streams take turns here; every other request takes its host's pacer.
        self._limiter = limiter
        self._pacer = pacer or _fixed_pacers(8)
        self._policy = policy or RetryPolicy()
        self._bases: dict[str, tuple[str, httpx.AsyncClient]] = {}
        self._base_locks: dict[str, asyncio.Lock] = {}
        #: Base URLs earlier commands' pings found (:mod:`.hoststate`), used instead of a ping; a
        #: host on trial has not yet answered through its remembered base in this session.
        self._remembered = dict(remembered or {})
        self._on_trial: set[str] = set()
        #: Hosts pinged in this session (host -> base), and remembered bases found stale.
        self.pinged: dict[str, str] = {}
        self.forgotten: set[str] = set()
        #: Orders requests and name failures: a request asked before a host's name failed to resolve
        #: gets that failure; one asked after it asks again (a TUI session outlives a dead network).
        self._tickets = itertools.count()
        self._unresolved: dict[str, tuple[int, UnreachableHostError]] = {}
        self.stats: Counter[str] = Counter()
        #: Every attempt sent, against ``limits.requests``: a registry paging forever or a scan of a
        #: 20,000-tag parent ends in one error instead of tens of thousands of requests.
        self.requests_sent = 0
        self.rate_limits: dict[str, tuple[str, str]] = {}

    async def aclose(self) -> None:
        """The session owns the HTTP clients and closes them."""

    @property
    def auth(self) -> RegistryAuth:
        return self._auth

    # -- transport ---------------------------------------------------------------------------------

    def _ticket(self) -> int:
        """When a request was asked, before it waits for the limiter (see :meth:`_base`)."""
        return next(self._tickets)

    async def _base_for(self, ref: ImageRef, asked: int | None = None) -> tuple[str, httpx.AsyncClient]:
        """Like :meth:`_base`, with errors naming the reference the user gave, not only the host."""
        try:
            return await self._base(ref.api_host, asked)
        except RegistryError as exc:
            if exc.where != ref.api_host:
                raise
            host = "" if ref.api_host in str(ref) else f" ({ref.api_host})"
            if isinstance(exc, UnreachableHostError):
                raise exc.again(f"{exc.message}{host}", where=str(ref)) from exc
            raise type(exc)(f"{exc.message}{host}", where=str(ref)) from exc

    async def _base(self, host: str, asked: int | None = None) -> tuple[str, httpx.AsyncClient]:
        """Scheme and client for ``host``, found by a ``/v2/`` ping on first contact.

        Pings of one host take turns. When one finds the name does not resolve, the requests asked
        before that (``asked``: waiting for this turn or for the limiter) get the same failure: the
        same question to the same resolver a moment later has the same answer, and an audit listing
        thirty repositories on a dead host would otherwise look it up thirty times.
        """
        if host in self._bases:
            return self._bases[host]
        if asked is None:
            asked = self._ticket()
        lock = self._base_locks.setdefault(host, asyncio.Lock())
        async with lock:
            if host not in self._bases:
                failed = self._unresolved.get(host)
                if failed is not None and failed[0] > asked:
                    raise failed[1].again() from failed[1].__cause__
                remembered = self._remembered_base(host)
                if remembered is not None:
                    self._bases[host] = remembered
                    self._on_trial.add(host)
                    return remembered
                try:
                    self._bases[host] = await self._probe(host)
                    self.pinged[host] = self._bases[host][0]
                except UnreachableHostError as exc:
                    if not exc.name_resolved:
                        self._unresolved[host] = (self._ticket(), exc)
                    raise
        return self._bases[host]

    def _remembered_base(self, host: str) -> tuple[str, httpx.AsyncClient] | None:
        """An earlier ping's base for ``host`` (once), if today's rules still allow it: plain HTTP
        only for loopback and ``--insecure-registry`` hosts, TLS verified unless insecure."""
        base = self._remembered.pop(host, None)
        if base == f"http://{host}" and (is_loopback_host(host) or self._is_insecure(host)):
            return base, self._clients("plain")
        if base == f"https://{host}":
            return base, self._clients("insecure" if self._is_insecure(host) else "verified")
        return None

    def _forget(self, host: str, stale: tuple[str, httpx.AsyncClient]) -> None:
        """A remembered base that failed its trial: the next request to ``host`` pings."""
        self._on_trial.discard(host)
        self.forgotten.add(host)
        if self._bases.get(host) is stale:
            del self._bases[host]

    async def _send_via(
        self,
        ref: ImageRef,
        asked: int | None,
        build: Callable[[str], httpx.URL],
        method: str,
        headers: dict[str, str],
        where: str,
        pacer: HostPacer | None,
    ) -> tuple[httpx.Response, httpx.AsyncClient, httpx.URL]:
        """:meth:`_send` to ``build(base)`` of ``ref``'s host.

        A remembered base is on trial until a request through it gets a registry's answer (2xx,
        3xx or 401). A failure to connect (not retried there), a 400 (a TLS-only server asked over
        HTTP) or any other error status may mean the host changed since it was pinged: it is
        forgotten, pinged as on first contact, and asked again, so every answer and error is the
        one a fresh ping would have led to.
        """
        while True:
            chosen = await self._base_for(ref, asked)
            base, client = chosen
            url = build(base)
            host = ref.api_host
            if host not in self._on_trial:
                return await self._send(client, method, url, headers, where, pacer=pacer), client, url
            try:
                response = await self._send(client, method, url, headers, where, pacer=pacer, retry_transport=False)
            except RegistryError as exc:
                if not isinstance(exc.__cause__, httpx.TransportError):
                    raise
                log.debug("remembered %s for %s failed (%s): pinging", base, host, type(exc.__cause__).__name__)
                self._forget(host, chosen)
                continue
            if response.status_code >= 400 and response.status_code != 401:
                await response.aclose()
                self._forget(host, chosen)
                continue
            self._on_trial.discard(host)
            return response, client, url

    async def _probe(self, host: str) -> tuple[str, httpx.AsyncClient]:
        """Docker's rules: HTTPS, verified; loopback and ``--insecure-registry`` hosts may use HTTP.

        Loopback hosts are asked over HTTP first (no TLS set-up for the common local registry); a
        TLS-only server answers that with a 400, and HTTPS is used instead.
        """
        if is_loopback_host(host):
            plain = self._clients("plain")
            status, body = await self._ping(f"http://{host}", plain, host)
            if not (status == 400 and b"HTTPS" in body):
                return f"http://{host}", plain
            tls_client = self._clients("insecure" if self._is_insecure(host) else "verified")
            await self._checked_ping(f"https://{host}", tls_client, host)
            return f"https://{host}", tls_client
        insecure = self._is_insecure(host)
        tls_client = self._clients("insecure" if insecure else "verified")
        try:
            await self._checked_ping(f"https://{host}", tls_client, host)
            return f"https://{host}", tls_client
        except RegistryError as exc:
            cause = exc.__cause__
            unresolved = isinstance(exc, UnreachableHostError) and not exc.name_resolved  # HTTP needs the name too
            if not insecure or unresolved or not isinstance(cause, httpx.TransportError):
                raise
        plain = self._clients("plain")
        await self._checked_ping(f"http://{host}", plain, host)
        return f"http://{host}", plain

    async def _checked_ping(self, base: str, client: httpx.AsyncClient, host: str) -> None:
        status, _ = await self._ping(base, client, host)
        if status not in (200, 401):
            raise RegistryError(f"does not look like a registry (GET /v2/ answered {status})", where=host)

    async def _ping(self, base: str, client: httpx.AsyncClient, host: str) -> tuple[int, bytes]:
        """``GET /v2/``; a transport failure (after its retries) leaves the whole host unreachable."""
        try:
            response = await self._send(client, "GET", httpx.URL(f"{base}/v2/"), {}, host, attempts=2)
        except RegistryError as exc:
            cause = exc.__cause__
            if "CERTIFICATE_VERIFY_FAILED" in str(cause):
                raise RegistryError(
                    "TLS certificate verification failed (pass --ca-cert PATH, or "
                    f"--insecure-registry {host} to skip verification)",
                    where=host,
                ) from cause
            if isinstance(cause, httpx.TransportError) and not isinstance(exc, UnreachableHostError):
                reason = _one_line(f"cannot connect: {type(cause).__name__}: {cause}")
                raise UnreachableHostError(exc.message, host=host, reason=reason, where=exc.where) from cause
            raise
        body = await read_capped(response, limits.current().error_body_bytes, host, truncate=True)
        return response.status_code, body

    async def _send(
        self,
        client: httpx.AsyncClient,
        method: str,
        url: httpx.URL,
        headers: dict[str, str],
        where: str,
        *,
        attempts: int | None = None,
        pacer: HostPacer | None = None,
        retry_transport: bool = True,
    ) -> httpx.Response:
        """Send with retries; the caller reads (streams) the body and closes the response.

        Each attempt must be answered, body included, within ``limits.request_seconds``: the
        deadline is left on the response for :func:`read_capped`. One that is not is not retried
        (a registry that drips a byte a second would only do so again). Every attempt counts
        against ``limits.requests``. ``pacer`` hears each answer's status and time to its head.
        Without ``retry_transport`` a failure to connect or a reset is not retried.
        """
        total = attempts or self._policy.attempts
        loop = asyncio.get_running_loop()
        for attempt in range(total):
            self._count_request(where)
            started = time.monotonic()
            deadline = loop.time() + limits.current().request_seconds
            try:
                request = client.build_request(method, url, headers=headers)
                async with asyncio.timeout_at(deadline):
                    response = await client.send(request, stream=True, auth=self._auth)
            except AuthError:
                raise
            except TimeoutError:
                raise RegistryError(too_slow(f"answer to {method} {url.path}"), where=where) from None
            except httpx.TooManyRedirects as exc:
                raise RegistryError(
                    limits.current().reached("redirects", f"{method} {url.path} redirected too many times"),
                    where=where,
                ) from exc
            except httpx.TransportError as exc:
                log.debug("%s %s -> %s (attempt %d)", method, url, type(exc).__name__, attempt + 1)
                if not self._policy.retries(exc):
                    raise _unresolved(exc, url, where) from exc
                if attempt + 1 >= total or not retry_transport:
                    raise RegistryError(f"cannot reach the registry: {type(exc).__name__}: {exc}", where=where) from exc
                await asyncio.sleep(self._policy.backoff(attempt))
                continue
            except (httpx.HTTPError, httpx.InvalidURL) as exc:  # a redirect to a bad URL, an undecodable body
                raise RegistryError(
                    f"unusable answer: {type(exc).__name__}: {_one_line(str(exc))[:200]}", where=where
                ) from exc
            response.extensions[DEADLINE] = deadline
            elapsed = time.monotonic() - started
            if pacer is not None:
                pacer.observe(response.status_code, elapsed)
            log.debug("%s %s -> %d (%.0f ms)", method, url, response.status_code, elapsed * 1000)
            self._note_rate_limit(url.host, response)
            if response.status_code not in RETRYABLE_STATUS:
                return response
            await response.aclose()
            delay = self._policy.delay(attempt, response.headers.get("Retry-After"))
            if attempt + 1 >= total or delay is None:
                detail = "rate limited (HTTP 429)" if response.status_code == 429 else f"HTTP {response.status_code}"
                raise RegistryError(f"registry kept failing: {detail} after {attempt + 1} attempts", where=where)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    def _count_request(self, where: str) -> None:
        """One more request against ``limits.requests``: this work's budget (an app read), else the
        client's (one CLI command)."""
        cap = limits.current().requests
        budget = limits.request_budget()
        sent = self.requests_sent if budget is None else budget[0]
        if sent >= cap:
            raise RegistryError(
                limits.current().reached("requests", f"stopped after {cap} registry requests"), where=where
            )
        self.requests_sent += 1
        if budget is not None:
            budget[0] += 1

    def _note_rate_limit(self, host: str, response: httpx.Response) -> None:
        limit, remaining = (
            response.headers.get("RateLimit-Limit"),
            response.headers.get("RateLimit-Remaining"),
        )
        if limit and remaining:
            self.rate_limits[host] = (limit, remaining)
            log.debug("rate limit on %s: %s remaining of %s", host, remaining, limit)

    async def _request(
        self, ref: AnyRef, method: str, path: str, headers: dict[str, str] | None = None, asked: int | None = None
    ) -> httpx.Response:
        assert isinstance(ref, ImageRef)
        self.stats[f"{method} {path.split('/')[0]}"] += 1
        tail = f"/v2/{ref.repository}/{path}"
        response, _, _ = await self._send_via(
            ref, asked, lambda base: httpx.URL(base + tail), method, headers or {}, str(ref), self._pacer(ref.api_host)
        )
        if response.status_code >= 400:
            await self._raise_for_status(response, str(ref))
        return response

    async def _raise_for_status(self, response: httpx.Response, where: str) -> None:
        body = b""
        if response.request.method != "HEAD":
            try:
                body = await read_capped(response, limits.current().error_body_bytes, where, truncate=True)
            except (httpx.TransportError, RegistryError):
                body = b""
        await response.aclose()
        codes: list[str] = []
        message = ""
        try:
            import json

            errors = json.loads(body).get("errors") or []
            codes = [str(e.get("code", "")) for e in errors]
            message = "; ".join(str(e.get("message", "")) for e in errors if e.get("message"))[:500]
        except (ValueError, AttributeError, TypeError, RecursionError):
            pass
        status = response.status_code
        if status == 404:
            text = next((_NOT_FOUND_MESSAGES[c] for c in codes if c in _NOT_FOUND_MESSAGES), "not found (HTTP 404)")
            raise NotFoundError(text, where=where)
        if status == 401:
            raise AuthError("authentication required: the registry refused the request", where=where)
        if status == 403:
            raise AuthError("access denied (HTTP 403)", where=where)
        raise RegistryError(f"HTTP {status}" + (f": {message}" if message else ""), where=where)

    # -- the backend protocol ----------------------------------------------------------------------

    async def list_tags(self, repo: AnyRef) -> list[str]:
        assert isinstance(repo, ImageRef)
        asked = self._ticket()
        pacer = self._pacer(repo.api_host)
        async with pacer:
            base, client = await self._base_for(repo, asked)

            def first_page(base: str) -> httpx.URL:
                return httpx.URL(f"{base}/v2/{repo.repository}/tags/list").copy_merge_params({"n": str(TAG_PAGE_SIZE)})

            url: httpx.URL | None = first_page(base)
            seen: set[str] = set()
            tags: list[str] = []
            bounds = limits.current()
            while url is not None:
                if str(url) in seen:
                    raise RegistryError("tag list pagination loops back to a page already read", where=repo.name)
                if len(seen) >= bounds.tag_pages:
                    raise RegistryError(
                        bounds.reached("tag_pages", f"tag list still going after {len(seen)} pages"), where=repo.name
                    )
                seen.add(str(url))
                self.stats["GET tags"] += 1
                accept = {"Accept": "application/json"}
                if len(seen) == 1:  # the host's remembered base may be on trial: see _send_via
                    response, client, url = await self._send_via(
                        repo, asked, first_page, "GET", accept, repo.name, pacer
                    )
                    seen = {str(url)}
                else:
                    response = await self._send(client, "GET", url, accept, repo.name, pacer=pacer)
                if response.status_code >= 400:
                    await self._raise_for_status(response, repo.name)
                try:
                    raw = await read_capped(
                        response, bounds.tag_page_bytes, repo.name, limit="tag_page_bytes", what="tag list page"
                    )
                except httpx.TransportError as exc:
                    raise RegistryError(f"tag list broke off: {type(exc).__name__}", where=repo.name) from exc
                tags.extend(tags_from_page(raw, repo.name))
                if len(tags) > bounds.tags:
                    raise RegistryError(
                        bounds.reached("tags", f"tag list has more than {bounds.tags} tags"), where=repo.name
                    )
                next_url = next_link(response.headers.get("Link"), url)
                if next_url is not None and (next_url.host, next_url.port) != (url.host, url.port):
                    raise RegistryError(
                        f"tag list pagination points to another host ({next_url.host})", where=repo.name
                    )
                url = next_url
            return tags

    async def _get_small(
        self, ref: AnyRef, path: str, headers: dict[str, str], cap: int, asked: int, limit: str, what: str
    ) -> tuple[httpx.Response, bytes]:
        """GET a manifest or config whole; a body cut off mid-way (reset, truncation) is asked again."""
        for attempt in range(self._policy.attempts):
            response = await self._request(ref, "GET", path, headers, asked)
            try:
                return response, await read_capped(response, cap, str(ref), limit=limit, what=what)
            except httpx.TransportError as exc:
                await response.aclose()
                log.debug("%s broke off (%s); attempt %d", path, type(exc).__name__, attempt + 1)
                if attempt + 1 >= self._policy.attempts:
                    raise RegistryError(f"download kept failing: {type(exc).__name__}", where=str(ref)) from exc
                await asyncio.sleep(self._policy.backoff(attempt))
        raise AssertionError("unreachable")

    async def get_manifest(self, ref: AnyRef) -> ManifestBlob:
        assert isinstance(ref, ImageRef)
        asked = self._ticket()
        async with self._pacer(ref.api_host):
            response, raw = await self._get_small(
                ref,
                f"manifests/{ref.manifest_reference}",
                {"Accept": MANIFEST_ACCEPT},
                limits.current().manifest_bytes,
                asked,
                "manifest_bytes",
                "manifest",
            )
        served = response.headers.get("Docker-Content-Digest")
        expected = ref.digest or served
        computed = digest_of(raw, expected or "sha256:")
        if expected and computed != expected:
            raise DigestMismatchError(f"manifest content hashes to {computed}, expected {expected}", where=str(ref))
        if served and ref.digest and served != ref.digest:
            raise DigestMismatchError(f"registry reports digest {served}, asked for {ref.digest}", where=str(ref))
        return ManifestBlob(media_type_of(response), computed, raw)

    async def resolve_digest(self, ref: AnyRef) -> str:
        if ref.digest:
            return ref.digest
        assert isinstance(ref, ImageRef)
        asked = self._ticket()
        async with self._pacer(ref.api_host):
            response = await self._request(
                ref, "HEAD", f"manifests/{ref.manifest_reference}", {"Accept": MANIFEST_ACCEPT}, asked
            )
            await response.aclose()
        served = response.headers.get("Docker-Content-Digest")
        if served:
            return str(served)
        return (await self.get_manifest(ref)).digest

    async def get_blob(
        self, ref: AnyRef, descriptor: Descriptor, *, max_size: int, limit: str = "config_bytes"
    ) -> bytes:
        what = "config" if limit == "config_bytes" else f"blob {descriptor.digest}"
        if descriptor.size > max_size:
            raise SizeLimitError(
                limits.current().reached(limit, f"{what} of {descriptor.size} bytes is over the limit"), where=str(ref)
            )
        assert isinstance(ref, ImageRef)
        asked = self._ticket()
        async with self._pacer(ref.api_host):
            _, raw = await self._get_small(ref, f"blobs/{descriptor.digest}", {}, max_size, asked, limit, what)
        computed = digest_of(raw, descriptor.digest)
        if computed != descriptor.digest:
            raise DigestMismatchError(
                f"blob content hashes to {computed}, expected {descriptor.digest}", where=str(ref)
            )
        return raw

    async def stream_blob(self, ref: AnyRef, descriptor: Descriptor) -> AsyncGenerator[bytes, None]:
        hashing = _HashBehind(descriptor.digest)
        received = 0
        failures = 0
        asked = self._ticket()
        loop = asyncio.get_running_loop()
        async with self._limiter:
            # A timer across an async generator's yields would fire in the consumer's code, so the
            # layer's deadline is checked per chunk; a stalled body ends by ``stall-seconds`` first.
            deadline = loop.time() + limits.current().layer_seconds
            while True:
                headers = {"Range": f"bytes={received}-"} if received else {}
                response = await self._request(ref, "GET", f"blobs/{descriptor.digest}", headers, asked)
                skip = received if response.status_code == 200 else 0
                try:
                    async for chunk in response.aiter_bytes():  # as they arrive: no re-chunking delay
                        if skip:
                            dropped = min(skip, len(chunk))
                            chunk, skip = chunk[dropped:], skip - dropped
                            if not chunk:
                                continue
                        received += len(chunk)
                        if loop.time() > deadline:
                            raise RegistryError(
                                limits.current().reached(
                                    "layer_seconds", f"layer {descriptor.digest} not read after {received} bytes"
                                ),
                                where=str(ref),
                            )
                        if received > descriptor.size:  # size is required; a missing one (0) allows nothing
                            raise DigestMismatchError(
                                f"blob {descriptor.digest} is longer than its declared {descriptor.size} bytes",
                                where=str(ref),
                            )
                        await hashing.update(chunk)
                        yield chunk
                except httpx.TransportError as exc:
                    failures += 1
                    if failures >= self._policy.attempts:
                        raise RegistryError(
                            f"blob download kept failing: {type(exc).__name__}", where=str(ref)
                        ) from exc
                    log.debug("blob %s broke after %d bytes (%s); resuming", descriptor.digest, received, exc)
                    await asyncio.sleep(self._policy.backoff(failures))
                    continue
                finally:
                    await response.aclose()
                if descriptor.size and received < descriptor.size:
                    failures += 1
                    if failures >= self._policy.attempts:
                        raise RegistryError(
                            f"blob {descriptor.digest} ends after {received} of {descriptor.size} bytes",
                            where=str(ref),
                        )
                    continue
                break
        computed = await hashing.digest()
        if computed != descriptor.digest:
            raise DigestMismatchError(
                f"blob content hashes to {computed}, expected {descriptor.digest}", where=str(ref)
            )


#: Bytes of a blob hashed off the event loop at once: big enough that the hop costs nothing.
HASH_BATCH = 1 << 20
#: Bytes allowed to wait behind a batch still hashing before the stream waits for it (bounds memory).
HASH_BACKLOG = 4 * HASH_BATCH


class _HashBehind:
    """A blob's digest computed in the default executor, batch after batch in order, so the event loop
    only moves bytes: hashlib releases the GIL for buffers over 2 KiB, so hashing overlaps the
    download and the layer walk. A blob under one batch (a config, a small layer) never leaves the loop."""

    def __init__(self, digest: str) -> None:
        self._algorithm = digest.partition(":")[0]
        self._hasher = hasher_for(digest)
        self._waiting: list[bytes] = []
        self._waiting_bytes = 0
        self._running: asyncio.Future[None] | None = None

    def _hash(self, batch: list[bytes]) -> None:
        for chunk in batch:
            self._hasher.update(chunk)

    async def update(self, chunk: bytes) -> None:
        self._waiting.append(chunk)
        self._waiting_bytes += len(chunk)
        if self._running is not None and not self._running.done():
            if self._waiting_bytes < HASH_BACKLOG:
                return
            await self._running  # hashing fell behind: the stream waits rather than buffering more
        elif self._waiting_bytes < HASH_BATCH:
            return
        if self._running is not None:
            self._running.result()  # a batch that failed to hash fails the stream
        batch, self._waiting, self._waiting_bytes = self._waiting, [], 0
        self._running = asyncio.get_running_loop().run_in_executor(None, self._hash, batch)

    async def digest(self) -> str:
        """``algorithm:hex`` of everything given to :meth:`update`, once the last batch is hashed."""
        if self._running is not None:
            await self._running
        self._hash(self._waiting)  # under one batch: cheaper here than a hop
        self._waiting = []
        return f"{self._algorithm}:{self._hasher.hexdigest()}"


def _fixed_pacers(concurrency: int) -> Callable[[str], HostPacer]:
    """One pacer per host, each fixed at ``concurrency`` (a client built without a session)."""
    pacers: dict[str, HostPacer] = {}

    def pacer(host: str) -> HostPacer:
        if host not in pacers:
            pacers[host] = HostPacer(concurrency, concurrency)
        return pacers[host]

    return pacer


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _unresolved(exc: httpx.TransportError, url: httpx.URL, where: str) -> UnreachableHostError:
    """A name that did not resolve, as one line naming the host asked for (a redirect's target, say)
    or the proxy (its ``host:port``: proxy credentials never reach the text)."""
    try:
        asked = exc.request.url
    except RuntimeError:  # httpx attaches the request; without it, the URL this request started at
        asked = url
    host = asked.netloc.decode("ascii")
    detail = _one_line(str(exc))
    if isinstance(exc, httpx.ProxyError):
        return UnreachableHostError(
            f"cannot resolve the proxy's name: {detail}",
            host=host,
            reason=f"proxy name not resolved: {detail}",
            name_resolved=False,
            where=where,
        )
    return UnreachableHostError(
        f"cannot resolve the name {asked.host}: {detail}",
        host=host,
        reason=f"name not resolved: {detail}",
        name_resolved=False,
        where=where,
    )
