"""``packages`` and ``diff`` on the command line: the JSON contract, catalog names, errors, output."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from nbcatalog import ocibuild as b
from tests.cli.run import run_cli
from tests.support.registry import Pusher, RegistryServer

STATUS = "Package: {name}\nStatus: install ok installed\nVersion: {version}\nArchitecture: amd64\n"


def _status(**versions: str) -> str:
    return "\n".join(STATUS.format(name=n, version=v) for n, v in versions.items())


def _conda(name: str, version: str) -> bytes:
    return json.dumps({"name": name, "version": version, "build": "h0_0", "channel": "conda-forge"}).encode()


@dataclass
class CliImages:
    old: str
    new: str


@pytest.fixture(scope="module")
def cli_images(pusher: Pusher, registry: RegistryServer) -> CliImages:
    old = b.build_image(
        [
            b.build_layer(
                [
                    b.file("var/lib/dpkg/status", _status(curl="7.88.1-10+deb12u4", gone="1.0-1")),
                    b.file("opt/conda/conda-meta/numpy-1.26.4-h0_0.json", _conda("numpy", "1.26.4")),
                ]
            )
        ]
    )
    new = b.build_image(
        [
            b.build_layer(
                [
                    b.file("var/lib/dpkg/status", _status(curl="7.88.1-10+deb12u5", fresh="2.0-1")),
                    b.file("opt/conda/conda-meta/numpy-1.26.3-h0_0.json", _conda("numpy", "1.26.3")),
                    b.file("opt/conda/conda-meta/bad-1-0.json", b"[1, 2"),
                ]
            )
        ]
    )
    pusher.push("clitest/pkgs", old, ["old"])
    pusher.push("clitest/pkgs", new, ["new"])
    return CliImages(f"{registry.host}/clitest/pkgs:old", f"{registry.host}/clitest/pkgs:new")


def test_packages_json_contract(capsys: pytest.CaptureFixture[str], cli_images: CliImages, tmp_path: Path) -> None:
    result = run_cli(capsys, "packages", cli_images.old, "--json", "--cache-dir", str(tmp_path))
    assert result.code == 0, result.err
    doc = result.json()
    assert doc["reference"] == cli_images.old
    assert doc["digest"].startswith("sha256:")
    rows = {(p["ecosystem"], p["name"], p["version"], p["location"]) for p in doc["packages"]}
    assert rows == {
        ("apt", "curl", "7.88.1-10+deb12u4", "/var/lib/dpkg/status"),
        ("apt", "gone", "1.0-1", "/var/lib/dpkg/status"),
        ("conda", "numpy", "1.26.4", "/opt/conda"),
    }
    assert result.err == ""  # no progress bar when stderr is not a terminal


def test_packages_ecosystem_filter_and_human_output(
    capsys: pytest.CaptureFixture[str], cli_images: CliImages, tmp_path: Path
) -> None:
    result = run_cli(capsys, "packages", cli_images.new, "--ecosystem", "conda", "--cache-dir", str(tmp_path))
    assert result.code == 0, result.err
    assert "conda 1" in result.out
    assert "numpy" in result.out and "curl" not in result.out
    assert "\x1b[" not in result.out  # no colour when stdout is not a terminal
    assert "bad-1-0.json: not JSON" in result.err


def test_diff_json_contract(capsys: pytest.CaptureFixture[str], cli_images: CliImages) -> None:
    result = run_cli(capsys, "diff", cli_images.old, cli_images.new, "--json", "--no-cache")
    assert result.code == 0, result.err
    doc = result.json()
    assert doc["a"]["reference"] == cli_images.old and doc["b"]["reference"] == cli_images.new
    assert doc["a"]["digest"] != doc["b"]["digest"]
    changes = {(c["ecosystem"], c["name"], c["change"], c["a_version"], c["b_version"]) for c in doc["changes"]}
    assert changes == {
        ("apt", "curl", "upgraded", "7.88.1-10+deb12u4", "7.88.1-10+deb12u5"),
        ("apt", "gone", "removed", "1.0-1", None),
        ("apt", "fresh", "added", None, "2.0-1"),
        ("conda", "numpy", "downgraded", "1.26.4", "1.26.3"),
    }


def test_diff_by_catalog_names(capsys: pytest.CaptureFixture[str], cli_images: CliImages, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.yaml"
    repo = cli_images.old.rsplit(":", 1)[0]
    catalog.write_text(
        "images:\n"
        f"  - name: app-old\n    image: {repo}\n    tag: old\n"
        f"  - name: app-new\n    image: {repo}\n    tag: new\n"
    )
    result = run_cli(capsys, "diff", "app-old", "app-new", "--catalog", str(catalog), "--no-cache")
    assert result.code == 0, result.err
    assert "↑ curl" in result.out and "7.88.1-10+deb12u4 → 7.88.1-10+deb12u5" in result.out
    assert "- gone" in result.out and "+ fresh" in result.out
    assert "apt: 1 added, 1 removed, 1 upgraded" in result.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("packages", "Not A Reference!"), "invalid"),
        (("diff", "ok/ref:1", "bad@@ref"), "invalid"),
        (("packages", "x/y:1", "--ecosystem", "npm"), "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str, tmp_path: Path
) -> None:
    try:
        result = run_cli(capsys, *args, "--catalog", str(tmp_path / "none.yaml"), "--no-cache")
        code, err = result.code, result.err
    except SystemExit as exc:  # argparse rejects a bad --ecosystem itself
        code, err = int(exc.code or 0), capsys.readouterr().err
    assert code == 2
    assert message in err.lower()
    assert "Traceback" not in err


def test_missing_image_exits_1(capsys: pytest.CaptureFixture[str], registry: RegistryServer) -> None:
    result = run_cli(capsys, "packages", f"{registry.host}/clitest/absent:v0", "--no-cache")
    assert result.code == 1
    assert result.err.count("\n") == 1 and "error" in result.err


def test_progress_bars_redraw_in_place_and_clear() -> None:
    import io

    from nbcatalog.cli.packages import LayerProgress

    stream = io.StringIO()
    progress = LayerProgress(stream)
    progress("sha256:" + "a" * 64, 0, 2_000_000)
    progress("sha256:" + "b" * 64, 1_000_000, 1_000_000)
    progress("sha256:" + "a" * 64, 2_000_000, 2_000_000)
    text = stream.getvalue()
    assert "aaaaaaaaaaaa [" + "#" * 30 + "]     2.0/2.0 MB" in text
    assert "\x1b[2F" in text  # the second redraw moved up over both bars
    progress.clear()
    assert stream.getvalue().endswith("\x1b[2F\x1b[J")


@pytest.mark.parametrize(
    ("json_output", "terminal", "bar"), [(False, True, True), (True, True, False), (False, False, False)]
)
def test_progress_bar_only_for_a_person_at_a_terminal(
    monkeypatch: pytest.MonkeyPatch, json_output: bool, terminal: bool, bar: bool
) -> None:
    import argparse
    import io
    import sys

    from nbcatalog.cli.packages import progress_for

    class Stderr(io.StringIO):
        def isatty(self) -> bool:
            return terminal

    monkeypatch.setattr(sys, "stderr", Stderr())
    assert (progress_for(argparse.Namespace(json=json_output)) is not None) is bar


def test_diff_markdown_release_notes(capsys: pytest.CaptureFixture[str], cli_images: CliImages) -> None:
    """The notes hold the same changes as the JSON, one table row each, under per-ecosystem headings."""
    as_json = run_cli(capsys, "diff", cli_images.old, cli_images.new, "--json", "--no-cache").json()
    result = run_cli(capsys, "diff", cli_images.old, cli_images.new, "--format", "markdown", "--no-cache")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith("## ") and "clitest/pkgs:old → " in lines[0]
    assert "Package changes: 1 added, 1 removed, 1 upgraded, 1 downgraded." in lines
    assert "### apt: 1 added, 1 removed, 1 upgraded" in lines and "### conda: 1 downgraded" in lines
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines if line.startswith("| ")]
    rows = [row for row in rows if row[0] not in ("package", "---")]
    assert {(r[0], r[1] or None, r[2] or None, r[3]) for r in rows} == {
        (c["name"], c["a_version"], c["b_version"], c["change"]) for c in as_json["changes"]
    }
    assert "\x1b[" not in result.out


def test_diff_json_and_another_format_is_bad_usage(capsys: pytest.CaptureFixture[str], cli_images: CliImages) -> None:
    result = run_cli(capsys, "diff", cli_images.old, cli_images.new, "--json", "--format", "markdown", "--no-cache")
    assert result.code == 2
    assert result.err.count("\n") == 1 and "--json and --format markdown" in result.err
