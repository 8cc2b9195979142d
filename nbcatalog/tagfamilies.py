"""Notebook tag families and their order: which tags are newer than the one a profile pins.

Notebook images mix schemes within one repository: Kubeflow publishes ``v1.8.0``, ``v1.10.0-rc.1``,
``master-1831e436`` and ``latest``; docker-stacks publishes ``2024-05-27``, ``python-3.11``,
``python-3.11.9-2024-05-27``, ``cuda12-2024-05-27``, ``x86_64-...`` and a git hash. A tag is only
compared with tags of its own *family* (same scheme, same prefix and suffix), as Renovate's
"compatibility" does, so ``cuda12-2024-06-03`` never replaces ``2024-05-27``. The families are an
ordered table of (kind, regex); the first match wins.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from nbcatalog.errors import BadInputError

TagKind = Literal["moving", "date", "build", "semver", "regex", "other"]
Severity = Literal["error", "warning", "info"]
Within = Literal["any", "major", "minor"]

#: Tags that are moved on purpose: never "stale", always "mutable".
MOVING_TAGS = frozenset({"latest", "stable", "main", "master", "nightly", "edge", "dev", "develop", "lts"})

_PREFIX = r"(?P<prefix>(?:[a-z][a-z0-9_]*-)*)"
_PATCH_RE = re.compile(r"(\d+\.\d+)\.\d+")
_PRE_RANK = {"dev": 0, "alpha": 1, "a": 1, "beta": 2, "b": 2, "pre": 3, "rc": 3}

_FAMILIES: tuple[tuple[TagKind, re.Pattern[str]], ...] = (
    ("moving", re.compile(r"^(?P<prefix>(?:[a-z0-9_.]+-)*)(?P<word>latest|stable|nightly|edge)$")),
    (
        "date",
        re.compile(
            r"^(?P<prefix>(?:[\w.]+-)*?)(?P<y>(?:19|20)\d\d)(?P<sep>[-.]?)(?P<m>[01]\d)(?P=sep)(?P<d>[0-3]\d)"
            r"(?P<suffix>(?:[-_.][\w.-]*)?)$"
        ),
    ),
    ("build", re.compile(r"^(?P<prefix>(?:master|main|sha|commit|git|pr-\d+)-)(?P<hex>[0-9a-f]{7,40})$")),
    ("build", re.compile(r"^(?P<prefix>)(?P<hex>(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{7,40})$")),
    (
        "semver",
        re.compile(
            rf"^{_PREFIX}(?P<v>v?)(?P<major>\d+)(?:\.(?P<minor>\d+))?(?:\.(?P<patch>\d+))?"
            r"(?:[-.]?(?P<pre>rc|alpha|beta|pre|dev|a|b)[.-]?(?P<prenum>\d*))?"
            r"(?P<suffix>(?:-[a-z][\w.-]*)?)$"
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class TagVersion:
    """A tag read as a member of a family; ``key`` orders the members (``None`` for build tags)."""

    tag: str
    kind: TagKind
    family: tuple[str, ...]
    key: tuple[int, ...] | None
    prerelease: bool = False
    date: datetime.date | None = None

    @property
    def major(self) -> int | None:
        return self.key[0] if self.kind in ("semver", "regex") and self.key else None

    @property
    def minor(self) -> int | None:
        return self.key[1] if self.kind in ("semver", "regex") and self.key and len(self.key) > 1 else None


@functools.lru_cache(maxsize=1 << 16)
def classify(tag: str) -> TagVersion:
    """Read ``tag`` with the first family whose regex matches (``other`` when none does)."""
    if tag in MOVING_TAGS:
        return TagVersion(tag, "moving", ("moving", tag), None)
    for kind, pattern in _FAMILIES:
        match = pattern.match(tag)
        if match is None:
            continue
        groups = match.groupdict()
        if kind == "moving":
            return TagVersion(tag, "moving", ("moving", groups["prefix"]), None)
        if kind == "date":
            try:
                day = datetime.date(int(groups["y"]), int(groups["m"]), int(groups["d"]))
            except ValueError:
                continue
            prefix = _PATCH_RE.sub(r"\1.N", groups["prefix"])  # python-3.11.6- and python-3.11.9- are one family
            family = ("date", prefix, groups["sep"], _shape(groups["suffix"]))
            return TagVersion(tag, "date", family, (day.toordinal(),), date=day)
        if kind == "build":
            return TagVersion(tag, "build", ("build", groups["prefix"]), None)
        pre = groups["pre"]
        numbers = [int(groups[name] or 0) for name in ("major", "minor", "patch")]
        pre_key = (_PRE_RANK[pre], int(groups["prenum"] or 0)) if pre else (9, 0)
        family = ("semver", groups["prefix"], groups["v"], groups["suffix"])
        return TagVersion(tag, "semver", family, (*numbers, *pre_key), prerelease=bool(pre))
    return TagVersion(tag, "other", ("other", tag), None)


def _shape(suffix: str) -> str:
    """A date tag's suffix with digits blurred, so ``-r1`` and ``-r2`` stay one family."""
    return re.sub(r"\d+", "N", suffix)


@dataclass(frozen=True, slots=True)
class TagPolicy:
    """How a catalog entry's tag may move: ``auto`` (its own family), or the catalog's ``tag_policy``."""

    kind: Literal["auto", "semver", "date", "pinned", "regex"] = "auto"
    pattern: re.Pattern[str] | None = None


def parse_policy(text: str | None, *, where: str | None = None) -> TagPolicy:
    """``semver`` | ``date`` | ``pinned`` | ``regex:<pattern>`` (Renovate's ``(?<major>..)`` works too)."""
    if text is None or text in ("", "auto"):
        return TagPolicy()
    if text in ("semver", "date", "pinned"):
        return TagPolicy(text)  # type: ignore[arg-type]
    if text.startswith("regex:"):
        source = re.sub(r"\(\?<(?![=!])", "(?P<", text.removeprefix("regex:"))
        try:
            return TagPolicy("regex", re.compile(source))
        except re.error as exc:
            raise BadInputError(f"tag_policy {text!r} has a bad regex: {exc}", where=where) from None
    raise BadInputError(f"tag_policy must be semver, date, pinned or regex:<pattern>, got {text!r}", where=where)


@dataclass(frozen=True, slots=True)
class UpdateOptions:
    """Renovate/version-checker style limits on what counts as an update."""

    allow_prerelease: bool = False
    within: Within = "any"


def _regex_version(tag: str, pattern: re.Pattern[str]) -> TagVersion | None:
    match = pattern.search(tag)
    if match is None:
        return None
    groups = match.groupdict()
    named = [groups.get(name) for name in ("major", "minor", "patch", "build")]
    if any(value is not None for value in named):
        key = tuple(int(value) if value and value.isdigit() else 0 for value in named)
        return TagVersion(tag, "regex", ("regex", pattern.pattern), key, prerelease=bool(groups.get("prerelease")))
    plain = classify(tag)
    return TagVersion(
        tag, plain.kind, ("regex", pattern.pattern, *plain.family), plain.key, plain.prerelease, plain.date
    )


def version_of(tag: str, policy: TagPolicy = TagPolicy()) -> TagVersion | None:
    """``tag`` read under ``policy``; ``None`` when the policy does not admit it."""
    if policy.kind == "regex":
        assert policy.pattern is not None
        return _regex_version(tag, policy.pattern)
    version = classify(tag)
    if policy.kind in ("semver", "date") and version.kind != policy.kind:
        return None
    return version


def _order_key(version: TagVersion, created: Mapping[str, datetime.datetime] | None) -> tuple[int | float, ...] | None:
    if version.key is not None:
        return version.key
    if created is not None and version.tag in created:
        return (created[version.tag].timestamp(),)
    return None


def newer_tags(
    current: str,
    tags: Iterable[str],
    *,
    policy: TagPolicy = TagPolicy(),
    options: UpdateOptions = UpdateOptions(),
    created: Mapping[str, datetime.datetime] | None = None,
) -> list[str]:
    """Tags of ``current``'s family that are newer than it, oldest first (the last is the newest).

    Build tags (``master-1831e436``, ``sha-abc1234``) have no order of their own: ``created`` (the
    images' config dates, an input) orders them, and without it nothing is newer. Moving tags and
    ``pinned`` entries never have newer tags.
    """
    if policy.kind == "pinned":
        return []
    mine = version_of(current, policy)
    if mine is None or mine.kind in ("moving", "other"):
        return []
    mine_key = _order_key(mine, created)
    if mine_key is None:
        return []
    candidates: list[tuple[tuple[int | float, ...], str]] = []
    for tag in set(tags):
        other = version_of(tag, policy)
        if other is None or other.family != mine.family or tag == current:
            continue
        if other.prerelease and not (options.allow_prerelease or mine.prerelease):
            continue
        if not _within(mine, other, options.within):
            continue
        key = _order_key(other, created)
        if key is not None and key > mine_key:
            candidates.append((key, tag))
    candidates.sort()
    return [tag for _, tag in candidates]


def _within(mine: TagVersion, other: TagVersion, within: Within) -> bool:
    if within == "any" or mine.kind not in ("semver", "regex") or not mine.key or not other.key:
        return True
    if mine.key[0] != other.key[0]:
        return False
    return within == "major" or (len(mine.key) < 2 or mine.key[1] == other.key[1])


def sort_tags(tags: Iterable[str], created: Mapping[str, datetime.datetime] | None = None) -> list[str]:
    """All tags grouped by family, each family oldest first; unorderable tags last, by name."""
    ordered: list[tuple[tuple[str, ...], tuple[int | float, ...], str]] = []
    rest: list[str] = []
    for tag in tags:
        version = classify(tag)
        key = _order_key(version, created)
        if key is None:
            rest.append(tag)
        else:
            ordered.append((version.family, key, tag))
    ordered.sort()
    return [tag for _, _, tag in ordered] + sorted(rest)


@dataclass(frozen=True, slots=True)
class Behind:
    """How far a tag lags its family's newest: releases skipped and days between them."""

    versions: int
    days: int | None
    newest: str
    major_behind: bool = False


#: Thresholds for :func:`severity`: what makes a lag a warning, what makes it an error.
WARNING_VERSIONS, ERROR_VERSIONS = 2, 5
WARNING_DAYS, ERROR_DAYS = 90, 365


def how_far_behind(
    current: str,
    newer: list[str],
    *,
    created: Mapping[str, datetime.datetime] | None = None,
) -> Behind | None:
    """``None`` when up to date; else the lag behind ``newer[-1]`` (as :func:`newer_tags` orders)."""
    if not newer:
        return None
    newest = newer[-1]
    mine, last = classify(current), classify(newest)
    days: int | None = None
    if mine.date is not None and last.date is not None:
        days = (last.date - mine.date).days
    elif created is not None and current in created and newest in created:
        days = max(0, (created[newest] - created[current]).days)
    major_behind = mine.major is not None and last.major is not None and last.major > mine.major
    return Behind(len(newer), days, newest, major_behind)


def newest_update(
    current: str,
    tags: Iterable[str],
    *,
    policy: TagPolicy = TagPolicy(),
    options: UpdateOptions = UpdateOptions(),
    created: Mapping[str, datetime.datetime] | None = None,
) -> Behind | None:
    """How far ``current`` lags the newest tag it may move to (``None``: it is the newest).

    The one place that picks an update: audit's ``stale-tag`` suggestion and ``plan``'s candidate
    both come from here, so the two never name different tags for the same entry.
    """
    newer = newer_tags(current, tags, policy=policy, options=options, created=created)
    return how_far_behind(current, newer, created=created)


def severity(behind: Behind) -> Severity:
    """A major release or a year behind is an error; a few releases or a season, a warning."""
    if behind.major_behind or behind.versions >= ERROR_VERSIONS or (behind.days or 0) >= ERROR_DAYS:
        return "error"
    if behind.versions >= WARNING_VERSIONS or (behind.days or 0) >= WARNING_DAYS:
        return "warning"
    return "info"
