"""Every tag comes through however the registry pages, for nbcatalog and skopeo alike."""

from __future__ import annotations

import pytest

from nbcatalog.errors import RegistryError
from nbcatalog.refs import parse_repository
from nbcatalog.session import Session, SessionOptions
from tests.support import skopeo
from tests.support.images import ManyTags
from tests.support.proxy import PaginatingProxy


async def _list(repo: str) -> tuple[list[str], dict[str, int]]:
    async with Session(SessionOptions(cache_dir=None)) as session:
        tags = await session.list_tags(parse_repository(repo))
        return tags, session.request_stats


@pytest.mark.parametrize(
    ("style", "absolute", "oldest_first"),
    [
        ("docker", False, False),
        ("docker", True, False),
        ("quay", False, True),
        ("quay", True, True),
        ("docker", False, True),
    ],
)
async def test_every_tag_through_paged_lists(
    paginating_proxy: PaginatingProxy, many_tags: ManyTags, style: str, absolute: bool, oldest_first: bool
) -> None:
    proxy = paginating_proxy
    proxy.pager.style = style  # type: ignore[assignment]
    proxy.pager.absolute_links = absolute
    proxy.pager.page_size = 100
    if oldest_first:
        proxy.pager.order = lambda tags: [t for t in many_tags.tags if t in set(tags)]
    repo = f"{proxy.host}/{many_tags.repository}"
    tags, stats = await _list(repo)
    expected = list(many_tags.tags) if oldest_first else sorted(many_tags.tags)
    assert tags == expected  # registry order kept, nothing lost or repeated
    assert stats["GET tags"] == 11  # 1,100 tags in pages of 100: the page size was honoured
    assert skopeo.list_tags(repo) == expected


async def test_asks_for_big_pages(paginating_proxy: PaginatingProxy, many_tags: ManyTags) -> None:
    paginating_proxy.pager.page_size = 1000
    tags, stats = await _list(f"{paginating_proxy.host}/{many_tags.repository}")
    assert len(tags) == 1100 and stats["GET tags"] == 2
    first = next(path for method, path in paginating_proxy.log if "/tags/list" in path)
    assert "n=1000" in first


async def test_a_link_to_another_host_is_refused(paginating_proxy: PaginatingProxy, many_tags: ManyTags) -> None:
    paginating_proxy.pager.absolute_links = True
    repo = f"localhost:{paginating_proxy.host.rsplit(':', 1)[1]}/{many_tags.repository}"
    # the proxy builds absolute links from the Host header, so make it differ from where we connect
    original = paginating_proxy.pager.page

    def foreign(name: str, tags: list[str], query: dict[str, str], origin: str) -> tuple[list[str], str | None]:
        page, link = original(name, tags, query, origin)
        return page, link.replace(origin, "http://example.invalid") if link else None

    paginating_proxy.pager.page = foreign  # type: ignore[method-assign]
    with pytest.raises(RegistryError, match="another host"):
        await _list(repo)
