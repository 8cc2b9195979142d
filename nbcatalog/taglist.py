"""A repository's tags as an admin scans them: grouped by family, digest-like families folded, fuzzy-filtered.

A real repository holds 1,105 tags: five version tags and a thousand ``sha-…`` builds. Shown flat
and newest first, the builds bury the releases. Grouping by the families :mod:`nbcatalog.tagfamilies`
already knows (``v1.10.0``-style releases, ``2024-05-27`` dates, ``python-3.11-…``, ``sha-<hex>``)
puts releases on top and folds the build families until the admin asks (types a filter, or unfolds).

Plain functions, so the app's Tags tab and tag picker (and any later front end) group and filter
the same way, and the rules are tested without a terminal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from nbcatalog.tagfamilies import classify, sort_tags

#: Order of the groups: releases first, builds last.
_KIND_RANK = {"semver": 0, "date": 1, "regex": 2, "other": 3, "moving": 4, "build": 5}


@dataclass(frozen=True, slots=True)
class TagGroup:
    """One family's tags, newest first; ``folded`` groups show only their heading until opened."""

    key: str
    label: str
    tags: tuple[str, ...]
    folded: bool


def newest_first(tags: Iterable[str]) -> list[str]:
    """Version and date tags newest first, then the ones with no order (``latest``, build tags) by name."""
    ordered = sort_tags(tags)
    versioned = [tag for tag in ordered if classify(tag).key is not None]
    return list(reversed(versioned)) + [tag for tag in ordered if classify(tag).key is None]


def family_label(tag: str) -> str:
    """``v1.N.N``, ``YYYY-MM-DD``, ``python-3.11-YYYY-MM-DD``, ``sha-<hex>``: what a family looks like."""
    version = classify(tag)
    kind, family = version.kind, version.family
    if kind == "semver":
        _, prefix, v, suffix = family
        return f"{prefix}{v}N.N.N{suffix}"
    if kind == "date":
        _, prefix, sep, suffix = family
        return f"{prefix}YYYY{sep}MM{sep}DD{suffix}"
    if kind == "build":
        return f"{family[1]}<hex>"
    if kind == "moving":
        return "moving (latest, main…)"
    return "other"


def group_tags(tags: Iterable[str], *, unfolded: Iterable[str] = ()) -> list[TagGroup]:
    """Tags grouped by family, releases first; build families folded unless named in ``unfolded``."""
    opened = set(unfolded)
    by_key: dict[str, list[str]] = {}
    kinds: dict[str, str] = {}
    for tag in newest_first(tags):
        label = family_label(tag)
        by_key.setdefault(label, []).append(tag)
        kinds.setdefault(label, classify(tag).kind)
    groups = [
        TagGroup(label, label, tuple(members), kinds[label] == "build" and label not in opened)
        for label, members in by_key.items()
    ]
    return sorted(
        groups, key=lambda g: (_KIND_RANK.get(kinds[g.key], 9), -len(g.tags) if kinds[g.key] != "build" else 0)
    )


def fuzzy_score(needle: str, text: str) -> int | None:
    """How well ``needle``'s characters appear in order in ``text`` (higher is better); None if not at all.

    Case-insensitive. Runs of consecutive characters score most, and a first character at the start
    (or after a separator) more, the way editors' fuzzy finders rank ``v110`` into ``v1.10.0`` and
    ``cu12`` into ``cuda12-2024-05-27`` above a scatter of single letters.
    """
    if not needle:
        return 0
    hay, pins = text.lower(), needle.lower()
    score, position, previous = 0, 0, -2
    for index, char in enumerate(pins):
        found = hay.find(char, position)
        if found < 0:
            return None
        score += 1 + (5 if found == previous + 1 else 0)
        if index == 0:
            score += 8 if found == 0 else 4 if hay[found - 1] in "-_.:/@" else 0
        previous, position = found, found + 1
    if pins in hay:
        score += 10 + (5 if hay.startswith(pins) else 0)
    return score


def filter_tags(tags: Sequence[str], needle: str) -> list[str]:
    """The tags ``needle`` matches, in their given order (``""`` keeps them all)."""
    needle = needle.strip()
    if not needle:
        return list(tags)
    return [tag for tag in tags if fuzzy_score(needle, tag) is not None]


def aliases(digests: Mapping[str, str | None]) -> dict[str, list[str]]:
    """tag -> the other tags with the same digest (``latest`` and ``v1.10.0`` pointing at one image)."""
    by_digest: dict[str, list[str]] = {}
    for tag, digest in digests.items():
        if digest:
            by_digest.setdefault(digest, []).append(tag)
    return {
        tag: [other for other in same if other != tag] for same in by_digest.values() for tag in same if len(same) > 1
    }
