"""httpx's transport for registries: HTTP/1.1 with h11 over plain asyncio streams, connections kept alive.

httpx keeps everything above the wire (auth flow, redirects, URLs, headers, decoding, exceptions);
this replaces httpcore's pool underneath. Measured on loopback, a registry request is CPU-bound in
the HTTP stack, and httpcore's anyio locks, events and cancel scopes plus its pool's per-request
scan of every connection were ~30% of it; importing anyio's backend alone cost every command ~15 ms.
httpx mounts environment proxies only on a client without a transport of its own, so this one
routes by them itself (``proxyenv``): CONNECT tunnels for HTTPS, absolute-form requests for HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import AsyncIterator
from typing import Any

import h11
import httpx

from nbcatalog.registry.proxyenv import ProxyEnv, ProxyURL
from nbcatalog.registry.proxytunnel import naming, refused, tunnel
from nbcatalog.registry.wire import CLOSE_TIMEOUT_S, MAX_HEAD_BYTES, READ_LIMIT, READ_SIZE, Origin, mapped

#: What a connection may be reused for: direct or tunnelled connections serve one origin (a tunnel
#: is TLS to that registry), forwarded plain HTTP (origin None) any origin through that proxy.
PoolKey = tuple[Origin | None, ProxyURL | None]


class _StallGuard:
    """Fails a read that waits ``seconds`` for data, without a timer per read.

    A body arrives in thousands of reads; an ``asyncio.timeout`` around each scheduled and
    cancelled a timer every time. Here each read enters a timer-less ``asyncio.Timeout`` and one
    watchdog, re-armed at most once per ``seconds``, expires the read still pending at its due time
    (asyncio then raises TimeoutError as it would for its own timer).
    """

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._seconds = seconds
        self._loop = asyncio.get_running_loop()
        self._pending: asyncio.Timeout | None = None
        self._started = 0.0
        self._watchdog: asyncio.TimerHandle | None = None

    async def read(self, reader: asyncio.StreamReader, size: int) -> bytes:
        if self._seconds is None:
            return await reader.read(size)
        async with asyncio.timeout(None) as pending:
            self._pending, self._started = pending, self._loop.time()
            if self._watchdog is None:
                self._watchdog = self._loop.call_at(self._started + self._seconds, self._check)
            try:
                return await reader.read(size)
            finally:
                self._pending = None

    def _check(self) -> None:
        self._watchdog = None
        if self._pending is None or self._seconds is None:
            return  # between reads: the next read arms a new watchdog
        due = self._started + self._seconds
        if self._loop.time() >= due:
            self._pending.reschedule(self._loop.time())
        else:
            self._watchdog = self._loop.call_at(due, self._check)

    def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None


class _Connection:
    """One keep-alive connection: an h11 state machine over an asyncio stream pair.

    Through a forwarding proxy (``forward``) requests go in absolute form with its credentials.
    """

    def __init__(
        self,
        key: PoolKey,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        forward: ProxyURL | None = None,
    ) -> None:
        self.key = key
        self.forward = forward
        self._reader = reader
        self._writer = writer
        self._h11 = self._new_h11()
        #: A body read past h11 (see ``fixed_length``): None while none is, else whether it ended
        #: so that the connection can carry the next request.
        self._bypassed: bool | None = None
        self._guard: _StallGuard | None = None
        self.idle_since = time.monotonic()

    @staticmethod
    def _new_h11() -> h11.Connection:
        return h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD_BYTES)

    def usable(self, expiry: float | None) -> bool:
        """Idle, not closed or half-closed by the server, not older than the keep-alive expiry."""
        if self._writer.is_closing() or self._reader.at_eof() or self._reader.exception() is not None:
            return False
        return expiry is None or time.monotonic() - self.idle_since < expiry

    async def send(self, request: httpx.Request, write_timeout: float | None) -> None:
        """Head and body in one write; a server that hangs up early may still have answered."""
        assert isinstance(request.stream, httpx.AsyncByteStream)
        with mapped(httpx.WriteTimeout, httpx.WriteError):  # h11 refuses, say, a header with a newline
            target, headers = request.url.raw_path, request.headers.raw
            if self.forward is not None:
                target = request.url.raw_scheme + b"://" + request.url.netloc + target
                if self.forward.authorization:  # on the wire only: never in request.headers, never logged
                    headers = [*headers, (b"Proxy-Authorization", self.forward.authorization.encode("ascii"))]
            head = h11.Request(method=request.method, target=target, headers=headers)
            parts = [self._h11.send(head) or b""]
            async for chunk in request.stream:
                parts.append(self._h11.send(h11.Data(data=chunk)) or b"")
            parts.append(self._h11.send(h11.EndOfMessage()) or b"")
        try:
            with mapped(httpx.WriteTimeout, httpx.WriteError):
                self._writer.write(b"".join(parts))
                if self._writer.transport.get_write_buffer_size():  # a small request is sent already
                    async with asyncio.timeout(write_timeout):
                        await self._writer.drain()
                else:
                    await self._writer.drain()  # no wait: raises what the write ran into, if anything
        except httpx.WriteError:
            pass  # like httpcore: read what the server said before it closed (an error answer)

    def guard(self, read_timeout: float | None) -> _StallGuard:
        """The connection's stall guard: one watchdog for all its reads, not a timer per read."""
        if self._guard is None or self._guard.seconds != read_timeout:
            if self._guard is not None:
                self._guard.close()
            self._guard = _StallGuard(read_timeout)
        return self._guard

    async def next_event(self, read_timeout: float | None) -> Any:
        with mapped(httpx.ReadTimeout, httpx.ReadError):
            while True:
                event = self._h11.next_event()
                if event is not h11.NEED_DATA:
                    return event
                data = await self.guard(read_timeout).read(self._reader, READ_SIZE)
                self._h11.receive_data(data)

    async def response_head(self, read_timeout: float | None) -> h11.Response:
        while True:
            event = await self.next_event(read_timeout)
            if isinstance(event, h11.Response):
                return event
            if not isinstance(event, h11.InformationalResponse):
                raise httpx.RemoteProtocolError(f"unexpected {type(event).__name__} before the response")

    def fixed_length(self, method: str, head: h11.Response) -> int | None:
        """The Content-Length of a body that it alone frames (no Transfer-Encoding, not a HEAD's,
        204's or 304's), else None: such a body is read straight off the stream, since through h11
        every byte is copied twice more and each read costs several state-machine events."""
        if method == "HEAD" or head.status_code in (204, 304) or self._h11.their_state is not h11.SEND_BODY:
            return None
        length = None
        for name, value in head.headers:  # h11 lower-cased the names and checked Content-Length
            if name == b"transfer-encoding":
                return None
            if name == b"content-length":
                length = int(value)
        return length

    async def fixed_body(self, length: int, guard: _StallGuard) -> AsyncIterator[bytes]:
        """The body, as it arrives in reads of up to ``READ_LIMIT``; a fresh h11 state machine takes
        the connection on for the next request when the body ended exactly and both sides keep it alive."""
        buffered, _ = self._h11.trailing_data  # what arrived with the head
        keep_alive = self._h11.our_state is h11.DONE  # h11 turns it MUST_CLOSE when either side says close
        self._h11, self._bypassed = self._new_h11(), False
        if len(buffered) > length:
            yield buffered[:length]
            return  # bytes past the body: the connection is out of step and not reused
        if buffered:
            yield buffered
        remaining = length - len(buffered)
        while remaining:
            with mapped(httpx.ReadTimeout, httpx.ReadError):
                data = await guard.read(self._reader, min(remaining, READ_LIMIT))
            if not data:
                raise httpx.RemoteProtocolError(
                    f"peer closed connection without sending complete message body "
                    f"(received {length - remaining} bytes, expected {length})"
                )
            remaining -= len(data)
            yield data
        self._bypassed = keep_alive

    def finished_cleanly(self) -> bool:
        """Both sides done, so the connection can carry the next request.

        A body nobody read (a HEAD's, an error's) may already sit in the buffer: it is consumed
        here without waiting for the network, so such responses don't cost a new connection.
        """
        if self._bypassed is not None:
            clean, self._bypassed = self._bypassed, None
            self.idle_since = time.monotonic()
            return clean
        try:
            while self._h11.their_state is h11.SEND_BODY:
                if self._h11.next_event() in (h11.NEED_DATA, h11.PAUSED):
                    break
        except h11.ProtocolError:
            return False
        if self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE:
            self._h11.start_next_cycle()
            self.idle_since = time.monotonic()
            return True
        return False

    def close(self) -> None:
        if self._guard is not None:
            self._guard.close()
        self._writer.close()

    async def aclose(self) -> None:
        """Close and wait for the socket to go, so none is left for the event loop's end to find."""
        self.close()
        with contextlib.suppress(OSError, ssl.SSLError, TimeoutError):
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await self._writer.wait_closed()


class _ResponseBody(httpx.AsyncByteStream):
    """Streams the body as it arrives; closing it returns the connection to the pool when reusable."""

    def __init__(
        self, transport: AsyncioTransport, connection: _Connection, read_timeout: float | None, length: int | None
    ) -> None:
        self._transport = transport
        self._connection: _Connection | None = connection
        self._read_timeout = read_timeout
        self._length = length

    async def __aiter__(self) -> AsyncIterator[bytes]:
        connection = self._connection
        if connection is None:
            raise httpx.StreamClosed()
        if self._length is not None:
            async for chunk in connection.fixed_body(self._length, connection.guard(self._read_timeout)):
                yield chunk
            return
        while True:
            event = await connection.next_event(self._read_timeout)
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return
            else:
                raise httpx.RemoteProtocolError(f"unexpected {type(event).__name__} in a response body")

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await self._transport.release(connection)


class AsyncioTransport(httpx.AsyncBaseTransport):
    """At most ``max_connections`` requests in flight, ``max_keepalive_connections`` idle ones kept.

    ``proxies`` routes each origin directly or through a proxy; None connects directly always.
    """

    def __init__(self, ssl_context: ssl.SSLContext, limits: httpx.Limits, proxies: ProxyEnv | None = None) -> None:
        self._proxies = proxies or ProxyEnv()
        #: Each origin's proxy (or None), decided once: NO_PROXY is not matched on every request.
        self._routes: dict[Origin, ProxyURL | None] = {}
        self._ssl_context = ssl_context
        self._ssl_context.set_alpn_protocols(["http/1.1"])
        self._slots = asyncio.Semaphore(limits.max_connections or 100)
        self._max_idle = limits.max_keepalive_connections if limits.max_keepalive_connections is not None else 20
        self._expiry = limits.keepalive_expiry
        self._idle: list[_Connection] = []
        #: Idle and busy ones: closing the client closes a stream someone abandoned mid-body too.
        self._open: set[_Connection] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        origin: Origin = (request.url.raw_scheme, request.url.raw_host, request.url.port or _default_port(request))
        if self._slots.locked():  # a timer only when there is something to wait for
            with mapped(httpx.PoolTimeout, httpx.ConnectError):
                async with asyncio.timeout(timeouts.get("pool")):
                    await self._slots.acquire()
        else:
            await self._slots.acquire()
        connection: _Connection | None = None
        try:
            key = self._pool_key(origin)
            connection = self._reuse(key) or await self._connect(key, origin, request, timeouts)
            await connection.send(request, timeouts.get("write"))
            head = await connection.response_head(timeouts.get("read"))
            if head.status_code == 407 and connection.forward is not None:  # the proxy's answer, not the registry's
                raise refused(connection.forward, f"to forward to {request.url.netloc.decode('ascii')}", head)
        except BaseException:
            if connection is not None:
                self._open.discard(connection)
                connection.close()
            self._slots.release()
            raise
        return httpx.Response(
            head.status_code,
            headers=head.headers.raw_items(),
            stream=_ResponseBody(self, connection, timeouts.get("read"), connection.fixed_length(request.method, head)),
            extensions={"http_version": b"HTTP/" + head.http_version, "reason_phrase": head.reason},
        )

    def _pool_key(self, origin: Origin) -> PoolKey:
        if origin not in self._routes:
            scheme, host, port = origin
            route = self._proxies.proxy_for(scheme.decode("ascii"), host.decode("ascii"), port)
            self._routes[origin] = route
        proxy = self._routes[origin]
        return (None if proxy is not None and origin[0] == b"http" else origin), proxy

    def _reuse(self, key: PoolKey) -> _Connection | None:
        for connection in reversed(self._idle):
            if connection.key == key:
                self._idle.remove(connection)
                if connection.usable(self._expiry):
                    return connection
                self._open.discard(connection)
                connection.close()
        return None

    async def _connect(
        self, key: PoolKey, origin: Origin, request: httpx.Request, timeouts: dict[str, float | None]
    ) -> _Connection:
        scheme, host, port = origin
        if scheme not in (b"http", b"https"):
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {scheme.decode('ascii', 'replace')!r}")
        tls = self._ssl_context if scheme == b"https" else None
        server_hostname = (request.extensions.get("sni_hostname") or host.decode("ascii")) if tls else None
        proxy = key[1]
        if proxy is None:
            with mapped(httpx.ConnectTimeout, httpx.ConnectError):
                async with asyncio.timeout(timeouts.get("connect")):
                    reader, writer = await asyncio.open_connection(
                        host.decode("ascii"), port, ssl=tls, server_hostname=server_hostname, limit=READ_LIMIT
                    )
            connection = _Connection(key, reader, writer)
        else:
            connection = await self._via_proxy(key, proxy, origin, tls, server_hostname, timeouts)
        self._open.add(connection)
        return connection

    async def _via_proxy(
        self,
        key: PoolKey,
        proxy: ProxyURL,
        origin: Origin,
        tls: ssl.SSLContext | None,
        server_hostname: str | None,
        timeouts: dict[str, float | None],
    ) -> _Connection:
        """TCP to the proxy; for HTTPS a CONNECT tunnel, then TLS to the registry as if direct.

        Failing to reach the proxy or to get a tunnel from it is an ``httpx.ProxyError`` (or a
        ``ConnectTimeout``): transport errors, so retried like any other, naming the proxy by
        ``host:port`` only; but a proxy name that does not resolve is an ``UnresolvedProxy``, not
        retried (see :mod:`.retry`). TLS inside the tunnel fails exactly as a direct handshake would.
        """
        with naming(proxy), mapped(httpx.ConnectTimeout, httpx.ProxyError):
            async with asyncio.timeout(timeouts.get("connect")):
                reader, writer = await asyncio.open_connection(proxy.host, proxy.port, limit=READ_LIMIT)
        if tls is None:
            return _Connection(key, reader, writer, forward=proxy)
        try:
            await tunnel(proxy, origin, reader, writer, timeouts)
            with mapped(httpx.ConnectTimeout, httpx.ConnectError):
                async with asyncio.timeout(timeouts.get("connect")):
                    await writer.start_tls(tls, server_hostname=server_hostname)
        except BaseException:
            writer.close()
            raise
        return _Connection(key, reader, writer)

    async def release(self, connection: _Connection) -> None:
        """Back to the idle list when the exchange finished cleanly, else closed."""
        self._slots.release()
        if connection.finished_cleanly() and len(self._idle) < self._max_idle:
            self._idle.append(connection)
        else:
            self._open.discard(connection)
            await connection.aclose()

    async def aclose(self) -> None:
        connections, self._open, self._idle = self._open, set(), []
        for connection in connections:
            await connection.aclose()


class _NoCookies(httpx.Cookies):
    def extract_cookies(self, response: httpx.Response) -> None:
        """Set-Cookie is ignored: nothing is stored, so nothing is ever sent back either."""


class RegistryClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` that keeps no cookies, as Docker's and skopeo's clients keep none.

    The distribution API does not use them, and httpx's cookiejar round-trip on every response
    (a urllib request object per response) was ~7% of a registry request's CPU on loopback.
    """

    _no_cookies = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        if cookies:
            raise ValueError("registry clients keep no cookies")


def _default_port(request: httpx.Request) -> int:
    return 443 if request.url.raw_scheme == b"https" else 80


def asyncio_transport(
    verify: ssl.SSLContext | bool, limits: httpx.Limits, proxies: ProxyEnv | None = None
) -> httpx.AsyncBaseTransport:
    """The transport the session's clients use; ``verify=False`` is TLS without verification.

    ``proxies`` defaults to the environment's, read now (a bad proxy URL is a ``BadInputError``).
    """
    proxies = ProxyEnv.from_environ() if proxies is None else proxies
    if isinstance(verify, ssl.SSLContext):
        return AsyncioTransport(verify, limits, proxies)
    if verify:
        from nbcatalog.registry.tls import verified_context

        return AsyncioTransport(verified_context(None), limits, proxies)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return AsyncioTransport(context, limits, proxies)
