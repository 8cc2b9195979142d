"""The README documents every command and every option a user can type (sqlite-utils' test_docs)."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

import pytest

from nbcatalog.cli.main import COMMANDS, add_global_options

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _long_options(parser: argparse.ArgumentParser) -> list[str]:
    return [
        option
        for action in parser._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    ]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_and_its_options_are_in_the_readme(command: str) -> None:
    parser = argparse.ArgumentParser()
    importlib.import_module(COMMANDS[command][0]).add_arguments(parser)
    assert f"nbcatalog {command}" in README
    missing = [option for option in _long_options(parser) if f"{option}" not in README]
    assert not missing, f"nbcatalog {command}: README does not mention {missing}"


def test_global_options_are_in_the_readme() -> None:
    parser = argparse.ArgumentParser()
    add_global_options(parser)
    missing = [option for option in _long_options(parser) if option not in README]
    assert not missing, f"README does not mention the global options {missing}"


def test_the_readme_carries_the_audit_cronjob_and_its_rbac() -> None:
    """Issue 6: the README shows the scheduled audit; it must be the manifest the cluster tests check."""
    deploy = (Path(__file__).resolve().parents[2] / "deploy" / "nbcatalog-audit.yaml").read_text(encoding="utf-8")
    assert f"```yaml\n{deploy}```" in README


def test_every_global_option_variable_is_in_the_readme_table() -> None:
    """Issue 11: one table lists each global option beside its environment variable."""
    from nbcatalog.cli.main import GLOBAL_OPTIONS

    for option in GLOBAL_OPTIONS:
        row = next((line for line in README.splitlines() if line.startswith(f"| `{option.flag}")), None)
        assert row is not None and f"`{option.env}`" in row, f"no table row for {option.flag} / {option.env}"
