"""The paginating / fault-injecting front: skopeo and a plain HTTP walk both see every tag through it."""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest

from nbcatalog.oci import MANIFEST_ACCEPT
from tests.support.images import ManyTags, StandardImages
from tests.support.proxy import PageStyle, PaginatingProxy


def walk_links(proxy: PaginatingProxy, repository: str) -> tuple[list[str], list[str]]:
    """Follow ``Link: <...>; rel="next"`` by hand; returns (tags, the link targets seen)."""
    url = httpx.URL(f"{proxy.url}/v2/{repository}/tags/list")
    tags: list[str] = []
    links: list[str] = []
    with httpx.Client() as client:
        while True:
            response = client.get(url)
            response.raise_for_status()
            tags += response.json()["tags"]
            link = response.headers.get("link")
            if not link:
                return tags, links
            target = link.split(";")[0].strip("<> ")
            links.append(target)
            url = url.join(target)


@pytest.mark.parametrize(("style", "absolute"), [("docker", False), ("docker", True), ("quay", False), ("quay", True)])
def test_pages_reach_every_tag(
    paginating_proxy: PaginatingProxy, many_tags: ManyTags, style: PageStyle, absolute: bool
) -> None:
    paginating_proxy.pager.style = style
    paginating_proxy.pager.absolute_links = absolute
    paginating_proxy.pager.order = lambda tags: sorted(tags, key=many_tags.tags.index)  # oldest first
    tags, links = walk_links(paginating_proxy, many_tags.repository)
    assert tags == list(many_tags.tags)
    assert len(links) == 10  # 1,100 tags in pages of 100
    assert all(link.startswith(paginating_proxy.url) == absolute for link in links)
    assert all(("next_page=" in link) == (style == "quay") for link in links)
    assert all(("last=" in link) == (style == "docker") for link in links)
    listed = subprocess.run(
        ["skopeo", "list-tags", "--tls-verify=false", f"docker://{paginating_proxy.host}/{many_tags.repository}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert json.loads(listed)["Tags"] == list(many_tags.tags)


def test_client_page_size_is_capped(paginating_proxy: PaginatingProxy, many_tags: ManyTags) -> None:
    paginating_proxy.pager.page_size = 50
    response = httpx.get(f"{paginating_proxy.url}/v2/{many_tags.repository}/tags/list?n=1000")
    assert len(response.json()["tags"]) == 50
    small = httpx.get(f"{paginating_proxy.url}/v2/{many_tags.repository}/tags/list?n=7")
    assert len(small.json()["tags"]) == 7 and "last=" in small.headers["link"]


def test_forwards_manifests_and_blobs(paginating_proxy: PaginatingProxy, test_images: StandardImages) -> None:
    image = test_images.layered
    manifest = httpx.get(
        f"{paginating_proxy.url}/v2/{image.repository}/manifests/{image.tag}", headers={"Accept": MANIFEST_ACCEPT}
    )
    assert manifest.content == image.artifact.manifest
    layer = image.image.layers[-1]
    blob = httpx.get(f"{paginating_proxy.url}/v2/{image.repository}/blobs/{layer.digest}", follow_redirects=True)
    assert blob.content == layer.blob
    inspected = subprocess.run(
        ["skopeo", "inspect", "--tls-verify=false", f"docker://{paginating_proxy.host}/{image.repository}:{image.tag}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert json.loads(inspected)["Digest"] == image.digest


def test_status_faults_then_recovery(paginating_proxy: PaginatingProxy, test_images: StandardImages) -> None:
    image = test_images.layered
    url = f"{paginating_proxy.url}/v2/{image.repository}/manifests/{image.tag}"
    paginating_proxy.add_fault("status", r"/manifests/", status=429, headers={"Retry-After": "2"})
    paginating_proxy.add_fault("status", r"/manifests/", status=503)
    first = httpx.get(url, headers={"Accept": MANIFEST_ACCEPT})
    assert first.status_code == 429 and first.headers["retry-after"] == "2"
    assert httpx.get(url, headers={"Accept": MANIFEST_ACCEPT}).status_code == 503
    assert httpx.get(url, headers={"Accept": MANIFEST_ACCEPT}).content == image.artifact.manifest


def test_body_faults(paginating_proxy: PaginatingProxy, test_images: StandardImages) -> None:
    image = test_images.layered
    layer = image.image.layers[0]
    url = f"{paginating_proxy.url}/v2/{image.repository}/blobs/{layer.digest}"
    paginating_proxy.add_fault("corrupt", r"/blobs/")
    corrupted = httpx.get(url)
    assert len(corrupted.content) == layer.size and corrupted.content != layer.blob
    paginating_proxy.add_fault("truncate", r"/blobs/")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(url)
    paginating_proxy.add_fault("reset", r"/blobs/")
    with pytest.raises(httpx.TransportError):
        httpx.get(url)
    paginating_proxy.add_fault("reset-mid", r"/blobs/")
    with pytest.raises(httpx.ReadError, match="reset"):  # headers came, then a reset, not a clean end
        httpx.get(url)
    paginating_proxy.add_fault("slow", r"/blobs/", delay=0.01)
    assert httpx.get(url).content == layer.blob
    paginating_proxy.add_fault("redirect", r"/blobs/")
    redirected = httpx.get(url, follow_redirects=True)
    assert redirected.content == layer.blob and len(redirected.history) == 1


def test_misbehaving_pagers(paginating_proxy: PaginatingProxy, many_tags: ManyTags) -> None:
    url = f"{paginating_proxy.url}/v2/{many_tags.repository}/tags/list"
    paginating_proxy.pager.link_origin = "http://registry.invalid"
    assert httpx.get(url).headers["link"].startswith("<http://registry.invalid/v2/")
    paginating_proxy.pager.link_origin = None
    paginating_proxy.pager.loop = True
    first = httpx.get(url)
    again = httpx.get(httpx.URL(url).join(first.headers["link"].split(";")[0].strip("<>")))
    assert again.json()["tags"] == first.json()["tags"] and again.headers["link"] == first.headers["link"]
    paginating_proxy.pager.loop = False
    paginating_proxy.pager.inject = [None, "sha256:" + "0" * 64, "sha256-" + "1" * 64 + ".sig"]
    tags = httpx.get(url).json()["tags"]
    assert tags[:3] == paginating_proxy.pager.inject and len(tags) == 100
    paginating_proxy.pager.style = "quay"
    bad = httpx.get(url, params={"next_page": "garbage!"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["code"] == "PAGINATION_NUMBER_INVALID"


def test_response_headers_on_every_answer(paginating_proxy: PaginatingProxy, test_images: StandardImages) -> None:
    paginating_proxy.response_headers["RateLimit-Limit"] = "100;w=21600"
    paginating_proxy.response_headers["RateLimit-Remaining"] = "99;w=21600"
    image = test_images.layered
    head = httpx.head(
        f"{paginating_proxy.url}/v2/{image.repository}/manifests/{image.tag}", headers={"Accept": MANIFEST_ACCEPT}
    )
    assert head.status_code == 200 and head.headers["docker-content-digest"] == image.digest
    assert head.headers["ratelimit-remaining"] == "99;w=21600"
    tags = httpx.get(f"{paginating_proxy.url}/v2/{image.repository}/tags/list")
    assert tags.headers["ratelimit-limit"] == "100;w=21600"


def test_stall_and_wrong_digest_header(paginating_proxy: PaginatingProxy, test_images: StandardImages) -> None:
    image = test_images.layered
    manifest = f"{paginating_proxy.url}/v2/{image.repository}/manifests/{image.tag}"
    paginating_proxy.add_fault("digest-header", r"/manifests/")
    lying = httpx.get(manifest, headers={"Accept": MANIFEST_ACCEPT})
    assert lying.content == image.artifact.manifest
    assert lying.headers["docker-content-digest"] == "sha256:" + "0" * 64
    paginating_proxy.add_fault("stall", r"/blobs/", delay=30)
    layer = image.image.layers[0]
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{paginating_proxy.url}/v2/{image.repository}/blobs/{layer.digest}", timeout=0.3)
