"""Text from a registry or a file made safe to print on a terminal.

A tag name, an image label or a package version is chosen by whoever pushed the image. Printed raw,
an ESC or CSI (``\\x9b``) starts a terminal escape sequence: it can move the cursor, rewrite what the
admin sees, set the window title or (OSC 52) write the clipboard. Bidi overrides reorder what is
shown so ``v1.0`` can hide ``0.1v``. So every such string goes through :func:`safe_text` before it
reaches a terminal or a pipe.

What is escaped is every character Unicode says is not seen: controls (C0, DEL, C1: ``Cc``),
format characters (bidi embeddings, overrides and isolates, zero-width joiners, the BOM, tag
characters: ``Cf``), line and paragraph separators (``Zl``, ``Zp``) and lone surrogates (``Cs``, from
undecodable bytes). The escape is visible and unambiguous to a reader, Python's own spelling:
``\\xHH`` up to U+00FF (``ESC`` → the four characters ``\\x1b``), else ``\\uHHHH`` or ``\\UHHHHHHHH``.
Newline and tab are escaped too unless the caller allows them (multi-line text such as an image's
history). Backslashes are left alone, so ordinary text (paths, regexes) prints unchanged and escaping
twice changes nothing; the escaping is for display, not a round trip.

:func:`json_text` is the variant for a JSON document (``\\uXXXX`` escapes, so it still parses to the
same strings); :func:`safe_markup` and :func:`safe_rich_text` are the variants for Rich and Textual,
where ``[markup]`` must stay text too. Rich is imported only there, keeping the CLI's start fast.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

#: Unicode categories of characters a reader cannot see but a terminal may obey.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
#: Printable characters cached as themselves, beyond ASCII (a bound: the table lives for the process).
_CACHE_PRINTABLE = 4096


def _python_escape(code: int) -> str:
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _json_escape(code: int) -> str:
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    high, low = divmod(code - 0x10000, 0x400)  # JSON spells an astral character as a surrogate pair
    return f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"


class _Escapes(dict[int, str]):
    """A :meth:`str.translate` table filled on demand: hidden characters map to their escape.

    Printable ASCII (and ``keep``) is entered up front, so ``translate`` stays on its fast ASCII path;
    other characters are looked up in the Unicode database the first time they are seen.
    """

    def __init__(self, keep: str, *, json: bool = False) -> None:
        super().__init__({code: chr(code) for code in range(0x20, 0x7F)})
        self._json = json
        self._keep = frozenset(ord(char) for char in keep)
        for code in self._keep:
            self[code] = chr(code)

    def __missing__(self, code: int) -> str:
        char = chr(code)
        hidden = unicodedata.category(char) in _HIDDEN
        if self._json and code < 0x7F:
            hidden = False  # json.dumps escaped C0 in strings; what is left is the document's own layout
        if not hidden:
            if len(self) >= _CACHE_PRINTABLE:
                raise LookupError(code)  # translate keeps the character as it is
            self[code] = char
            return char
        self[code] = text = _json_escape(code) if self._json else _python_escape(code)
        return text


_TABLE = _Escapes("")
_TABLE_MULTILINE = _Escapes("\n\t")
_TABLE_TAB = _Escapes("\t")
_TABLE_JSON = _Escapes("", json=True)


def safe_text(value: object, *, allow_newlines: bool = False, allow_tab: bool = False) -> str:
    """``str(value)`` with every terminal control and invisible format character escaped visibly.

    ``allow_newlines`` keeps ``\\n`` and ``\\t`` (for text shown as a block); ``allow_tab`` keeps only
    ``\\t``. A carriage return is always escaped: it would let a line overwrite itself.
    """
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():  # the common case: nothing hidden is printable, so nothing to do
        return text
    if allow_newlines:
        table = _TABLE_MULTILINE
    elif allow_tab:
        table = _TABLE_TAB
    else:
        table = _TABLE
    return text.translate(table)


def json_text(document: str) -> str:
    """A JSON document (``json.dumps(..., ensure_ascii=False)``) with what JSON leaves raw escaped.

    ``json`` escapes C0 controls in strings but passes DEL, C1 controls (``\\x9b`` is CSI), bidi and
    other format characters and lone surrogates through. Outside strings a document holds only
    ASCII, so each of those is inside a string and becomes a ``\\uXXXX`` escape: still valid JSON,
    and it parses back to the very same string.
    """
    if document.isascii() and "\x7f" not in document:
        return document
    return document.translate(_TABLE_JSON)


def safe_markup(value: object, *, allow_newlines: bool = False) -> str:
    """:func:`safe_text` plus Rich markup escaped: for a Rich table cell or a Textual widget."""
    from rich.markup import escape

    return escape(safe_text(value, allow_newlines=allow_newlines))


def safe_rich_text(value: object, style: str = "", *, allow_newlines: bool = False) -> Text:
    """A Rich ``Text`` of :func:`safe_text`: shown as it reads, never parsed as markup.

    For every string from a registry, an image or a file that a Textual widget shows (a DataTable
    cell, a Static, a Label, an option): a ``str`` there would be parsed as markup, so ``[red]``,
    ``[link=...]`` or ``[@click=app.quit]`` in a tag name would style, link or run an action.
    """
    from rich.text import Text

    return Text(safe_text(value, allow_newlines=allow_newlines), style=style)
