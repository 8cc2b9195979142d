"""The walker thread: results, errors handed back to the event loop, aborts that leave no thread."""

from __future__ import annotations

import gzip
import io
import tarfile
import threading

import pytest

from nbcatalog.errors import RegistryError
from nbcatalog.packages.layer import LayerReader
from nbcatalog.packages.walkthread import LayerWalkThread


def _blob(count: int = 200) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for index in range(count):
            data = f"file {index}\n".encode() * 100
            info = tarfile.TarInfo(f"d/f{index}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return gzip.compress(buffer.getvalue())


def _reader() -> LayerReader[bytes]:
    return LayerReader(lambda path: 1 << 20 if path.endswith("7") else 0, lambda path, data: data)


def _walk_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "nbcatalog-layer-walk"]


async def test_batches_through_a_tiny_queue_give_the_whole_result() -> None:
    blob = _blob()
    walker = LayerWalkThread(_reader(), depth=1)
    for start in range(0, len(blob), 333):
        await walker.put(blob[start : start + 333])
    result = await walker.finish()
    assert sorted(result.files) == sorted(f"d/f{i}" for i in range(200) if str(i).endswith("7"))
    assert result.files["d/f17"] == b"file 17\n" * 100
    assert not _walk_threads()


async def test_a_walk_error_reaches_the_event_loop() -> None:
    walker = LayerWalkThread(_reader(), depth=1)
    blob = _blob()
    await walker.put(blob[: len(blob) // 2])
    with pytest.raises(RegistryError, match="truncated"):
        await walker.finish()
    assert not _walk_threads()


async def test_garbage_fails_fast_and_abort_ends_the_thread() -> None:
    walker = LayerWalkThread(_reader(), depth=1)
    with pytest.raises(RegistryError):
        for _ in range(50):
            await walker.put(b"\x1f\x8b" + b"\xff" * 5000)  # not deflate: the walker fails, put() reports it
    walker.abort()
    walker._thread.join(timeout=5)
    assert not _walk_threads()


async def test_abort_in_the_middle_stops_without_blocking() -> None:
    walker = LayerWalkThread(_reader(), depth=2)
    blob = _blob()
    await walker.put(blob[:1000])
    walker.abort()
    walker._thread.join(timeout=5)
    assert not _walk_threads()
