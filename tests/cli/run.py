"""Run the CLI in-process and capture what it printed, as a user's shell would see it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from nbcatalog.cli.main import main


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)
