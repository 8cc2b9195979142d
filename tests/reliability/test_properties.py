"""Property-based tests: version order per ecosystem (Debian's against dpkg itself) and package
database parsers that never crash and read back what was written (dpkg's against dpkg-query)."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.version import Version

from nbcatalog.packages import conda, dpkg, jupyterlab, pip, rlib
from nbcatalog.packages.versions import COMPARATORS, conda_compare, debian_compare, pep440_compare, r_compare

QUICK = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BATCHED = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- Debian: generated versions, dpkg --compare-versions as the oracle ------------------------------------

_DIGIT = st.sampled_from("0123456789")
_DEB_CHARS = "0123456789abz.+~"
debian_versions = st.builds(
    lambda epoch, first, rest, revision: f"{epoch}{first}{rest}{revision}",
    st.sampled_from(["", "", "0:", "1:", "2:"]),
    _DIGIT,
    st.text(alphabet=_DEB_CHARS, max_size=7),
    st.one_of(st.just(""), st.text(alphabet=_DEB_CHARS, min_size=1, max_size=5).map(lambda r: "-" + r)),
)


def _dpkg_compare(pairs: list[tuple[str, str]]) -> list[int]:
    script = "".join(
        f"if dpkg --compare-versions '{a}' lt '{b}'; then echo -1; "
        f"elif dpkg --compare-versions '{a}' eq '{b}'; then echo 0; else echo 1; fi\n"
        for a, b in pairs
    )
    out = subprocess.run(["sh"], input=script, check=True, capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


@BATCHED
@given(st.lists(st.tuples(debian_versions, debian_versions), min_size=40, max_size=40))
def test_debian_order_agrees_with_dpkg(pairs: list[tuple[str, str]]) -> None:
    # near-equal pairs are where the ~ and . rules bite: add a one-character variant of each
    pairs = pairs + [(a, a + "~") for a, _ in pairs[:10]] + [(a, a + ".0") for a, _ in pairs[10:20]]
    ours = [debian_compare(a, b) for a, b in pairs]
    truth = _dpkg_compare(pairs)
    assert ours == truth, [p for p, o, t in zip(pairs, ours, truth, strict=True) if o != t]


# -- every comparator: a total order on what it accepts, and no exception on anything ----------------------

pep440_versions = st.builds(
    lambda epoch, release, pre, post, dev, local: f"{epoch}{release}{pre}{post}{dev}{local}",
    st.sampled_from(["", "", "1!"]),
    st.lists(st.integers(0, 20), min_size=1, max_size=4).map(lambda parts: ".".join(map(str, parts))),
    st.sampled_from(["", "a1", "b2", "rc1", "-alpha3", ".RC2", "c1"]),
    st.sampled_from(["", ".post1", "-1", "post2", ".rev3"]),
    st.sampled_from(["", ".dev0", "dev4", "-dev"]),
    st.sampled_from(["", "+local.7", "+ubuntu-2"]),
)
conda_versions = st.lists(
    st.one_of(st.integers(0, 30).map(str), st.sampled_from(["a", "b", "rc1", "post", "dev", "1a", "2b3"])),
    min_size=1,
    max_size=4,
).map(".".join)
r_versions = st.lists(st.integers(0, 30), min_size=2, max_size=4).map(
    lambda parts: str(parts[0]) + "".join(sep + str(p) for sep, p in zip(".-.", parts[1:], strict=False))
)

ORDERS = [
    ("apt", debian_versions),
    ("pip", pep440_versions),
    ("conda", conda_versions),
    ("r", r_versions),
]


def _is_total_order(compare: object, values: list[str]) -> None:
    cmp = compare  # type: ignore[assignment]
    for a in values:
        assert cmp(a, a) == 0  # type: ignore[operator]
        for b in values:
            ab, ba = cmp(a, b), cmp(b, a)  # type: ignore[operator]
            assert ab is not None and ab == -ba, (a, b, ab, ba)
    ordered = sorted(values, key=functools.cmp_to_key(cmp))  # type: ignore[arg-type]
    for i, low in enumerate(ordered):
        for high in ordered[i + 1 :]:
            assert cmp(low, high) <= 0, (low, high)  # type: ignore[operator]


@QUICK
@given(st.data())
def test_each_ecosystem_orders_totally(data: st.DataObject) -> None:
    for ecosystem, strategy in ORDERS:
        _is_total_order(COMPARATORS[ecosystem], data.draw(st.lists(strategy, min_size=2, max_size=6)))


@QUICK
@given(pep440_versions, pep440_versions)
def test_pep440_agrees_with_packaging_and_ignores_spelling(a: str, b: str) -> None:
    expected = (Version(a) > Version(b)) - (Version(a) < Version(b))
    assert pep440_compare(a, b) == expected
    assert pep440_compare(a, str(Version(a))) == 0  # "1.0-alpha3" is "1.0a3"


@QUICK
@given(conda_versions)
def test_conda_pads_with_zeros(version: str) -> None:
    assert conda_compare(version, version + ".0") == 0
    assert conda_compare(version.upper(), version) == 0  # case-insensitive


@QUICK
@given(st.lists(st.integers(0, 99), min_size=2, max_size=5))
def test_r_dash_and_dot_are_the_same_separator(parts: list[int]) -> None:
    dotted = ".".join(map(str, parts))
    dashed = ".".join(map(str, parts[:-1])) + "-" + str(parts[-1])
    assert r_compare(dotted, dashed) == 0
    assert r_compare(dotted, dotted + ".1") == -1


@QUICK
@given(st.text(max_size=30), st.text(max_size=30))
def test_comparators_never_raise(a: str, b: str) -> None:
    for compare in COMPARATORS.values():
        assert compare(a, b) in (-1, 0, 1, None)


# -- parsers: never crash; read back what was written -------------------------------------------------------

PARSE_PATHS = [
    (dpkg.parse, "var/lib/dpkg/status"),
    (dpkg.parse, "var/lib/dpkg/status.d/base"),
    (pip.parse, "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA"),
    (rlib.parse, "usr/lib/R/site-library/jsonlite/DESCRIPTION"),
    (conda.parse, "opt/conda/conda-meta/numpy-1.26.4-h0_0.json"),
    (jupyterlab.parse, "opt/conda/share/jupyter/labextensions/@jupyterlab/git/package.json"),
]


@QUICK
@given(st.binary(max_size=3000))
def test_parsers_never_crash_on_bytes(data: bytes) -> None:
    for parse, path in PARSE_PATHS:
        parsed = parse(path, data)
        assert all(isinstance(w, str) for w in parsed.warnings)


_CONTROL_TEXT = st.text(
    alphabet=st.sampled_from([*"abc XYZ:.-#", "\x0c", "\x1c", "\x1e", "\x85", "\u2028", "\t"]), max_size=40
)
package_names = st.from_regex(r"[a-z0-9][a-z0-9+.-]{1,15}", fullmatch=True)


@st.composite
def dpkg_records(draw: st.DrawFn) -> tuple[str, str, str, str]:
    """(name, version, status, a paragraph) with descriptions full of characters that split lines."""
    name = draw(package_names)
    version = draw(debian_versions)
    status = draw(st.sampled_from(["install ok installed", "hold ok installed", "deinstall ok config-files"]))
    lines = [f"Package: {name}", f"Status: {status}", f"Version: {version}", "Architecture: amd64"]
    description = draw(st.lists(_CONTROL_TEXT, max_size=3))
    if description:
        lines.append("Description: " + description[0] + "".join(f"\n {line}" for line in description[1:]))
    fake = draw(st.sampled_from(["", "\x0cVersion: 6.6.6", "\u2028Package: evil"]))
    lines.append(f"Homepage: https://example.org/{name}{fake}")
    return name, version, status, "\n".join(lines) + "\n"


def _dpkg_query(status_text: str, admin: Path) -> set[tuple[str, str]]:
    admin.mkdir(exist_ok=True)
    (admin / "status").write_text(status_text)
    (admin / "updates").mkdir(exist_ok=True)
    (admin / "info").mkdir(exist_ok=True)
    out = subprocess.run(
        ["dpkg-query", f"--admindir={admin}", "-W", "-f", "${db:Status-Status}\t${Package}\t${Version}\n"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    return {(name, version) for state, name, version in rows if state == "installed"}


@BATCHED
@given(records=st.lists(dpkg_records(), min_size=1, max_size=12, unique_by=lambda r: r[0]))
def test_dpkg_status_round_trips_and_agrees_with_dpkg_query(
    records: list[tuple[str, str, str, str]], tmp_path_factory: object
) -> None:
    text = "\n".join(record[3] for record in records)
    parsed = dpkg.parse("var/lib/dpkg/status", text.encode())
    ours = {(p.name, p.version) for p in parsed.packages}
    assert ours == {(name, version) for name, version, status, _ in records if status.endswith(" installed")}
    admin = tmp_path_factory.mktemp("dpkg")  # type: ignore[attr-defined]
    assert {(name, version.removeprefix("0:")) for name, version in ours} == _dpkg_query(text, admin)  # dpkg drops 0:


@QUICK
@given(
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True),
    pep440_versions,
    _CONTROL_TEXT,
    st.text(max_size=200),
)
def test_pip_metadata_round_trips(name: str, version: str, summary: str, body: str) -> None:
    text = f"Metadata-Version: 2.1\nName: {name}\nSummary: {summary}\nVersion: {version}\n\n{body}"
    parsed = pip.parse("usr/local/lib/python3.11/site-packages/x.dist-info/METADATA", text.encode())
    assert [(p.name, p.version) for p in parsed.packages] == [(name, version)]


@QUICK
@given(
    st.from_regex(r"[A-Za-z][A-Za-z0-9.]{1,15}", fullmatch=True),
    r_versions,
    st.lists(_CONTROL_TEXT.filter(lambda line: line.strip(" \t")), max_size=3),  # blank lines end a record
)
def test_r_description_round_trips(name: str, version: str, title: list[str]) -> None:
    continuation = "".join(f"\n    {line}" for line in title)
    text = f"Package: {name}\nTitle: A package{continuation}\nVersion: {version}\nRepository: CRAN\n"
    parsed = rlib.parse(f"usr/lib/R/site-library/{name}/DESCRIPTION", text.encode())
    assert [(p.name, p.version, p.extra.get("repository")) for p in parsed.packages] == [(name, version, "CRAN")]
