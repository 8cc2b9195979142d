"""Edit YAML as text: replace a few values and leave every other byte of the admin's file alone.

A round-trip dump re-indents, re-quotes and re-wraps; a merge into an admin's spawner config must
not. So merges locate nodes with PyYAML's composer (exact start/end marks) and splice new text in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from nbcatalog.errors import CatalogError
from nbcatalog.yamlio import check_yaml

_PLAIN_SAFE = re.compile(r"^[A-Za-z0-9_/][A-Za-z0-9_./:@+-]*$")
_RESOLVES_TO_OTHER = re.compile(
    r"^(?:true|false|yes|no|on|off|y|n|null|~|[-+]?[0-9][0-9_.:eE+-]*|\.inf|\.nan)$", re.IGNORECASE
)


#: Characters YAML refuses (or folds as line breaks: NEL, LS, PS) even inside quotes: write escapes.
_NON_PRINTABLE = re.compile("[^\x09\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True, slots=True)
class Splice:
    """Replace ``text[start:end]`` with ``replacement``."""

    start: int
    end: int
    replacement: str


def compose(text: str, source: str) -> yaml.Node | None:
    """The node tree of the first document, with marks; syntax errors name source:line:col."""
    check_yaml(text, source)
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
        raise CatalogError(f"YAML syntax error: {exc.problem or exc.context}", where=where) from None
    except yaml.YAMLError as exc:
        raise CatalogError(f"YAML error: {exc}", where=source) from None
    except RecursionError:  # hostile nesting such as [[[[...]]]]
        raise CatalogError("YAML nested too deeply", where=source) from None


def child(node: yaml.Node | None, key: str) -> tuple[yaml.ScalarNode, yaml.Node] | None:
    """(key node, value node) of ``key`` in a mapping node, or None."""
    if not isinstance(node, yaml.MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None


def find(node: yaml.Node | None, *path: str) -> tuple[yaml.ScalarNode, yaml.Node] | None:
    found: tuple[yaml.ScalarNode, yaml.Node] | None = None
    current = node
    for key in path:
        found = child(current, key)
        if found is None:
            return None
        current = found[1]
    return found


def node_end(node: yaml.Node) -> int:
    """Index just after the last character that belongs to ``node`` (not trailing comments)."""
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.flow_style is not True and node.value:
        last = node.value[-1]
        return node_end(last[1] if isinstance(last, tuple) else last)
    return int(node.end_mark.index)


def line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def end_of_line(text: str, index: int) -> int:
    """Index just after the newline ending the line that contains ``index - 1``."""
    if index > 0 and text[index - 1] == "\n":
        return index
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline + 1


def apply(text: str, splices: list[Splice]) -> str:
    for splice in sorted(splices, key=lambda s: s.start, reverse=True):
        text = text[: splice.start] + splice.replacement + text[splice.end :]
    return text


def scalar(value: Any) -> str:
    """One YAML scalar that reads back as exactly ``value``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if _PLAIN_SAFE.match(text) and not _RESOLVES_TO_OTHER.match(text) and _reads_back_plain(text):
        return text
    import json

    quoted = json.dumps(text, ensure_ascii=False)  # JSON strings are YAML double-quoted scalars
    return _NON_PRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def _reads_back_plain(text: str) -> bool:
    """The last word on plain scalars (timestamps, a trailing ``:``): ask the parser."""
    try:
        return bool(yaml.safe_load(f"k: {text}\n") == {"k": text})
    except (yaml.YAMLError, ValueError):
        return False


def block(value: Any, indent: int) -> str:
    """``value`` as block YAML lines indented by ``indent`` spaces (ends with a newline)."""
    from nbcatalog.yamlio import dump_yaml

    text = dump_yaml(value)
    lines = text.splitlines()
    common = min((len(line) - len(line.lstrip(" ")) for line in lines if line.strip()), default=0)
    return "".join(" " * indent + line[common:] + "\n" if line.strip() else "\n" for line in lines)


def subtree_end(node: yaml.Node, floor: int, seen: set[int] | None = None) -> int:
    """Like :func:`node_end`, but an alias (the composer hands back the anchored node, which may sit
    earlier in the file) never pulls the end before ``floor``."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        return floor
    seen.add(id(node))
    if node.start_mark.index < floor:
        return floor
    if not isinstance(node, yaml.MappingNode | yaml.SequenceNode) or node.flow_style is True:
        return int(node.end_mark.index)
    best = floor
    for entry in node.value:
        for part in entry if isinstance(entry, tuple) else (entry,):
            best = max(best, subtree_end(part, floor, seen))
    return best


def sequence_items(node: yaml.SequenceNode, text: str) -> list[tuple[int, int, yaml.Node]]:
    """(start of the item's ``-`` line, end of its last line, node) for each block-sequence item."""
    starts = [line_start(text, item.start_mark.index) for item in node.value]
    out = []
    for index, item in enumerate(node.value):
        last = index + 1 == len(node.value)
        end = end_of_line(text, subtree_end(item, starts[index])) if last else starts[index + 1]
        out.append((starts[index], end, item))
    return out


def anchors_in(text: str) -> set[str]:
    return set(re.findall(r"(?:^|[\s\[{,:-])&([^\s\[\]{},]+)", text))


def aliases_in(text: str) -> set[str]:
    return set(re.findall(r"(?:^|[\s\[{,:-])\*([^\s\[\]{},]+)", text))


def replace_scalar(text: str, node: yaml.ScalarNode, value: str, indent: int, reads_back: Callable[[str], bool]) -> str:
    """``text`` with the string scalar ``node`` now holding ``value``, as a literal block where it can be.

    For a ConfigMap that carries a whole file under one key. A ``|`` block keeps its header, its
    indentation and the blank lines after it, so a merge changes only the lines inside; any other
    style becomes a ``|`` block indented by ``indent``. ``reads_back`` has the last word (a first
    line that starts with spaces, say, needs more than that): when it refuses, a double-quoted
    scalar, which can hold any text, is written instead.
    """
    start, end = node.start_mark.index, node.end_mark.index
    block_style = node.style in ("|", ">")
    header, suffix = "", ""
    if block_style:
        header, _, content = text[start:end].partition("\n")
        lines = content.splitlines(keepends=True)
        blank_tail: list[str] = []
        while lines and not lines[-1].strip() and "+" not in header:
            blank_tail.insert(0, lines.pop())
        suffix = "".join(blank_tail)
        indent = next((len(line) - len(line.lstrip(" ")) for line in lines if line.strip()), indent)
    chomp = "+" if value.endswith("\n\n") else "" if value.endswith("\n") else "-"
    current = "+" if "+" in header else "-" if "-" in header else ""
    if node.style != "|" or current != chomp or any(ch.isdigit() for ch in header):
        header = "|" + chomp
    block = header + "\n" + "".join(" " * indent + line + "\n" if line else "\n" for line in value.splitlines())
    if not block_style:
        block = block[:-1] if text[end : end + 1] == "\n" else block
    candidate = text[:start] + block + suffix + text[end:]
    if value and reads_back(candidate):
        return candidate
    return text[:start] + json_quoted(value) + ("\n" if block_style else "") + suffix + text[end:]


def json_quoted(value: str) -> str:
    """``value`` as a double-quoted YAML scalar, whatever it holds."""
    import json

    return _NON_PRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False))
