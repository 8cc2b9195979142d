"""The separate ``tag:`` key (z2jh ``singleuser.image``, catalog entries), read by one helper for both."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbcatalog.profilefiles import read_profile_file

Z2JH = "singleuser:\n  image:\n    name: quay.io/jupyter/base-notebook\n    tag: {tag}\n"
CATALOG = "images:\n  - name: base\n    image: quay.io/jupyter/base-notebook\n    tag: {tag}\n"


@pytest.mark.parametrize("template", [Z2JH, CATALOG], ids=["z2jh", "catalog"])
@pytest.mark.parametrize(
    ("tag", "image", "tag_col"),
    [
        ("2024-05-27", "quay.io/jupyter/base-notebook:2024-05-27", 10),  # a YAML date, spelled as written
        ("'1.10'", "quay.io/jupyter/base-notebook:1.10", 11),  # quoted: the tag text starts after the quote
        ('"v1.10.0"', "quay.io/jupyter/base-notebook:v1.10.0", 11),
    ],
)
def test_tag_key_as_spelled_and_where_it_starts(
    tmp_path: Path, template: str, tag: str, image: str, tag_col: int
) -> None:
    path = tmp_path / "values.yaml"
    path.write_text(template.format(tag=tag), encoding="utf-8")
    [record] = read_profile_file(path)
    assert record.image == image
    assert record.tag_position == (4, tag_col)
    line = path.read_text(encoding="utf-8").splitlines()[3]
    assert line[tag_col - 1 :].startswith(image.rpartition(":")[2])


@pytest.mark.parametrize("template", [Z2JH, CATALOG], ids=["z2jh", "catalog"])
def test_empty_tag_at_the_end_of_the_file_is_no_tag(tmp_path: Path, template: str) -> None:
    """``tag:`` with nothing after it, last in the file (z2jh values read this with an IndexError before)."""
    path = tmp_path / "values.yaml"
    path.write_text(template.format(tag="").rstrip(" \n") + "\n", encoding="utf-8")
    [record] = read_profile_file(path)
    assert record.image == "quay.io/jupyter/base-notebook"
    assert record.tag_position is None
