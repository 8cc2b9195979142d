"""Images for the upgrade-plan tests: two releases of each repository on one shared base layer.

``plan/app`` (CPU, torch 1.x then 2.x), ``plan/cuda`` (CUDA 11.8.0 then 12.4.1, driver 450 then
525), ``plan/multi`` (an index of amd64 + arm64/v8 per release), ``plan/hostile`` (a package whose
name is Markdown and terminal mischief). Pushing again is harmless: the digests are the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from nbcatalog import ocibuild as b
from tests.support.images import PASSWD
from tests.support.registry import Pusher

SITE = "opt/conda/lib/python3.11/site-packages"
HOSTILE = "evil|pkg [click](http://e) <b>x</b> \x1b[31m"
CUDA_11 = {"CUDA_VERSION": "11.8.0", "NVIDIA_REQUIRE_CUDA": "cuda>=11.8 brand=tesla,driver>=450,driver<451"}
CUDA_12 = {"CUDA_VERSION": "12.4.1", "NVIDIA_REQUIRE_CUDA": "cuda>=12.4 brand=tesla,driver>=525,driver<526"}


def dist_info(name: str, version: str) -> b.FileEntry:
    folder = f"{re.sub(r'[^A-Za-z0-9.]+', '_', name)}-{version}.dist-info"  # the name is METADATA's
    return b.file(f"{SITE}/{folder}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


def plan_base(platform: str = "linux/amd64") -> b.BuiltImage:
    rootfs = b.build_layer(
        [b.file("etc/passwd", PASSWD), b.file("etc/os-release", f"ID=debian\nPLATFORM={platform}\n")],
        created_by="ADD rootfs /",
    )
    return b.build_image([rootfs], platform=platform, created="2024-01-01T00:00:00Z")


def release(
    base: b.BuiltImage, version: str, packages: dict[str, str], env: dict[str, str] | None = None
) -> b.BuiltImage:
    """``base`` plus one layer of pip packages (and a file naming ``version``), run as jovyan on 8888."""
    entries = [dist_info(name, value) for name, value in packages.items()]
    entries.append(b.file("opt/app/VERSION", f"{version} {base.platform}\n"))
    layer = b.build_layer(entries, created_by=f"RUN install {version}")
    created = "2024-02-01T00:00:00Z" if version.startswith("1.0") else "2024-05-01T00:00:00Z"
    return b.build_image([layer], base=base, created=created, env=env or {}, user="jovyan", exposed_ports=["8888"])


@dataclass(frozen=True)
class PlanImages:
    host: str
    #: repository -> tag -> artifact (an image, or for plan/multi an index)
    pushed: dict[str, dict[str, b.Artifact]]

    def ref(self, repository: str) -> str:
        return f"{self.host}/{repository}"

    def image(self, repository: str, tag: str) -> b.BuiltImage:
        artifact = self.pushed[repository][tag]
        assert isinstance(artifact, b.BuiltImage)
        return artifact


def push_plan_images(pusher: Pusher, host: str) -> PlanImages:
    base = plan_base()
    pushed: dict[str, dict[str, b.Artifact]] = {
        "plan/app": {
            "v1.0.0": release(base, "1.0.0", {"torch": "1.13.1", "jupyterlab": "4.1.0", "numpy": "1.26.4"}),
            "v1.1.0": release(base, "1.1.0", {"torch": "2.1.0", "jupyterlab": "4.2.5", "pandas": "2.2.2"}),
        },
        "plan/cuda": {
            "v1.0.0": release(base, "1.0.0", {"torch": "2.1.0+cu118"}, CUDA_11),
            "v1.1.0": release(base, "1.1.0", {"torch": "2.3.0+cu124"}, CUDA_12),
        },
        "plan/hostile": {
            "v1.0.0": release(base, "1.0.0", {"jupyterlab": "4.1.0"}),
            "v1.1.0": release(base, "1.1.0", {"jupyterlab": "4.1.0", HOSTILE: "1.0"}),
        },
        "plan/multi": {
            tag: b.build_index(
                [release(plan_base(p), version, {"jupyterlab": version}) for p in ("linux/amd64", "linux/arm64/v8")],
                attestation=True,
            )
            for tag, version in (("v1.0.0", "1.0.0"), ("v1.1.0", "1.1.0"))
        },
    }
    for repository, tags in pushed.items():
        for tag, artifact in tags.items():
            pusher.push(repository, artifact, [tag])
    return PlanImages(host, pushed)


def write_catalog(path: Path, images: PlanImages, entries: dict[str, tuple[str, str]], extra: str = "") -> Path:
    """A catalog of ``name: (repository, tag)`` entries on the test registry (loopback: plain HTTP)."""
    lines = [extra.rstrip("\n")] if extra else []
    lines.append("images:")
    for name, (repository, tag) in entries.items():
        lines += [f"  - name: {name}", f"    image: {images.ref(repository)}", f"    tag: {tag}"]
    path.write_text("\n".join(lines) + "\n")
    return path
