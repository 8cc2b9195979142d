"""``nbcatalog lineage`` over a catalog of images in the real local registry: every format, bad input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli.run import run_cli
from tests.support.registry import Pusher, RegistryServer
from tests.test_lineage import LINEAGE_CATALOG, LineageImages, push_lineage_images

CONTRACT_KEYS = {"name", "reference", "declared_parent", "inferred_parent", "base_reference"}


@pytest.fixture(scope="module")
def images(registry: RegistryServer, pusher: Pusher) -> LineageImages:
    return push_lineage_images(pusher, registry.host, prefix="lineage-cli")


@pytest.fixture
def catalog(tmp_path: Path, images: LineageImages, monkeypatch: pytest.MonkeyPatch) -> str:
    """The catalog's path; the cache lives in the test's own directory."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = tmp_path / "catalog.yaml"
    path.write_text(images.catalog_yaml())
    return str(path)


def test_json_follows_the_contract(capsys: pytest.CaptureFixture[str], images: LineageImages, catalog: str) -> None:
    result = run_cli(capsys, "lineage", "--json", "--catalog", catalog, "--no-cache")
    assert result.code == 0, result.err
    doc = result.json()
    assert [image["name"] for image in doc["images"]] == list(LINEAGE_CATALOG)
    for image in doc["images"]:
        assert set(image) >= CONTRACT_KEYS
    by_name = {image["name"]: image for image in doc["images"]}
    codeserver = by_name["codeserver"]
    assert codeserver["reference"] == images.repo("codeserver") + ":v1.9.1"
    assert codeserver["inferred_parent"] == "base"
    assert codeserver["base_reference"] == images.repo("base") + ":v1.9.0"
    assert by_name["tensorflow"]["declared_parent"] == "codeserver"
    assert by_name["tensorflow"]["inferred_parent"] == "jupyter"
    assert doc["platform"] == "linux/amd64"
    assert result.err == ""


def test_format_json_equals_json_flag(capsys: pytest.CaptureFixture[str], catalog: str) -> None:
    flag = run_cli(capsys, "lineage", "--json", "--catalog", catalog)
    option = run_cli(capsys, "lineage", "--format", "json", "--catalog", catalog)
    assert flag.json()["images"] == option.json()["images"]
    both = run_cli(capsys, "lineage", "--json", "--format", "json", "--catalog", catalog)
    assert both.json()["images"] == flag.json()["images"]
    conflict = run_cli(capsys, "lineage", "--json", "--format", "dot", "--catalog", catalog)
    assert conflict.code == 2 and conflict.out == ""
    assert conflict.err == "nbcatalog: error: --json: --json and --format dot ask for two outputs\n"


def test_tree(capsys: pytest.CaptureFixture[str], images: LineageImages, catalog: str) -> None:
    result = run_cli(capsys, "lineage", "--catalog", catalog)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == f"base  {images.repo('base')}:latest"
    line = {re.sub(r"^[│├└─ ]*", "", text).split(" ")[0]: text for text in lines}
    assert line["jupyter"].startswith("├── jupyter  v1.9.1")
    assert line["pytorch-full"].startswith("│   │   └── pytorch-full  v1.9.1")
    assert "[CUDA 12.1]" in line["pytorch-cuda"] and "[CUDA 12.1]" in line["pytorch-cuda-full"]
    assert "! closer-ancestor" in line["pytorch-cuda-full"]
    assert "on v1.9.0" in line["codeserver"] and "! stale-base" in line["codeserver"]
    assert "! declared-not-ancestor" in line["tensorflow"]
    assert "[CUDA" not in line["pytorch"] and "!" not in line["pytorch"]
    roots = [text.split("  ")[0] for text in lines if not text.startswith(("├", "│", "└", " "))]
    assert roots == ["base", "tools", "ds-pytorch"]
    assert "[CUDA 12]" in line["ds-pytorch"]


def test_dot_and_mermaid(capsys: pytest.CaptureFixture[str], catalog: str) -> None:
    dot = run_cli(capsys, "lineage", "--format", "dot", "--catalog", catalog)
    assert dot.code == 0, dot.err
    assert dot.out.startswith("digraph lineage {") and dot.out.rstrip().endswith("}")
    assert '"jupyter" -> "pytorch" [label="v1.9.1"];' in dot.out
    assert '"codeserver" -> "tensorflow" [style=dashed, color=red, label="declared"];' in dot.out
    mermaid = run_cli(capsys, "lineage", "--format", "mermaid", "--catalog", catalog)
    assert mermaid.code == 0, mermaid.err
    lines = mermaid.out.splitlines()
    assert lines[0] == "graph TD"
    ids = {line.split('["')[1].split("<br/>")[0]: line.split("[")[0].strip() for line in lines if '["' in line}
    assert f"  {ids['jupyter']} --> {ids['pytorch']}" in lines
    assert f"  {ids['codeserver']} -. declared .-> {ids['tensorflow']}" in lines


def test_all_platforms(capsys: pytest.CaptureFixture[str], images: LineageImages, catalog: str) -> None:
    result = run_cli(capsys, "lineage", "--json", "--all-platforms", "--catalog", catalog)
    assert result.code == 0, result.err
    by_name = {image["name"]: image for image in result.json()["images"]}
    jupyter = by_name["jupyter"]["per_platform"]
    assert set(jupyter) == {"linux/amd64", "linux/arm64"}
    assert jupyter["linux/arm64"]["base_reference"] == images.repo("base") + ":v1.9.1"
    assert jupyter["linux/arm64"]["digest"] != jupyter["linux/amd64"]["digest"]
    assert by_name["pytorch"]["per_platform"]["linux/arm64"]["error"] == "the image is linux/amd64 only"


def test_stats_on_stderr(capsys: pytest.CaptureFixture[str], catalog: str) -> None:
    result = run_cli(capsys, "lineage", "--json", "--stats", "--catalog", catalog)
    assert result.code == 0
    assert result.err.startswith("nbcatalog: lineage stats: {")
    assert '"GET manifests"' in result.err


def test_second_run_reads_chains_from_the_cache(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, catalog: str
) -> None:
    cache = ("--cache-dir", str(tmp_path / "lineage-cache"))
    cold = run_cli(capsys, "lineage", "--json", "--stats", "--catalog", catalog, *cache)
    warm = run_cli(capsys, "lineage", "--json", "--stats", "--catalog", catalog, *cache)
    assert cold.code == warm.code == 0
    assert cold.json()["images"] == warm.json()["images"]
    cold_requests, warm_requests = cold.json()["stats"]["requests"], warm.json()["stats"]["requests"]
    assert "HEAD manifests" not in cold_requests
    assert warm_requests["HEAD manifests"] > 0
    assert warm_requests["GET manifests"] < cold_requests["GET manifests"]
    nocache = run_cli(capsys, "lineage", "--json", "--stats", "--catalog", catalog, "--no-cache")
    assert "HEAD manifests" not in nocache.json()["stats"]["requests"]


def test_missing_tag_is_a_failed_operation(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, images: LineageImages, catalog: str
) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(images.catalog_yaml(pytorch="v9.9.9"))
    result = run_cli(capsys, "lineage", "--json", "--catalog", str(path))
    assert result.code == 1
    by_name = {image["name"]: image for image in result.json()["images"]}
    assert by_name["pytorch"]["error"] and by_name["pytorch"]["inferred_parent"] is None
    # the entry is unresolved, but its repository still holds the tag pytorch-full was built on
    assert by_name["pytorch-full"]["inferred_parent"] == "pytorch"
    assert by_name["pytorch-full"]["base_reference"] == images.repo("pytorch") + ":v1.9.1"
    assert result.err.startswith("nbcatalog: error: pytorch: ")


def test_missing_repository_of_a_declared_parent(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, images: LineageImages, catalog: str
) -> None:
    text = images.catalog_yaml().replace(images.repo("jupyter") + "\n", images.repo("no-such-repo") + "\n")
    Path(catalog).write_text(text)
    result = run_cli(capsys, "lineage", "--json", "--catalog", catalog)
    assert result.code == 1
    by_name = {image["name"]: image for image in result.json()["images"]}
    assert by_name["jupyter"]["error"]
    assert by_name["pytorch"]["inferred_parent"] == "base"  # the closest ancestor still in the catalog
    assert by_name["pytorch"]["issues"] == []  # no verdict on a declaration that cannot be checked
    assert [line for line in result.err.splitlines() if line.startswith("nbcatalog: error:")] == [
        f"nbcatalog: error: jupyter: {by_name['jupyter']['error']}"
    ]


def test_bad_catalog_is_bad_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = run_cli(capsys, "lineage", "--catalog", str(tmp_path / "nope.yaml"))
    assert missing.code == 2 and missing.out == ""
    assert missing.err.startswith("nbcatalog: error: ") and len(missing.err.splitlines()) == 1
    broken = tmp_path / "broken.yaml"
    broken.write_text("images:\n  - name: a\n    image: 127.0.0.1:1/Bad Repo\n    tag: v1\n")
    result = run_cli(capsys, "lineage", "--catalog", str(broken))
    assert result.code == 2 and "broken.yaml:3" in result.err


def test_skopeo_backend_agrees(capsys: pytest.CaptureFixture[str], catalog: str) -> None:
    ours = run_cli(capsys, "lineage", "--json", "--catalog", catalog, "--no-cache")
    skopeo = run_cli(capsys, "lineage", "--json", "--catalog", catalog, "--no-cache", "--backend", "skopeo")
    assert skopeo.code == ours.code == 0, skopeo.err
    assert skopeo.json()["images"] == ours.json()["images"]


def test_inspect_parent_names_the_exact_base_of_any_image(
    capsys: pytest.CaptureFixture[str], images: LineageImages, catalog: str
) -> None:
    """Not only catalog images: any reference, with the parent given by catalog name or repository."""
    codeserver = images.repo("codeserver") + ":v1.9.1"
    by_name = run_cli(capsys, "inspect", codeserver, "--parent", "base", "--catalog", catalog, "--json")
    assert by_name.code == 0, by_name.err
    doc = by_name.json()
    assert (doc["parent"], doc["base_reference"]) == (images.repo("base"), images.repo("base") + ":v1.9.0")
    assert doc["base_digest"].startswith("sha256:")
    by_repo = run_cli(capsys, "inspect", codeserver, "--parent", images.repo("base"), "--json")
    assert by_repo.json()["base_reference"] == doc["base_reference"]
    human = run_cli(capsys, "inspect", images.repo("tools") + ":v1", "--parent", images.repo("base"))
    assert re.search(r"Built on\s+no tag of " + re.escape(images.repo("base")), human.out)
    missing = run_cli(capsys, "inspect", codeserver, "--parent", images.repo("no-such-repo"))
    assert missing.code == 1 and missing.out == "" and len(missing.err.strip().splitlines()) == 1
