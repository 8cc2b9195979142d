"""The docs document every command and option a user can type (sqlite-utils' test_docs), the site
builds, and the README stays a front page that points into them."""

from __future__ import annotations

import argparse
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nbcatalog.cli.main import COMMANDS, GLOBAL_OPTIONS, add_global_options

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = (ROOT / "README.md").read_text(encoding="utf-8")
PAGES = {path.name: path.read_text(encoding="utf-8") for path in sorted(DOCS.glob("*.md"))}
ALL_DOCS = "\n".join(PAGES.values())
#: The README is the front page: what a newcomer needs first, and links for the rest.
README_BUDGET = 8 * 1024
TWO_COMMANDS = (
    "bash scripts/setup && .venv/bin/nbcatalog demo",
    "bash scripts/setup && .venv/bin/python -m pytest",
)


def _long_options(parser: argparse.ArgumentParser) -> list[str]:
    return [
        option
        for action in parser._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    ]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_and_its_options_are_in_the_command_reference(command: str) -> None:
    parser = argparse.ArgumentParser()
    importlib.import_module(COMMANDS[command][0]).add_arguments(parser)
    assert f"`nbcatalog {command}" in PAGES["cli.md"], f"docs/cli.md has no row for nbcatalog {command}"
    missing = [option for option in _long_options(parser) if option not in ALL_DOCS]
    assert not missing, f"nbcatalog {command}: docs/ do not mention {missing}"


def test_global_options_are_in_the_command_reference() -> None:
    parser = argparse.ArgumentParser()
    add_global_options(parser)
    missing = [option for option in _long_options(parser) if option not in PAGES["cli.md"]]
    assert not missing, f"docs/cli.md does not mention the global options {missing}"


def test_every_global_option_variable_is_in_the_table() -> None:
    """Issue 11: one table lists each global option beside its environment variable."""
    lines = PAGES["cli.md"].splitlines()
    for option in GLOBAL_OPTIONS:
        row = next((line for line in lines if line.startswith(f"| `{option.flag}")), None)
        assert row is not None and f"`{option.env}`" in row, f"no table row for {option.flag} / {option.env}"


def test_the_cluster_page_carries_the_audit_cronjob_and_its_rbac() -> None:
    """Issue 6: the docs show the scheduled audit; it must be the manifest the cluster tests check."""
    deploy = (ROOT / "deploy" / "nbcatalog-audit.yaml").read_text(encoding="utf-8")
    assert f"```yaml\n{deploy}```" in PAGES["cluster.md"]


def test_the_readme_is_a_front_page() -> None:
    """Issue 11: the two commands verbatim, the screenshot, links that resolve, a size budget."""
    for command in TWO_COMMANDS:
        assert command in README, f"README lost {command!r}"
    assert "![" in README and "(docs/screenshots/catalog.svg)" in README
    assert (ROOT / "docs" / "screenshots" / "catalog.svg").is_file()
    links = re.findall(r"\]\((docs/[^)#]+)", README)
    assert {f"docs/{name}" for name in PAGES} - {"docs/index.md"} <= set(links), "README does not link every page"
    broken = [link for link in links if not (ROOT / link).is_file()]
    assert not broken, f"README links to missing files {broken}"
    size = len(README.encode("utf-8"))
    assert size <= README_BUDGET, f"README is {size} bytes (budget {README_BUDGET})"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert TWO_COMMANDS[1] in ci


def _nav_files(nav: object) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [name for item in nav for name in _nav_files(item)]
    if isinstance(nav, dict):
        return [name for value in nav.values() for name in _nav_files(value)]
    return []


def test_every_docs_page_is_in_the_nav() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    listed = _nav_files(config["nav"])
    assert sorted(listed) == sorted(PAGES), f"nav {sorted(listed)} vs docs/ {sorted(PAGES)}"


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    """The site builds with no warning (a broken link, a page left out of the nav) and offline."""
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "site" / "cli" / "index.html").is_file()


def test_the_limits_page_lists_every_limit_with_its_default_option_and_variable() -> None:
    """Issue 14: a limits table, each limit with its default and what raises it."""
    from nbcatalog import limits

    lines = PAGES["limits.md"].splitlines()
    for info in limits.table():
        row = next((line for line in lines if line.startswith(f"| `{info.option}` |")), None)
        assert row is not None, f"docs/limits.md has no row for {info.option}"
        assert f"| {limits.format_value(info.kind, info.default)} | {info.what} |" in row, f"{info.option} differs"
        assert f"`--limit {info.option}=N`" in row and f"`{info.variable}`" in row
