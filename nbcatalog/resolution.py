"""Resolving a reference to one platform's manifest and config, written once for every way of reading.

The steps (read the top manifest, follow an index to the wanted platform, read the config) are a
generator that asks for what it needs and is handed the answer: the session drives it with async
registry reads, a warm command on an image layout (:mod:`nbcatalog.packages.warm`) with plain file
reads. So both choose the same platform, skip the same attestations and name the same image in
their errors, and neither re-derives the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass

from nbcatalog.errors import NbcatalogError, NotFoundError
from nbcatalog.oci import ImageConfig, ImageIndex, ImageManifest, ManifestBlob, Platform
from nbcatalog.refs import AnyRef, ImageRef


@dataclass(frozen=True, slots=True)
class ResolvedImage:
    """An image reference resolved down to one platform's manifest and config."""

    ref: AnyRef
    digest: str
    media_type: str
    platforms: list[str]
    manifest_digest: str
    manifest: ImageManifest
    config: ImageConfig
    config_digest: str

    @property
    def platform(self) -> str:
        return str(self.config.platform)

    @property
    def pinned(self) -> AnyRef:
        """The reference pinned to the selected platform's manifest (for layer reads)."""
        return self.ref.with_digest(self.manifest_digest)


@dataclass(frozen=True, slots=True)
class NeedManifest:
    """The step wants the manifest (or index) ``ref`` names."""

    ref: AnyRef


@dataclass(frozen=True, slots=True)
class NeedConfig:
    """The step wants the config of ``manifest``, read through ``pinned``."""

    pinned: AnyRef
    manifest: ImageManifest


Need = NeedManifest | NeedConfig
#: What a driver sends back: the manifest for a :class:`NeedManifest`, the config for a :class:`NeedConfig`.
Answer = ManifestBlob | ImageConfig
Steps = Generator[Need, Answer, ResolvedImage]


def pin(ref: AnyRef, digest: str) -> AnyRef:
    """``ref`` by digest; registry refs drop the tag (skopeo refuses tag+digest)."""
    if isinstance(ref, ImageRef):
        return ImageRef(ref.registry, ref.repository, None, digest)
    return ref.with_digest(digest)


def resolve_steps(ref: AnyRef, wanted: Platform) -> Steps:
    """Follow an index to the ``wanted`` platform (attestations skipped) and read the config."""
    top = yield NeedManifest(ref)
    assert isinstance(top, ManifestBlob)
    platforms: list[str] = []
    if top.is_index:
        index = ImageIndex.parse(top)
        platforms = index.platforms()
        chosen = index.select(wanted)
        if chosen is None:
            offered = ", ".join(platforms) or "none"
            raise NotFoundError(f"no image for platform {wanted} (the index has: {offered})", where=str(ref))
        manifest_blob = yield NeedManifest(pin(ref, chosen.digest))
        assert isinstance(manifest_blob, ManifestBlob)
    else:
        manifest_blob = top
    manifest = ImageManifest.parse(manifest_blob)
    config = yield NeedConfig(pin(ref, manifest_blob.digest), manifest)
    assert isinstance(config, ImageConfig)
    return ResolvedImage(
        ref=ref,
        digest=top.digest,
        media_type=top.effective_media_type,
        platforms=platforms or [str(config.platform)],
        manifest_digest=manifest_blob.digest,
        manifest=manifest,
        config=config,
        config_digest=manifest.config.digest,
    )


def name_the_image(exc: NbcatalogError, ref: AnyRef) -> None:
    """A malformed manifest or config names the image it belongs to."""
    if exc.where is None:
        exc.where = str(ref)


def resolve_sync(ref: AnyRef, wanted: Platform, answer: Callable[[Need], Answer]) -> ResolvedImage:
    """Drive :func:`resolve_steps` with a synchronous ``answer`` for each need."""
    steps = resolve_steps(ref, wanted)
    try:
        need = next(steps)
        while True:
            need = steps.send(answer(need))
    except StopIteration as done:
        resolved: ResolvedImage = done.value
        return resolved
    except NbcatalogError as exc:
        name_the_image(exc, ref)
        raise
