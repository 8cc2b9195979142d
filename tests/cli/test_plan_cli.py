"""``nbcatalog plan`` over images in the real local registry: the JSON contract, every format, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.run import run_cli
from tests.support.planimages import HOSTILE, PlanImages, push_plan_images, write_catalog
from tests.support.registry import Pusher, RegistryServer

CONTRACT_KEYS = {
    "name", "image", "current", "candidate", "pull_bytes", "candidate_bytes", "changes", "highlights",
    "cuda", "kubeflow_ready", "policy", "risky",
}  # fmt: skip
CHANGE_KEYS = {"added", "removed", "upgraded", "downgraded", "changed"}


@pytest.fixture(scope="module")
def images(registry: RegistryServer, pusher: Pusher) -> PlanImages:
    return push_plan_images(pusher, registry.host)


@pytest.fixture
def catalog(tmp_path: Path, images: PlanImages, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    entries = {"app": ("plan/app", "v1.0.0"), "cuda": ("plan/cuda", "v1.0.0"), "hostile": ("plan/hostile", "v1.0.0")}
    return str(write_catalog(tmp_path / "catalog.yaml", images, entries))


def test_json_follows_the_contract(capsys: pytest.CaptureFixture[str], images: PlanImages, catalog: str) -> None:
    result = run_cli(capsys, "plan", "--json", "--catalog", catalog)
    assert result.code == 0, result.err
    doc = result.json()
    assert doc["catalog"] == catalog
    assert [image["name"] for image in doc["images"]] == ["app", "cuda", "hostile"]
    for image in doc["images"]:
        assert set(image) >= CONTRACT_KEYS
        assert set(image["changes"]) == CHANGE_KEYS
        assert set(image["kubeflow_ready"]) == {"from", "to"}
    by_name = {image["name"]: image for image in doc["images"]}
    assert by_name["cuda"]["risky"] is True and by_name["app"]["risky"] is False
    assert by_name["cuda"]["cuda"]["to"]["version"] == "12.4.1"
    new = images.image("plan/app", "v1.1.0")
    assert by_name["app"]["pull_bytes"] == new.layers[-1].size
    assert by_name["app"]["candidate_bytes"] == sum(layer.size for layer in new.layers)
    assert set(doc["node_disk"]) >= {"total_bytes", "gpu_bytes", "cpu_bytes"}
    assert doc["node_disk"]["gpu_images"] == ["cuda"]


def test_table_marks_risk_and_shows_the_node_disk(capsys: pytest.CaptureFixture[str], catalog: str) -> None:
    result = run_cli(capsys, "plan", "--catalog", catalog)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split() == ["NAME", "CURRENT", "CANDIDATE", "PULL", "PER", "NODE", "PACKAGES", "CUDA", "RISK"]
    cuda = next(line for line in lines if line.startswith("cuda "))
    assert "v1.0.0" in cuda and "v1.1.0" in cuda and "RISKY" in cuda and "11.8.0" in cuda
    assert next(line for line in lines if line.startswith("app ")).endswith("ok")
    assert "cuda: CUDA major version changes: 11.8.0 → 12.4.1" in lines
    assert any(line.startswith("node disk (current tags, shared layers once): ") for line in lines)
    assert "\x1b" not in result.out  # the hostile package's escape never reaches the terminal


def test_a_named_image_and_to(capsys: pytest.CaptureFixture[str], catalog: str) -> None:
    result = run_cli(capsys, "plan", "app", "--to", "v1.0.0", "--json", "--catalog", catalog)
    assert result.code == 0, result.err
    (image,) = result.json()["images"]
    assert (image["name"], image["candidate"], image["pull_bytes"]) == ("app", "v1.0.0", 0)
    assert image["changes"] == dict.fromkeys(CHANGE_KEYS, 0)


def test_highlight_replaces_the_default_list(capsys: pytest.CaptureFixture[str], catalog: str) -> None:
    result = run_cli(capsys, "plan", "app", "--highlight", "numpy,pandas", "--json", "--catalog", catalog)
    assert [h["name"] for h in result.json()["images"][0]["highlights"]] == ["numpy", "pandas"]
    result = run_cli(
        capsys, "plan", "app", "--highlight", "default", "--highlight", "numpy", "--json", "--catalog", catalog
    )
    assert [h["name"] for h in result.json()["images"][0]["highlights"]] == ["jupyterlab", "torch", "numpy"]


def test_markdown_escapes_hostile_names(capsys: pytest.CaptureFixture[str], catalog: str) -> None:
    result = run_cli(capsys, "plan", "hostile", "--format", "markdown", "--highlight", HOSTILE, "--catalog", catalog)
    assert result.code == 0, result.err
    assert result.out.startswith("# Notebook image updates\n")
    assert "- **evil\\|pkg \\[click\\](http://e) \\<b\\>x\\</b\\> \\\\x1b\\[31m** 1.0 is new" in result.out
    assert "\x1b" not in result.out and "<b>" not in result.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "no image named 'nope' in the catalog"),
        (["app", "--to", "not a tag"], "--to: invalid tag 'not a tag'"),
        (["--json", "--format", "markdown"], "--json and --format markdown ask for two outputs"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], catalog: str, args: list[str], message: str
) -> None:
    result = run_cli(capsys, "plan", *args, "--catalog", catalog)
    assert result.code == 2 and result.out == ""
    assert result.err.count("\n") == 1 and message in result.err and "Traceback" not in result.err


def test_an_image_that_cannot_be_planned_is_exit_1_and_the_rest_still_plans(
    capsys: pytest.CaptureFixture[str], catalog: str
) -> None:
    result = run_cli(capsys, "plan", "--to", "v1.1.0", "--json", "--catalog", catalog)
    assert result.code == 0, result.err  # every repository has v1.1.0
    result = run_cli(capsys, "plan", "app", "cuda", "--to", "v1.0.1", "--json", "--catalog", catalog)
    assert result.code == 1
    assert all("v1.0.1 does not exist" in image["error"] for image in result.json()["images"])
    Path(catalog).write_text(
        Path(catalog).read_text() + "  - name: gone\n    image: 127.0.0.1:9/plan/gone\n    tag: v1.0.0\n"
    )
    result = run_cli(capsys, "plan", "--json", "--catalog", catalog)
    assert result.code == 1
    by_name = {image["name"]: image for image in result.json()["images"]}
    assert by_name["gone"]["error"] and by_name["app"]["candidate"] == "v1.1.0"
