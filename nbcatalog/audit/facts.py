"""What the audit knows about an image beyond its tags, and where that knowledge comes from.

A :class:`FactSource` reads it through the session: :class:`ConfigFacts` (CUDA and Kubeflow readiness
from each config), :class:`LineageFacts` (plus ``stale-base``), or :class:`NoFacts` (``--tags-only``).
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from nbcatalog.errors import NbcatalogError, NotFoundError
from nbcatalog.policy import PolicyFacts, facts_from_image

if TYPE_CHECKING:
    from nbcatalog.refs import AnyRef
    from nbcatalog.session import Session


@dataclass(frozen=True, slots=True)
class ImageFacts:
    """What is known about one image beyond its tags (``None``: not known, so no finding)."""

    cuda: bool | None = None
    kubeflow_problems: tuple[str, ...] | None = None  # () = ready
    stale_base: str | None = None  # message, e.g. "built on jupyter:v1.9.0; the catalog has v1.10.0"
    stale_base_current: str | None = None  # the parent it was built on, e.g. "jupyter:v1.9.0"
    stale_base_suggested: str | None = None  # the catalog's parent to rebuild on, e.g. "jupyter:v1.10.0"
    created: datetime.datetime | None = None  # the config's, for "days behind"
    policy: PolicyFacts | None = None  # what catalog.yaml ``policy:`` judges (platforms, created, Kubeflow)


#: Tags listed in this run by repository name (None: no such repository), for sources that need them.
ListedTags = Mapping[str, Sequence[str] | None]


class FactSource(Protocol):
    """Supplies :class:`ImageFacts` (lineage, CUDA, Kubeflow readiness) for ``repo:tag`` keys."""

    async def facts(
        self, session: Session, refs: Sequence[AnyRef], listed: ListedTags | None = None
    ) -> Mapping[str, ImageFacts]: ...


class NoFacts:
    """``--tags-only``: no image configs read, so no GPU, Kubeflow or lineage findings."""

    async def facts(
        self, session: Session, refs: Sequence[AnyRef], listed: ListedTags | None = None
    ) -> Mapping[str, ImageFacts]:
        return {}


class ConfigFacts:
    """Default facts from each image's config: CUDA (nbcatalog.cuda), Kubeflow's requirements and what
    the catalog's ``policy:`` judges (platforms offered, created), read once for all of them."""

    async def facts(
        self, session: Session, refs: Sequence[AnyRef], listed: ListedTags | None = None
    ) -> Mapping[str, ImageFacts]:
        from nbcatalog.cuda import detect_cuda_in_config
        from nbcatalog.kubeflowreq import check_kubeflow

        async def one(ref: AnyRef) -> tuple[str, ImageFacts] | None:
            try:
                image = await session.resolve(ref)
            except NotFoundError:
                offered = await index_platforms(session, ref)
                return None if offered is None else (image_key(ref), ImageFacts(policy=PolicyFacts(offered)))
            except NbcatalogError:
                return None
            cuda = detect_cuda_in_config(image.config, tag=ref.tag) is not None
            report = check_kubeflow(image.config, None)
            problems = tuple(f"{r.description} ({r.evidence})" for r in report.failures)
            created = parse_time(image.config.created)
            policy = facts_from_image(image)
            return image_key(ref), ImageFacts(cuda=cuda, kubeflow_problems=problems, created=created, policy=policy)

        results = await asyncio.gather(*(one(ref) for ref in refs))
        return dict(result for result in results if result is not None)


class LineageFacts:
    """ConfigFacts plus ``stale-base`` from nbcatalog.lineage for the catalog's own images (lazily: only
    the parent repositories' tags it needs, newest first)."""

    def __init__(self, catalog_path: str | Path) -> None:
        self.catalog_path = catalog_path

    async def facts(
        self, session: Session, refs: Sequence[AnyRef], listed: ListedTags | None = None
    ) -> Mapping[str, ImageFacts]:
        from dataclasses import replace

        from nbcatalog.catalog import load_catalog
        from nbcatalog.lineage import catalog_lineage

        found = dict(await ConfigFacts().facts(session, refs))
        run = await catalog_lineage(session, load_catalog(self.catalog_path).images, listed=listed)
        by_name = {entry.name: entry for entry in run.entries}
        for entry in run.entries:
            parent = by_name.get(entry.inferred_parent or "")
            for issue in entry.issues:
                if issue.kind == "stale-base" and entry.base is not None and parent is not None:
                    key = f"{entry.image.repository}:{entry.image.tag}"
                    found[key] = replace(
                        found.get(key, ImageFacts()),
                        stale_base=issue.message,
                        stale_base_current=f"{parent.name}:{entry.base.tag}",
                        stale_base_suggested=f"{parent.name}:{parent.image.tag}",
                    )
        return found


async def index_platforms(session: Session, ref: AnyRef) -> tuple[str, ...] | None:
    """The platforms an index offers when it has none for the session's platform (so it did not
    resolve): an arm64-only image still breaks ``policy.platforms`` [linux/amd64]. None: not an index."""
    from nbcatalog.oci import ImageIndex

    try:
        top = await session.get_manifest(ref)
        return tuple(ImageIndex.parse(top).platforms()) if top.is_index else None
    except NbcatalogError:
        return None


def image_key(ref: AnyRef) -> str:
    """``registry/repository:tag``, the key facts, digests and findings share (no tag means latest)."""
    return f"{ref.name}:{ref.tag or 'latest'}"


def parse_time(text: str | None) -> datetime.datetime | None:
    """An image config's ``created`` as an aware datetime; anything unreadable is not known."""
    if not text:
        return None
    try:
        value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
