"""``pin: digest``: the digests an export records in catalog.yaml before it writes ``repo:tag@sha256:…``.

A pin is taken once, when an entry has none, and is then the catalog's: an export never moves a
recorded digest to where its tag points now (a tag that moved is ``audit``'s finding, and
``audit --fix`` re-pins on purpose). Every digest is resolved before anything is written, so a
registry that cannot be reached leaves catalog.yaml and profiles/ exactly as they were.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from nbcatalog.catalog.model import EXPORT_FORMATS, Catalog, CatalogImage
from nbcatalog.errors import NbcatalogError, RegistryError

if TYPE_CHECKING:
    from nbcatalog.catalog.document import CatalogDocument
    from nbcatalog.session import Session


def missing_pins(catalog: Catalog, formats: Sequence[str]) -> list[CatalogImage]:
    """Entries with ``pin: digest`` and no ``digest:`` that one of ``formats`` writes.

    An entry no format at hand offers (``hidden: true``, or ``exports:`` elsewhere) is left for the
    export that writes it: pinning it would ask its registry for nothing this export needs.
    """
    return [image for image in catalog.images if image.pins_digest and not image.digest and _written(image, formats)]


def _written(image: CatalogImage, formats: Sequence[str]) -> bool:
    # a format beyond the catalog's ``exports:`` choices (the prepuller) writes what any spawner offers
    wanted = set(EXPORT_FORMATS) if set(formats) - set(EXPORT_FORMATS) else set(formats)
    return any(image.offered_in(f) for f in wanted)


async def resolve_pins(session: Session, images: Sequence[CatalogImage]) -> dict[str, str]:
    """``{name: digest}``: what each image's tag points at now (a multi-arch tag's index digest,
    which is what a node pulls and resolves to its own platform). The first failure names its
    reference and no pin is kept."""

    async def one(image: CatalogImage) -> tuple[str, str]:
        try:
            return image.name, await session.resolve_digest(image.ref)
        except NbcatalogError as exc:
            detail = exc.message if exc.where in (None, str(image.ref), image.reference) else str(exc)
            raise RegistryError(f"cannot resolve the digest to pin: {detail}", where=image.reference) from None

    return dict(await asyncio.gather(*(one(image) for image in images)))


def record_pins(path: str | Path, pins: Mapping[str, str]) -> CatalogDocument:
    """catalog.yaml with ``digest:`` set on each pinned entry, validated but not yet saved.

    The round-trip document keeps the admin's comments, quoting and key order; ``save()`` is atomic.
    """
    from nbcatalog.catalog.document import CatalogDocument

    document = CatalogDocument.load(path)
    for name, digest in pins.items():
        document.set_field(name, "digest", digest)
    return document
