"""What the app knows beyond the catalog file, and the domain calls that fill it in.

The screens only display this; every fact comes from the same functions the CLI commands call
(``Session.list_tags``, ``tagfamilies.newer_tags``, ``audit.collect``/``audit.audit``), so the app and
``nbcatalog audit``/``tags`` never disagree.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nbcatalog.errors import NbcatalogError

if TYPE_CHECKING:
    from nbcatalog.audit import Finding
    from nbcatalog.catalog import Catalog, CatalogDocument, CatalogImage
    from nbcatalog.profilefiles import ProfileImage
    from nbcatalog.session import Session


def read_deadline() -> float:
    """The longest the app waits for one read (a tag list, the lineage, the audit): the app's
    ``command-seconds``, as each of its reads is what a command is on the CLI. A registry that
    accepts connections and never answers surfaces sooner, at the registry layer's
    ``request-seconds`` (``nbcatalog.limits``), with the same line the CLI prints."""
    from nbcatalog import limits

    return limits.current().command_seconds


def no_answer() -> str:
    from nbcatalog import limits

    return f"no answer after {limits.name_value(limits.current(), 'command_seconds')}"


@dataclass(frozen=True, slots=True)
class TagStatus:
    """A catalog entry's repository tags as seen now; ``newer`` is oldest first, as newer_tags gives it."""

    tags: tuple[str, ...] = ()
    newer: tuple[str, ...] = ()
    error: str | None = None
    present: bool = True
    tag: str | None = None  # the entry's tag these facts were computed for (an edit makes them stale)
    host: str | None = None  # the registry asked, for the one status line per failing host

    @property
    def newest(self) -> str | None:
        return self.newer[-1] if self.newer else None


@dataclass(slots=True)
class AppFacts:
    """Everything the workers found, by catalog entry name; replaced as a whole by each worker."""

    tags: dict[str, TagStatus] = field(default_factory=dict)
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    all_findings: list[Finding] = field(default_factory=list)


def picker_order(current: str, tags: Sequence[str], policy_text: str | None) -> tuple[list[str], list[str]]:
    """(newer tags newest first, every other tag newest first): the tag picker's two groups."""
    from nbcatalog.tagfamilies import newer_tags, parse_policy

    try:
        policy = parse_policy(policy_text)
    except NbcatalogError:
        policy = parse_policy(None)
    newer = list(reversed(newer_tags(current, tags, policy=policy)))
    rest = [tag for tag in newest_first(tags) if tag not in newer]
    return newer, rest


def newest_first(tags: Iterable[str]) -> list[str]:
    """Version and date tags newest first, then the rest by name (:func:`nbcatalog.taglist.newest_first`)."""
    from nbcatalog.taglist import newest_first as order

    return order(tags)


async def tag_status(session: Session, image: CatalogImage) -> TagStatus:
    """One entry's tags and the newer ones under its tag_policy; a registry error is kept, not raised."""
    from nbcatalog.tagfamilies import newer_tags, parse_policy

    host = image.ref.registry
    try:
        async with asyncio.timeout(read_deadline()):
            tags = await session.list_tags(image.ref.repo_only())
    except TimeoutError:
        return TagStatus(error=no_answer(), tag=image.tag, host=host)
    except NbcatalogError as exc:
        return TagStatus(error=str(exc), tag=image.tag, host=host)
    try:
        policy = parse_policy(image.tag_policy)
    except NbcatalogError:
        policy = parse_policy(None)
    newer = newer_tags(image.tag, tags, policy=policy)
    return TagStatus(tuple(tags), tuple(newer), present=image.tag in tags, tag=image.tag, host=host)


def host_problems(tags: dict[str, TagStatus]) -> dict[str, str]:
    """One line per failing registry host (not one per image): what the status bar shows."""
    out: dict[str, str] = {}
    for status in tags.values():
        if status.error and status.host and status.host not in out:
            out[status.host] = status.error
    return out


async def all_tag_status(session: Session, catalog: Catalog) -> dict[str, TagStatus]:
    results = await asyncio.gather(*(tag_status(session, image) for image in catalog.images))
    return {image.name: status for image, status in zip(catalog.images, results, strict=True)}


async def audit_catalog(session: Session, document: CatalogDocument) -> list[Finding]:
    """``nbcatalog audit`` over the catalog as edited (not as saved) plus profiles/ beside it."""
    from nbcatalog.audit import audit, collect
    from nbcatalog.profilefiles.model import ProfileRead
    from nbcatalog.profilefiles.reader import read_profiles

    records = _catalog_records(document)
    profiles = document.path.resolve().parent / "profiles"
    others = read_profiles([profiles]) if profiles.is_dir() else ProfileRead()
    everything = records + others.records
    view = await collect(session, everything, cache_dir=session.options.cache_dir)
    # the catalog's policy judges the app's findings as it judges `nbcatalog audit`'s
    return audit(everything, view, catalog=records, unread=others.unread, policy=document.catalog.policy)


def findings_by_entry(document: CatalogDocument, findings: Sequence[Finding]) -> dict[str, list[Finding]]:
    """Findings about the catalog file itself, keyed by the entry whose lines they point at."""
    records = _catalog_records(document)
    by_line = {record.line: record.catalog_name for record in records if record.catalog_name}
    out: dict[str, list[Finding]] = {}
    for finding in findings:
        name = by_line.get(finding.line) if finding.path == str(document.path) else None
        if name is not None:
            out.setdefault(name, []).append(finding)
    return out


def _catalog_records(document: CatalogDocument) -> list[ProfileImage]:
    """The catalog's images as audit records; a catalog with no images yet (an admin starting out)
    is no profile file to audit, not an error."""
    from nbcatalog.profilefiles import read_profile_text

    if not document.catalog.images:
        return []
    return read_profile_text(document.text(), str(document.path))


def default_name(repository: str) -> str:
    """A catalog name proposed for a new repository: its last path part, lowercased and slugged."""
    last = repository.rstrip("/").rsplit("/", 1)[-1].removeprefix("oci:")
    slug = re.sub(r"[^a-z0-9._-]+", "-", last.lower()).strip("-._")
    return slug[:63] or "image"
