"""Real package databases for the parser and image tests (no network: Debian .debs come from apt's
cache when there, else ``apt-get download`` from the configured Debian mirror)."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.packages.images import PackageImages, build_and_push
from tests.support.registry import Pusher, RegistryServer

R_DEBS = ("r-cran-jsonlite", "r-cran-r6")
APT_ARCHIVES = Path("/var/cache/apt/archives")


def _deb_for(package: str, download_dir: Path) -> Path:
    """From ``$NBCATALOG_TEST_DEBS`` or apt's cache, where ``scripts/setup`` put them: tests never download."""
    places = [Path(os.environ["NBCATALOG_TEST_DEBS"])] if os.environ.get("NBCATALOG_TEST_DEBS") else []
    for place in [*places, APT_ARCHIVES, download_dir]:
        found = sorted(glob.glob(str(place / f"{package}_*.deb")))
        if found:
            return Path(found[-1])
    raise pytest.UsageError(f"{package}_*.deb not found in {APT_ARCHIVES}: run `bash scripts/setup` first")


@pytest.fixture(scope="session")
def r_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A root with R packages unpacked from Debian's r-cran-* .debs, and each .deb's version."""
    root = tmp_path_factory.mktemp("r-root")
    downloads = tmp_path_factory.mktemp("debs")
    versions: dict[str, str] = {}
    for package in R_DEBS:
        deb = _deb_for(package, downloads)
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
        versions[package] = subprocess.run(
            ["dpkg-deb", "-f", str(deb), "Version"], check=True, capture_output=True, text=True
        ).stdout.strip()
    return root, versions


@pytest.fixture(scope="session")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real venv (pip installed by ensurepip from its bundled wheels, offline): its site-packages."""
    target = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=True).create(target)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return target / "lib" / version / "site-packages"


def this_site_packages() -> Path:
    import httpx

    return Path(httpx.__file__).parent.parent


@pytest.fixture(scope="session")
def package_images(
    pusher: Pusher, registry: RegistryServer, fresh_venv: Path, r_root: tuple[Path, dict[str, str]]
) -> PackageImages:
    """pkgtest/image:v1 and :v2 (an upgrade layer with whiteouts, opaque dir, links) and pkgtest/big:v1."""
    return build_and_push(pusher, registry.host, fresh_venv, r_root[0])
