"""Text from a registry or a file made safe to print on a terminal.

A tag name, an image label or a package version is chosen by whoever pushed the image. Printed raw,
an ESC or CSI (``\\x9b``) starts a terminal escape sequence: it can move the cursor, rewrite what the
admin sees, set the window title or (OSC 52) write the clipboard. Bidi overrides reorder what is
shown so ``v1.0`` can hide ``0.1v``. So every such string goes through :func:`safe_text` before it
reaches a terminal or a pipe.

The escape is visible and unambiguous to a reader, Python's own spelling: a C0 or C1 control
character or DEL becomes ``\\xHH`` (``ESC`` → the four characters ``\\x1b``), a bidi control or
other invisible format character becomes ``\\uHHHH``. Newline and tab are escaped too unless the
caller allows them (multi-line text such as an image's history). Backslashes are left alone, so
ordinary text (paths, regexes) prints unchanged; the escaping is for display, not a round trip.

:func:`safe_markup` is the variant for Rich and Textual: it also escapes Rich's ``[markup]`` so a
label like ``[link=...]`` stays text. Rich is imported only there, keeping the CLI's start fast.
"""

from __future__ import annotations

# C0 (0x00-0x1f), DEL and C1 (0x80-0x9f): every one can start or end a terminal control sequence.
_CONTROL = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
# Bidi embeddings/overrides/isolates, the implicit marks, zero-width and line/paragraph separators:
# each changes what a terminal shows without being seen itself.
_FORMAT = [
    0x061C,  # ARABIC LETTER MARK
    0x200B,  # ZERO WIDTH SPACE
    0x200C,
    0x200D,
    0x200E,  # LRM
    0x200F,  # RLM
    0x2028,  # LINE SEPARATOR
    0x2029,  # PARAGRAPH SEPARATOR
    *range(0x202A, 0x202F),  # LRE RLE PDF LRO RLO
    *range(0x2066, 0x206A),  # LRI RLI FSI PDI
    0xFEFF,  # ZERO WIDTH NO-BREAK SPACE (BOM)
]


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


_TABLE: dict[int, str] = {code: _escape(code) for code in (*_CONTROL, *_FORMAT)}
_TABLE_MULTILINE: dict[int, str] = {code: text for code, text in _TABLE.items() if code not in (0x0A, 0x09)}
_TABLE_TAB: dict[int, str] = {code: text for code, text in _TABLE.items() if code != 0x09}


def safe_text(value: object, *, allow_newlines: bool = False, allow_tab: bool = False) -> str:
    """``str(value)`` with every terminal control and invisible format character escaped visibly.

    ``allow_newlines`` keeps ``\\n`` and ``\\t`` (for text shown as a block); ``allow_tab`` keeps only
    ``\\t``. A carriage return is always escaped: it would let a line overwrite itself.
    """
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():  # the common case: nothing in the table is printable, so nothing to do
        return text
    if allow_newlines:
        table = _TABLE_MULTILINE
    elif allow_tab:
        table = _TABLE_TAB
    else:
        table = _TABLE
    return text.translate(table)


def safe_markup(value: object, *, allow_newlines: bool = False) -> str:
    """:func:`safe_text` plus Rich markup escaped: for a Rich table cell or a Textual widget."""
    from rich.markup import escape

    return escape(safe_text(value, allow_newlines=allow_newlines))
