"""The HTTP/1.1 transport under httpx: connections are kept alive and bounded, and a response whose
body nobody read (a HEAD's, an error's) does not cost a new connection. A relay counts connections."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from nbcatalog.errors import NotFoundError
from nbcatalog.refs import parse_reference, parse_repository
from nbcatalog.registry.transport import RegistryClient, asyncio_transport
from nbcatalog.session import Session, SessionOptions
from tests.reliability.load import ConnectionGauge
from tests.support.images import ManyTags, StandardImages
from tests.support.registry import RegistryServer


@pytest.fixture
def gauge(registry: RegistryServer) -> Iterator[ConnectionGauge]:
    relay = ConnectionGauge(registry.host)
    yield relay
    relay.close()


async def test_details_of_many_tags_reuse_the_few_connections_concurrency_allows(
    many_tags: ManyTags, gauge: ConnectionGauge
) -> None:
    repo = parse_repository(many_tags.repo_ref.replace(many_tags.host, gauge.host))
    async with Session(SessionOptions(cache_dir=None, concurrency=4)) as session:
        tags = await session.list_tags(repo)
        details = await session.tag_details(repo, tags[:120])
    assert [d.error for d in details if d.error] == []
    assert {d.digest for d in details} <= {a.manifest_digest for a in many_tags.artifacts}
    assert 1 <= gauge.total <= 4, gauge.total


async def test_unread_bodies_do_not_cost_a_connection(test_images: StandardImages, gauge: ConnectionGauge) -> None:
    ref = parse_reference(test_images.layered_ref.replace(test_images.host, gauge.host))
    async with Session(SessionOptions(cache_dir=None)) as session:
        digests = {await session.resolve_digest(ref) for _ in range(20)}  # HEADs: no body is read
        for _ in range(5):
            with pytest.raises(NotFoundError):
                await session.resolve_digest(ref.with_tag("no-such-tag"))
        manifest = await session.get_manifest(ref)
    assert digests == {test_images.layered.digest} == {manifest.digest}
    assert gauge.total == 1


async def test_cookies_a_registry_sets_are_never_sent_back() -> None:
    """As with Docker's and skopeo's clients (the distribution API has no use for them)."""
    sent: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers.get("Cookie"))
        return httpx.Response(200, headers={"Set-Cookie": "session=abc; Path=/"})

    async with RegistryClient(transport=httpx.MockTransport(answer)) as client:
        for _ in range(2):
            (await client.get("http://127.0.0.1:1/v2/")).raise_for_status()
        assert not client.cookies
    assert sent == [None, None]


async def test_a_header_http_cannot_carry_is_an_httpx_error(registry: RegistryServer) -> None:
    """A token with a newline in it, say: the retry policy and the CLI know httpx's errors, not h11's."""
    async with Session(SessionOptions(cache_dir=None)) as session:
        client = session.client("plain")
        with pytest.raises(httpx.LocalProtocolError):
            await client.get(f"{registry.url}/v2/", headers={"Authorization": "Bearer a\r\nX-Injected: 1"})
        assert (await client.get(f"{registry.url}/v2/")).status_code == 200


class ScriptedServer:
    """A loopback HTTP/1.1 server answering each request with the next scripted reply: a list of
    byte pieces written with a short pause between them (so the client sees them in separate reads),
    then, if the reply says so, a hang-up or a stall. Counts the connections it accepted."""

    def __init__(self, replies: list[tuple[list[bytes], str]]) -> None:
        self.replies = replies
        self.connections = 0
        self.requests: list[bytes] = []
        self._server: asyncio.Server | None = None
        self._release = asyncio.Event()

    async def __aenter__(self) -> ScriptedServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._release.set()
        self._server.close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while self.replies:
                head = await reader.readuntil(b"\r\n\r\n")
                self.requests.append(head.split(b"\r\n", 1)[0])
                pieces, then = self.replies.pop(0)
                for piece in pieces:
                    writer.write(piece)
                    await writer.drain()
                    await asyncio.sleep(0.005)
                if then == "hang up":
                    break
                if then == "stall":
                    await self._release.wait()
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def _reply(body: bytes, *, pieces: int = 1, extra_headers: bytes = b"", length: int | None = None) -> list[bytes]:
    """A 200 response with a Content-Length, its bytes cut into ``pieces`` writes."""
    declared = len(body) if length is None else length
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (declared, extra_headers, body)
    step = -(-len(raw) // pieces)
    return [raw[i : i + step] for i in range(0, len(raw), step)]


@pytest.fixture
def transport_client() -> RegistryClient:
    return RegistryClient(transport=asyncio_transport(False, httpx.Limits()), timeout=httpx.Timeout(5.0, read=0.5))


async def test_a_content_length_body_in_many_reads_arrives_whole_and_the_connection_carries_on(
    transport_client: RegistryClient,
) -> None:
    body = bytes(range(256)) * 4096  # 1 MiB: larger than one read
    replies = [(_reply(body, pieces=40), ""), (_reply(b"next"), "")]
    async with ScriptedServer(replies) as server, transport_client as client:
        async with client.stream("GET", f"{server.url}/blob") as response:
            chunks = [chunk async for chunk in response.aiter_raw()]
        second = await client.get(f"{server.url}/after")
    assert b"".join(chunks) == body
    assert len(chunks) > 1
    assert second.content == b"next"
    assert server.connections == 1
    assert server.requests == [b"GET /blob HTTP/1.1", b"GET /after HTTP/1.1"]


async def test_a_body_cut_short_is_a_protocol_error_and_the_next_request_gets_a_new_connection(
    transport_client: RegistryClient,
) -> None:
    cut = _reply(b"x" * 1000, length=5000)
    async with ScriptedServer([(cut, "hang up"), (_reply(b"ok"), "")]) as server, transport_client as client:
        with pytest.raises(httpx.RemoteProtocolError, match="1000 bytes, expected 5000"):
            await asyncio.wait_for(client.get(f"{server.url}/blob"), 5)
        assert (await client.get(f"{server.url}/after")).content == b"ok"
    assert server.connections == 2


async def test_a_body_that_stalls_times_out_after_the_read_timeout(transport_client: RegistryClient) -> None:
    stalled = _reply(b"x" * 1000, length=5000, pieces=3)
    async with ScriptedServer([(stalled, "stall")]) as server, transport_client as client:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            await asyncio.wait_for(client.get(f"{server.url}/blob"), 5)
    assert 0.4 < time.monotonic() - started < 3


async def test_a_slow_body_is_not_a_timeout_while_each_read_gets_data_in_time() -> None:
    """The read timeout is per read: a body taking longer than it in total, in pieces, still arrives."""
    body = b"y" * 3000
    slow = _reply(body, pieces=30)  # ~30 pauses of 5 ms against a 0.1 s read timeout: > 0.1 s in all
    timeouts = httpx.Timeout(5.0, read=0.1)
    client = RegistryClient(transport=asyncio_transport(False, httpx.Limits()), timeout=timeouts)
    async with ScriptedServer([(slow, "")]) as server, client:
        started = time.monotonic()
        response = await client.get(f"{server.url}/blob")
    assert response.content == body
    assert time.monotonic() - started > 0.1


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (_reply(b"abc", extra_headers=b"Connection: close\r\n"), "the server said close"),
        ([b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcGARBAGE"], "bytes past the body"),
    ],
)
async def test_a_connection_not_fit_for_reuse_after_a_body_is_not_reused(
    transport_client: RegistryClient, reply: list[bytes], why: str
) -> None:
    async with ScriptedServer([(reply, ""), (_reply(b"ok"), "")]) as server, transport_client as client:
        assert (await client.get(f"{server.url}/first")).content == b"abc", why
        assert (await client.get(f"{server.url}/after")).content == b"ok"
    assert server.connections == 2, why


async def test_a_body_abandoned_midway_closes_its_connection(transport_client: RegistryClient) -> None:
    body = b"z" * 200_000
    replies = [(_reply(body, pieces=20), ""), (_reply(b"ok"), "")]
    async with ScriptedServer(replies) as server, transport_client as client:
        async with client.stream("GET", f"{server.url}/blob") as response:
            async for _ in response.aiter_raw():
                break
        assert (await client.get(f"{server.url}/after")).content == b"ok"
    assert server.connections == 2
