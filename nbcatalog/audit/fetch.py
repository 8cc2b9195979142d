"""The audit's I/O: what the registries say about the references the profiles use.

Each distinct repository's tags are listed once per run, concurrently through the Session, and kept
for a few minutes in the cache directory; images are resolved once each, only where a rule needs them.

A registry host is asked by one listing first and by the rest of its repositories only after that:
a host that turns out unreachable (its name does not resolve, its ``/v2/`` does not connect) is then
not asked again this run, and is one ``unreachable`` entry instead of an error per repository. An
offline audit of many files used to spend nearly all its time resolving dead names again and again.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from nbcatalog.audit.facts import ConfigFacts, FactSource, NoFacts, image_key, parse_time
from nbcatalog.audit.rules import RegistryView
from nbcatalog.errors import NbcatalogError, NotFoundError, UnreachableHostError
from nbcatalog.profilefiles import ProfileImage
from nbcatalog.refs import AnyRef, parse_reference
from nbcatalog.tagfamilies import classify, newer_tags

if TYPE_CHECKING:
    from nbcatalog.session import Session

TAG_CACHE_SECONDS = 300
MAX_BUILD_TAGS = 100  # build tags resolved per repository to order master-<hex>/sha-<hex> by date


async def collect(
    session: Session,
    records: Sequence[ProfileImage],
    *,
    fact_source: FactSource | None = None,
    cache_dir: Path | None = None,
) -> RegistryView:
    """List each distinct repository once (concurrently), resolve what the rules need, gather facts."""
    refs: dict[str, AnyRef] = {}
    pinned: set[str] = set()
    for record in records:
        if record.template:
            continue
        try:
            ref = parse_reference(record.image)
        except NbcatalogError:
            continue
        refs.setdefault(image_key(ref), ref)
        if record.pinned_digest or ref.digest:  # catalog ``digest:``, or ``repo:tag@sha256:…`` in a profile
            pinned.add(image_key(ref))
    repos = {ref.name: ref.repo_only() for ref in refs.values()}
    cache = _TagCache(cache_dir)
    hosts = _Hosts()
    try:
        listed = await asyncio.gather(*(_list(session, repo, cache, hosts) for repo in repos.values()))
    finally:
        cache.close()
    tags: dict[str, Sequence[str] | None] = {}
    errors: dict[str, str] = {}
    for (name, repo), (found, error) in zip(repos.items(), listed, strict=True):
        tags[name] = found
        if error and repo.registry not in hosts.unreachable:
            errors[name] = error
    present = [ref for ref in refs.values() if ref.tag and ref.tag in (tags.get(ref.name) or ())]
    digests = dict(await _digests(session, [ref for ref in present if image_key(ref) in pinned]))
    created = await _build_dates(session, [ref for ref in present if classify(ref.tag or "").kind == "build"], tags)
    source = fact_source or ConfigFacts()
    facts = await source.facts(session, present, tags)  # lineage scans reuse the tags listed here
    if not isinstance(source, NoFacts):  # reading configs anyway: date semver releases too, for "days behind"
        semver = [ref for ref in present if classify(ref.tag or "").kind == "semver"]
        for ref in semver:
            when = facts[image_key(ref)].created if image_key(ref) in facts else None
            if when is not None:
                created.setdefault(ref.name, {})[ref.tag or ""] = when
        for name, dates in (await _release_dates(session, semver, tags, created)).items():
            created.setdefault(name, {}).update(dates)
    return RegistryView(tags, errors, digests, created, facts, unreachable=dict(hosts.unreachable))


async def _release_dates(
    session: Session,
    refs: Sequence[AnyRef],
    tags: Mapping[str, Sequence[str] | None],
    known: Mapping[str, Mapping[str, datetime.datetime]],
) -> dict[str, dict[str, datetime.datetime]]:
    """``created`` of each semver tag in use and of the newest release of its family (unless known)."""
    wanted = {(ref.name, ref.tag or "") for ref in refs}
    for ref in refs:
        newer = newer_tags(ref.tag or "", tags.get(ref.name) or ())
        if newer:
            wanted.add((ref.name, newer[-1]))
    wanted = {(name, tag) for name, tag in wanted if tag not in known.get(name, {})}
    by_name = {ref.name: ref for ref in refs}
    return await _dates(session, by_name, sorted(wanted))


async def _dates(
    session: Session, by_name: Mapping[str, AnyRef], wanted: Sequence[tuple[str, str]]
) -> dict[str, dict[str, datetime.datetime]]:
    async def one(name: str, tag: str) -> tuple[str, str, datetime.datetime | None]:
        try:
            image = await session.resolve(by_name[name].with_tag(tag))
        except NbcatalogError:
            return name, tag, None
        return name, tag, parse_time(image.config.created)

    out: dict[str, dict[str, datetime.datetime]] = {}
    for name, tag, when in await asyncio.gather(*(one(name, tag) for name, tag in wanted)):
        if when is not None:
            out.setdefault(name, {})[tag] = when
    return out


class _Hosts:
    """Per registry host (as references spell it), for one run: who asks first, and who is unreachable.

    The first listing of a host that needs the network goes alone and the others wait for it: one
    round trip later for a healthy host (whose ``/v2/`` ping they would have waited for anyway), and
    for a dead one a single name lookup or connection attempt (with its retries) instead of one per
    repository.
    """

    def __init__(self) -> None:
        self.first: dict[str, asyncio.Event] = {}
        #: host -> a few words why, for ``RegistryView.unreachable``.
        self.unreachable: dict[str, str] = {}


async def _list(
    session: Session, repo: AnyRef, cache: _TagCache, hosts: _Hosts
) -> tuple[Sequence[str] | None, str | None]:
    cached = cache.get(repo.name)
    if cached is not None:
        return cached, None
    host = repo.registry
    first = hosts.first.get(host)
    if first is None:
        hosts.first[host] = first = asyncio.Event()
        try:
            return await _ask(session, repo, cache, hosts)
        finally:
            first.set()
    await first.wait()
    if host in hosts.unreachable:
        return (), None  # not asked: the host's one entry in ``unreachable`` speaks for it
    return await _ask(session, repo, cache, hosts)


async def _ask(
    session: Session, repo: AnyRef, cache: _TagCache, hosts: _Hosts
) -> tuple[Sequence[str] | None, str | None]:
    try:
        found = await session.list_tags(repo)
    except NotFoundError:
        return None, None
    except UnreachableHostError as exc:
        hosts.unreachable.setdefault(repo.registry, exc.reason)
        return (), None
    except NbcatalogError as exc:
        return (), f"cannot list tags: {exc}"
    cache.put(repo.name, found)
    return found, None


async def _digests(session: Session, refs: Sequence[AnyRef]) -> list[tuple[str, str]]:
    """Where each tag points now; a reference's own ``@digest`` is dropped, or it would be the answer."""

    async def one(ref: AnyRef) -> tuple[str, str] | None:
        try:
            return image_key(ref), await session.resolve_digest(ref.with_tag(ref.tag or "latest"))
        except NbcatalogError:
            return None

    return [pair for pair in await asyncio.gather(*(one(ref) for ref in refs)) if pair is not None]


async def _build_dates(
    session: Session, refs: Sequence[AnyRef], tags: Mapping[str, Sequence[str] | None]
) -> dict[str, dict[str, datetime.datetime]]:
    """Build tags have no order but their images' ``created``: resolve the family's tags for it."""
    wanted: dict[str, set[str]] = {}
    for ref in refs:
        family = classify(ref.tag or "").family
        same = [t for t in tags.get(ref.name) or () if classify(t).family == family]
        wanted.setdefault(ref.name, set()).update(same[-MAX_BUILD_TAGS:])
    by_name = {ref.name: ref for ref in refs}
    return await _dates(session, by_name, [(name, tag) for name, names in wanted.items() for tag in sorted(names)])


async def family_dates(session: Session, ref: AnyRef, tags: Sequence[str]) -> dict[str, datetime.datetime]:
    """The ``created`` dates that order ``ref``'s tag family, read as the audit reads them: only build
    tags need any (versions and dates order themselves), so ``plan`` picks the tag audit suggests."""
    if classify(ref.tag or "").kind != "build":
        return {}
    return (await _build_dates(session, [ref], {ref.name: tags})).get(ref.name, {})


class _TagCache:
    """Tag lists kept for :data:`TAG_CACHE_SECONDS` in the shared SQLite cache (its key/value table):
    a second audit right after the first is instant, and concurrent runs share it safely."""

    NAMESPACE = "audit-tags"

    def __init__(self, cache_dir: Path | None) -> None:
        from nbcatalog.cache import Cache

        self._cache = Cache.open_or_warn(cache_dir, "tag list")

    def get(self, name: str) -> list[str] | None:
        found = self._cache.get_json(self.NAMESPACE, name) if self._cache else None
        return [str(tag) for tag in found] if isinstance(found, list) else None

    def put(self, name: str, tags: list[str]) -> None:
        if self._cache is not None:
            self._cache.put_json(self.NAMESPACE, name, tags, ttl=TAG_CACHE_SECONDS)

    def close(self) -> None:
        """Entries are written as they come; this only lets go of the database."""
        if self._cache is not None:
            self._cache.close()
