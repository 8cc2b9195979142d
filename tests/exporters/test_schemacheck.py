"""The schema checker the export tests rely on must itself reject bad documents."""

from __future__ import annotations

from tests.exporters.schemacheck import errors


def test_the_checker_rejects_what_it_should() -> None:
    schema = {
        "type": "object",
        "required": ["id"],
        "additionalProperties": False,
        "properties": {"id": {"type": "string", "minLength": 2, "pattern": "^[a-z]+$"}, "n": {"type": "integer"}},
    }
    assert errors({"id": "ab"}, schema) == []
    assert errors({"id": "a"}, schema) == ["$.id: shorter than 2"]
    assert errors({"id": "AB", "n": True}, schema) == [
        "$.id: 'AB' does not match ^[a-z]+$",
        "$.n: expected integer, got bool True",
    ]
    assert errors({"x": 1}, schema) == ["$: missing required 'id'", "$: unexpected key 'x'"]
