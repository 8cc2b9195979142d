"""Blob digests hashed off the event loop, in order, still checked before a stream ends; layer
concurrency that follows the cores."""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import threading
import time

import pytest

from nbcatalog import ocibuild as b
from nbcatalog.errors import DigestMismatchError
from nbcatalog.oci import Descriptor
from nbcatalog.packages import image as image_module
from nbcatalog.refs import parse_reference
from nbcatalog.registry.distribution import HASH_BACKLOG, HASH_BATCH, _HashBehind
from nbcatalog.registry.retry import RetryPolicy
from nbcatalog.resolution import ResolvedImage
from nbcatalog.session import Session, SessionOptions
from tests.support.proxy import PaginatingProxy
from tests.support.registry import Pusher

CHUNK = 64 * 1024


def _chunks(size: int) -> list[bytes]:
    data = random.Random(size).randbytes(size)
    return [data[start : start + CHUNK] for start in range(0, size, CHUNK)]


class _Recording(_HashBehind):
    """Notes the thread and size of every batch hashed; ``delay`` makes hashing slow."""

    def __init__(self, digest: str, delay: float = 0.0) -> None:
        super().__init__(digest)
        self.threads: list[str] = []
        self.batches: list[int] = []
        self.delay = delay

    def _hash(self, batch: list[bytes]) -> None:
        self.threads.append(threading.current_thread().name)
        self.batches.append(sum(map(len, batch)))
        time.sleep(self.delay if batch else 0)
        super()._hash(batch)


async def test_big_blobs_hash_off_the_loop_in_order() -> None:
    chunks = _chunks(5 * HASH_BATCH + 12345)
    hashing = _Recording("sha256:")
    for chunk in chunks:
        await hashing.update(chunk)
    assert await hashing.digest() == "sha256:" + hashlib.sha256(b"".join(chunks)).hexdigest()
    off_loop = hashing.threads[:-1]  # the last, under a batch, is the tail hashed on the loop
    assert off_loop and threading.current_thread().name not in off_loop
    assert sum(hashing.batches) == sum(map(len, chunks))


async def test_small_blobs_never_leave_the_loop() -> None:
    hashing = _Recording("sha512:")
    for chunk in _chunks(HASH_BATCH // 2):
        await hashing.update(chunk)
    assert (await hashing.digest()).startswith("sha512:")
    assert hashing.threads == [threading.current_thread().name]


async def test_a_slow_hash_holds_the_stream_back_instead_of_buffering() -> None:
    hashing = _Recording("sha256:", delay=0.05)
    most = 0
    for chunk in _chunks(12 * HASH_BATCH):
        await hashing.update(chunk)
        most = max(most, hashing._waiting_bytes)
    await hashing.digest()
    assert most <= HASH_BACKLOG
    assert max(hashing.batches) <= HASH_BACKLOG + CHUNK


@pytest.mark.parametrize(("cores", "layers", "expected"), [(1, 5, 2), (2, 5, 2), (6, 5, 5), (6, 9, 6), (64, 20, 6)])
def test_layers_in_flight_follow_the_cores(
    monkeypatch: pytest.MonkeyPatch, cores: int, layers: int, expected: int
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)))
    assert image_module.layer_workers(layers) == expected
    assert image_module.layer_workers(1) == 1


FAST = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)


async def _big_layer(proxy: PaginatingProxy, pusher: Pusher, repo: str) -> tuple[Session, ResolvedImage, Descriptor]:
    size = 3 * HASH_BATCH + 777  # several batches: the off-loop path
    big = b.build_layer([b.file("data/blob.bin", random.Random(size).randbytes(size))], "none")
    pusher.push(repo, b.build_image([big]), ["v1"])
    session = Session(SessionOptions(cache_dir=None, retry=FAST))
    image = await session.resolve(parse_reference(f"{proxy.host}/{repo}:v1"))
    return session, image, image.manifest.layers[0]


async def test_a_corrupted_big_blob_fails_at_its_end(
    paginating_proxy: PaginatingProxy, pusher: Pusher, scratch_repo: str
) -> None:
    session, image, layer = await _big_layer(paginating_proxy, pusher, scratch_repo)
    paginating_proxy.add_fault("corrupt", r"/blobs/sha256:(?!.*config)", times=-1, method="GET")
    async with session:
        with pytest.raises(DigestMismatchError, match="hashes to"):
            async for _chunk in session.stream_blob(image.pinned, layer):
                pass


async def test_a_big_blob_resumed_with_range_still_verifies(
    paginating_proxy: PaginatingProxy, pusher: Pusher, scratch_repo: str
) -> None:
    session, image, layer = await _big_layer(paginating_proxy, pusher, scratch_repo)
    paginating_proxy.add_fault("reset-mid", rf"/blobs/{layer.digest}", times=1)
    paginating_proxy.log.clear()
    async with session:
        data = b"".join([chunk async for chunk in session.stream_blob(image.pinned, layer)])
    assert "sha256:" + hashlib.sha256(data).hexdigest() == layer.digest
    assert len(data) > HASH_BATCH
    assert len([path for _, path in paginating_proxy.log if layer.digest in path]) == 2  # broken, then resumed


async def test_an_abandoned_stream_leaves_the_loop_usable() -> None:
    hashing = _HashBehind("sha256:")
    for chunk in _chunks(2 * HASH_BATCH):
        await hashing.update(chunk)
    del hashing  # a batch may still be hashing in the executor: nothing waits on it, nothing breaks
    await asyncio.sleep(0)
