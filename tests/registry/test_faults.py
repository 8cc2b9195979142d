"""What flaky registries do, injected by the loopback proxy: retried where right, refused where not."""

from __future__ import annotations

import random
import time

import pytest

from nbcatalog import ocibuild as b
from nbcatalog.errors import DigestMismatchError, RegistryError
from nbcatalog.oci import Descriptor
from nbcatalog.refs import parse_reference
from nbcatalog.registry.retry import RetryPolicy, parse_retry_after
from nbcatalog.resolution import ResolvedImage
from nbcatalog.session import Session, SessionOptions
from tests.support.images import StandardImages
from tests.support.proxy import FaultKind, PaginatingProxy
from tests.support.registry import Pusher

FAST = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)


def _session(**options: object) -> Session:
    return Session(SessionOptions(cache_dir=None, retry=FAST, **options))  # type: ignore[arg-type]


def _via(proxy: PaginatingProxy, images: StandardImages, name: str = "layered") -> str:
    return getattr(images, name).ref.replace(images.host, proxy.host)


async def _layer_bytes(session: Session, ref: str) -> tuple[bytes, str]:
    image = await session.resolve(parse_reference(ref))
    layer = image.manifest.layers[-1]
    chunks = [chunk async for chunk in session.stream_blob(image.pinned, layer)]
    return b"".join(chunks), layer.digest


def test_retry_after_parsing() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("garbage") is None
    assert 0 <= (parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") or 0) <= 0.0
    assert RetryPolicy().delay(0, "1000") is None  # asks too much: give up rather than hang
    assert 2.0 <= (RetryPolicy().delay(0, "2") or 0) < 2.2


async def test_429_honours_retry_after(paginating_proxy: PaginatingProxy, test_images: StandardImages) -> None:
    fault = paginating_proxy.add_fault("status", r"/manifests/", status=429, headers={"Retry-After": "1"})
    started = time.monotonic()
    async with _session() as session:
        image = await session.resolve(parse_reference(_via(paginating_proxy, test_images)))
    assert image.digest == test_images.layered.digest
    assert fault.hits == 1
    assert time.monotonic() - started >= 1.0


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
async def test_transient_errors_are_retried(
    paginating_proxy: PaginatingProxy, test_images: StandardImages, status: int
) -> None:
    fault = paginating_proxy.add_fault("status", r"/(manifests|blobs|tags)/", status=status, times=2)
    async with _session() as session:
        ref = parse_reference(_via(paginating_proxy, test_images))
        assert await session.list_tags(ref) == ["v1.0.0", "v2.0.0"]
        image = await session.resolve(ref)
    assert image.digest == test_images.layered.digest and fault.hits == 2


async def test_persistent_failure_is_an_error(paginating_proxy: PaginatingProxy, test_images: StandardImages) -> None:
    paginating_proxy.add_fault("status", r"/manifests/", status=503, times=-1)
    async with _session() as session:
        with pytest.raises(RegistryError, match="kept failing: HTTP 503 after 4 attempts"):
            await session.resolve(parse_reference(_via(paginating_proxy, test_images)))


async def test_connection_reset_is_retried(paginating_proxy: PaginatingProxy, test_images: StandardImages) -> None:
    fault = paginating_proxy.add_fault("reset", r"/manifests/", times=1)
    async with _session() as session:
        image = await session.resolve(parse_reference(_via(paginating_proxy, test_images)))
    assert image.digest == test_images.layered.digest and fault.hits == 1


async def test_corrupted_manifest_is_never_believed(
    paginating_proxy: PaginatingProxy, test_images: StandardImages
) -> None:
    ref = _via(paginating_proxy, test_images)
    paginating_proxy.add_fault("corrupt", r"/manifests/", times=-1)
    async with _session() as session:
        with pytest.raises(DigestMismatchError, match="hashes to"):
            await session.resolve(parse_reference(ref))


async def test_corrupted_blob_fails_after_the_last_chunk(
    paginating_proxy: PaginatingProxy, test_images: StandardImages
) -> None:
    ref = _via(paginating_proxy, test_images)
    paginating_proxy.add_fault("corrupt", r"/blobs/sha256:(?!.*config)", times=-1, method="GET")
    async with _session() as session:
        with pytest.raises(DigestMismatchError):
            await _layer_bytes(session, ref)


@pytest.mark.parametrize("kind", ["truncate", "reset-mid"])
async def test_blob_broken_off_mid_way_resumes_with_range(
    paginating_proxy: PaginatingProxy, test_images: StandardImages, kind: FaultKind
) -> None:
    ref = _via(paginating_proxy, test_images)
    async with _session() as session:
        expected, digest = await _layer_bytes(session, ref)
    paginating_proxy.add_fault(kind, rf"/blobs/{digest}", times=1)
    paginating_proxy.log.clear()
    async with _session() as session:
        data, _ = await _layer_bytes(session, ref)
    assert data == expected
    ranged = [path for method, path in paginating_proxy.log if digest in path]
    assert len(ranged) == 2  # the broken read and its resumption


async def test_blob_redirect_is_followed(paginating_proxy: PaginatingProxy, test_images: StandardImages) -> None:
    ref = _via(paginating_proxy, test_images)
    fault = paginating_proxy.add_fault("redirect", r"/blobs/", times=-1, method="GET")
    async with _session() as session:
        data, _ = await _layer_bytes(session, ref)
    assert fault.hits >= 2 and data


async def _one_big_layer(
    proxy: PaginatingProxy, pusher: Pusher, repo: str, size: int
) -> tuple[ResolvedImage, Descriptor]:
    """An image of one incompressible layer of ``size`` bytes, resolved through the proxy."""
    big = b.build_layer([b.file("data/blob.bin", random.Random(size).randbytes(size))], "none")
    pusher.push(repo, b.build_image([big]), ["v1"])
    async with _session() as session:
        image = await session.resolve(parse_reference(f"{proxy.host}/{repo}:v1"))
    return image, image.manifest.layers[0]


async def test_slow_body_times_out_then_errors(
    paginating_proxy: PaginatingProxy, pusher: Pusher, scratch_repo: str
) -> None:
    image, layer = await _one_big_layer(paginating_proxy, pusher, scratch_repo, 64 * 1024)
    paginating_proxy.add_fault("slow", rf"/blobs/{layer.digest}", times=-1, delay=1.0)
    async with _session(timeout=0.2) as session:
        with pytest.raises(RegistryError, match="ReadTimeout"):
            async for _chunk in session.stream_blob(image.pinned, layer):
                pass


async def test_blob_streams_are_not_buffered(
    paginating_proxy: PaginatingProxy, pusher: Pusher, scratch_repo: str
) -> None:
    """The first chunk arrives while the body is still coming (auth flows must not read it whole)."""
    image, layer = await _one_big_layer(paginating_proxy, pusher, scratch_repo, 96 * 1024)
    paginating_proxy.add_fault("slow", rf"/blobs/{layer.digest}", times=-1, delay=0.05)  # ~1.2 s in all
    async with _session(timeout=5.0) as session:
        started = time.monotonic()
        first: float | None = None
        size = 0
        async for chunk in session.stream_blob(image.pinned, layer):
            first = first if first is not None else time.monotonic() - started
            size += len(chunk)
        total = time.monotonic() - started
    assert size == layer.size
    assert first is not None and first < total / 3, (first, total)
