"""``--json`` prints exactly what ``json.dumps(indent=2, ensure_ascii=False)`` would, then escaped.

The fast writer (``cli.output.indented_json``) is held to the standard library's bytes: any JSON
document, keys that are not strings, strings holding the separators it relies on.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nbcatalog.cli import output
from nbcatalog.cli.output import indented_json
from nbcatalog.safetext import json_text

_text = st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from('{}[],:"\\\n\t \x1b\x9b\u202e'))
_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | _text
_documents = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(_text, children, max_size=5)
        | st.lists(st.dictionaries(_text, _scalars, min_size=1, max_size=4), max_size=5)
    ),
    max_leaves=40,
)


def _stdlib(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False)


@given(_documents)
def test_the_bytes_are_the_standard_librarys(document: Any) -> None:
    assert indented_json(document) == _stdlib(document)


@pytest.mark.parametrize(
    "document",
    [
        [],
        {},
        [[]],
        [{}],
        [{}, {"a": 1}],
        [{"a": "},\n    {"}, {"b": "}"}],
        {"packages": [{"name": "x", "extra": "}, {"}, {"name": "y"}], "warnings": []},
        {7: "int key", 2.5: "float key", None: "null key", True: "bool key"},
        {"nested": {3: [1, 2]}},
        (1, (2, 3), {"t": (4,)}),
        [float("nan"), float("inf"), -0.0, 10**40],
        "just a string",
        None,
    ],
)
def test_edge_documents(document: Any) -> None:
    assert indented_json(document) == _stdlib(document)


def test_what_json_cannot_write_fails_as_json_does() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        indented_json({"packages": [{"name": object()}]})


def test_print_json_escapes_what_a_terminal_would_obey(monkeypatch: pytest.MonkeyPatch) -> None:
    document = {"tags": [{"tag": "v1\x1b]0;title\x07"}, {"tag": "\u202ev1.0"}], "note": "\x9b31m"}
    stdout = io.StringIO()
    monkeypatch.setattr(output.sys, "stdout", stdout)
    output.print_json(document)
    printed = stdout.getvalue()
    assert printed == json_text(_stdlib(document)) + "\n"
    assert "\x9b" not in printed and "\u202e" not in printed and "\x1b" not in printed
    assert json.loads(printed) == document
