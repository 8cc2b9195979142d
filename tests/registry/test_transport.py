"""The HTTP/1.1 transport under httpx: connections are kept alive and bounded, and a response whose
body nobody read (a HEAD's, an error's) does not cost a new connection. A relay counts connections."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from nbcatalog.errors import NotFoundError
from nbcatalog.refs import parse_reference, parse_repository
from nbcatalog.registry.transport import RegistryClient
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
