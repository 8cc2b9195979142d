"""What changed between two package lists, keyed by (ecosystem, name, location).

Each ecosystem's own version order decides upgraded vs downgraded; versions that order cannot
compare, or that differ only in build, are "changed".
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from nbcatalog.packages.model import ECOSYSTEMS, Package
from nbcatalog.packages.versions import compare

CHANGE_KINDS = ("added", "removed", "upgraded", "downgraded", "changed")
_PEP503 = re.compile(r"[-_.]+")


@dataclass(frozen=True, slots=True)
class Change:
    ecosystem: str
    name: str
    location: str
    change: str
    a_version: str | None
    b_version: str | None
    a_extra: str | None = None
    b_extra: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ecosystem": self.ecosystem,
            "name": self.name,
            "location": self.location,
            "change": self.change,
            "a_version": self.a_version,
            "b_version": self.b_version,
        }
        if self.a_extra or self.b_extra:
            out["a_build"], out["b_build"] = self.a_extra, self.b_extra
        return out


def pep503_name(name: str) -> str:
    """A name in PEP 503 normal form (lower case, runs of ``-``, ``_`` and ``.`` as one ``-``)."""
    return _PEP503.sub("-", name).lower()


def package_key(package: Package) -> tuple[str, str, str]:
    """Names compare as their ecosystem does: pip by PEP 503 normal form, conda case-insensitively."""
    name = package.name
    if package.ecosystem == "pip":
        name = pep503_name(name)
    elif package.ecosystem == "conda":
        name = name.lower()
    return package.ecosystem, name, package.location


def _qualifier(package: Package) -> str:
    """What tells apart two packages with one key (dpkg multi-arch: libc6 amd64 and i386)."""
    return package.extra.get("arch", "")


def _pair(a: list[Package], b: list[Package]) -> list[tuple[Package | None, Package | None]]:
    if len(a) == 1 and len(b) == 1:
        return [(a[0], b[0])]
    pairs: list[tuple[Package | None, Package | None]] = []
    rest_b = list(b)
    for package in a:
        match = next((p for p in rest_b if _qualifier(p) == _qualifier(package)), None)
        if match is not None:
            rest_b.remove(match)
        pairs.append((package, match))
    pairs.extend((None, package) for package in rest_b)
    return pairs


def _change(old: Package | None, new: Package | None) -> Change | None:
    if old is None or new is None:
        present = new or old
        assert present is not None
        kind = "added" if old is None else "removed"
        return Change(
            present.ecosystem,
            present.name,
            present.location,
            kind,
            old.version if old else None,
            new.version if new else None,
        )
    old_build, new_build = old.extra.get("build"), new.extra.get("build")
    if old.version == new.version:
        if old_build == new_build:
            return None
        return Change(new.ecosystem, new.name, new.location, "changed", old.version, new.version, old_build, new_build)
    order = compare(new.ecosystem, old.version, new.version)
    kind = {-1: "upgraded", 1: "downgraded"}.get(order, "changed") if order is not None else "changed"
    return Change(new.ecosystem, new.name, new.location, kind, old.version, new.version)


def _grouped(packages: Iterable[Package]) -> dict[tuple[str, str, str], list[Package]]:
    groups: dict[tuple[str, str, str], list[Package]] = defaultdict(list)
    for package in packages:
        groups[package_key(package)].append(package)
    return groups


def diff_packages(a: Sequence[Package], b: Sequence[Package]) -> list[Change]:
    """Changes from ``a`` to ``b``, ordered by ecosystem, then name, then location."""
    groups_a, groups_b = _grouped(a), _grouped(b)
    changes: list[Change] = []
    for key in groups_a.keys() | groups_b.keys():
        for old, new in _pair(groups_a.get(key, []), groups_b.get(key, [])):
            change = _change(old, new)
            if change is not None:
                changes.append(change)
    order = {name: i for i, name in enumerate(ECOSYSTEMS)}
    changes.sort(key=lambda c: (order.get(c.ecosystem, 99), c.name.lower(), c.location, c.change))
    return changes


def summarise(changes: Iterable[Change]) -> dict[str, dict[str, int]]:
    """Counts per ecosystem and change kind (only non-zero ones)."""
    counts: dict[str, dict[str, int]] = {}
    for change in changes:
        per_kind = counts.setdefault(change.ecosystem, {})
        per_kind[change.change] = per_kind.get(change.change, 0) + 1
    return counts
