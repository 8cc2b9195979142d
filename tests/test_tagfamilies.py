"""Tag families against hand-sorted lists of real notebook image tags (Kubeflow, docker-stacks, pangeo)."""

from __future__ import annotations

import datetime
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nbcatalog.errors import BadInputError
from nbcatalog.tagfamilies import (
    Behind,
    TagPolicy,
    UpdateOptions,
    classify,
    how_far_behind,
    newer_tags,
    parse_policy,
    severity,
    sort_tags,
)

# ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy, hand-sorted (releases and their rc's).
KUBEFLOW_SORTED = [
    "v1.4",
    "v1.5.0-rc.0",
    "v1.5.0-rc.1",
    "v1.5.0",
    "v1.6.0-rc.0",
    "v1.6.0",
    "v1.6.1",
    "v1.7.0-rc.0",
    "v1.7.0",
    "v1.8.0-rc.0",
    "v1.8.0-rc.6",
    "v1.8.0",
    "v1.9.0-rc.0",
    "v1.9.0",
    "v1.9.1",
    "v1.9.2",
    "v1.10.0-rc.0",
    "v1.10.0-rc.1",
    "v1.10.0-rc.2",
    "v1.10.0",
]
KUBEFLOW_OTHERS = ["latest", "master-1831e436", "master-5ab7c0e2", "sha-3a1f9c2"]

# quay.io/jupyter/pytorch-notebook: date tags and the prefixed families next to them.
STACKS_DATES = ["2023-10-20", "2024-01-08", "2024-03-11", "2024-05-27", "2024-12-02"]
STACKS_CUDA12 = ["cuda12-2024-01-08", "cuda12-2024-05-27", "cuda12-2024-12-02"]
STACKS_PY311_DATES = ["python-3.11.6-2023-10-20", "python-3.11.9-2024-05-27"]
STACKS_X86 = ["x86_64-2024-01-08", "x86_64-2024-05-27"]
STACKS_PYTHON = ["python-3.10", "python-3.11", "python-3.12"]
STACKS_OTHERS = ["latest", "cuda12-latest", "x86_64-latest", "1aac87eb7fa5", "ubuntu-22.04", "lab-4.2.1"]


def test_kubeflow_families_and_order() -> None:
    shuffled = KUBEFLOW_SORTED + KUBEFLOW_OTHERS
    random.Random(6).shuffle(shuffled)
    assert [tag for tag in sort_tags(shuffled) if tag.startswith("v")] == KUBEFLOW_SORTED
    assert classify("latest").kind == "moving"
    assert classify("master-1831e436").kind == "build"
    assert classify("sha-3a1f9c2").kind == "build"
    assert classify("v1.10.0-rc.1").prerelease
    assert classify("v1.4").family == classify("v1.10.0").family


def test_stacks_families_and_order() -> None:
    groups = [STACKS_DATES, STACKS_CUDA12, STACKS_PY311_DATES, STACKS_X86, STACKS_PYTHON]
    families = {classify(group[0]).family for group in groups}
    assert len(families) == len(groups)
    for group in groups:
        assert {classify(tag).family for tag in group} == {classify(group[0]).family}
        shuffled = list(reversed(group))
        assert sort_tags(shuffled) == group
    assert classify("1aac87eb7fa5").kind == "build"
    assert classify("cuda12-latest").kind == "moving"
    assert classify("2026.06.04").kind == "date"  # pangeo's dotted dates
    assert classify("2026.06.04").family != classify("2026-06-04").family


def test_newer_semver_skips_prereleases_unless_asked() -> None:
    tags = KUBEFLOW_SORTED + KUBEFLOW_OTHERS
    assert newer_tags("v1.9.1", tags) == ["v1.9.2", "v1.10.0"]
    assert newer_tags("v1.9.2", tags, options=UpdateOptions(allow_prerelease=True)) == [
        "v1.10.0-rc.0",
        "v1.10.0-rc.1",
        "v1.10.0-rc.2",
        "v1.10.0",
    ]
    # on a prerelease already: later prereleases count.
    assert newer_tags("v1.10.0-rc.0", tags) == ["v1.10.0-rc.1", "v1.10.0-rc.2", "v1.10.0"]
    assert newer_tags("v1.10.0", tags) == []
    assert newer_tags("v1.4", tags)[-1] == "v1.10.0"


def test_newer_within_major_and_minor() -> None:
    tags = ["v1.8.0", "v1.8.1", "v1.9.0", "v2.0.0", "v2.1.0"]
    assert newer_tags("v1.8.0", tags, options=UpdateOptions(within="minor")) == ["v1.8.1"]
    assert newer_tags("v1.8.0", tags, options=UpdateOptions(within="major")) == ["v1.8.1", "v1.9.0"]
    assert newer_tags("v1.8.0", tags) == ["v1.8.1", "v1.9.0", "v2.0.0", "v2.1.0"]


def test_newer_dates_stay_in_their_family() -> None:
    tags = STACKS_DATES + STACKS_CUDA12 + STACKS_PY311_DATES + STACKS_X86 + STACKS_OTHERS
    assert newer_tags("2024-05-27", tags) == ["2024-12-02"]
    assert newer_tags("cuda12-2024-01-08", tags) == ["cuda12-2024-05-27", "cuda12-2024-12-02"]
    assert newer_tags("x86_64-2024-01-08", tags) == ["x86_64-2024-05-27"]
    assert newer_tags("latest", tags) == []
    assert newer_tags("python-3.11.6-2023-10-20", tags) == ["python-3.11.9-2024-05-27"]
    assert newer_tags("python-3.11", STACKS_PYTHON) == ["python-3.12"]


def test_build_tags_order_by_created_input() -> None:
    day = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    created = {
        "master-1831e436": day,
        "master-5ab7c0e2": day + datetime.timedelta(days=40),
        "master-0000aaaa": day - datetime.timedelta(days=3),
    }
    tags = [*created, "v1.8.0"]
    assert newer_tags("master-1831e436", tags) == []  # no dates, no order
    assert newer_tags("master-1831e436", tags, created=created) == ["master-5ab7c0e2"]
    behind = how_far_behind("master-1831e436", ["master-5ab7c0e2"], created=created)
    assert behind == Behind(1, 40, "master-5ab7c0e2")


def test_policies() -> None:
    tags = ["v1.8.0", "v1.9.0", "2024-05-27", "2024-06-03"]
    assert newer_tags("v1.8.0", tags, policy=parse_policy("pinned")) == []
    assert newer_tags("v1.8.0", tags, policy=parse_policy("date")) == []
    assert newer_tags("2024-05-27", tags, policy=parse_policy("date")) == ["2024-06-03"]
    assert newer_tags("v1.8.0", tags, policy=parse_policy("semver")) == ["v1.9.0"]
    renovate_style = parse_policy(r"regex:^release-(?<major>\d+)\.(?<minor>\d+)$")
    assert renovate_style.kind == "regex"
    regex_tags = ["release-1.2", "release-1.10", "release-1.9", "other-1.11"]
    assert newer_tags("release-1.2", regex_tags, policy=renovate_style) == ["release-1.9", "release-1.10"]
    plain = parse_policy(r"regex:^py311-")
    assert newer_tags("py311-2024-05-27", ["py311-2024-06-03", "py312-2024-07-01"], policy=plain) == [
        "py311-2024-06-03"
    ]
    assert parse_policy(None) == TagPolicy()


@pytest.mark.parametrize("text", ["newest", "regex:(unclosed", "semver2"])
def test_bad_policies_name_the_place(text: str) -> None:
    with pytest.raises(BadInputError) as info:
        parse_policy(text, where="catalog.yaml:7")
    assert str(info.value).startswith("catalog.yaml:7: ")
    assert info.value.exit_code == 2


def test_how_far_behind_and_severity() -> None:
    assert how_far_behind("v1.10.0", []) is None
    one = how_far_behind("v1.9.1", ["v1.9.2"])
    assert one == Behind(1, None, "v1.9.2") and severity(one) == "info"
    two = how_far_behind("v1.9.1", ["v1.9.2", "v1.10.0"])
    assert two is not None and severity(two) == "warning"
    major = how_far_behind("v1.10.0", ["v2.0.0"])
    assert major is not None and major.major_behind and severity(major) == "error"
    dated = how_far_behind("2024-05-27", ["2024-12-02"])
    assert dated is not None and dated.days == 189 and severity(dated) == "warning"
    old = how_far_behind("2023-10-20", ["2024-12-02"])
    assert old is not None and severity(old) == "error"
    many = how_far_behind("v1.5.0", ["v1.6.0", "v1.6.1", "v1.7.0", "v1.8.0", "v1.9.0"])
    assert many is not None and severity(many) == "error"


def test_unknown_tags_are_other() -> None:
    for tag in ["mytag", "foo_bar"]:
        assert classify(tag).kind == "other"
        assert newer_tags(tag, [tag, "zzz"]) == []


@given(
    st.lists(
        st.tuples(st.integers(0, 30), st.integers(0, 30), st.integers(0, 30)), min_size=1, max_size=30, unique=True
    )
)
def test_semver_order_is_numeric_order(versions: list[tuple[int, int, int]]) -> None:
    tags = [f"v{a}.{b}.{c}" for a, b, c in versions]
    by_number = [f"v{a}.{b}.{c}" for a, b, c in sorted(versions)]
    assert sort_tags(tags) == by_number
    current = tags[0]
    assert newer_tags(current, tags) == by_number[by_number.index(current) + 1 :]


@given(st.lists(st.dates(datetime.date(2019, 1, 1), datetime.date(2030, 12, 31)), min_size=1, max_size=30, unique=True))
def test_date_order_is_calendar_order(days: list[datetime.date]) -> None:
    tags = [f"cuda12-{day.isoformat()}" for day in days]
    ordered = [f"cuda12-{day.isoformat()}" for day in sorted(days)]
    assert sort_tags(tags) == ordered
    assert newer_tags(tags[0], [*tags, "latest", "2030-12-31"]) == ordered[ordered.index(tags[0]) + 1 :]
