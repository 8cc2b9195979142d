"""What is installed in an image: its layers read once each (cached by digest), applied in order.

Layers missing from the cache download concurrently (the backend's limiter bounds registry work),
decompress and scan in worker threads, and are cached only after their stream ended normally,
which is when the backend has verified the digest.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, TypeVar

from nbcatalog.cache import Cache
from nbcatalog.oci import Descriptor
from nbcatalog.packages import files as package_files
from nbcatalog.packages.layer import (
    LayerReader,
    LayerResult,
    decode_files,
    decode_packages,
    encode_files,
    encode_packages,
)
from nbcatalog.packages.model import ParsedFile
from nbcatalog.packages.overlay import apply_layers
from nbcatalog.packages.result import PACKAGES_PARSER, ImagePackages, assemble, cached_layers, tar_layers
from nbcatalog.packages.walkthread import LayerWalkThread
from nbcatalog.refs import AnyRef

if TYPE_CHECKING:
    from nbcatalog.resolution import ResolvedImage
    from nbcatalog.session import Session

log = logging.getLogger("nbcatalog")
T = TypeVar("T")

#: (layer digest, compressed bytes read so far, layer size); called for cached layers too (done).
ProgressFn = Callable[[str, int, int], None]

#: Compressed bytes handed to a worker thread at once: big enough that thread hops cost nothing.
FEED_BATCH = 1024 * 1024
#: Layers walked at once, at most: each adds about 8 MB at peak (queued batches, codec windows), so
#: peak memory stays flat in image size and under 150 MB on many-core machines too.
MAX_LAYER_WORKERS = 6
MAX_PLAIN_FILE = package_files.MAX_PLAIN_FILE


def layer_workers(layers: int) -> int:
    """Layers read at once: one per usable core, at least 2 (a download overlaps a walk even on one
    core), at most :data:`MAX_LAYER_WORKERS`, never more than there are layers."""
    try:
        cores = len(os.sched_getaffinity(0))  # what this process may use (containers, taskset)
    except AttributeError:  # not on this platform
        cores = os.cpu_count() or 1
    return max(1, min(layers, max(2, min(cores, MAX_LAYER_WORKERS))))


async def _read_layer(
    session: Session,
    image: ResolvedImage,
    descriptor: Descriptor,
    reader: LayerReader[T],
    progress: ProgressFn | None,
) -> LayerResult[T]:
    """Download one layer while a worker thread walks it; the result only if the stream ended normally."""
    walker = LayerWalkThread(reader)
    batch: list[bytes] = []
    batched = done = 0
    try:
        # aclosing: a failure or a cancel here closes the stream (and its connection) now, not
        # when the loop gets round to finalising an abandoned generator, maybe after it closed
        async with contextlib.aclosing(session.stream_blob(image.pinned, descriptor)) as stream:
            async for chunk in stream:
                batch.append(chunk)
                batched += len(chunk)
                done += len(chunk)
                if batched >= FEED_BATCH:
                    await walker.put(b"".join(batch))
                    batch.clear()
                    batched = 0
                    if progress:
                        progress(descriptor.digest, done, descriptor.size)
        # The stream ended normally: the backend has verified the digest.
        if batch:
            await walker.put(b"".join(batch))
        result = await walker.finish()
    except BaseException:
        walker.abort()
        raise
    if progress:
        progress(descriptor.digest, done, descriptor.size or done)
    return result


async def _layer_results(
    session: Session,
    image: ResolvedImage,
    parser: str,
    make_reader: Callable[[str], LayerReader[T]],
    encode: Callable[[LayerResult[T]], bytes],
    decode: Callable[[bytes], LayerResult[T]],
    progress: ProgressFn | None,
) -> tuple[list[LayerResult[T]], int]:
    """Every tar layer's result in order, and how many came from the cache."""
    descriptors = tar_layers(image.manifest)
    cache = Cache.open_or_warn(session.options.cache_dir, "package")
    try:
        found = {} if cache is None else cached_layers(cache, descriptors, parser, decode)
        cached = len(found)
        for descriptor in descriptors:
            if descriptor.digest in found and progress:
                progress(descriptor.digest, descriptor.size, descriptor.size)
        missing = list({d.digest: d for d in descriptors if d.digest not in found}.values())
        workers = asyncio.Semaphore(layer_workers(len(missing)))

        async def fetch(descriptor: Descriptor) -> None:
            async with workers:
                reader = make_reader(f"{image.ref} layer {descriptor.digest[7:19]}")
                result = await _read_layer(session, image, descriptor, reader, progress)
            found[descriptor.digest] = result
            if cache is not None:
                cache.put_layer(descriptor.digest, parser, encode(result))

        # Biggest first (the semaphore admits in this order): the longest walk never starts last,
        # alone on one core, while the others are long done. Results still apply in manifest order.
        tasks = [asyncio.ensure_future(fetch(d)) for d in sorted(missing, key=lambda d: d.size, reverse=True)]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:  # one layer failed: stop the others before the session closes
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return [found[d.digest] for d in descriptors], cached
    finally:
        if cache is not None:
            cache.close()


def _package_reader(where: str) -> LayerReader[ParsedFile]:
    return LayerReader(
        package_files.size_cap,
        lambda path, data: package_files.parse_file(path, data)[1],
        keep_symlink=package_files.keep_symlink,
        where=where,
    )


async def image_packages(
    session: Session,
    ref: AnyRef,
    ecosystems: Sequence[str] | None = None,
    *,
    progress: ProgressFn | None = None,
) -> ImagePackages:
    """The packages installed in ``ref`` for the session's platform, optionally of some ecosystems."""
    image = await session.resolve(ref)
    layers, cached = await _layer_results(
        session, image, PACKAGES_PARSER, _package_reader, encode_packages, decode_packages, progress
    )
    return assemble(ref, image, layers, cached, ecosystems)


def _normalise(path: str) -> str:
    return path.strip("/")


async def image_files(
    session: Session,
    ref: AnyRef,
    paths: Iterable[str],
    *,
    max_size: int = MAX_PLAIN_FILE,
    progress: ProgressFn | None = None,
) -> dict[str, bytes]:
    """The final contents of a few files (e.g. ``/etc/passwd``) in ``ref``; absent ones are left out.

    Plain files that the package read keeps anyway come from it (and its cache), so asking for them
    and for the packages reads each layer once."""
    wanted = sorted({_normalise(p) for p in paths})
    if wanted and all(package_files.PLAIN_FILES.get(path) == max_size for path in wanted):
        kept = (await image_packages(session, ref, progress=progress)).files
        return {"/" + path: kept["/" + path] for path in wanted if "/" + path in kept}
    ancestors = package_files.parent_dirs(wanted)
    parser = "files/" + hashlib.sha256(f"{max_size}\0{chr(0).join(wanted)}".encode()).hexdigest()[:16]
    wanted_set = set(wanted)

    def make_reader(where: str) -> LayerReader[bytes]:
        return LayerReader(
            lambda path: max_size if path in wanted_set else 0,
            lambda path, data: data,
            keep_symlink=lambda path: path in wanted_set or path in ancestors,
            where=where,
        )

    image = await session.resolve(ref)
    layers, _ = await _layer_results(session, image, parser, make_reader, encode_files, decode_files, progress)
    merged = apply_layers(layers)
    return {"/" + path: content for path, (_, content) in merged.items()}
