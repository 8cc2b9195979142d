"""The warm read of a layout image (no event loop) gives what the full read gives, or steps aside.

Each case compares :func:`warm_image_packages` with :func:`image_packages` through a session on
the same layout and cache: same packages, order, layers and warnings. Where the warm read cannot
answer from the cache alone it must say None (never a partial list), and what it reads it still
verifies: a damaged manifest or config fails it exactly as it fails the full read.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from nbcatalog import ocibuild as b
from nbcatalog.errors import DigestMismatchError, NbcatalogError, NotFoundError
from nbcatalog.oci import Platform
from nbcatalog.packages.image import image_packages
from nbcatalog.packages.result import ImagePackages
from nbcatalog.packages.warm import warm_image_packages
from nbcatalog.refs import parse_reference
from nbcatalog.session import Session, SessionOptions

SITE = "opt/conda/lib/python3.11/site-packages"
AMD64 = Platform("linux", "amd64")
ARM64 = Platform("linux", "arm64")


def _status(names: list[str], version: str) -> str:
    return "\n".join(
        f"Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {version}\n" for name in names
    )


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``multi``: an index (amd64, arm64, attestations); ``single``: one image with a bad dpkg record."""
    root = tmp_path_factory.mktemp("warm") / "layout"
    apt = b.build_layer([b.file("var/lib/dpkg/status", _status(["libc6", "bash", "zlib1g"], "1.0"))], "gzip")
    pip = b.build_layer(
        [b.file(f"{SITE}/{n}-2.0.dist-info/METADATA", f"Name: {n}\nVersion: 2.0\n") for n in ("idna", "six")],
        "zstd",
    )
    upgrade = b.build_layer([b.file("var/lib/dpkg/status", _status(["libc6", "bash"], "1.1"))], "gzip")
    amd = b.build_image([apt, pip, upgrade], platform="linux/amd64")
    arm = b.build_image([apt], platform="linux/arm64")
    broken = b.build_layer([b.file("var/lib/dpkg/status", "Package: half\nStatus: install ok installed\n")], "gzip")
    b.write_layout(root, {"multi": b.build_index([amd, arm]), "single": b.build_image([broken, pip])})
    return root


def _full(ref: str, cache_dir: Path | None, platform: Platform = AMD64, **kwargs: object) -> ImagePackages:
    async def read() -> ImagePackages:
        async with Session(SessionOptions(platform=platform, cache_dir=cache_dir)) as session:
            return await image_packages(session, parse_reference(ref), **kwargs)  # type: ignore[arg-type]

    return asyncio.run(read())


@pytest.mark.parametrize(
    ("tag", "platform", "ecosystems"),
    [("multi", AMD64, None), ("multi", ARM64, None), ("multi", AMD64, ["pip"]), ("single", AMD64, None)],
)
def test_warm_equals_the_full_read(
    layout: Path, tmp_path: Path, tag: str, platform: Platform, ecosystems: list[str] | None
) -> None:
    ref = f"oci:{layout}:{tag}"
    cache = tmp_path / "cache"
    assert warm_image_packages(parse_reference(ref), platform, cache) is None  # nothing cached yet
    cold = _full(ref, cache, platform, ecosystems=ecosystems)
    assert cold.layers_read > 0
    warm = warm_image_packages(parse_reference(ref), platform, cache, ecosystems)
    assert warm is not None and warm.layers_read == 0 and warm.layers_cached == cold.layers_read
    assert warm.to_json() == cold.to_json()
    assert warm.files == cold.files
    assert warm.warnings == cold.warnings
    if tag == "single":
        assert any("half" in w or "Version" in w for w in warm.warnings), warm.warnings
    if ecosystems:
        assert {p.ecosystem for p in warm.packages} == set(ecosystems)


def test_one_layer_missing_from_the_cache_is_no_answer(layout: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _full(f"oci:{layout}:multi", cache, ARM64)  # caches the apt layer only
    assert warm_image_packages(parse_reference(f"oci:{layout}:multi"), AMD64, cache) is None
    assert warm_image_packages(parse_reference(f"oci:{layout}:multi"), ARM64, cache) is not None


def test_no_cache_and_registry_references_are_no_answer(layout: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _full(f"oci:{layout}:multi", cache)
    assert warm_image_packages(parse_reference(f"oci:{layout}:multi"), AMD64, None) is None
    assert warm_image_packages(parse_reference("127.0.0.1:9/nothing:here"), AMD64, cache) is None


def test_what_the_warm_read_reads_it_verifies(layout: Path, tmp_path: Path) -> None:
    """A manifest blob changed after the layers were cached: the warm read refuses it as the full one does."""
    copy = tmp_path / "layout"
    subprocess.run(["cp", "-r", str(layout), str(copy)], check=True)
    cache = tmp_path / "cache"
    ref = f"oci:{copy}:single"
    _full(ref, cache)
    index = json.loads((copy / "index.json").read_text())
    digest = next(
        m["digest"] for m in index["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == "single"
    )
    blob = copy / "blobs" / "sha256" / digest.partition(":")[2]
    blob.chmod(0o644)
    blob.write_bytes(blob.read_bytes().replace(b'"schemaVersion":2', b'"schemaVersion":3'))
    with pytest.raises(DigestMismatchError) as warm_error:
        warm_image_packages(parse_reference(ref), AMD64, cache)
    with pytest.raises(DigestMismatchError) as full_error:
        _full(ref, cache)
    assert str(warm_error.value) == str(full_error.value)
    assert warm_error.value.where == str(parse_reference(ref))


def test_errors_name_the_image_as_the_full_read_does(layout: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _full(f"oci:{layout}:multi", cache)
    for ref, platform in ((f"oci:{layout}:nosuchtag", AMD64), (f"oci:{layout}:multi", Platform("linux", "s390x"))):
        with pytest.raises(NotFoundError) as warm_error:
            warm_image_packages(parse_reference(ref), platform, cache)
        with pytest.raises(NbcatalogError) as full_error:
            _full(ref, cache, platform)
        assert (str(warm_error.value), warm_error.value.where) == (str(full_error.value), full_error.value.where)


def test_the_cli_answers_warm_with_the_same_bytes(layout: Path, tmp_path: Path) -> None:
    """The first run reads every layer, the second answers warm: one document, byte for byte."""
    env_cache = tmp_path / "cache"
    ref = f"oci:{layout}:multi"
    outputs = []
    for _ in range(2):
        code = (
            "import sys\nfrom nbcatalog.cli.main import main\ncode = main(sys.argv[1:])\nsys.stdout.flush()\n"
            "print('@@', 'asyncio' in sys.modules, file=sys.stderr)\nsys.exit(code)"
        )
        result = subprocess.run(
            [sys.executable, "-c", code, "--cache-dir", str(env_cache), "packages", "--json", ref],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        outputs.append((result.stdout, result.stderr.strip().rpartition("@@ ")[2]))
    (cold, cold_loop), (warm, warm_loop) = outputs
    assert cold == warm and json.loads(warm)["packages"]
    assert (cold_loop, warm_loop) == ("True", "False")
