"""``tags`` and ``inspect`` agree with skopeo about the same images in the real local registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nbcatalog import ocibuild as b
from tests.cli.run import run_cli
from tests.support import skopeo
from tests.support.images import StandardImages, base_image, layered_image

CACHE = ("--no-cache",)


@pytest.mark.parametrize("name", ["base", "layered", "zstd", "docker", "multiarch"])
def test_tags_match_skopeo(capsys: pytest.CaptureFixture[str], test_images: StandardImages, name: str) -> None:
    repo = getattr(test_images, name).repo_ref
    result = run_cli(capsys, "tags", repo, "--json", *CACHE)
    assert result.code == 0, result.err
    doc = result.json()
    assert doc["repository"] == repo
    assert [t["tag"] for t in doc["tags"]] == skopeo.list_tags(repo)


def test_tags_of_a_big_repository(capsys: pytest.CaptureFixture[str], many_tags: object) -> None:
    repo = many_tags.repo_ref  # type: ignore[attr-defined]
    result = run_cli(capsys, "tags", repo, "--json")
    assert result.code == 0, result.err
    ours = [t["tag"] for t in result.json()["tags"]]
    assert len(ours) == 1100
    assert ours == skopeo.list_tags(repo)


@pytest.mark.parametrize("name", ["layered", "zstd", "docker", "multiarch"])
def test_inspect_matches_skopeo(capsys: pytest.CaptureFixture[str], test_images: StandardImages, name: str) -> None:
    ref = getattr(test_images, name).ref
    result = run_cli(capsys, "inspect", ref, "--json", *CACHE)
    assert result.code == 0, result.err
    ours = result.json()
    theirs = skopeo.inspect(ref)
    config = skopeo.config(ref)
    assert ours["reference"] == ref
    assert ours["digest"] == theirs["Digest"]
    assert [layer["digest"] for layer in ours["layers"]] == theirs["Layers"]
    assert ours["created"] == config["created"] == theirs["Created"]
    assert ours["diff_ids"] == config["rootfs"]["diff_ids"]
    assert ours["env"] == dict(item.split("=", 1) for item in config["config"].get("Env", []))
    assert ours["labels"] == (config["config"].get("Labels") or {})
    assert [h["created_by"] for h in ours["history"]] == [h.get("created_by", "") for h in config["history"]]
    assert ours["platform"] == f"{config['os']}/{config['architecture']}" + (
        f"/{config['variant']}" if config.get("variant") else ""
    )


def test_multiarch_selects_platform_and_hides_attestations(
    capsys: pytest.CaptureFixture[str], test_images: StandardImages
) -> None:
    ref = test_images.multiarch_ref
    index = json.loads(skopeo.raw_manifest(ref))
    assert any(m["platform"]["os"] == "unknown" for m in index["manifests"])  # the fixture has attestations
    amd = run_cli(capsys, "inspect", ref, "--json").json()
    arm = run_cli(capsys, "inspect", ref, "--json", "--platform", "linux/arm64").json()
    assert amd["platforms"] == arm["platforms"] == ["linux/amd64", "linux/arm64/v8"]
    assert amd["digest"] == arm["digest"] == index_digest(ref)
    assert amd["platform"] == "linux/amd64" and arm["platform"] == "linux/arm64/v8"
    arm_config = skopeo.config(ref, "--override-arch", "arm64", "--override-variant", "v8")
    assert arm["diff_ids"] == arm_config["rootfs"]["diff_ids"]
    assert arm["manifest_digest"] != amd["manifest_digest"]
    assert arm["manifest_digest"] in {
        m["digest"] for m in index["manifests"] if m["platform"]["architecture"] == "arm64"
    }
    missing = run_cli(capsys, "inspect", ref, "--platform", "linux/s390x")
    assert missing.code == 1
    assert "linux/s390x" in missing.err and "linux/arm64/v8" in missing.err


def index_digest(ref: str) -> str:
    return str(skopeo.inspect(ref)["Digest"])


def test_tags_details_resolve_each_tag(capsys: pytest.CaptureFixture[str], test_images: StandardImages) -> None:
    repo = test_images.layered.repo_ref
    doc = run_cli(capsys, "tags", repo, "--details", "--json").json()
    by_tag = {t["tag"]: t for t in doc["tags"]}
    assert set(by_tag) == {"v1.0.0", "v2.0.0"}
    for tag, entry in by_tag.items():
        theirs = skopeo.inspect(f"{repo}:{tag}")
        assert entry["digest"] == theirs["Digest"]
        assert entry["created"] == theirs["Created"]
        assert entry["platforms"] == ["linux/amd64"]
    human = run_cli(capsys, "tags", repo, "--details")
    assert human.code == 0
    assert human.out.splitlines()[0].split() == ["TAG", "DIGEST", "CREATED", "PLATFORMS", "SIZE"]


def test_skopeo_backend_gives_the_same_answers(capsys: pytest.CaptureFixture[str], test_images: StandardImages) -> None:
    for ref in (test_images.layered_ref, test_images.multiarch_ref):
        ours = run_cli(capsys, "inspect", ref, "--json").json()
        via = run_cli(capsys, "--backend", "skopeo", "inspect", ref, "--json")
        assert via.code == 0, via.err
        assert via.json() == ours
    repo = test_images.layered.repo_ref
    assert (
        run_cli(capsys, "tags", repo, "--json", "--backend", "skopeo").json()
        == run_cli(capsys, "tags", repo, "--json").json()
    )


def test_oci_layout_matches_skopeo(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    base = base_image()
    child = layered_image(base, "1.0.0", "zstd")
    index = b.build_index(
        [layered_image(base_image("linux/amd64"), "2.0.0"), layered_image(base_image("linux/arm64/v8"), "2.0.0")],
        attestation=True,
    )
    b.write_layout(tmp_path / "layout", {"v1": child, "base": base, "multi": index})
    layout = f"oci:{tmp_path / 'layout'}"
    tags = run_cli(capsys, "tags", layout, "--json").json()
    assert sorted(t["tag"] for t in tags["tags"]) == ["base", "multi", "v1"]
    for tag in ("v1", "base", "multi"):
        ours = run_cli(capsys, "inspect", f"{layout}:{tag}", "--json")
        assert ours.code == 0, ours.err
        config = skopeo.config(f"{layout}:{tag}")
        assert ours.json()["diff_ids"] == config["rootfs"]["diff_ids"]
        assert ours.json()["created"] == config["created"]
    missing = run_cli(capsys, "inspect", f"{layout}:nope")
    assert missing.code == 1 and "nope" in missing.err


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (("inspect", "Not/Valid"), 2, "Not/Valid"),
        (("tags", "bad::ref"), 2, "bad::ref"),
        (("inspect", "{host}/test/layered:v9.9.9"), 1, "manifest not found"),
        (("inspect", "{host}/test/nothing-here:v1"), 1, "not found"),
        (("tags", "{host}/test/nothing-here"), 1, "repository not found"),
        (("inspect", "{host}/test/layered:v1.0.0", "--platform", "linux"), 2, "--platform"),
        (("inspect", "oci:/nonexistent/layout:v1"), 2, "not an OCI image layout"),
    ],
)
def test_errors_are_one_line_with_the_reference(
    capsys: pytest.CaptureFixture[str], test_images: StandardImages, args: tuple[str, ...], code: int, fragment: str
) -> None:
    argv = [a.format(host=test_images.host) for a in args]
    result = run_cli(capsys, *argv)
    assert result.code == code
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nbcatalog: error: ")
    assert fragment in lines[0]
    assert "Traceback" not in result.err


@pytest.fixture(scope="module")
def demo_refs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from nbcatalog.demo import build_demo

    return {k: str(v) for k, v in build_demo(tmp_path_factory.mktemp("demo") / "demo").to_json()["references"].items()}


def test_inspect_reports_cuda_and_kubeflow_readiness(
    capsys: pytest.CaptureFixture[str], demo_refs: dict[str, str], tmp_path: Path
) -> None:
    cache = ("--cache-dir", str(tmp_path / "cache"))
    cuda = run_cli(capsys, "inspect", demo_refs["jupyter-pytorch-cuda"], "--json", "--deep", *cache).json()
    assert cuda["cuda"]["version"].startswith("12")
    assert {e["source"] for e in cuda["cuda"]["evidence"]} >= {"env", "package"}
    assert cuda["kubeflow"]["ready"] is True
    assert {r["key"]: r["met"] for r in cuda["kubeflow"]["requirements"]}["uid-1000"] is True
    cpu = run_cli(capsys, "inspect", demo_refs["jupyter-pytorch"], "--json", "--deep", *cache).json()
    assert cpu["cuda"] is None
    shallow = run_cli(capsys, "inspect", demo_refs["jupyter-pytorch-cuda"], "--json", *cache).json()
    assert shallow["cuda"]["version"].startswith("12")  # the config alone says so (NVIDIA_REQUIRE_CUDA)
    human = run_cli(capsys, "inspect", demo_refs["jupyter-pytorch-cuda"], "--deep", *cache)
    assert "CUDA evidence" in human.out and "Kubeflow image requirements" in human.out


def test_inspect_flags_an_image_kubeflow_cannot_run(
    capsys: pytest.CaptureFixture[str], test_images: StandardImages
) -> None:
    doc = run_cli(capsys, "inspect", test_images.docker_ref, "--json", "--deep", "--no-cache").json()
    assert doc["kubeflow"]["ready"] is False
    failed = {r["key"] for r in doc["kubeflow"]["requirements"] if r["met"] is False}
    assert "port-8888" in failed


def test_inspect_by_catalog_name(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from nbcatalog.demo import build_demo

    paths = build_demo(tmp_path / "demo")
    by_name = run_cli(capsys, "--catalog", str(paths.catalog), "inspect", "jupyter", "--json", "--no-cache")
    assert by_name.code == 0, by_name.err
    reference = str(paths.to_json()["references"]["jupyter"])  # type: ignore[index]
    assert by_name.json()["reference"] == reference


def test_skopeo_backend_without_skopeo_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], test_images: StandardImages, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    result = run_cli(capsys, "--backend", "skopeo", "tags", test_images.layered.repo_ref)
    assert result.code == 1
    assert "skopeo is not installed" in result.err and result.err.count("\n") == 1


def test_catalog_name_with_a_tag(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from nbcatalog.demo import build_demo

    paths = build_demo(tmp_path / "demo")
    catalog = ("--catalog", str(paths.catalog), "--cache-dir", str(tmp_path / "c"))
    older = run_cli(capsys, *catalog, "inspect", "jupyter:v1.9.0", "--json")
    assert older.code == 0, older.err
    assert older.json()["reference"].endswith("/layouts/jupyter:v1.9.0")
    diff = run_cli(capsys, *catalog, "diff", "jupyter-pytorch:v1.9.1", "jupyter-pytorch", "--json")
    assert diff.code == 0, diff.err
    assert any(c["name"] == "torch" and c["change"] == "upgraded" for c in diff.json()["changes"])
