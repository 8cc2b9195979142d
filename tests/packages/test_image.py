"""Packages of images in the real local registry, against ground truth from independent tools."""

from __future__ import annotations

import asyncio
import email.parser
import importlib.metadata
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from nbcatalog.cache import Cache
from nbcatalog.diff import diff_packages
from nbcatalog.packages.image import image_files, image_packages
from nbcatalog.packages.result import PACKAGES_PARSER, ImagePackages
from nbcatalog.refs import parse_reference
from nbcatalog.session import Session, SessionOptions
from tests.packages.images import PASSWD_V1, PASSWD_V2, SITE, PackageImages, bump_status
from tests.packages.test_parsers import _dpkg_query


async def _packages(ref: str, cache_dir: Path | None, **kwargs: object) -> tuple[ImagePackages, dict[str, int]]:
    async with Session(SessionOptions(cache_dir=cache_dir)) as session:
        result = await image_packages(session, parse_reference(ref), **kwargs)  # type: ignore[arg-type]
        return result, session.request_stats


def _by(result: ImagePackages, ecosystem: str) -> set[tuple[str, str, str]]:
    return {(p.name, p.version, p.location) for p in result.packages if p.ecosystem == ecosystem}


def _venv_truth(fresh_venv: Path, skip: set[str] = frozenset()) -> set[tuple[str, str, str]]:  # type: ignore[assignment]
    return {
        (d.metadata["Name"], d.version, "/" + SITE)
        for d in importlib.metadata.distributions(path=[str(fresh_venv)])
        if d._path.name not in skip  # type: ignore[attr-defined]
    }


def _r_truth(images: PackageImages) -> set[tuple[str, str, str]]:
    out = set()
    for data in images.r_descriptions.values():
        fields = email.parser.Parser().parsestr(data.decode())
        out.add((fields["Package"], fields["Version"], "/usr/lib/R/site-library"))
    return out


async def test_v1_matches_independent_tools(package_images: PackageImages, fresh_venv: Path, tmp_path: Path) -> None:
    result, _ = await _packages(package_images.v1, None)
    apt = {(n, v) for n, v, _ in _dpkg_query(package_images.status_v1, tmp_path)}
    assert {(n, v) for n, v, _ in _by(result, "apt")} == apt
    assert _by(result, "pip") == _venv_truth(fresh_venv)
    assert _by(result, "r") == _r_truth(package_images)
    assert _by(result, "conda") == {
        ("python", "3.11.8", "/opt/conda"),
        ("numpy", "1.26.4", "/opt/conda"),
        ("r-base", "4.3.3", "/opt/conda/envs/r-env"),
    }
    assert _by(result, "jupyterlab") == {
        ("jupyterlab-plotly", "5.18.0", "/opt/conda/share/jupyter/labextensions"),
        ("@jupyter-widgets/jupyterlab-manager", "5.0.9", "/opt/conda/share/jupyter/labextensions"),
    }
    assert result.warnings == []
    base, stack = package_images.layer_digests["v1"]
    layer_of = {(p.ecosystem, p.name): layer for p, layer in zip(result.packages, result.layers_of, strict=True)}
    assert layer_of[("conda", "numpy")] == stack
    assert {layer for (eco, _), layer in layer_of.items() if eco == "apt"} == {base}


async def test_v2_applies_whiteouts_opaque_dirs_links_and_upgrades(
    package_images: PackageImages, fresh_venv: Path, tmp_path: Path
) -> None:
    result, _ = await _packages(package_images.v2, None)
    apt = {(n, v) for n, v, _ in _dpkg_query(package_images.status_v2, tmp_path)}
    assert {(n, v) for n, v, _ in _by(result, "apt")} == apt
    _, removed, upgraded = bump_status(package_images.status_v1)
    assert removed not in {n for n, _ in apt}
    gone = next(iter(package_images.dist_infos)).split("/")[-2]
    assert _by(result, "pip") == _venv_truth(fresh_venv, {gone}) | {
        ("six", "1.16.0", "/usr/lib/python3/dist-packages"),
        ("six", "1.16.0", "/opt/venv/lib/python3.11/site-packages"),  # a hard link in the tar
        ("oldstyle", "0.9", "/usr/lib/python3/dist-packages"),  # single-file egg-info, uncompressed layer
    }
    # numpy whited out and replaced; the envs dir became a symlink; the broken record only warns.
    assert _by(result, "conda") == {("python", "3.11.8", "/opt/conda"), ("numpy", "2.0.0", "/opt/conda")}
    assert _by(result, "jupyterlab") == {
        ("@jupyter-widgets/jupyterlab-manager", "5.0.11", "/opt/conda/share/jupyter/labextensions")
    }
    assert _by(result, "r") == _r_truth(package_images)
    upgrade_layer = package_images.layer_digests["v2"][2]
    (warning,) = result.warnings
    assert warning.startswith("/opt/conda/conda-meta/broken-1.0-h0_0.json: not JSON")
    assert warning.endswith(f"(layer {upgrade_layer[7:19]})")

    before, _ = await _packages(package_images.v1, None)
    changes = {(c.ecosystem, c.name, c.change) for c in diff_packages(before.packages, result.packages)}
    assert ("apt", removed, "removed") in changes
    assert ("apt", upgraded, "upgraded") in changes
    assert ("conda", "numpy", "upgraded") in changes
    assert ("conda", "r-base", "removed") in changes
    assert ("jupyterlab", "jupyterlab-plotly", "removed") in changes
    assert ("jupyterlab", "@jupyter-widgets/jupyterlab-manager", "upgraded") in changes


async def test_ecosystem_filter(package_images: PackageImages) -> None:
    result, _ = await _packages(package_images.v1, None, ecosystems=["conda", "r"])
    assert {p.ecosystem for p in result.packages} == {"conda", "r"}


async def test_second_run_reads_no_blob_and_shared_layers_are_read_once(
    package_images: PackageImages, tmp_path: Path
) -> None:
    first, stats = await _packages(package_images.v1, tmp_path)
    assert stats.get("GET blobs", 0) == 2 + 1  # two layers and the config
    again, stats = await _packages(package_images.v1, tmp_path)
    assert stats.get("GET blobs", 0) == 1  # the config only: no layer
    assert again.packages == first.packages and again.layers_of == first.layers_of
    assert (again.layers_read, again.layers_cached) == (0, 2)
    v2, stats = await _packages(package_images.v2, tmp_path)
    assert (v2.layers_read, v2.layers_cached) == (2, 2)
    assert stats.get("GET blobs", 0) == 2 + 1
    uncached, _ = await _packages(package_images.v2, None)
    assert v2.to_json() == uncached.to_json()


async def test_progress_reports_every_layer(package_images: PackageImages, tmp_path: Path) -> None:
    seen: dict[str, tuple[int, int]] = {}
    await _packages(package_images.big, tmp_path, progress=lambda d, done, total: seen.__setitem__(d, (done, total)))
    assert package_images.big_layer in seen
    assert all(done == total and total > 0 for done, total in seen.values())


KILLER = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from pathlib import Path
    from nbcatalog.packages.image import image_packages
    from nbcatalog.refs import parse_reference
    from nbcatalog.session import Session, SessionOptions

    ref, cache_dir, victim = sys.argv[1], Path(sys.argv[2]), sys.argv[3]

    def progress(digest, done, total):
        if digest == victim and done < total:
            os.kill(os.getpid(), signal.SIGKILL)

    async def main():
        async with Session(SessionOptions(cache_dir=cache_dir)) as session:
            await image_packages(session, parse_reference(ref), progress=progress)

    asyncio.run(main())
    """
)


async def test_a_run_killed_mid_layer_leaves_no_partial_entry(package_images: PackageImages, tmp_path: Path) -> None:
    process = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", KILLER, package_images.big, str(tmp_path), package_images.big_layer],
        capture_output=True,
        timeout=60,
    )
    assert process.returncode == -9, process.stderr.decode()
    db = sqlite3.connect(tmp_path / "cache.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    stored = {row[0] for row in db.execute("SELECT digest FROM layers")}
    db.close()
    assert package_images.big_layer not in stored
    result, _ = await _packages(package_images.big, tmp_path)
    assert result.layers_read == 3 - len(stored)
    with Cache(tmp_path) as cache:
        assert package_images.big_layer in cache.get_layers([package_images.big_layer], PACKAGES_PARSER)


async def test_image_files_reads_the_final_etc_passwd(package_images: PackageImages, tmp_path: Path) -> None:
    async with Session(SessionOptions(cache_dir=tmp_path)) as session:
        v1 = await image_files(session, parse_reference(package_images.v1), ["/etc/passwd", "/etc/group"])
        v2 = await image_files(session, parse_reference(package_images.v2), ["/etc/group", "/etc/passwd"])
        again = await image_files(session, parse_reference(package_images.v2), ["etc/passwd", "/etc/group"])
        assert session.request_stats.get("GET blobs", 0) == 2 + 2 + 2  # 4 layers once + two configs
    assert v1 == {"/etc/passwd": PASSWD_V1.encode()}
    assert v2 == again == {"/etc/passwd": PASSWD_V2.encode()}


async def test_a_missing_image_is_a_registry_error(package_images: PackageImages) -> None:
    from nbcatalog.errors import NotFoundError

    async with Session(SessionOptions(cache_dir=None)) as session:
        with pytest.raises(NotFoundError):
            await image_packages(session, parse_reference(package_images.host + "/pkgtest/nothing:v0"))


async def test_oci_layouts_on_disk_work_the_same(tmp_path: Path) -> None:
    from nbcatalog import ocibuild as b

    status = "Package: tzdata\nStatus: install ok installed\nVersion: 2024a-0+deb12u1\nArchitecture: all\n"
    image = b.build_image(
        [
            b.build_layer([b.file("var/lib/dpkg/status", status)], "zstd"),
            b.build_layer([b.file("etc/passwd", PASSWD_V1)], "none"),
        ]
    )
    b.write_layout(tmp_path / "layout", {"v1": image})
    async with Session(SessionOptions(cache_dir=tmp_path / "cache")) as session:
        result = await image_packages(session, parse_reference(f"oci:{tmp_path / 'layout'}:v1"))
        files = await image_files(session, parse_reference(f"oci:{tmp_path / 'layout'}:v1"), ["/etc/passwd"])
    assert [(p.ecosystem, p.name, p.version) for p in result.packages] == [("apt", "tzdata", "2024a-0+deb12u1")]
    assert files == {"/etc/passwd": PASSWD_V1.encode()}


async def test_a_corrupted_layer_is_an_error_and_never_cached(
    package_images: PackageImages, paginating_proxy: Any, tmp_path: Path
) -> None:
    from nbcatalog.errors import DigestMismatchError

    _, stack = package_images.layer_digests["v1"]
    paginating_proxy.add_fault("corrupt", f"/blobs/{stack}", times=-1, method="GET")
    ref = parse_reference(f"{paginating_proxy.host}/pkgtest/image:v1")
    async with Session(SessionOptions(cache_dir=tmp_path)) as session:
        with pytest.raises(DigestMismatchError):
            await image_packages(session, ref)
    with Cache(tmp_path) as cache:
        assert stack not in cache.get_layers([stack], PACKAGES_PARSER)


async def test_cold_inspect_deep_reads_every_layer_once(package_images: PackageImages, tmp_path: Path) -> None:
    """/etc/passwd comes from the package read (same pass, same cache entry): no second read per layer."""
    from nbcatalog.imageinfo import inspect_image
    from nbcatalog.kubeflowreq import check_kubeflow, kubeflow_to_json

    ref = parse_reference(package_images.v2)
    async with Session(SessionOptions(cache_dir=tmp_path)) as session:
        doc = await inspect_image(session, ref, deep=True)
        layers = len(doc["layers"])
        assert session.request_stats.get("GET blobs", 0) == layers + 1  # each layer once, and the config
        config = (await session.resolve(ref)).config
    assert doc["kubeflow"] == kubeflow_to_json(check_kubeflow(config, PASSWD_V2))
    async with Session(SessionOptions(cache_dir=tmp_path)) as session:
        again = await inspect_image(session, ref, deep=True)
        packages = await image_packages(session, ref)
        assert session.request_stats.get("GET blobs", 0) == 1  # the config: passwd and packages came cached
    assert again == doc
    assert packages.files == {"/etc/passwd": PASSWD_V2.encode()}
    assert "files" not in packages.to_json()  # the JSON contract of `packages` is unchanged
