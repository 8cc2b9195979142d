"""How much disk a node needs to hold the catalog's images: shared layers counted once, by digest.

A node stores each layer blob once however many images use it, so the sum of image sizes
overstates what a pre-pulled node holds, often several times over for a catalog built on one
base. GPU images go to GPU nodes and the rest to CPU nodes (``nbcatalog.exporters.gpu``'s rules,
the prepuller's too), so each pool's figure is given apart. Both front ends call
:func:`node_disk`: ``plan``'s summary and the app's catalog screen show the same numbers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nbcatalog.errors import NbcatalogError

if TYPE_CHECKING:
    from nbcatalog.catalog import Catalog, CatalogImage
    from nbcatalog.oci import Descriptor
    from nbcatalog.resolution import ResolvedImage
    from nbcatalog.session import Session


@dataclass(frozen=True, slots=True)
class NodeDisk:
    """Compressed bytes a node needs for every image of a pool (each layer once), per pool.

    ``errors`` names the images whose current tag could not be read: their bytes are missing from
    the totals, so a figure with errors is a lower bound. ``guessed`` are ``gpu: auto`` images put in
    a pool by their name, because their config could not be read.
    """

    total_bytes: int
    gpu_bytes: int
    cpu_bytes: int
    layers: int
    gpu_images: tuple[str, ...] = ()
    cpu_images: tuple[str, ...] = ()
    errors: Mapping[str, str] = field(default_factory=dict)
    guessed: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "total_bytes": self.total_bytes,
            "gpu_bytes": self.gpu_bytes,
            "cpu_bytes": self.cpu_bytes,
            "layers": self.layers,
            "gpu_images": list(self.gpu_images),
            "cpu_images": list(self.cpu_images),
            "errors": dict(self.errors),
            "guessed": list(self.guessed),
        }


def unique_layers(layer_lists: Iterable[Sequence[Descriptor]]) -> dict[str, int]:
    """Layer digest -> compressed size over several images: what a node stores once."""
    out: dict[str, int] = {}
    for layers in layer_lists:
        for layer in layers:
            out.setdefault(layer.digest, layer.size)
    return out


def unique_bytes(layer_lists: Iterable[Sequence[Descriptor]]) -> int:
    """Compressed bytes of the distinct layers of several images (a layer shared by two counts once)."""
    return sum(unique_layers(layer_lists).values())


def node_disk_of(
    catalog: Catalog, resolved: Mapping[str, ResolvedImage], errors: Mapping[str, str] | None = None
) -> NodeDisk:
    """:class:`NodeDisk` from images already resolved (catalog name -> its current tag's image).

    Pure, for a front end that resolved the images anyway. An image missing from ``resolved`` adds
    no bytes; a ``gpu: auto`` one is then placed by its name (:func:`looks_like_cuda`), as export does.
    """
    from nbcatalog.cuda import detect_cuda_in_config
    from nbcatalog.exporters.gpu import looks_like_cuda, plan_gpu

    detected: set[str] = set()
    guessed: list[str] = []
    for image in catalog.images:
        found = resolved.get(image.name)
        if found is None:
            if image.gpu == "auto" and looks_like_cuda(image):
                detected.add(image.name)
                guessed.append(image.name)
        elif detect_cuda_in_config(found.config, tag=image.tag) is not None:
            detected.add(image.name)
    gpu_plan = plan_gpu(catalog, detected)
    gpu = [image for image in catalog.images if gpu_plan.needs_gpu(image)]
    cpu = [image for image in catalog.images if not gpu_plan.needs_gpu(image)]

    def layers_of(images: Sequence[CatalogImage]) -> list[Sequence[Descriptor]]:
        return [resolved[i.name].manifest.layers for i in images if i.name in resolved]

    every = unique_layers(layers_of(catalog.images))
    return NodeDisk(
        total_bytes=sum(every.values()),
        gpu_bytes=unique_bytes(layers_of(gpu)),
        cpu_bytes=unique_bytes(layers_of(cpu)),
        layers=len(every),
        gpu_images=tuple(image.name for image in gpu),
        cpu_images=tuple(image.name for image in cpu),
        errors=dict(errors or {}),
        guessed=tuple(guessed),
    )


async def resolve_current(session: Session, catalog: Catalog) -> tuple[dict[str, ResolvedImage], dict[str, str]]:
    """Every entry's current tag resolved for the session's platform, concurrently (the session bounds
    each host); a failure is kept as that entry's error, never raised."""

    async def one(image: CatalogImage) -> ResolvedImage | str:
        try:
            return await session.resolve(image.ref)
        except NbcatalogError as exc:
            return str(exc)

    results = await asyncio.gather(*(one(image) for image in catalog.images))
    resolved: dict[str, ResolvedImage] = {}
    errors: dict[str, str] = {}
    for image, result in zip(catalog.images, results, strict=True):
        if isinstance(result, str):
            errors[image.name] = result
        else:
            resolved[image.name] = result
    return resolved, errors


async def node_disk(session: Session, catalog: Catalog) -> NodeDisk:
    """What a node needs to hold the catalog's current tags: manifests and configs only, no layer read."""
    resolved, errors = await resolve_current(session, catalog)
    return node_disk_of(catalog, resolved, errors)
