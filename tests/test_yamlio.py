"""yamlio: atomic writes, YAML errors with positions, round-trips that keep the admin's layout."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbcatalog.errors import CatalogError, FileWriteError
from nbcatalog.yamlio import (
    atomic_write_text,
    dump_yaml,
    guess_indent,
    item_position,
    key_position,
    load_yaml,
    read_yaml,
    value_position,
)

ROUND_TRIP = """\
# top comment
base: &base
  cpu: "1"   # quoted stays quoted
  memory: 2Gi
users:
  - name: a
    <<: *base
  - name: b
    extra: [1, 2]
"""


def test_round_trip_keeps_comments_anchors_and_quotes() -> None:
    data = load_yaml(ROUND_TRIP, "x.yaml")
    assert dump_yaml(data, indent=guess_indent(ROUND_TRIP)) == ROUND_TRIP
    data["users"][1]["name"] = "c"
    out = dump_yaml(data, indent=guess_indent(ROUND_TRIP))
    assert out == ROUND_TRIP.replace("name: b", "name: c")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a:\n  b:\n    - x\n", (2, 4, 2)),
        ("a:\n    b:\n    - x\n", (4, 2, 0)),
        ("a:\n  - x: 1\n    y: 2\n", (2, 4, 2)),
        ("a: 1\n", (2, 4, 2)),
    ],
)
def test_guess_indent(text: str, expected: tuple[int, int, int]) -> None:
    assert guess_indent(text) == expected
    assert dump_yaml(load_yaml(text, "x"), indent=guess_indent(text)) == text


def test_positions_are_one_based() -> None:
    data = load_yaml("a: 1\nlist:\n  - {k: v}\n", "x")
    assert key_position(data, "list") == (2, 1)
    assert value_position(data, "a") == (1, 4)
    assert item_position(data["list"], 0) == (3, 5)
    assert key_position({"plain": 1}, "plain") is None


def test_syntax_and_duplicate_key_errors_name_the_place(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as caught:
        load_yaml("a: 1\na: 2\n", "c.yaml")
    assert caught.value.where == "c.yaml:2:1" and "duplicate key" in caught.value.message
    with pytest.raises(CatalogError, match="YAML syntax error") as caught:
        load_yaml("a: b: c\n", "c.yaml")
    assert caught.value.where == "c.yaml:1:5" and caught.value.exit_code == 2
    with pytest.raises(CatalogError, match="file not found"):
        read_yaml(tmp_path / "missing.yaml")
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(CatalogError, match="cannot read"):
        read_yaml(tmp_path / "bin.yaml")


def test_atomic_write_replaces_and_keeps_mode(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "f.txt"
    atomic_write_text(target, "one\n")
    os.chmod(target, 0o640)
    atomic_write_text(target, "two\n")
    assert target.read_text() == "two\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in target.parent.iterdir()] == ["f.txt"]  # no temp file left behind


@pytest.mark.parametrize("scalar", ["-_", "._", "+_", "-._", "_"])
def test_plain_scalars_that_look_like_numbers_stay_text(scalar: str) -> None:
    """ruamel's resolver takes these for numbers and crashes converting them; YAML 1.2 says strings."""
    assert load_yaml(f"tag: {scalar}\n", "catalog.yaml") == {"tag": scalar}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1_000", 1000), ("0x1F", 31), ("0o17", 15), ("1.5", 1.5), ("1e3", 1e3)],
)
def test_real_numbers_still_read_as_numbers(text: str, expected: object) -> None:
    assert load_yaml(f"n: {text}\n", "catalog.yaml") == {"n": expected}


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12))
def test_any_plain_value_loads_or_is_a_catalog_error(value: str) -> None:
    try:
        load_yaml(f"tag: {value}\n", "catalog.yaml")
    except CatalogError as exc:
        assert exc.where == "catalog.yaml" or exc.where.startswith("catalog.yaml:")


def test_a_failed_write_is_a_one_line_error_and_leaves_no_temp_file(tmp_path: Path) -> None:
    """An unwritable target (here its directory is a file) says so in one line naming it."""
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(FileWriteError) as caught:
        atomic_write_text(blocker / "catalog.yaml", "images: []\n")
    assert str(caught.value).startswith(f"{blocker / 'catalog.yaml'}: cannot write: ")
    assert caught.value.exit_code == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


# --- the nesting check that gives one error under every YAML loader and version -------------------

DEEP_FLOW = "[" * 1200 + "]" * 1200


def test_check_nesting_names_line_and_column_of_the_bracket() -> None:
    from nbcatalog.errors import CatalogError
    from nbcatalog.yamlio import MAX_YAML_NESTING, check_nesting

    with pytest.raises(CatalogError) as info:
        check_nesting(f"a: 1\nb: {DEEP_FLOW}\n", "f.yaml")
    assert "nested too deeply" in info.value.message
    assert info.value.where == f"f.yaml:2:{4 + MAX_YAML_NESTING}"


@pytest.mark.parametrize(
    "text",
    [
        "key: a" + "[" * 500 + "\n",  # a plain scalar: not a collection
        "key: '" + "[" * 500 + "'\n",
        'key: "' + "{" * 500 + '\\" "\n',
        "# " + "[" * 500 + "\nkey: 1\n",
        "key: [" + "[1], " * 500 + "]\n",  # wide, not deep
        "key: " + "[" * 200 + "]" * 200 + "\n",  # exactly at the limit
    ],
)
def test_check_nesting_leaves_real_text_alone(text: str) -> None:
    from nbcatalog.yamlio import check_nesting

    check_nesting(text, "f.yaml")


@pytest.mark.parametrize("loader", ["SafeLoader", "CSafeLoader"])
def test_deep_profile_file_is_the_same_error_under_both_pyyaml_loaders(
    loader: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PyYAML 6.0.4's C loader stops at depth 1000 with its own words; ours come first, for both."""
    import yaml

    from nbcatalog.errors import BadInputError
    from nbcatalog.profilefiles.yamlpos import load_yaml_all

    if not hasattr(yaml, loader):
        pytest.skip(f"this PyYAML has no {loader}")
    monkeypatch.setattr(yaml, "CSafeLoader", getattr(yaml, loader), raising=False)
    with pytest.raises(BadInputError) as info:
        load_yaml_all(f"singleuser:\n  profileList: {DEEP_FLOW}\n", "values.yaml")
    assert "nested too deeply" in info.value.message
    assert info.value.where is not None and info.value.where.startswith("values.yaml:2:")


def test_deep_catalog_is_the_same_error_under_ruamel() -> None:
    from nbcatalog.errors import CatalogError
    from nbcatalog.yamlio import load_yaml

    with pytest.raises(CatalogError) as info:
        load_yaml(f"images: {DEEP_FLOW}\n", "catalog.yaml")
    assert "nested too deeply" in info.value.message and info.value.where == "catalog.yaml:1:209"


# --- the alias budget: a "billion laughs" file is refused before any parser expands it -------------


def billion_laughs(levels: int = 9, width: int = 10, key: str = "x-bomb") -> str:
    """``levels`` anchors, each a list of ``width`` aliases of the one before: width**levels nodes."""
    lines = [f"{key}:", f"  a0: &a0 [{', '.join(['lol'] * width)}]"]
    lines += [f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.fixture
def limits_reset() -> object:
    from nbcatalog import limits

    yield limits
    limits.configure(None)


@pytest.mark.parametrize("round_trip", [False, True], ids=["pyyaml", "ruamel"])
def test_check_aliases_names_the_alias_that_passes_the_budget(round_trip: bool) -> None:
    from nbcatalog.yamlio import YamlLimitError, check_aliases

    with pytest.raises(YamlLimitError) as info:
        check_aliases("images: []\n" + billion_laughs(), "catalog.yaml", round_trip=round_trip)
    # a0..a3 add 12,330 nodes; a4 lists a3 (11,111 nodes) ten times: its 8th alias passes 100,000
    assert info.value.where == "catalog.yaml:7:47"
    assert info.value.message == (
        "YAML aliases expand to more than 100000 nodes (limit 100000; raise with "
        "--limit yaml-alias-nodes=N or NBCATALOG_LIMIT_YAML_ALIAS_NODES)"
    )
    assert info.value.exit_code == 2


@pytest.mark.parametrize("round_trip", [False, True], ids=["pyyaml", "ruamel"])
def test_check_aliases_counts_each_alias_at_its_anchors_size_to_the_node(round_trip: bool) -> None:
    from nbcatalog.yamlio import YamlLimitError, check_aliases

    # &a is 4 nodes (the list and its 3 items); two aliases add 8
    text = "a: &a [1, 2, 3]\nb: *a\nc: *a\n"
    check_aliases(text, "f.yaml", budget=8, round_trip=round_trip)
    with pytest.raises(YamlLimitError) as info:
        check_aliases(text, "f.yaml", budget=7, round_trip=round_trip)
    assert info.value.where == "f.yaml:3:4"
    assert "raise with" not in info.value.message  # a budget of the caller's own, not the limit
    # an anchor holding aliases counts them expanded: &b is 1 + 4 + 4
    nested = "a: &a [1, 2, 3]\nb: &b [*a, *a]\nc: *b\n"
    check_aliases(nested, "f.yaml", budget=8 + 9, round_trip=round_trip)
    with pytest.raises(YamlLimitError):
        check_aliases(nested, "f.yaml", budget=8 + 8, round_trip=round_trip)


def test_a_real_file_with_a_few_aliases_and_merge_keys_passes() -> None:
    from nbcatalog.yamlio import check_aliases

    check_aliases(ROUND_TRIP, "f.yaml")
    resources = "defaults: &d {cpu: '1', memory: 2Gi, gpu: false}\n"
    profiles = "".join(f"p{i}: {{<<: *d, name: p{i}}}\n" for i in range(500))
    check_aliases(resources + profiles, "values.yaml")
    assert load_yaml(resources + profiles, "values.yaml")["p499"]["memory"] == "2Gi"


def test_anchors_are_per_document_and_the_budget_per_file() -> None:
    from nbcatalog.yamlio import YamlLimitError, check_aliases

    doc = "a: &a [1, 2, 3]\nb: *a\n"
    check_aliases(f"{doc}---\n{doc}", "f.yaml", budget=8)
    with pytest.raises(YamlLimitError) as info:
        check_aliases(f"{doc}---\n{doc}---\n{doc}", "f.yaml", budget=8)
    assert info.value.where == "f.yaml:8:4"


def test_check_aliases_leaves_syntax_errors_to_the_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    from nbcatalog.yamlio import check_aliases

    check_aliases("a: &a [1, 2\nb: *a\n" + billion_laughs(), "f.yaml")  # broken before the bomb: no verdict
    with pytest.raises(CatalogError, match="YAML syntax error"):
        load_yaml("a: &a [1, 2\nb: *a\n", "f.yaml")
    monkeypatch.setattr(yaml, "parse", lambda *a, **k: pytest.fail("scanned text without aliases"))
    check_aliases("a: &a 1\nb: 'no alias here'\n", "f.yaml")
    check_aliases("a: '*not an alias'\n", "f.yaml")


def test_the_budget_and_the_depth_are_the_limits_in_force(limits_reset: object) -> None:
    from nbcatalog import limits
    from nbcatalog.yamlio import YamlLimitError, check_aliases, check_nesting

    limits.configure(limits.Limits().replace(yaml_alias_nodes=2_000_000, yaml_depth=5))
    check_aliases(billion_laughs(levels=6), "f.yaml")  # 1,111,110 nodes: under the raised budget
    check_nesting("a: [[[[[1]]]]]\n", "f.yaml")
    with pytest.raises(YamlLimitError) as info:
        check_nesting("a: [[[[[[1]]]]]]\n", "f.yaml")
    assert info.value.where == "f.yaml:1:9"
    assert "more than 5 levels; raise with --limit yaml-depth=N" in info.value.message


@pytest.mark.parametrize("reader", ["load_yaml", "load_yaml_all", "compose", "read_previous"])
def test_every_yaml_reader_refuses_the_bomb(reader: str) -> None:
    """The catalog (ruamel), profile files (PyYAML's C composer), merges (yamlsplice) and WorkspaceKinds."""
    from nbcatalog.errors import BadInputError
    from nbcatalog.exporters.workspacekind import read_previous
    from nbcatalog.exporters.yamlsplice import compose
    from nbcatalog.profilefiles.yamlpos import load_yaml_all

    readers = {
        "load_yaml": load_yaml,
        "load_yaml_all": load_yaml_all,
        "compose": compose,
        "read_previous": read_previous,
    }
    with pytest.raises(BadInputError, match="YAML aliases expand to more than 100000 nodes") as info:
        readers[reader]("kind: WorkspaceKind\nmetadata: {name: x}\n" + billion_laughs(), "bomb.yaml")
    assert info.value.where == "bomb.yaml:8:47"


def test_round_trip_text_pyyaml_cannot_parse_is_scanned_by_ruamel(monkeypatch: pytest.MonkeyPatch) -> None:
    """YAML 1.2 that PyYAML (1.1) refuses is still counted, by the parser that will read it."""
    import yaml

    from nbcatalog import yamlio

    def refuses(text: str) -> tuple[object, tuple[type[BaseException], ...]]:
        def events() -> object:
            raise yaml.YAMLError("not 1.1")
            yield

        return events(), (yaml.YAMLError,)

    monkeypatch.setattr(yamlio, "_pyyaml_events", refuses)
    yamlio.check_aliases(billion_laughs(), "f.yaml")  # PyYAML alone: no verdict, the parser decides
    with pytest.raises(yamlio.YamlLimitError) as info:
        yamlio.check_aliases(billion_laughs(), "f.yaml", round_trip=True)
    assert info.value.where == "f.yaml:6:47"
