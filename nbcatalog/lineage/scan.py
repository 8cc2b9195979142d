"""Lineage's I/O: fetch only the chains the answer needs, through a session, concurrently.

Every entry's own chain first; then per entry only the repositories that may hold a closer ancestor,
each (repository, tag) fetched at most once per run and tried newest version tag first.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nbcatalog.lineage.core import (
    BaseMatch,
    Chain,
    Issue,
    LineageEntry,
    LineageImage,
    is_ancestor,
    is_moving,
    judge,
    own_ancestors,
    repositories_to_search,
    scan_order,
    with_ancestors,
    with_parent_cuda,
)

if TYPE_CHECKING:
    from nbcatalog.cache import Cache
    from nbcatalog.catalog import CatalogImage
    from nbcatalog.oci import Platform
    from nbcatalog.refs import AnyRef
    from nbcatalog.session import Session

log = logging.getLogger("nbcatalog")


class ChainStore:
    """Chains by top digest and platform: in memory for the run, and in the SQLite cache when the
    session has one (a digest names immutable content, so entries never expire)."""

    NAMESPACE = "lineage-chain"

    def __init__(self, cache: Cache | None = None) -> None:
        self._memory: dict[str, Chain] = {}
        self._cache = cache
        #: Chains stored by an earlier run make a HEAD (tag -> digest) worth trying before a GET.
        self.warm = cache is not None and cache.get_json(self.NAMESPACE, "") is not None

    def get(self, key: str) -> Chain | None:
        if key in self._memory or self._cache is None:
            return self._memory.get(key)
        value = self._cache.get_json(self.NAMESPACE, key)
        if not isinstance(value, dict):
            return None
        chain = Chain(str(value["digest"]), tuple(str(d) for d in value["diff_ids"]), str(value["platform"]))
        self._memory[key] = chain
        return chain

    def put(self, key: str, chain: Chain, *, persist: bool = True) -> None:
        self._memory[key] = chain
        if not persist:
            return
        if self._cache is not None:
            doc = {"digest": chain.digest, "diff_ids": list(chain.diff_ids), "platform": chain.platform}
            self._cache.put_json(self.NAMESPACE, key, doc)
            if not self.warm:
                self._cache.put_json(self.NAMESPACE, "", True)
        self.warm = True


class ChainSource:
    """Chains of ``repo:tag`` on one platform, each fetched at most once per run."""

    def __init__(self, session: Session, platform: Platform, store: ChainStore | None = None) -> None:
        self.session = session
        self.platform = platform
        self.store = store if store is not None else ChainStore()
        self.head_first = self.store.warm
        self._tasks: dict[str, asyncio.Future[Chain | None]] = {}
        self.fetched = 0

    async def chain(self, ref: AnyRef) -> Chain | None:
        """The chain ``ref`` (a tag) points at, or None when the tag or its platform is missing."""
        key = str(ref)
        if key not in self._tasks:
            self._tasks[key] = asyncio.ensure_future(self._fetch(ref))
        return await self._tasks[key]

    async def _fetch(self, ref: AnyRef) -> Chain | None:
        from nbcatalog.errors import NbcatalogError, NotFoundError

        self.fetched += 1
        try:
            if self.head_first:
                digest = await self.session.resolve_digest(ref)
                cached = self.store.get(f"{digest}|{self.platform}")
                if cached is not None:
                    return cached
                ref = ref.with_digest(digest)
            resolved = await self.session.resolve(ref, self.platform)
        except NotFoundError:
            return None
        except NbcatalogError as exc:  # one bad tag must not sink the whole tree
            log.warning("lineage: skipping %s: %s", ref, exc)
            return None
        if not resolved.config.platform.matches(self.platform):
            return None  # a single-platform image of another platform
        chain = Chain(resolved.manifest_digest, resolved.config.diff_ids, resolved.platform)
        self.store.put(f"{resolved.digest}|{self.platform}", chain)
        return chain


class RepoScan:
    """One repository's tags, tried lazily in :func:`scan_order`, shared by every child that asks."""

    def __init__(
        self, source: ChainSource, repo: AnyRef, tags: Sequence[str] | None = None, *, limit: int | None = None
    ) -> None:
        self.source = source
        self.repo = repo.repo_only()
        #: Tags tried per child at most (``limits.lineage_scan_tags``; None with ``--exhaustive``): a
        #: 20,000-tag parent with no match would otherwise cost 20,000 manifest and config reads.
        self.limit = limit
        #: (tried, listed) of the last :meth:`find` that stopped at ``limit`` without a match.
        self.cut_short: tuple[int, int] | None = None
        self._tags: asyncio.Future[list[str]] | None = None
        if tags is not None:  # listed by the caller already
            self._tags = asyncio.get_running_loop().create_future()
            self._tags.set_result(list(tags))

    async def tags(self) -> list[str]:
        """The tags in scan order; none when the repository cannot be listed (it is then reported
        through the entry that names it, which cannot be resolved either)."""
        if self._tags is None:
            self._tags = asyncio.ensure_future(self._list())
        return scan_order(await self._tags)

    async def _list(self) -> list[str]:
        from nbcatalog.errors import NbcatalogError

        try:
            return await self.source.session.list_tags(self.repo)
        except NbcatalogError as exc:
            log.warning("lineage: cannot list %s: %s", self.repo, exc)
            return []

    async def find(self, child: Chain, first_batch: int = 2) -> BaseMatch | None:
        """The first tag (in scan order) that is an ancestor of ``child``; batches grow 2, 4, 8 ..."""
        listed = await self.tags()
        tags = listed if self.limit is None else listed[: self.limit]
        start, size = 0, first_batch
        while start < len(tags):
            batch = tags[start : start + size]
            chains = await asyncio.gather(*(self.source.chain(self.repo.with_tag(tag)) for tag in batch))
            for tag, chain in zip(batch, chains, strict=True):
                if chain is not None and is_ancestor(chain.diff_ids, child.diff_ids):
                    return BaseMatch(str(self.repo), tag, chain)
            start, size = start + size, min(size * 2, 32)
        if len(tags) < len(listed):
            self.cut_short = (len(tags), len(listed))
        return None

    def cut_short_issue(self) -> Issue | None:
        """What an entry says when this repository was not searched to its end."""
        if self.cut_short is None:
            return None
        from nbcatalog import limits

        tried, listed = self.cut_short
        what = f"tried {tried} of the {listed} tags of {self.repo} without finding an ancestor"
        return Issue("scan-cut-short", limits.current().reached("lineage_scan_tags", what) + " or --exhaustive", "info")


@dataclass(slots=True)
class LineageRun:
    """A lineage answer with what it cost."""

    entries: list[LineageEntry]
    platform: str
    platforms: dict[str, list[str]]  # entry name -> the platforms its image offers
    chains_fetched: int = 0
    requests: dict[str, int] = field(default_factory=dict)


async def _own_image(source: ChainSource, image: CatalogImage) -> tuple[LineageImage, list[str]]:
    from nbcatalog.cuda import detect_cuda_in_config
    from nbcatalog.errors import NbcatalogError

    ref = image.ref
    repository = str(ref.repo_only())
    try:
        resolved = await source.session.resolve(ref, source.platform)
    except NbcatalogError as exc:
        return LineageImage(image.name, repository, image.tag, image.parent, None, str(exc)), []
    if not resolved.config.platform.matches(source.platform):
        error = f"the image is {resolved.config.platform} only"
        return LineageImage(image.name, repository, image.tag, image.parent, None, error), resolved.platforms
    chain = Chain(resolved.manifest_digest, resolved.config.diff_ids, resolved.platform)
    # catalog images are resolved whole every run (their configs give CUDA): kept for this run only
    source.store.put(f"{resolved.digest}|{source.platform}", chain, persist=False)
    cuda = detect_cuda_in_config(resolved.config, tag=image.tag)
    lineage_image = LineageImage(image.name, repository, image.tag, image.parent, chain, cuda=cuda)
    return lineage_image, list(resolved.platforms)


async def _search(
    image: LineageImage, images: Sequence[LineageImage], scans: Mapping[str, RepoScan], exhaustive: bool
) -> LineageEntry:
    if image.chain is None:
        return judge(image, {}, images)
    chain = image.chain
    matches: dict[str, BaseMatch] = {}
    searched: set[str] = set()
    own = own_ancestors(image, images)
    for ancestor in own:
        if ancestor.chain is not None and ancestor.repository not in matches:
            matches[ancestor.repository] = BaseMatch(ancestor.repository, ancestor.tag, ancestor.chain)
    if own and is_moving(own[0].tag):  # look for a version tag naming the same parent image
        alias = await scans[own[0].repository].find(chain)
        current = matches[own[0].repository]
        if alias is not None and alias.depth >= current.depth:
            matches[own[0].repository] = alias

    cut: list[Issue] = []
    unfinished: set[str] = set()

    async def try_repo(repository: str) -> None:
        scan = scans[repository]
        found = await scan.find(chain)
        issue = scan.cut_short_issue() if found is None else None
        if issue is not None:  # not searched to its end: no verdict that its images are no ancestors
            cut.append(issue)
            unfinished.add(repository)  # nor asked again in this entry's search
        elif found is None:
            searched.add(repository)
        else:
            matches[repository] = found

    declared = next((o for o in images if o.name == image.declared_parent), None)
    first = [declared.repository] if declared and declared.repository != image.repository else []
    if exhaustive:
        first += [r for r in scans if r != image.repository]
    for repository in dict.fromkeys(first):
        if repository not in matches:
            await try_repo(repository)
    while True:
        depth = max((m.depth for m in matches.values()), default=0)
        pending = [
            repository
            for repository, _ in repositories_to_search(image, images, depth)
            if repository not in matches and repository not in searched and repository not in unfinished
        ]
        if not pending:
            break
        await try_repo(pending[0])
    entry = judge(image, matches, images, searched)
    return dataclasses.replace(entry, issues=(*entry.issues, *cut)) if cut else entry


async def catalog_lineage(
    session: Session,
    catalog_images: Sequence[CatalogImage],
    *,
    platform: Platform | None = None,
    store: ChainStore | None = None,
    exhaustive: bool = False,
    listed: Mapping[str, Sequence[str] | None] | None = None,
) -> LineageRun:
    """Lineage of the catalog's images on one platform (default: the session's).

    First every entry's own chain (concurrently), then per entry only the repositories that may hold
    a closer ancestor, each tried newest version tag first and stopped at the first match.
    ``exhaustive`` tries every catalog repository for every entry (the naive, complete answer).
    ``listed``: tags already listed in this run by repository name (the audit's), not asked again.
    """
    wanted = platform or session.options.platform
    cache = None if store is not None else _cache_for(session)
    try:
        source = ChainSource(session, wanted, store if store is not None else ChainStore(cache))
        return await _catalog_lineage(session, source, catalog_images, exhaustive, listed or {})
    finally:
        if cache is not None:
            cache.close()


async def find_base(
    session: Session, ref: AnyRef, parent: AnyRef, *, platform: Platform | None = None
) -> BaseMatch | None:
    """Which tag of ``parent``'s repository any image ``ref`` was built on (its ``base_reference``):
    the first tag, newest version first, whose layer chain is a strict prefix of ``ref``'s; None when
    no tag is. Chains are cached by digest like the catalog's lineage."""
    wanted = platform or session.options.platform
    resolved = await session.resolve(ref, wanted)
    child = Chain(resolved.manifest_digest, resolved.config.diff_ids, resolved.platform)
    tags = await session.list_tags(parent.repo_only())  # a missing repository is an error, not "no base"
    cache = _cache_for(session)
    try:
        from nbcatalog import limits

        scan = RepoScan(
            ChainSource(session, wanted, ChainStore(cache)), parent, tags, limit=limits.current().lineage_scan_tags
        )
        found = await scan.find(child)
        issue = scan.cut_short_issue() if found is None else None
        if issue is not None:
            log.warning("lineage: %s", issue.message)
        return found
    finally:
        if cache is not None:
            cache.close()


def _cache_for(session: Session) -> Cache | None:
    from nbcatalog.cache import Cache

    return Cache.open_or_warn(session.options.cache_dir, "lineage")


async def _catalog_lineage(
    session: Session,
    source: ChainSource,
    catalog_images: Sequence[CatalogImage],
    exhaustive: bool,
    listed: Mapping[str, Sequence[str] | None],
) -> LineageRun:
    own = await asyncio.gather(*(_own_image(source, image) for image in catalog_images))
    images = [lineage_image for lineage_image, _ in own]
    scans: dict[str, RepoScan] = {}
    from nbcatalog import limits

    limit = None if exhaustive else limits.current().lineage_scan_tags
    for catalog_image, lineage_image in zip(catalog_images, images, strict=True):
        if lineage_image.repository not in scans:
            name = catalog_image.ref.name
            known = (listed[name] or ()) if name in listed else None
            scans[lineage_image.repository] = RepoScan(source, catalog_image.ref, known, limit=limit)
    entries = list(await asyncio.gather(*(_search(image, images, scans, exhaustive) for image in images)))
    entries = with_ancestors(with_parent_cuda(entries))
    platforms = {image.name: offered for image, (_, offered) in zip(images, own, strict=True)}
    return LineageRun(entries, str(source.platform), platforms, source.fetched, dict(session.request_stats))
