"""The offline demo: real layouts (umoci, skopeo agree), idempotent builds, realistic package data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nbcatalog import demo
from nbcatalog.catalog import load_catalog
from nbcatalog.cli.main import main
from nbcatalog.errors import NbcatalogError
from nbcatalog.oci import Platform
from nbcatalog.packages.image import image_packages
from nbcatalog.refs import parse_reference
from nbcatalog.session import Session, SessionOptions


@pytest.fixture(scope="module")
def demo_paths(tmp_path_factory: pytest.TempPathFactory) -> demo.DemoPaths:
    return demo.build_demo(tmp_path_factory.mktemp("demo") / "demo")


def layout_index(layout: Path) -> dict[str, dict[str, object]]:
    index = json.loads((layout / "index.json").read_text())
    return {m["annotations"]["org.opencontainers.image.ref.name"]: m for m in index["manifests"]}


def skopeo_inspect(reference: str, *extra: str) -> dict[str, object]:
    out = subprocess.run(["skopeo", "inspect", *extra, reference], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def blob(layout: Path, digest: str) -> bytes:
    return (layout / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_bytes()


def image_manifest(layout: Path, tag: str, architecture: str = "amd64") -> dict[str, object]:
    manifest = json.loads(blob(layout, str(layout_index(layout)[tag]["digest"])))
    if "manifests" in manifest:
        chosen = next(m for m in manifest["manifests"] if m["platform"]["architecture"] == architecture)
        manifest = json.loads(blob(layout, chosen["digest"]))
    return manifest  # type: ignore[no-any-return]


def test_every_tag_inspects_with_skopeo(demo_paths: demo.DemoPaths) -> None:
    assert set(demo_paths.layouts) == set(demo.ENTRIES)
    for name, layout in demo_paths.layouts.items():
        tags = layout_index(layout)
        assert sorted(tags) == sorted([*demo.demo_tags(), "latest"])
        for tag, descriptor in tags.items():
            inspected = skopeo_inspect(f"oci:{layout}:{tag}")
            assert inspected["Digest"] == descriptor["digest"], f"{name}:{tag}"
            assert inspected["Architecture"] == "amd64"
    arm = skopeo_inspect(demo_paths.reference("jupyter", "v1.10.0"), "--override-arch", "arm64")
    assert arm["Architecture"] == "arm64"
    cuda = skopeo_inspect(demo_paths.reference("jupyter-pytorch-cuda", "v1.10.0"), "--config")
    env = dict(item.split("=", 1) for item in cuda["config"]["Env"])  # type: ignore[index]
    assert env["NVIDIA_REQUIRE_CUDA"].startswith("cuda>=12.1 brand=")
    assert env["NVIDIA_VISIBLE_DEVICES"] == "all" and env["NVIDIA_DRIVER_CAPABILITIES"] == "compute,utility"


def test_umoci_unpacks_with_verified_diff_ids(demo_paths: demo.DemoPaths, tmp_path: Path) -> None:
    layout = demo_paths.layouts["jupyter-pytorch-cuda"]
    subprocess.run(
        ["umoci", "unpack", "--rootless", "--image", f"{layout}:v1.9.1", str(tmp_path / "bundle")],
        check=True,
        capture_output=True,
    )
    rootfs = tmp_path / "bundle" / "rootfs"
    assert "jovyan:x:1000:100::/home/jovyan:/bin/bash" in (rootfs / "etc/passwd").read_text()
    assert (rootfs / "home/jovyan").is_dir() and (rootfs / "init").is_file()
    site = rootfs / "opt/conda/lib/python3.11/site-packages"
    assert (site / "torch-2.4.1+cu121.dist-info/METADATA").read_text().startswith("Metadata-Version: 2.1\n")
    assert not (site / "typing_extensions-4.11.0.dist-info").exists()  # whited out by the torch layer
    assert (site / "typing_extensions-4.12.2.dist-info").is_dir()
    config = json.loads((tmp_path / "bundle" / "config.json").read_text())
    assert config["process"]["args"] == ["/init"]


def test_children_are_built_on_the_same_release_of_their_parent(demo_paths: demo.DemoPaths) -> None:
    for tag in demo.demo_tags():
        for name, (parent, *_rest) in demo.ENTRIES.items():
            if parent is None:
                continue
            child_layers = image_manifest(demo_paths.layouts[name], tag)["layers"]
            parent_layers = image_manifest(demo_paths.layouts[parent], tag)["layers"]
            assert isinstance(child_layers, list) and isinstance(parent_layers, list)
            assert child_layers[: len(parent_layers)] == parent_layers, f"{name}:{tag}"
            assert len(child_layers) > len(parent_layers)
    older = image_manifest(demo_paths.layouts["base"], "v1.9.0")["layers"]
    newer = image_manifest(demo_paths.layouts["base"], "v1.10.0")["layers"]
    assert older != newer


def test_building_twice_is_a_no_op(tmp_path: Path) -> None:
    first = demo.build_demo(tmp_path)
    index_file = first.layouts["jupyter"] / "index.json"
    before = (index_file.stat().st_mtime_ns, first.catalog.stat().st_mtime_ns)
    second = demo.build_demo(tmp_path)
    assert first.built and not second.built
    assert (index_file.stat().st_mtime_ns, first.catalog.stat().st_mtime_ns) == before
    digests = {name: layout_index(path) for name, path in first.layouts.items()}
    (tmp_path / demo.STAMP).write_text("nbcatalog-demo 0\n")  # an older builder's demo is rebuilt
    third = demo.build_demo(tmp_path)
    assert third.built
    assert {name: layout_index(path) for name, path in third.layouts.items()} == digests  # deterministic
    assert not list(tmp_path.glob(".staging-*"))


def test_catalog_loads_and_points_at_the_layouts(demo_paths: demo.DemoPaths) -> None:
    catalog = load_catalog(demo_paths.catalog)
    by_name = {image.name: image for image in catalog.images}
    assert list(by_name) == list(demo.ENTRIES)
    assert by_name["jupyter-pytorch-cuda"].parent == "jupyter"
    assert by_name["rstudio"].kind == "rstudio" and by_name["codeserver"].kind == "codeserver"
    for name, image in by_name.items():
        assert image.image == f"oci:{demo_paths.layouts[name]}"
        assert image.tag in layout_index(demo_paths.layouts[name])


async def packages_of(reference: str) -> dict[tuple[str, str], str]:
    options = SessionOptions(platform=Platform("linux", "amd64"), cache_dir=None)
    async with Session(options) as session:
        found = await image_packages(session, parse_reference(reference))
    return {(p.ecosystem, p.name): p.version for p in found.packages}


async def test_package_databases_read_by_the_real_parsers(demo_paths: demo.DemoPaths) -> None:
    old = await packages_of(demo_paths.reference("jupyter-pytorch-cuda", "v1.9.0"))
    new = await packages_of(demo_paths.reference("jupyter-pytorch-cuda", "v1.10.0"))
    assert old[("apt", "openssl")] == "3.0.13-1~deb12u1" and new[("apt", "openssl")] == "3.0.15-1~deb12u1"
    assert new[("apt", "libc6")].startswith("2.36-9")
    assert new[("conda", "python")] == "3.11.11"
    assert new[("pip", "torch")] == "2.5.1+cu121" and ("pip", "nvidia-cudnn-cu12") in new
    assert new[("pip", "typing_extensions")] == "4.12.2"
    assert new[("jupyterlab", "@jupyter-widgets/jupyterlab-manager")] == "5.0.13"
    assert not any(name == "bundle" for _, name in new)  # nested static package.json is no extension
    assert ("pip", "jupyterlab-git") in old and ("pip", "jupyterlab-git") not in new
    assert ("jupyterlab", "@jupyter-lsp/jupyterlab-lsp") in new
    cpu = await packages_of(demo_paths.reference("jupyter-pytorch", "v1.10.0"))
    assert cpu[("pip", "torch")] == "2.5.1+cpu"
    rstudio = await packages_of(demo_paths.reference("rstudio", "v1.10.0"))
    assert rstudio[("r", "shiny")] == "1.10.0" and rstudio[("apt", "rstudio-server")] == "2024.12.1+563"
    code = await packages_of(demo_paths.reference("codeserver", "v1.9.1"))
    assert code[("apt", "code-server")] == "4.92.2"


def test_cli_prints_paths(demo_paths: demo.DemoPaths, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--json", "--data-dir", str(demo_paths.root)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["catalog"] == str(demo_paths.catalog) and doc["built"] is False
    assert doc["references"]["jupyter"] == demo_paths.reference("jupyter")
    assert main(["demo", "--no-tui", "--data-dir", str(demo_paths.root)]) == 0
    out = capsys.readouterr().out
    assert str(demo_paths.catalog) in out and demo_paths.reference("rstudio") in out


def test_cli_bad_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["demo", "--no-tui", "--data-dir", str(blocker / "demo")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nbcatalog: error: ") and str(blocker / "demo") in err and "Traceback" not in err


def test_concurrent_builds_both_succeed(tmp_path: Path) -> None:
    script = "import sys; from nbcatalog.demo import build_demo; build_demo(sys.argv[1])"
    runs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stderr=subprocess.PIPE) for _ in range(2)]
    errors = [run.communicate(timeout=60)[1] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], errors
    assert demo.is_current(tmp_path)
    assert skopeo_inspect(f"oci:{tmp_path}/layouts/rstudio:v1.10.0")["Architecture"] == "amd64"


def test_unwritable_demo_is_one_error(tmp_path: Path) -> None:
    (tmp_path / "catalog.yaml").mkdir()  # the catalog cannot be written where a directory stands
    with pytest.raises(NbcatalogError) as caught:
        demo.build_demo(tmp_path)
    assert str(tmp_path) in str(caught.value) and caught.value.exit_code == 1
