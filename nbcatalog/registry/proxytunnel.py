"""CONNECT tunnels through an HTTP proxy, and the proxy's refusals as one clear error.

Kept apart from the connection pool, which only adds ``Proxy-Authorization`` to forwarded plain-HTTP
requests: the tunnel and the refusal messages are where a proxy's credentials could leak into text,
and here they go on the wire only (messages name the proxy by ``host:port``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import h11
import httpx

from nbcatalog.registry.proxyenv import ProxyURL
from nbcatalog.registry.wire import MAX_HEAD_BYTES, READ_SIZE, Origin, mapped


@contextlib.contextmanager
def naming(proxy: ProxyURL) -> Iterator[None]:
    """Prefixes a transport error with the proxy, so the one error line says which hop failed."""
    try:
        yield
    except httpx.TransportError as exc:
        raise type(exc)(f"{proxy}: {exc}") from exc


async def tunnel(
    proxy: ProxyURL,
    origin: Origin,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    timeouts: dict[str, float | None],
) -> None:
    """``CONNECT host:port`` and a 2xx answer, its head bounded like any response's.

    The proxy sends nothing past its answer until the client speaks TLS, so the stream holds no
    leftover bytes when it is upgraded.
    """
    _, host, port = origin
    authority = (b"[" + host + b"]" if b":" in host else host) + b":%d" % port
    headers = [(b"Host", authority)]
    if proxy.authorization:
        headers.append((b"Proxy-Authorization", proxy.authorization.encode("ascii")))
    state = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD_BYTES)
    with naming(proxy), mapped(httpx.ConnectTimeout, httpx.ProxyError):
        data = state.send(h11.Request(method=b"CONNECT", target=authority, headers=headers)) or b""
        data += state.send(h11.EndOfMessage()) or b""
        async with asyncio.timeout(timeouts.get("write")):
            writer.write(data)
            await writer.drain()
        while True:
            event = state.next_event()
            if event is h11.NEED_DATA:
                async with asyncio.timeout(timeouts.get("read")):
                    state.receive_data(await reader.read(READ_SIZE))
            elif isinstance(event, h11.Response):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise httpx.ProxyError("closed the connection without answering CONNECT")
            elif not isinstance(event, h11.InformationalResponse):
                raise httpx.ProxyError(f"unexpected {type(event).__name__} in answer to CONNECT")
    if not 200 <= event.status_code < 300:
        raise refused(proxy, f"CONNECT {authority.decode('ascii')}", event)
    if state.trailing_data[0]:
        raise httpx.ProxyError(f"{proxy} sent data before the tunnel's TLS began")


def refused(proxy: ProxyURL, what: str, head: h11.Response) -> httpx.ProxyError:
    """The proxy's own refusal; for 401/407 (tinyproxy answers a CONNECT with 401) what to change."""
    detail = f"HTTP {head.status_code} {head.reason.decode('ascii', 'replace')}".rstrip()
    if head.status_code in (401, 407):
        wanted = (
            "rejected the credentials" if proxy.authorization else "wants credentials: http://USER:PASSWORD@HOST:PORT"
        )
        detail += f" (the proxy {wanted})"
    return httpx.ProxyError(f"{proxy} refused {what}: {detail}")
