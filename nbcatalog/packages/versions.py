"""Version order per ecosystem, so a diff can say upgraded or downgraded.

``compare(ecosystem, a, b)`` returns -1, 0 or 1, or None when a version cannot be parsed under
that ecosystem's rules (the diff then says "changed").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import zip_longest

# -- Debian (deb-version(7), as dpkg --compare-versions) ---------------------------------------------

_DEB_VERSION = re.compile(r"^(?:(\d+):)?([A-Za-z0-9.+~:-]+?)(?:-([A-Za-z0-9.+~]+))?$")


def _deb_char_order(char: str) -> int:
    if char == "~":
        return -1
    if char.isalpha():
        return ord(char)
    return ord(char) + 256


def _deb_part(a: str, b: str) -> int:
    """dpkg's verrevcmp: alternating non-digit runs (letters < symbols, ~ first) and numbers."""
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _deb_char_order(a[i]) if i < len(a) and not a[i].isdigit() else 0
            bc = _deb_char_order(b[j]) if j < len(b) and not b[j].isdigit() else 0
            if ac != bc:
                return -1 if ac < bc else 1
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return -1 if first_diff < 0 else 1
    return 0


def debian_compare(a: str, b: str) -> int | None:
    parsed = []
    for text in (a, b):
        match = _DEB_VERSION.match(text.strip())
        if not match:
            return None
        epoch, upstream, revision = match.groups()
        parsed.append((int(epoch or 0), upstream, revision or ""))
    (ea, ua, ra), (eb, ub, rb) = parsed
    if ea != eb:
        return -1 if ea < eb else 1
    return _deb_part(ua, ub) or _deb_part(ra, rb)


# -- PEP 440 --------------------------------------------------------------------------------------


def pep440_compare(a: str, b: str) -> int | None:
    from packaging.version import InvalidVersion, Version

    try:
        va, vb = Version(a), Version(b)
    except InvalidVersion:
        return None
    return (va > vb) - (va < vb)


# -- conda (conda.models.version.VersionOrder's rules) ---------------------------------------------

_CONDA_VALID = re.compile(r"^[*.+!_0-9a-z]+$")
_CONDA_RUN = re.compile(r"([0-9]+|[*]+|[^0-9*]+)")
_Atom = int | float | str


def _conda_components(components: list[str]) -> list[list[_Atom]]:
    out: list[list[_Atom]] = []
    for component in components:
        runs = _CONDA_RUN.findall(component)
        if not runs:
            raise ValueError("empty version component")
        atoms: list[_Atom] = []
        for run in runs:
            if run.isdigit():
                atoms.append(int(run))
            elif run == "post":
                atoms.append(float("inf"))  # post sorts after every number
            elif run == "dev":
                atoms.append("DEV")  # upper case sorts before '_' and lower-case strings
            else:
                atoms.append(run)
        if not component[0].isdigit():
            atoms.insert(0, 0)
        out.append(atoms)
    return out


def conda_key(version: str) -> tuple[list[list[_Atom]], list[list[_Atom]]]:
    text = version.strip().lower()
    if not text:
        raise ValueError("empty version")
    if not _CONDA_VALID.match(text) and "-" in text and "_" not in text:
        text = text.replace("-", "_")
    if not _CONDA_VALID.match(text):
        raise ValueError(f"invalid conda version {version!r}")
    epoch = "0"
    if "!" in text:
        epoch, _, text = text.partition("!")
        if not epoch.isdigit() or "!" in text:
            raise ValueError(f"invalid epoch in {version!r}")
    local: list[str] = []
    if "+" in text:
        text, _, local_text = text.partition("+")
        if "+" in local_text:
            raise ValueError(f"two local parts in {version!r}")
        local = local_text.replace("_", ".").split(".")
    if text.endswith("_"):  # openssl-style "1.0.1_" keeps its underscore: sorts before "1.0.1a"
        parts = text[:-1].replace("_", ".").split(".")
        parts[-1] += "_"
    else:
        parts = text.replace("_", ".").split(".")
    return _conda_components([epoch, *parts]), _conda_components(local)


def _conda_less(a: list[list[_Atom]], b: list[list[_Atom]]) -> int:
    empty: list[_Atom] = []
    for ca, cb in zip_longest(a, b, fillvalue=empty):
        for xa, xb in zip_longest(ca, cb, fillvalue=0):
            if xa == xb:
                continue
            if isinstance(xa, str) != isinstance(xb, str):
                return -1 if isinstance(xa, str) else 1  # strings sort before numbers
            return -1 if xa < xb else 1  # type: ignore[operator,unused-ignore]
    return 0


def conda_compare(a: str, b: str) -> int | None:
    try:
        (va, la), (vb, lb) = conda_key(a), conda_key(b)
    except ValueError:
        return None
    return _conda_less(va, vb) or _conda_less(la, lb)


# -- R (package_version: non-negative integers separated by '.' or '-') -----------------------------

_R_VERSION = re.compile(r"^\d+(?:[.-]\d+)+$")


def r_compare(a: str, b: str) -> int | None:
    if not _R_VERSION.match(a.strip()) or not _R_VERSION.match(b.strip()):
        return None
    ka = [int(x) for x in re.split(r"[.-]", a.strip())]
    kb = [int(x) for x in re.split(r"[.-]", b.strip())]
    return (ka > kb) - (ka < kb)


# -- npm (JupyterLab extensions): semver, prereleases before releases ---------------------------------

_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def semver_compare(a: str, b: str) -> int | None:
    ma, mb = _SEMVER.match(a.strip()), _SEMVER.match(b.strip())
    if not ma or not mb:
        return None
    core_a, core_b = tuple(int(x) for x in ma.groups()[:3]), tuple(int(x) for x in mb.groups()[:3])
    if core_a != core_b:
        return -1 if core_a < core_b else 1
    pre_a, pre_b = ma.group(4), mb.group(4)
    if pre_a == pre_b:
        return 0
    if pre_a is None or pre_b is None:
        return 1 if pre_a is None else -1

    def key(pre: str) -> list[tuple[int, int, str]]:
        return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")]

    ka, kb = key(pre_a), key(pre_b)
    return (ka > kb) - (ka < kb)


COMPARATORS: dict[str, Callable[[str, str], int | None]] = {
    "apt": debian_compare,
    "pip": pep440_compare,
    "conda": conda_compare,
    "r": r_compare,
    "jupyterlab": semver_compare,
}


def compare(ecosystem: str, a: str, b: str) -> int | None:
    """-1/0/1 under ``ecosystem``'s rules; None if either version does not parse."""
    if a == b:
        return 0
    comparator = COMPARATORS.get(ecosystem)
    return comparator(a, b) if comparator else None
