"""Package diffs: keys, each ecosystem's order, builds, multi-arch duplicates."""

from __future__ import annotations

from nbcatalog.diff import diff_packages, summarise
from nbcatalog.packages.model import Package


def apt(name: str, version: str, arch: str = "amd64") -> Package:
    return Package("apt", name, version, "/var/lib/dpkg/status", {"arch": arch})


def test_added_removed_upgraded_downgraded_changed() -> None:
    a = [
        apt("libc6", "2.36-9+deb12u4"),
        apt("curl", "7.88.1-10+deb12u5"),
        apt("gone", "1.0"),
        Package("pip", "numpy", "1.26.4", "/opt/conda/lib/python3.11/site-packages"),
        Package("pip", "weird", "not-pep440", "/usr/lib/python3/dist-packages"),
        Package("conda", "python", "3.11.8", "/opt/conda", {"build": "hab00c5b_0"}),
        Package("r", "jsonlite", "1.8.4", "/usr/lib/R/site-library"),
    ]
    b = [
        apt("libc6", "2.36-9+deb12u10"),
        apt("curl", "7.88.1-10+deb12u4"),
        apt("new", "2.0"),
        Package("pip", "NumPy", "2.0.0rc1", "/opt/conda/lib/python3.11/site-packages"),
        Package("pip", "weird", "also-not", "/usr/lib/python3/dist-packages"),
        Package("conda", "python", "3.11.8", "/opt/conda", {"build": "hab00c5b_1"}),
        Package("r", "jsonlite", "1.8.10", "/usr/lib/R/site-library"),
    ]
    changes = {(c.ecosystem, c.name, c.change, c.a_version, c.b_version) for c in diff_packages(a, b)}
    assert changes == {
        ("apt", "libc6", "upgraded", "2.36-9+deb12u4", "2.36-9+deb12u10"),
        ("apt", "curl", "downgraded", "7.88.1-10+deb12u5", "7.88.1-10+deb12u4"),
        ("apt", "gone", "removed", "1.0", None),
        ("apt", "new", "added", None, "2.0"),
        ("pip", "NumPy", "upgraded", "1.26.4", "2.0.0rc1"),
        ("pip", "weird", "changed", "not-pep440", "also-not"),
        ("conda", "python", "changed", "3.11.8", "3.11.8"),
        ("r", "jsonlite", "upgraded", "1.8.4", "1.8.10"),
    }


def test_same_name_in_two_locations_is_two_packages() -> None:
    a = [Package("pip", "six", "1.16.0", "/usr/lib/python3/dist-packages")]
    b = [
        Package("pip", "six", "1.16.0", "/usr/lib/python3/dist-packages"),
        Package("pip", "six", "1.17.0", "/opt/venv/lib/python3.11/site-packages"),
    ]
    (change,) = diff_packages(a, b)
    assert (change.change, change.location) == ("added", "/opt/venv/lib/python3.11/site-packages")


def test_multiarch_duplicates_pair_by_architecture() -> None:
    a = [apt("libc6", "2.36-9", "amd64"), apt("libc6", "2.36-9", "i386")]
    b = [apt("libc6", "2.36-9", "amd64"), apt("libc6", "2.36-10", "i386")]
    (change,) = diff_packages(a, b)
    assert (change.change, change.a_version, change.b_version) == ("upgraded", "2.36-9", "2.36-10")


def test_identical_lists_have_no_changes_and_summary_counts() -> None:
    same = [apt("a", "1"), apt("b", "2")]
    assert diff_packages(same, list(reversed(same))) == []
    changes = diff_packages([apt("a", "1")], [apt("a", "2"), apt("b", "1")])
    assert summarise(changes) == {"apt": {"upgraded": 1, "added": 1}}
    assert [c.to_json()["change"] for c in changes] == ["upgraded", "added"]
