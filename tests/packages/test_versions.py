"""Version order per ecosystem; Debian's checked against dpkg itself."""

from __future__ import annotations

import itertools
import random
import subprocess
from pathlib import Path

import pytest

from nbcatalog.packages.versions import compare, conda_compare, debian_compare, r_compare, semver_compare

TRICKY_DEBIAN = [
    "1.0",
    "1.0-1",
    "1.0-1+b1",
    "1.0~rc1",
    "1.0~rc1-1",
    "1.0~~",
    "1.0~",
    "1.0+dfsg",
    "1.0a",
    "1.0.0",
    "1:0.9",
    "2:0.1",
    "0:1.0",
    "1.0-1ubuntu1",
    "1.0-0.1",
    "10.0",
    "9.99",
    "1.00",
    "1.0.a",
    "1.0-a",
    "2.36-9+deb12u4",
    "2.36-9+deb12u10",
    "7.88.1-10+deb12u5",
    "1.2.13.dfsg-1",
    "3.0.11-1~deb12u2",
]


def _dpkg_says(pairs: list[tuple[str, str]]) -> list[int]:
    script = "".join(
        f"if dpkg --compare-versions '{a}' lt '{b}'; then echo -1; "
        f"elif dpkg --compare-versions '{a}' eq '{b}'; then echo 0; else echo 1; fi\n"
        for a, b in pairs
    )
    out = subprocess.run(["sh"], input=script, check=True, capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def test_debian_order_matches_dpkg_compare_versions() -> None:
    versions = set(TRICKY_DEBIAN)
    for line in Path("/var/lib/dpkg/status").read_text().splitlines():
        if line.startswith("Version: "):
            versions.add(line.split(" ", 1)[1])
    pool = sorted(versions)
    rng = random.Random(3)
    pairs = list(itertools.combinations(TRICKY_DEBIAN, 2))
    pairs += [(rng.choice(pool), rng.choice(pool)) for _ in range(150)]
    # Neighbours in a sort are the pairs that differ least: the hardest cases.
    pairs += list(itertools.pairwise(pool))
    ours = [debian_compare(a, b) for a, b in pairs]
    assert ours == _dpkg_says(pairs)


CONDA_DOCUMENTED_ORDER = [
    ["0.4", "0.4.0"],
    ["0.4.1.rc", "0.4.1.RC"],
    ["0.4.1"],
    ["0.5a1"],
    ["0.5b3"],
    ["0.5C1"],
    ["0.5"],
    ["0.9.6"],
    ["0.960923"],
    ["1.0"],
    ["1.1dev1"],
    ["1.1_"],
    ["1.1a1"],
    ["1.1.0dev1", "1.1.dev1"],
    ["1.1.a1"],
    ["1.1.0rc1"],
    ["1.1.0", "1.1"],
    ["1.1.0post1", "1.1.post1"],
    ["1.1post1"],
    ["1996.07.12"],
    ["1!0.4.1"],
    ["1!3.1.1.6"],
    ["2!0.4.1"],
]


def test_conda_order_is_the_documented_one() -> None:
    flat = [(rank, version) for rank, group in enumerate(CONDA_DOCUMENTED_ORDER) for version in group]
    for rank_a, a in flat:
        for rank_b, b in flat:
            expected = (rank_a > rank_b) - (rank_a < rank_b)
            assert conda_compare(a, b) == expected, (a, b)


def test_conda_openssl_style_and_invalid() -> None:
    assert conda_compare("1.0.1_", "1.0.1a") == -1
    assert conda_compare("1.1.1w", "3.0.13") == -1
    assert conda_compare("1.0+local.1", "1.0+local.2") == -1
    assert conda_compare("1.0$", "1.0") is None


@pytest.mark.parametrize(
    ("ecosystem", "a", "b", "expected"),
    [
        ("pip", "2.0.0", "2.0.0rc1", 1),
        ("pip", "1.10", "1.9", 1),
        ("pip", "1.0.post1", "1.0", 1),
        ("pip", "not a version", "1.0", None),
        ("r", "1.8.4", "1.8.10", -1),
        ("r", "2.5-1", "2.5.1", 0),
        ("r", "1.0", "1.0.0", -1),
        ("r", "1.0a", "1.0", None),
        ("jupyterlab", "5.0.11", "5.0.9", 1),
        ("jupyterlab", "4.0.0-alpha.1", "4.0.0", -1),
        ("jupyterlab", "4.0.0-alpha.2", "4.0.0-alpha.10", -1),
        ("apt", "1.0~rc1", "1.0", -1),
        ("unknown", "1", "2", None),
        ("unknown", "1", "1", 0),
    ],
)
def test_compare(ecosystem: str, a: str, b: str, expected: int | None) -> None:
    assert compare(ecosystem, a, b) == expected


def test_semver_and_r_are_antisymmetric() -> None:
    for fn, versions in (
        (semver_compare, ["1.0.0", "1.0.0-rc.1", "1.0.0-rc.2", "0.9.9"]),
        (r_compare, ["1.0", "1.0-1", "0.99"]),
    ):
        for a in versions:
            for b in versions:
                assert fn(a, b) == -(fn(b, a) or 0)
