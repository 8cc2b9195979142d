"""What moving a catalog image to its next tag costs and changes: the upgrade plan.

An admin bumping ``v1.9.0`` to ``v1.10.0`` wants to know, before users notice: how much every node
downloads (the candidate's layers the current tag does not already have), which packages change
(the ``diff`` machinery, layer results cached in SQLite, so planning again reads no layer), whether
CUDA or the NVIDIA driver it needs moves, whether the image stays Kubeflow-ready and passes the
catalog's policy, and so whether the move is *risky*. The candidate is the tag audit's
``stale-tag`` finding suggests (:func:`nbcatalog.tagfamilies.newest_update`), or one the caller names.

Both front ends call :func:`plan_image` / :func:`plan_catalog`: ``nbcatalog plan`` prints the result,
the app shows it when the admin picks a new tag. A registry that fails costs only its own image's plan.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nbcatalog.diff import CHANGE_KINDS, Change
from nbcatalog.errors import NbcatalogError, NotFoundError
from nbcatalog.releasenotes import DEFAULT_HIGHLIGHTS, Side

if TYPE_CHECKING:
    from nbcatalog.catalog import Catalog, CatalogImage
    from nbcatalog.cuda import CudaInfo
    from nbcatalog.nodedisk import NodeDisk
    from nbcatalog.packages.image import ProgressFn
    from nbcatalog.packages.result import ImagePackages
    from nbcatalog.policy import Violation
    from nbcatalog.resolution import ResolvedImage
    from nbcatalog.session import Session

#: Images whose packages :func:`plan_catalog` reads at once: each read walks up to six layers in
#: threads, so a big catalog planned in one go stays within a few hundred MB.
MAX_PACKAGE_READS = 2
_MAJOR = re.compile(r"^(?:\d+:)?v?(\d+)")


@dataclass(frozen=True, slots=True)
class ImagePlan:
    """One catalog entry's upgrade: ``candidate`` None means it is on its newest tag (no cost).

    ``error`` says why the entry could not be planned (the other figures are then unknown).
    ``package_changes`` is the whole diff, for release notes; ``changes`` counts it by kind.
    """

    name: str
    image: str
    current: str
    candidate: str | None = None
    pull_bytes: int | None = 0
    candidate_bytes: int | None = None
    changes: Mapping[str, int] = field(default_factory=lambda: dict.fromkeys(CHANGE_KINDS, 0))
    highlights: tuple[Change, ...] = ()
    cuda_from: CudaInfo | None = None
    cuda_to: CudaInfo | None = None
    kubeflow_from: bool | None = None
    kubeflow_to: bool | None = None
    policy: tuple[Violation, ...] = ()
    reasons: tuple[str, ...] = ()
    error: str | None = None
    behind: int = 0  # newer tags of the family, when the candidate was picked rather than named
    days: int | None = None
    current_side: Side | None = None
    candidate_side: Side | None = None
    package_changes: tuple[Change, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def risky(self) -> bool:
        return bool(self.reasons)

    def to_json(self) -> dict[str, Any]:
        cuda = None
        if self.cuda_from is not None or self.cuda_to is not None:
            cuda = {"from": _cuda_json(self.cuda_from), "to": _cuda_json(self.cuda_to)}
        return {
            "name": self.name,
            "image": self.image,
            "current": self.current,
            "candidate": self.candidate,
            "pull_bytes": self.pull_bytes,
            "candidate_bytes": self.candidate_bytes,
            "changes": dict(self.changes),
            "highlights": [{**c.to_json(), "from": c.a_version, "to": c.b_version} for c in self.highlights],
            "cuda": cuda,
            "kubeflow_ready": {"from": self.kubeflow_from, "to": self.kubeflow_to},
            "policy": [v.to_json() for v in self.policy],
            "risky": self.risky,
            "reasons": list(self.reasons),
            "error": self.error,
            "behind": {"versions": self.behind, "days": self.days},
            "current_digest": self.current_side.digest if self.current_side else None,
            "candidate_digest": self.candidate_side.digest if self.candidate_side else None,
            "platform": (self.candidate_side or self.current_side or Side("", "", "")).platform or None,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True)
class CatalogPlan:
    """The plans of a catalog's entries (in catalog order) and the node disk its current tags need."""

    catalog: str
    images: tuple[ImagePlan, ...]
    node_disk: NodeDisk | None = None

    @property
    def failed(self) -> bool:
        """Some entry could not be planned: the CLI's exit code 1."""
        return any(plan.error for plan in self.images)

    def to_json(self) -> dict[str, Any]:
        return {
            "catalog": self.catalog,
            "images": [plan.to_json() for plan in self.images],
            "node_disk": self.node_disk.to_json() if self.node_disk else None,
        }


def _cuda_json(info: CudaInfo | None) -> dict[str, Any] | None:
    return None if info is None else {"version": info.version, "min_driver": info.min_driver}


def _major(version: str | None) -> int | None:
    match = _MAJOR.match(version or "")
    return int(match.group(1)) if match else None


def _driver(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def risk_reasons(
    cuda_from: CudaInfo | None,
    cuda_to: CudaInfo | None,
    highlights: Sequence[Change],
    violations: Sequence[Violation],
) -> list[str]:
    """Why a move needs care before it rolls out (empty: a clean upgrade).

    A new CUDA major (or CUDA gained or lost) changes which nodes and drivers can run the image; a
    higher minimum driver strands GPU nodes that have not been upgraded; a highlighted package down
    a major version breaks users' notebooks; an error-severity policy violation should not ship.
    """
    reasons: list[str] = []
    if cuda_from is not None and cuda_to is not None:
        if cuda_from.major and cuda_to.major and cuda_from.major != cuda_to.major:
            reasons.append(f"CUDA major version changes: {cuda_from.version} → {cuda_to.version}")
        if cuda_from.min_driver and cuda_to.min_driver and _driver(cuda_to.min_driver) > _driver(cuda_from.min_driver):
            reasons.append(f"minimum NVIDIA driver rises: {cuda_from.min_driver} → {cuda_to.min_driver}")
    elif cuda_to is not None:
        version = f" (CUDA {cuda_to.version})" if cuda_to.version else ""
        reasons.append(f"becomes a CUDA image{version}: it needs GPU nodes")
    elif cuda_from is not None:
        reasons.append("is no longer a CUDA image")
    for change in highlights:
        before, after = _major(change.a_version), _major(change.b_version)
        if change.change == "downgraded" and before is not None and after is not None and after < before:
            reasons.append(f"{change.name} goes down a major version: {change.a_version} → {change.b_version}")
    reasons += [f"fails policy: {v.message}" for v in violations if v.severity == "error"]
    return reasons


def change_counts(changes: Sequence[Change]) -> dict[str, int]:
    """Changes per kind, every kind present (0 when none): the plan's ``changes``."""
    counts = dict.fromkeys(CHANGE_KINDS, 0)
    for change in changes:
        counts[change.change] = counts.get(change.change, 0) + 1
    return counts


def _passwd(packages: ImagePackages) -> str:
    """``/etc/passwd`` from the package read (kept beside the databases); "" when the image has none,
    which Kubeflow's checks judge as such, as ``inspect --deep`` does."""
    data = packages.files.get("/etc/passwd")
    return data.decode("utf-8", "replace") if data is not None else ""


async def _candidate(session: Session, image: CatalogImage, to: str | None) -> tuple[str | None, int, int | None]:
    """(candidate tag, newer tags, days newer): ``to`` when named, else audit's suggestion."""
    from nbcatalog.audit.fetch import family_dates
    from nbcatalog.tagfamilies import newest_update, parse_policy

    repo = image.ref.repo_only()
    tags = await session.list_tags(repo)
    if to is not None:
        if to not in tags:
            raise NotFoundError(f"tag {to} does not exist in {repo}")
        return to, 0, None
    created = await family_dates(session, image.ref, tags)
    policy = parse_policy(image.tag_policy, where=f"{image.name}: tag_policy")
    behind = newest_update(image.tag, tags, policy=policy, created=created)
    return (behind.newest, behind.versions, behind.days) if behind else (None, 0, None)


def _days_between(current: ResolvedImage, target: ResolvedImage) -> int | None:
    """Days from the current image's ``created`` to the candidate's (None when either is unknown)."""
    from nbcatalog.audit.facts import parse_time

    start, end = parse_time(current.config.created), parse_time(target.config.created)
    return (end - start).days if start is not None and end is not None else None


def _side(image: CatalogImage, tag: str, resolved: ResolvedImage) -> Side:
    return Side(f"{image.image}:{tag}", resolved.digest, resolved.platform)


async def _plan(
    session: Session,
    catalog: Catalog,
    image: CatalogImage,
    to: str | None,
    wanted: Sequence[str],
    reads: asyncio.Semaphore,
    progress: ProgressFn | None,
    known: ResolvedImage | str | None = None,
) -> ImagePlan:
    """One entry's plan; ``known`` is its current tag already resolved (or why it failed), when
    :func:`plan_catalog` resolved every current tag for the node disk anyway."""
    from nbcatalog.cuda import detect_cuda_in_config
    from nbcatalog.diff import diff_packages
    from nbcatalog.kubeflowreq import check_kubeflow
    from nbcatalog.nodedisk import unique_layers
    from nbcatalog.packages.image import image_packages
    from nbcatalog.policy import check, facts_from_image
    from nbcatalog.releasenotes import highlights
    from nbcatalog.resolution import pin

    try:
        # both run to the end (no orphan left reading after a failure), then the first error counts
        picked, resolved = await asyncio.gather(
            _candidate(session, image, to), _current(session, image, known), return_exceptions=True
        )
        for outcome in (picked, resolved):
            if isinstance(outcome, BaseException):
                raise outcome
        assert not isinstance(picked, BaseException) and not isinstance(resolved, BaseException)
        (candidate, behind, days), current = picked, resolved
        here = _side(image, image.tag, current)
        if candidate is None:
            return ImagePlan(image.name, image.image, image.tag, current_side=here)
        target = await session.resolve(image.ref.with_tag(candidate))
        have = {layer.digest for layer in current.manifest.layers}
        layers = unique_layers([target.manifest.layers])
        async with reads:  # current first: the layers the two share are then read once, from the cache
            before = await image_packages(session, pin(image.ref, current.digest), progress=progress)
            after = await image_packages(session, pin(image.ref, target.digest), progress=progress)
    except NbcatalogError as exc:
        return ImagePlan(image.name, image.image, image.tag, candidate=to, pull_bytes=None, error=str(exc))
    changes = diff_packages(before.packages, after.packages)
    if days is None:
        days = _days_between(current, target)
    chosen = highlights(changes, wanted)
    cuda_from = detect_cuda_in_config(current.config, tag=image.tag, packages=before.packages)
    cuda_to = detect_cuda_in_config(target.config, tag=candidate, packages=after.packages)
    pinned = image.pins_digest or image.digest is not None
    violations = check(catalog.policy, image.ref.name, pinned=pinned, facts=facts_from_image(target))
    return ImagePlan(
        image.name,
        image.image,
        image.tag,
        candidate,
        pull_bytes=sum(size for digest, size in layers.items() if digest not in have),
        candidate_bytes=sum(layers.values()),
        changes=change_counts(changes),
        highlights=tuple(chosen),
        cuda_from=cuda_from,
        cuda_to=cuda_to,
        kubeflow_from=check_kubeflow(current.config, _passwd(before)).ready,
        kubeflow_to=check_kubeflow(target.config, _passwd(after)).ready,
        policy=tuple(violations),
        reasons=tuple(risk_reasons(cuda_from, cuda_to, chosen, violations)),
        behind=behind,
        days=days,
        current_side=here,
        candidate_side=_side(image, candidate, target),
        package_changes=tuple(changes),
        warnings=tuple(dict.fromkeys([*before.warnings, *after.warnings])),
    )


async def _current(session: Session, image: CatalogImage, known: ResolvedImage | str | None) -> ResolvedImage:
    if known is None:
        return await session.resolve(image.ref)
    if isinstance(known, str):
        raise NbcatalogError(known)
    return known


def _entry(catalog: Catalog, image: CatalogImage | str) -> CatalogImage:
    return catalog.get(image) if isinstance(image, str) else image


def _check_tag(to: str | None) -> None:
    """A ``to`` that is no tag at all is bad input (exit 2), before any registry is asked."""
    from nbcatalog.refs import checked_tag

    if to is not None:
        checked_tag(to, "--to")


async def plan_image(
    session: Session,
    catalog: Catalog,
    image: CatalogImage | str,
    *,
    to: str | None = None,
    highlights: Sequence[str] = DEFAULT_HIGHLIGHTS,
    progress: ProgressFn | None = None,
) -> ImagePlan:
    """The plan for one entry (or its name) of ``catalog``, on the session's platform.

    ``to`` names the candidate tag (else the newest under the entry's ``tag_policy``); ``highlights``
    are the package names (PEP 503 compared) whose changes are singled out. Registry failures are
    the plan's ``error``; only bad input (an unknown name, a malformed ``to``) raises.
    """
    entry = _entry(catalog, image)
    _check_tag(to)
    return await _plan(session, catalog, entry, to, highlights, asyncio.Semaphore(MAX_PACKAGE_READS), progress)


async def plan_catalog(
    session: Session,
    catalog: Catalog,
    names: Sequence[str] = (),
    *,
    to: str | None = None,
    highlights: Sequence[str] = DEFAULT_HIGHLIGHTS,
    with_node_disk: bool = True,
    progress: ProgressFn | None = None,
) -> CatalogPlan:
    """Plans for the named entries (every entry when none), concurrently, plus :func:`node_disk`.

    Every name is checked against the catalog before any registry is asked (an unknown one is a
    :class:`~nbcatalog.errors.CatalogError`, exit 2). Hosts are bounded by the session, as in audit.
    """
    from nbcatalog.nodedisk import node_disk_of, resolve_current

    chosen = [catalog.get(name) for name in dict.fromkeys(names)] if names else list(catalog.images)
    _check_tag(to)
    reads = asyncio.Semaphore(MAX_PACKAGE_READS)
    known: dict[str, ResolvedImage | str] = {}
    found: NodeDisk | None = None
    if with_node_disk:  # every current tag resolved once, for the node disk and the plans alike
        resolved, errors = await resolve_current(session, catalog)
        known = {**errors, **resolved}
        found = node_disk_of(catalog, resolved, errors)
    plans = await asyncio.gather(
        *(_plan(session, catalog, image, to, highlights, reads, progress, known.get(image.name)) for image in chosen)
    )
    return CatalogPlan(catalog.path, tuple(plans), found)
