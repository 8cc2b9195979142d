"""safe_text: terminal controls from registries and files never reach a terminal raw."""

from __future__ import annotations

import pytest

from nbcatalog.safetext import safe_markup, safe_text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("v1.0", "v1.0"),
        ("caf\u00e9 \u00fc", "caf\u00e9 \u00fc"),
        ("\x1b]52;c;aGk=\x07", "\\x1b]52;c;aGk=\\x07"),  # OSC 52 clipboard write
        ("\x9b2J", "\\x9b2J"),  # 8-bit CSI: clear screen
        ("a\rb", "a\\x0db"),
        ("a\nb\tc", "a\\x0ab\\x09c"),
        ("\x7f\x00", "\\x7f\\x00"),
        ("v1\u202e0.1", "v1\\u202e0.1"),  # right-to-left override
        ("a\u2066b\u2069", "a\\u2066b\\u2069"),
        ("C:\\path\\x1b", "C:\\path\\x1b"),  # backslashes stay as they are
    ],
)
def test_controls_become_visible_escapes(raw: str, shown: str) -> None:
    assert safe_text(raw) == shown


def test_newlines_and_tabs_kept_only_when_allowed() -> None:
    assert safe_text("a\nb\tc\r\x1b", allow_newlines=True) == "a\nb\tc\\x0d\\x1b"
    assert safe_text("a\nb\tc", allow_tab=True) == "a\\x0ab\tc"


def test_non_strings_are_converted() -> None:
    assert safe_text(8080) == "8080"


def test_markup_variant_escapes_rich_markup_and_controls() -> None:
    from rich.text import Text

    shown = safe_markup("[bold red]x[/]\x1b[2J")
    assert Text.from_markup(shown).plain == "[bold red]x[/]\\x1b[2J"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\u00adb", "a\\xadb"),  # soft hyphen: a format character like the bidi controls
        ("a\u2060b", "a\\u2060b"),  # word joiner
        ("v1\U000e0041\U000e0042", "v1\\U000e0041\\U000e0042"),  # tag characters: invisible ASCII smuggling
        ("bad\udcff", "bad\\udcff"),  # a lone surrogate (undecodable bytes) would not even encode
    ],
)
def test_every_unseen_character_is_escaped(raw: str, shown: str) -> None:
    assert safe_text(raw) == shown


def test_json_text_escapes_what_json_leaves_raw_and_still_round_trips() -> None:
    import json

    from nbcatalog.safetext import json_text

    document = {"tag": "\x1b]0;PWNED\x07 \x9b31m \u202e \x7f \U000e0041 \udcff é →", "n": [1, "ok"]}
    text = json_text(json.dumps(document, indent=2, ensure_ascii=False))
    assert json.loads(text) == document
    assert "é →" in text  # printable text stays readable
    for char in ("\x1b", "\x9b", "\u202e", "\x7f", "\U000e0041", "\udcff"):
        assert char not in text
    assert "\\u009b31m" in text and "\\udb40\\udc41" in text  # C1 as \uXXXX, astral as a surrogate pair
    assert json_text('{\n  "a": 1\n}') == '{\n  "a": 1\n}'  # the document's own layout is kept


def test_rich_text_variant_is_never_markup() -> None:
    from nbcatalog.safetext import safe_rich_text

    text = safe_rich_text("[@click=app.quit]q[/] [link=http://evil]x[/link]\x1b[2J", "bold")
    assert text.plain == "[@click=app.quit]q[/] [link=http://evil]x[/link]\\x1b[2J"
    assert not text.spans and str(text.style) == "bold"
