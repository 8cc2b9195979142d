"""A warm ``packages`` on an image layout: every layer's result is cached, so nothing needs a loop.

When the reference is an ``oci:`` layout and the cache holds the result of each of its tar layers,
the whole command is a few local reads: index.json, the manifest and the config (each verified
against its digest, as always), then the cache. Starting an event loop and importing asyncio, the
HTTP stack and TLS would cost more than all of that together (about 35 ms of a 100 ms command), so
this reads synchronously, through the same resolution steps (:mod:`nbcatalog.resolution`), the same
layout reader (:mod:`nbcatalog.registry.layoutread`) and the same assembly
(:mod:`nbcatalog.packages.result`) as the full read. Anything short of that (a registry reference,
one layer not cached, ``--no-cache``) answers None, and the caller does the full read, which reads
the same files again: a miss costs a few milliseconds, never a different answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from nbcatalog import limits
from nbcatalog.cache import DB_NAME, Cache
from nbcatalog.errors import NbcatalogError
from nbcatalog.oci import ImageConfig, Platform
from nbcatalog.packages.layer import decode_packages
from nbcatalog.packages.result import PACKAGES_PARSER, ImagePackages, assemble, cached_layers, tar_layers
from nbcatalog.refs import AnyRef, OciLayoutRef
from nbcatalog.registry import layoutread
from nbcatalog.resolution import Answer, Need, NeedManifest, resolve_sync


def _read(need: Need) -> Answer:
    """What a resolution step needs, from the layout's files."""
    if isinstance(need, NeedManifest):
        return layoutread.read_manifest(need.ref)
    config = need.manifest.config
    raw = layoutread.read_verified(need.pinned, config.digest, limits.current().config_bytes, config.size)
    return ImageConfig.parse(raw, digest=config.digest)


def warm_image_packages(
    ref: AnyRef, platform: Platform, cache_dir: Path | None, ecosystems: Sequence[str] | None = None
) -> ImagePackages | None:
    """The packages of layout image ``ref`` when every layer is cached under ``cache_dir``; else None."""
    if cache_dir is None or not isinstance(ref, OciLayoutRef) or not (cache_dir / DB_NAME).is_file():
        return None
    image = resolve_sync(ref, platform, _read)
    descriptors = tar_layers(image.manifest)
    try:
        cache = Cache(cache_dir)
    except NbcatalogError:
        return None  # the full read says why, once
    try:
        found = cached_layers(cache, descriptors, PACKAGES_PARSER, decode_packages)
    finally:
        cache.close()
    if any(d.digest not in found for d in descriptors):
        return None
    return assemble(ref, image, [found[d.digest] for d in descriptors], len(found), ecosystems)
