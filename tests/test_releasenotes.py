"""Markdown release notes: highlights first, every value escaped so it renders as the image holds it."""

from __future__ import annotations

import re

from nbcatalog.diff import Change
from nbcatalog.releasenotes import Side, diff_markdown, highlights, markdown_text

A = Side("ghcr.io/kubeflow/jupyter-pytorch:v1.9.0", "sha256:" + "a" * 64, "linux/amd64")
B = Side("ghcr.io/kubeflow/jupyter-pytorch:v1.10.0", "sha256:" + "b" * 64, "linux/amd64")


def _changes() -> list[Change]:
    site = "/opt/conda/lib/python3.11/site-packages"
    return [
        Change("apt", "curl", "/var/lib/dpkg/status", "upgraded", "7.88.1-10", "7.88.1-11"),
        Change("conda", "python", "/opt/conda", "upgraded", "3.11.8", "3.12.4"),
        Change("pip", "torch", site, "upgraded", "2.3.1", "2.5.1"),
        Change("pip", "Jupyter_Server", site, "removed", "2.14.0", None),
        Change("pip", "jupyterlab", site, "added", None, "4.2.5"),
        Change("conda", "numpy", "/opt/conda", "changed", "1.26.4", "1.26.4", "py311h0", "py311h1"),
    ]


def test_highlights_follow_the_list_order_and_normalised_names() -> None:
    chosen = highlights(_changes())
    assert [c.name for c in chosen] == ["python", "jupyterlab", "Jupyter_Server", "torch"]
    assert [c.name for c in highlights(_changes(), ["numpy", "CURL"])] == ["numpy", "curl"]


def test_notes_lead_with_highlights_then_a_table_per_ecosystem() -> None:
    text = diff_markdown(A, B, _changes())
    lines = text.splitlines()
    assert lines[0] == f"## {A.reference} → {B.reference}"
    assert "Package changes: 1 added, 1 removed, 3 upgraded, 1 changed." in lines
    start = lines.index("### Highlights")
    assert lines[start + 2 : start + 6] == [
        "- **python** 3.11.8 → 3.12.4 (upgraded)",
        "- **jupyterlab** 4.2.5 is new",
        "- **Jupyter\\_Server** 2.14.0 is gone",
        "- **torch** 2.3.1 → 2.5.1 (upgraded)",
    ]
    assert lines.index("### apt: 1 upgraded") > start
    assert "| numpy | 1.26.4 (build py311h0) | 1.26.4 (build py311h1) | changed | /opt/conda |" in lines
    assert "| jupyterlab |  | 4.2.5 | added | /opt/conda/lib/python3.11/site\\-packages |" not in lines
    assert "| jupyterlab |  | 4.2.5 | added | /opt/conda/lib/python3.11/site-packages |" in lines


def test_no_changes_says_so() -> None:
    assert diff_markdown(A, B, []).splitlines()[-1] == "No package changes."


def test_hostile_names_stay_one_cell_of_plain_text() -> None:
    """A package a stranger named: no link, image, HTML, emphasis or extra cell, no terminal escape."""
    hostile = (
        "x|y ![i](http://e/p.png) [click](http://e) <img src=x onerror=alert(1)> *b* `c` ~~s~~ &lt; \x1b[31m\u202e"
    )
    text = diff_markdown(A, B, [Change("pip", hostile, "/site", "added", None, "1|0")])
    row = next(line for line in text.splitlines() if line.startswith("| x"))
    assert row.count(" | ") == 4  # five cells: every "|" of the data is escaped
    for raw in ("](", "<img", "`c`", "*b*", "~~s", "&lt;"):  # each only with its first character escaped
        assert not re.search(r"(?<!\\)" + re.escape(raw), row), raw
    assert "\x1b" not in row and "\u202e" not in row
    assert "\\|y" in row and "\\x1b" in row and "\\u202e" in row
    assert markdown_text("a_b") == "a\\_b"
