"""YAML (and Python literals) as plain values that remember where each one is spelled.

Findings name ``file:line:col`` and ``--fix`` rewrites tag text in place, so every mapping, list and
string the readers walk carries its 1-based position; scalars keep the file's spelling.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any

from nbcatalog.errors import BadInputError
from nbcatalog.profilefiles.model import FileKind, Position, ProfileImage


class PosDict(dict[Any, Any]):
    """A YAML mapping or a Python dict literal, with each key's and value's position."""

    positions: dict[object, Position]
    key_positions: dict[object, Position]
    position: Position


class PosList(list[Any]):
    positions: dict[object, Position]
    position: Position


class PosStr(str):
    position: Position


def load_yaml_all(text: str, where: str) -> list[Any]:
    """Every document as dicts/lists/str carrying 1-based positions (PyYAML's C composer: fast)."""
    import yaml

    from nbcatalog.yamlio import check_yaml

    check_yaml(text, where)  # the same error under every loader and version (a BadInputError)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        nodes = list(yaml.compose_all(text, Loader=loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        at = f"{where}:{mark.line + 1}:{mark.column + 1}" if mark is not None else where
        raise BadInputError(f"invalid YAML: {exc.problem}", where=at) from None
    except yaml.YAMLError as exc:
        raise BadInputError(f"invalid YAML: {exc}", where=where) from None
    built: dict[int, Any] = {}
    try:
        return [doc for doc in (_build(node, built) for node in nodes if node is not None) if doc is not None]
    except RecursionError:  # hostile nesting such as [[[[...]]]]
        raise BadInputError("YAML nested too deeply", where=where) from None


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _build(node: Any, built: dict[int, Any]) -> Any:
    """A composed node as plain values; scalars stay text (``2024-05-27``, ``1.10``) except null/bool.

    An alias is the same object as its anchor (one spelling, one position); ``<<:`` merges fill keys
    the mapping does not set itself.
    """
    import yaml

    if id(node) in built:
        return built[id(node)]
    position = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.ScalarNode):
        if node.tag.endswith(":null"):
            return None
        if node.tag.endswith(":bool"):
            return node.value.lower() in ("true", "yes", "on", "y")
        return node.value
    if isinstance(node, yaml.SequenceNode):
        items = PosList()
        items.positions, items.position = {}, position
        built[id(node)] = items
        for index, child in enumerate(node.value):
            items.append(_build(child, built))
            items.positions[index] = (child.start_mark.line + 1, child.start_mark.column + 1)
        return items
    mapping = PosDict()
    mapping.positions, mapping.key_positions, mapping.position = {}, {}, position
    built[id(node)] = mapping
    merged: list[Any] = []
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE_TAG:
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            merged.extend(_build(source, built) for source in sources)
            continue
        key = _build(key_node, built)
        if not isinstance(key, (str, int, bool)) and key is not None:
            continue
        mapping[key] = _build(value_node, built)
        mapping.positions[key] = (value_node.start_mark.line + 1, value_node.start_mark.column + 1)
        mapping.key_positions[key] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
    for source in merged:
        if isinstance(source, PosDict):
            for key, value in source.items():
                if key not in mapping:
                    mapping[key] = value
                    mapping.positions[key] = source.positions[key]
                    mapping.key_positions[key] = source.key_positions[key]
    return mapping


def value_pos(node: Any, key: object) -> Position | None:
    """1-based position of ``node[key]``'s value (a merged key's where it is spelled)."""
    positions = getattr(node, "positions", None)
    if positions is not None and key in positions:
        found: Position = positions[key]
        return found
    return node_pos(node)


def item_pos(node: Any, index: int) -> Position | None:
    return value_pos(node, index)


def node_pos(node: Any) -> Position | None:
    return getattr(node, "position", None)


def key_pos(node: Any, key: object) -> Position:
    positions = getattr(node, "key_positions", None)
    if positions is not None and key in positions:
        found: Position = positions[key]
        return found
    return value_pos(node, key) or (1, 1)


def scalar_text(value: Any, pos: Position | None, lines: list[str]) -> str | None:
    """A scalar as the file spells it: YAML reads ``2024-05-27`` as a date and ``1.10`` as 1.1."""
    if isinstance(value, str):
        return str(value)
    if value is None or isinstance(value, (Mapping, list)):
        return None
    if pos is not None and 0 < pos[0] <= len(lines):
        match = re.match(r"""['"]?([^\s#,'"\]}]+)""", lines[pos[0] - 1][pos[1] - 1 :])
        if match:
            return match.group(1)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def tag_field(mapping: Mapping[str, Any], lines: list[str]) -> tuple[str | None, Position | None]:
    """A separate ``tag:`` key (catalog entries, z2jh ``image``) as spelled, and where its text starts."""
    tag_pos = value_pos(mapping, "tag") if "tag" in mapping else None
    tag = scalar_text(mapping.get("tag"), tag_pos, lines)
    if tag_pos is not None and tag is not None and lines[tag_pos[0] - 1][tag_pos[1] - 1] in "'\"":
        tag_pos = (tag_pos[0], tag_pos[1] + 1)
    return tag, tag_pos if tag else None


def tag_position(image: str, pos: Position | None, lines: list[str]) -> Position | None:
    """Where ``image``'s tag starts in the file, if the image is spelled there literally."""
    tag = _tag_of(image)
    if pos is None or tag is None or not 0 < pos[0] <= len(lines):
        return None
    line = lines[pos[0] - 1]
    start = pos[1] - 1
    if line[start : start + 1] in ("'", '"'):
        start += 1
    if not line.startswith(image, start):
        return None
    name = image.split("@", 1)[0]
    return pos[0], start + len(name) - len(tag) + 1


def _tag_of(image: str) -> str | None:
    name = image.split("@", 1)[0]
    _, sep, tag = name.rpartition(":")
    return tag if sep and "/" not in tag else None


def record_at(
    path: str, lines: list[str], image: str, pos: Position | None, kind: FileKind, context: str, **more: Any
) -> ProfileImage:
    """A record for an image spelled whole at ``pos``; its tag is rewritable when found there."""
    line, col = pos or (1, 1)
    return ProfileImage(path, line, col, image, kind, context, tag_position=tag_position(image, pos, lines), **more)
