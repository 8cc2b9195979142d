"""The pure lineage core: layer chains in, parents, base references and disagreements out.

Image B is built on image A when A's rootfs ``diff_ids`` are a strict prefix of B's. For a catalog
this gives, per entry, the *inferred* parent (the closest entry whose repository has some tag that is
an ancestor, so a child built on ``base:v1.9.0`` while the catalog's ``base`` is at ``v1.9.1`` still
finds ``base``, and is flagged ``stale-base``) and the ``base_reference`` (the exact ``repo:tag``
whose layers it starts with; a version tag is preferred over ``latest`` and other moving tags).
Nothing here does I/O: :mod:`nbcatalog.lineage.scan` fetches the chains.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from nbcatalog.cuda import CudaEvidence, CudaInfo, cuda_to_json
from nbcatalog.tagfamilies import classify

#: Scan order of tag kinds: immutable-looking version tags first, moving tags last.
_KIND_ORDER = {"date": 0, "semver": 1, "regex": 1, "build": 2, "other": 3, "moving": 4}


@dataclass(frozen=True, slots=True)
class Chain:
    """One platform's image as lineage sees it: its manifest digest and its layer chain."""

    digest: str
    diff_ids: tuple[str, ...]
    platform: str = ""


def is_ancestor(parent: Sequence[str], child: Sequence[str]) -> bool:
    """True when ``parent`` is a non-empty strict prefix of ``child``."""
    return 0 < len(parent) < len(child) and tuple(child[: len(parent)]) == tuple(parent)


def common_prefix(a: Sequence[str], b: Sequence[str]) -> int:
    count = 0
    for left, right in zip(a, b, strict=False):
        if left != right:
            break
        count += 1
    return count


def tag_preference(tag: str) -> tuple[int, tuple[float, ...], str]:
    """Sort key: version tags first, newest first within their kind; moving tags (``latest``) last."""
    version = classify(tag)
    newest_first = tuple(-float(part) for part in version.key) if version.key else ()
    return (_KIND_ORDER.get(version.kind, 3), newest_first, tag)


def scan_order(tags: Iterable[str]) -> list[str]:
    """The order a repository's tags are tried in: the likely base first, so the scan stops early."""
    return sorted(set(tags), key=tag_preference)


def is_moving(tag: str) -> bool:
    return classify(tag).kind == "moving"


@dataclass(frozen=True, slots=True)
class BaseMatch:
    """A tag of a candidate parent repository whose layers the child starts with."""

    repository: str
    tag: str
    chain: Chain

    @property
    def depth(self) -> int:
        return len(self.chain.diff_ids)

    @property
    def reference(self) -> str:
        return f"{self.repository}:{self.tag}"


@dataclass(frozen=True, slots=True)
class LineageImage:
    """One catalog entry as lineage needs it; ``chain`` is None when it could not be resolved."""

    name: str
    repository: str
    tag: str
    declared_parent: str | None
    chain: Chain | None
    error: str | None = None
    cuda: CudaInfo | None = None

    @property
    def reference(self) -> str:
        return f"{self.repository}:{self.tag}"


@dataclass(frozen=True, slots=True)
class Issue:
    """A disagreement between the catalog and the layers (kind names follow the audit's)."""

    kind: str  # declared-not-ancestor | closer-ancestor | undeclared-parent | stale-base | unresolved
    message: str
    severity: str = "warning"

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "severity": self.severity, "message": self.message}


@dataclass(frozen=True, slots=True)
class LineageEntry:
    """The lineage of one catalog entry on one platform."""

    image: LineageImage
    inferred_parent: str | None
    base: BaseMatch | None
    issues: tuple[Issue, ...] = ()
    ancestors: tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        return self.image.name

    def to_json(self) -> dict[str, Any]:
        chain = self.image.chain
        return {
            "name": self.image.name,
            "reference": self.image.reference,
            "declared_parent": self.image.declared_parent,
            "inferred_parent": self.inferred_parent,
            "base_reference": self.base.reference if self.base else None,
            "base_digest": self.base.chain.digest if self.base else None,
            "shared_layers": self.base.depth if self.base else 0,
            "layers": len(chain.diff_ids) if chain else None,
            "digest": chain.digest if chain else None,
            "platform": chain.platform if chain else None,
            "parent_agrees": self.inferred_parent == self.image.declared_parent,
            "ancestors": list(self.ancestors),
            "cuda": cuda_to_json(self.image.cuda),
            "issues": [issue.to_json() for issue in self.issues],
            "error": self.image.error,
        }


def own_ancestors(image: LineageImage, images: Sequence[LineageImage]) -> list[LineageImage]:
    """Entries whose own (catalog) tag is an ancestor of ``image``, closest first."""
    if image.chain is None:
        return []
    found = [
        other
        for other in images
        if other.name != image.name and other.chain and is_ancestor(other.chain.diff_ids, image.chain.diff_ids)
    ]
    return sorted(found, key=lambda other: -len(other.chain.diff_ids) if other.chain else 0)


def declared_root(name: str, images: Sequence[LineageImage]) -> str:
    """The top of ``name``'s declared ``parent:`` line (cycles stop where they close)."""
    parent_of = {image.name: image.declared_parent for image in images}
    seen = [name]
    while (parent := parent_of.get(seen[-1])) is not None and parent in parent_of and parent not in seen:
        seen.append(parent)
    return seen[-1]


def repositories_to_search(
    image: LineageImage, images: Sequence[LineageImage], known_depth: int
) -> list[tuple[str, int]]:
    """Repositories whose other tags may hold an ancestor closer than ``known_depth`` layers.

    The heuristic that keeps the scan lazy (``exhaustive`` tries everything instead):

    * only entries of the image's declared family (same declared root) are candidates: a repository
      is not scanned for an image the catalog does not relate it to, so unrelated images that share
      only OS layers cost nothing (an undeclared image built on a stale catalog image is missed);
    * an entry sharing no more layers than the closest known ancestor diverged at or below it (a
      sibling or a cousin), and an entry built on the image itself cannot hold its ancestor;
    * the image's own repository is never scanned.

    Returns (repository, shared layers), most shared first.
    """
    if image.chain is None or image.declared_parent is None:
        return []
    family = declared_root(image.name, images)
    best: dict[str, int] = {}
    for other in images:
        if other.chain is None or other.repository == image.repository:
            continue
        if declared_root(other.name, images) != family:
            continue
        shared = common_prefix(other.chain.diff_ids, image.chain.diff_ids)
        if shared <= known_depth or shared >= len(image.chain.diff_ids):
            continue
        if not is_ancestor(other.chain.diff_ids, image.chain.diff_ids):
            best[other.repository] = max(best.get(other.repository, 0), shared)
    return sorted(best.items(), key=lambda item: (-item[1], item[0]))


def choose_parent_entry(image: LineageImage, match: BaseMatch, images: Sequence[LineageImage]) -> LineageImage | None:
    """The catalog entry that stands for ``match``'s repository (several entries may share it)."""
    same_repo = [o for o in images if o.repository == match.repository and o.name != image.name]
    if not same_repo:
        return None
    for candidate in same_repo:
        if candidate.name == image.declared_parent:
            return candidate
    for candidate in same_repo:
        if candidate.chain and candidate.chain.diff_ids == match.chain.diff_ids:
            return candidate
    return same_repo[0]


def judge(
    image: LineageImage,
    matches: Mapping[str, BaseMatch],
    images: Sequence[LineageImage],
    searched: Iterable[str] = (),
) -> LineageEntry:
    """Compare what the layers say (``matches``: repository -> closest matching tag) with the catalog.

    ``searched`` lists the repositories whose tags were all tried without a match; a declared parent
    is only called wrong when its repository was searched (or its own tag matched nothing).
    """
    by_name = {other.name: other for other in images}
    issues: list[Issue] = []
    if image.chain is None:
        issue = Issue("unresolved", image.error or "the image could not be resolved", "error")
        return LineageEntry(image, None, None, (issue,))
    ordered = sorted(matches.values(), key=lambda m: (-m.depth, tag_preference(m.tag)))
    base = ordered[0] if ordered else None
    parent = choose_parent_entry(image, base, images) if base else None
    declared = by_name.get(image.declared_parent) if image.declared_parent else None
    if declared is not None and declared.chain is None and declared.repository not in matches:
        declared = None  # unresolvable itself (reported there): no verdict on the declaration
    if declared is not None and parent is not None and declared.name != parent.name:
        if declared.repository in matches:
            issues.append(
                Issue(
                    "closer-ancestor",
                    f"declared parent {declared.name} is an ancestor, but {parent.name}"
                    f"{':' + base.tag if base else ''} is closer",
                )
            )
        else:
            issues.append(
                Issue(
                    "declared-not-ancestor",
                    f"declared parent {declared.name} is not an ancestor; the layers say {parent.name}",
                    "error",
                )
            )
    elif declared is not None and parent is None and declared.repository in set(searched):
        issues.append(
            Issue(
                "declared-not-ancestor",
                f"no tag of {declared.repository} is an ancestor of {image.reference}",
                "error",
            )
        )
    elif image.declared_parent is None and parent is not None:
        issues.append(Issue("undeclared-parent", f"built on {parent.name}, not declared", "info"))
    if parent and base and parent.chain and parent.chain.diff_ids != base.chain.diff_ids:
        message = f"built on {parent.name}:{base.tag}, the catalog has {parent.name} at {parent.tag}"
        issues.append(Issue("stale-base", message))
    return LineageEntry(image, parent.name if parent else None, base, tuple(issues))


def with_ancestors(entries: Sequence[LineageEntry]) -> list[LineageEntry]:
    """Entries with ``ancestors``: their inferred parent, its inferred parent, and so on."""
    parent_of = {entry.name: entry.inferred_parent for entry in entries}
    out: list[LineageEntry] = []
    for entry in entries:
        line: list[str] = []
        current = entry.inferred_parent
        while current is not None and current not in line and current != entry.name:
            line.append(current)
            current = parent_of.get(current)
        out.append(replace(entry, ancestors=tuple(line)))
    return out


def tree_roots(entries: Sequence[LineageEntry]) -> tuple[list[str], dict[str, list[str]]]:
    """Roots and children for display: the inferred parent, else the declared one; cycles broken."""
    names = [entry.name for entry in entries]
    known = set(names)
    parent_of: dict[str, str | None] = {}
    for entry in entries:
        parent = entry.inferred_parent or entry.image.declared_parent
        parent_of[entry.name] = parent if parent in known and parent != entry.name else None
    for name in names:  # break cycles (possible only through declared parents)
        seen = {name}
        current = parent_of[name]
        while current is not None:
            if current in seen:
                parent_of[name] = None
                break
            seen.add(current)
            current = parent_of[current]
    children: dict[str, list[str]] = {name: [] for name in names}
    roots: list[str] = []
    for name in names:
        parent = parent_of[name]
        (children[parent] if parent else roots).append(name)
    return roots, children


def with_parent_cuda(entries: list[LineageEntry]) -> list[LineageEntry]:
    """Entries whose inferred parent is a CUDA image carry that as (weak) CUDA evidence."""
    by_name = {entry.name: entry for entry in entries}
    out: list[LineageEntry] = []
    for entry in entries:
        parent = by_name.get(entry.inferred_parent or "")
        parent_cuda = parent.image.cuda if parent else None
        if entry.image.cuda is None and parent_cuda is not None:
            value = f"parent {parent.name if parent else '?'} is a CUDA image"
            evidence = CudaEvidence("parent", "parent", value, "weak", parent_cuda.version)
            cuda = CudaInfo(parent_cuda.version, parent_cuda.min_driver, (evidence,))
            entry = replace(entry, image=replace(entry.image, cuda=cuda))
        out.append(entry)
    return out
