"""Test images made of real package databases, pushed to the real local registry."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from nbcatalog import ocibuild as b
from tests.support.registry import Pusher

SITE = "opt/conda/lib/python3.11/site-packages"
LAB = "opt/conda/share/jupyter/labextensions"
R_LIB = "usr/lib/R/site-library"
PASSWD_V1 = "root:x:0:0:root:/root:/bin/bash\n"
PASSWD_V2 = PASSWD_V1 + "jovyan:x:1000:100::/home/jovyan:/bin/bash\n"


def conda_record(name: str, version: str, build: str = "h0_0") -> bytes:
    return json.dumps(
        {"build": build, "channel": "https://conda.anaconda.org/conda-forge/linux-64", "name": name, "version": version}
    ).encode()


def labext(name: str, version: str) -> bytes:
    return json.dumps({"name": name, "version": version, "jupyterlab": {"extension": True}}).encode()


@dataclass
class PackageImages:
    """Refs plus the inputs each image was built from (the tests' ground truth)."""

    host: str
    v1: str
    v2: str
    big: str
    status_v1: str
    status_v2: str
    dist_infos: dict[str, bytes]
    r_descriptions: dict[str, bytes]
    layer_digests: dict[str, list[str]] = field(default_factory=dict)
    big_layer: str = ""


def bump_status(status: str) -> tuple[str, str, str]:
    """This machine's status with one package removed and another upgraded: (text, removed, upgraded)."""
    paragraphs = status.strip("\n").split("\n\n")
    removed = re.search(r"^Package: (.+)$", paragraphs[1], re.M)
    upgraded = re.search(r"^Package: (.+)$", paragraphs[2], re.M)
    assert removed and upgraded
    paragraphs[2] = re.sub(r"^Version: (.+)$", r"Version: 99:\1", paragraphs[2], count=1, flags=re.M)
    del paragraphs[1]
    return "\n\n".join(paragraphs) + "\n", removed.group(1), upgraded.group(1)


def build_and_push(pusher: Pusher, host: str, site: Path, r_root: Path) -> PackageImages:
    status_v1 = Path("/var/lib/dpkg/status").read_text()
    status_v2, _, _ = bump_status(status_v1)
    dist_infos = {
        f"{SITE}/{path.parent.name}/METADATA": path.read_bytes() for path in sorted(site.glob("*.dist-info/METADATA"))
    }
    r_descriptions = {
        f"{R_LIB}/{path.parent.name}/DESCRIPTION": path.read_bytes()
        for path in sorted((r_root / R_LIB).glob("*/DESCRIPTION"))
    }
    base = b.build_layer(
        [b.file("var/lib/dpkg/status", status_v1), b.file("etc/passwd", PASSWD_V1), b.directory("tmp")],
        "gzip",
        member_prefix="./",  # as debootstrap rootfs tars name members
    )
    stack = b.build_layer(
        [
            b.file("opt/conda/conda-meta/python-3.11.8-h0_0.json", conda_record("python", "3.11.8")),
            b.file("opt/conda/conda-meta/numpy-1.26.4-h0_0.json", conda_record("numpy", "1.26.4")),
            b.file("opt/conda/conda-meta/history", "==> 2024 <==\n"),
            b.file("opt/conda/envs/r-env/conda-meta/r-base-4.3.3-h0_0.json", conda_record("r-base", "4.3.3")),
            *(b.file(path, data) for path, data in dist_infos.items()),
            *(b.file(path, data) for path, data in r_descriptions.items()),
            b.file(f"{LAB}/jupyterlab-plotly/package.json", labext("jupyterlab-plotly", "5.18.0")),
            b.file(
                f"{LAB}/@jupyter-widgets/jupyterlab-manager/package.json",
                labext("@jupyter-widgets/jupyterlab-manager", "5.0.9"),
            ),
            b.file(f"{LAB}/jupyterlab-plotly/static/package.json", labext("not-an-extension", "0")),
        ],
        "zstd",
    )
    first_dist_info = next(iter(dist_infos)).rsplit("/", 1)[0]
    upgrade = b.build_layer(
        [
            b.file("var/lib/dpkg/status", status_v2),
            b.whiteout(first_dist_info),
            b.file("opt/conda/conda-meta/numpy-2.0.0-h0_0.json", conda_record("numpy", "2.0.0")),
            b.whiteout("opt/conda/conda-meta/numpy-1.26.4-h0_0.json"),
            b.file("opt/conda/conda-meta/broken-1.0-h0_0.json", b'{"name": "broken", '),
            b.opaque(LAB),
            b.file(
                f"{LAB}/@jupyter-widgets/jupyterlab-manager/package.json",
                labext("@jupyter-widgets/jupyterlab-manager", "5.0.11"),
            ),
            b.symlink("opt/conda/envs", "/srv/envs"),
            b.file("usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA", "Name: six\nVersion: 1.16.0\n"),
            b.hardlink(
                "opt/venv/lib/python3.11/site-packages/six-1.16.0.dist-info/METADATA",
                "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
            ),
        ],
        "gzip",
    )
    plain = b.build_layer(
        [
            b.file("etc/passwd", PASSWD_V2),
            b.file("usr/lib/python3/dist-packages/oldstyle-0.9.egg-info", "Name: oldstyle\nVersion: 0.9\n"),
        ],
        "none",
    )
    v1 = b.build_image([base, stack])
    v2 = b.build_image([upgrade, plain], base=v1)
    big_data = b.build_layer(
        [b.file("opt/blob.bin", os.urandom(3 * 1024 * 1024)), b.file("var/lib/dpkg/status", status_v2)], "gzip"
    )
    big = b.build_image([big_data], base=v1)
    pusher.push("pkgtest/image", v1, ["v1"])
    pusher.push("pkgtest/image", v2, ["v2"])
    pusher.push("pkgtest/big", big, ["v1"])
    return PackageImages(
        host,
        f"{host}/pkgtest/image:v1",
        f"{host}/pkgtest/image:v2",
        f"{host}/pkgtest/big:v1",
        status_v1,
        status_v2,
        dist_infos,
        r_descriptions,
        {"v1": [layer.digest for layer in v1.layers], "v2": [layer.digest for layer in v2.layers]},
        big_data.digest,
    )
