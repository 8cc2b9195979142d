"""stdout is data, stderr is for people: JSON documents, aligned tables, colour only on a terminal.

Every string that came from a registry, an image or a file is escaped before it is printed
(:mod:`nbcatalog.safetext`): :func:`style` escapes the text it colours, :func:`format_table` every
cell it did not colour, :func:`print_json` what ``json`` leaves raw. :func:`guard_output` is the net
under them: stdout and stderr escape any control character a command still tries to print, except
newline, tab and the colour codes :func:`style` itself writes.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TextIO, cast

from nbcatalog.safetext import json_text, safe_text

_STYLES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "blue": "34", "cyan": "36"}
_CODE = "(?:" + "|".join(sorted(_STYLES.values(), key=len, reverse=True)) + ")"
#: Exactly the sequences :func:`style` writes: ``ESC[`` codes from _STYLES ``m``, and ``ESC[0m``.
_OWN_SGR = re.compile(rf"\x1b\[(?:0|{_CODE}(?:;{_CODE})*)m")


class Styled(str):
    """Text already escaped, maybe wrapped in :func:`style`'s colour codes: printed as it is.

    Only :func:`style` makes one. Anything added to it is a plain ``str`` again, which
    :func:`format_table` escapes: colour codes escaped by mistake show, data never runs.
    """


def print_json(document: Any) -> None:
    """Exactly one JSON document on stdout; no raw C1 or bidi control, and it still round-trips."""
    sys.stdout.write(json_text(indented_json(document)) + "\n")


#: Types the C encoder writes as one token: a container holding only these is written in one call.
_SCALARS = frozenset({str, int, float, bool, type(None)})
_FLAT_ENCODERS: dict[int, Callable[[Any], str]] = {}


class _Unusual(Exception):
    """A mapping key that is not a string: left to ``json`` itself."""


def indented_json(document: Any) -> str:
    """``json.dumps(document, indent=2, ensure_ascii=False)``, byte for byte, at about twice its speed.

    CPython's C encoder cannot indent, so ``indent`` runs the pure-Python one: ~12 ms for 2,300
    packages, half of what a warm ``packages --json`` spends after its imports. Here the
    nesting is walked in Python and every container of scalars (a package, a list of packages) is one
    C-encoder call, its item separator carrying the line break and the indent. That works because
    the encoder escapes every newline inside a string: a raw newline is always a separator.
    """
    import json

    try:
        parts: list[str] = []
        _write_json(document, 0, parts)
    except _Unusual:
        return json.dumps(document, indent=2, ensure_ascii=False)
    return "".join(parts)


def _flat_encoder(depth: int) -> Callable[[Any], str]:
    """Compact JSON but for the item separator, which starts a new line indented to ``depth``."""
    encoder = _FLAT_ENCODERS.get(depth)
    if encoder is None:
        import json

        encoder = json.JSONEncoder(ensure_ascii=False, separators=(",\n" + "  " * depth, ": ")).encode
        _FLAT_ENCODERS[depth] = encoder
    return encoder


def _flat(values: Iterable[Any]) -> bool:
    return _SCALARS.issuperset(map(type, values))


def _write_json(value: Any, depth: int, parts: list[str]) -> None:
    end, inner = "\n" + "  " * depth, "\n" + "  " * (depth + 1)
    if isinstance(value, dict):
        if not value:
            parts.append("{}")
        elif _flat(value.values()):
            parts.append("{" + inner + _flat_encoder(depth + 1)(value)[1:-1] + end + "}")
        else:
            from json.encoder import encode_basestring

            separator = "{" + inner
            for key, item in value.items():
                if not isinstance(key, str):
                    raise _Unusual
                parts.append(separator + encode_basestring(key) + ": ")
                _write_json(item, depth + 1, parts)
                separator = "," + inner
            parts.append(end + "}")
    elif isinstance(value, list | tuple):
        if not value:
            parts.append("[]")
        elif _flat(value):
            parts.append("[" + inner + _flat_encoder(depth + 1)(value)[1:-1] + end + "]")
        elif all(type(item) is dict and item and _flat(item.values()) for item in value):
            # Packages, tags: one call for the whole list, items at depth + 2. Only between two
            # items does a separator follow "}" (a scalar never ends in one) and precede "{".
            deeper = inner + "  "
            text = _flat_encoder(depth + 2)(value)[2:-2]
            text = text.replace("}," + deeper + "{", inner + "}," + inner + "{" + deeper)
            parts.append("[" + inner + "{" + deeper + text + inner + "}" + end + "]")
        else:
            separator = "[" + inner
            for item in value:
                parts.append(separator)
                _write_json(item, depth + 1, parts)
                separator = "," + inner
            parts.append(end + "]")
    else:
        parts.append(_flat_encoder(0)(value))


def use_colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or (hasattr(stream, "isatty") and stream.isatty())


def style(text: object, *names: str, stream: TextIO | None = None) -> Styled:
    """``text`` escaped (it may be data), then coloured on a terminal."""
    shown = safe_text(text)
    if not names or not use_colour(stream or sys.stdout):
        return Styled(shown)
    codes = ";".join(_STYLES[name] for name in names)
    return Styled(f"\x1b[{codes}m{shown}\x1b[0m")


def _visible_len(text: str) -> int:
    length, in_escape = 0, False
    for char in text:
        if char == "\x1b":
            in_escape = True
        elif in_escape and char == "m":
            in_escape = False
        elif not in_escape:
            length += 1
    return length


def _cell(cell: object) -> str:
    return cell if isinstance(cell, Styled) else safe_text(cell)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns two spaces apart; the last column is not padded.

    Each cell is escaped unless :func:`style` made it (it escaped the text before colouring it).
    """
    table = [[_cell(cell) for cell in row] for row in [list(headers), *rows]]
    widths = [0] * len(headers)
    for row in table:
        for column, cell in enumerate(row):
            widths[column] = max(widths[column], _visible_len(cell))
    lines = []
    for row in table:
        cells = [cell + " " * (widths[i] - _visible_len(cell)) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    print(format_table([style(h, "bold") for h in headers], rows))


def terminal_safe(text: str) -> str:
    """``text`` with every control character escaped but newline, tab and :func:`style`'s own codes."""
    if text.isprintable():
        return text
    if "\x1b" not in text:
        return safe_text(text, allow_newlines=True)
    parts: list[str] = []
    position = 0
    for match in _OWN_SGR.finditer(text):
        parts += [safe_text(text[position : match.start()], allow_newlines=True), match.group()]
        position = match.end()
    parts.append(safe_text(text[position:], allow_newlines=True))
    return "".join(parts)


class TerminalGuard:
    """stdout or stderr that cannot be made to obey a control sequence: the net under the escaping.

    Writes go through :func:`terminal_safe`; everything else (``isatty``, ``flush``, ``buffer``,
    ``encoding``) is the wrapped stream's.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(terminal_safe(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def guard_output() -> None:
    """Put a :class:`TerminalGuard` around ``sys.stdout`` and ``sys.stderr`` (once; the CLI's entry)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, TerminalGuard):
            setattr(sys, name, cast(TextIO, TerminalGuard(stream)))


def unguarded(stream: TextIO) -> TextIO:
    """The stream under a :class:`TerminalGuard`: for nbcatalog's own cursor movement (progress bars)."""
    return stream.stream if isinstance(stream, TerminalGuard) else stream


def human_size(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def short_digest(digest: str | None) -> str:
    return digest.partition(":")[2][:12] if digest else ""
