"""Text splicing: scalars that read back exactly, item spans that survive aliases."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from nbcatalog.exporters import yamlsplice


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.booleans(), st.integers(), st.none()))
def test_scalar_reads_back_as_itself(value: object) -> None:
    assert yaml.safe_load(f"key: {yamlsplice.scalar(value)}\n") == {"key": value}


def test_image_references_stay_plain() -> None:
    for ref in ("ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter:v1.10.0", "quay.io/jupyter/r-notebook:2024-05-27"):
        assert yamlsplice.scalar(ref) == ref
    assert yamlsplice.scalar("true") == '"true"' and yamlsplice.scalar("1.10") == '"1.10"'


def test_sequence_items_end_where_the_item_ends_even_with_aliases() -> None:
    text = "list:\n  - a: &x {k: v}\n  - b: *x\n    c: 1\n  - d: *x\nafter: 1\n"
    node = yamlsplice.compose(text, "t")
    found = yamlsplice.find(node, "list")
    assert found is not None
    spans = [text[start:end] for start, end, _ in yamlsplice.sequence_items(found[1], text)]  # type: ignore[arg-type]
    assert spans == ["  - a: &x {k: v}\n", "  - b: *x\n    c: 1\n", "  - d: *x\n"]
    assert yamlsplice.anchors_in(text) == {"x"} and yamlsplice.aliases_in(text) == {"x"}


def test_block_indents_and_reads_back() -> None:
    data = [{"display_name": "A: b", "list": [1, "two"], "map": {"k": "v"}}]
    text = "root:\n" + yamlsplice.block(data, 2)
    assert yaml.safe_load(text) == {"root": data}
