"""What every exporter shares: the result type, the generated-file header and YAML/Python rendering.

A generated file starts with a header (written by :mod:`nbcatalog.exporters.files`) naming the
catalog it came from and the sha256 of the body below it, so ``export`` can tell a file it wrote
(safe to replace) from one edited by hand since (kept unless ``--force``), with no other state.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

HASH_MARKER = "nbcatalog-sha256:"
_HASH_RE = re.compile(r"^(?:#|//)\s*" + re.escape(HASH_MARKER) + r"\s*([0-9a-f]{64})\s*$")


@dataclass(frozen=True, slots=True)
class ExportResult:
    """One exporter's output: the body text (no header) and what the user should be told."""

    body: str
    warnings: tuple[str, ...] = ()
    extra_files: dict[str, str] = field(default_factory=dict)


def body_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def split_header(text: str) -> tuple[str | None, str]:
    """(recorded hash, body) of a file; (None, text) when it carries no nbcatalog header."""
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines[:12]):
        match = _HASH_RE.match(line.rstrip("\n"))
        if match:
            return match.group(1), "".join(lines[index + 1 :])
        if not line.startswith("#"):
            break
    return None, text


def edited_by_hand(text: str) -> bool:
    """True when a file has our header but its body no longer hashes to the recorded value."""
    recorded, body = split_header(text)
    return recorded is not None and recorded != body_hash(body)


def restamp(before: str, after: str) -> str:
    """``after`` with its header's hash renewed, when ``before`` was a generated file untouched by hand.

    ``audit --fix`` rewriting tags in a generated file is nbcatalog's own edit, not a hand edit: without
    this, the next ``export`` (and ``export --check`` in CI) would refuse the file as edited by hand.
    A file already edited by hand stays marked as such.
    """
    if edited_by_hand(before):
        return after
    recorded, _ = split_header(before)
    if recorded is None:
        return after
    _, body = split_header(after)
    return after.replace(f"{HASH_MARKER} {recorded}", f"{HASH_MARKER} {body_hash(body)}", 1)


def dump_yaml_documents(*documents: Any) -> str:
    """Block-style YAML for plain data, keys in insertion order, lists indented under their key."""
    from nbcatalog.yamlio import dump_yaml

    return "---\n".join(dump_yaml(document) for document in documents)


def python_literal(value: Any, indent: int = 0) -> str:
    """Deterministic, readable Python source for JSON-like data (dict order kept)."""
    pad = " " * (indent + 4)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{pad}{json.dumps(str(k))}: {python_literal(v, indent + 4)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + "\n" + " " * indent + "}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        items = [f"{pad}{python_literal(v, indent + 4)}," for v in value]
        return "[\n" + "\n".join(items) + "\n" + " " * indent + "]"
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)
