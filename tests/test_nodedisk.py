"""Node disk: shared layers counted once by digest, GPU and CPU pools apart, nothing read but manifests."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbcatalog import ocibuild as b
from nbcatalog.catalog import load_catalog
from nbcatalog.nodedisk import node_disk
from nbcatalog.session import Session, SessionOptions
from tests.support.planimages import PlanImages, push_plan_images, write_catalog
from tests.support.registry import Pusher, RegistryServer


@pytest.fixture(scope="module")
def plan_images(registry: RegistryServer, pusher: Pusher) -> PlanImages:
    return push_plan_images(pusher, registry.host)


def _bytes(*images: b.BuiltImage) -> int:
    unique = {layer.digest: layer.size for image in images for layer in image.layers}
    return sum(unique.values())


async def test_shared_layers_count_once_and_pools_split_by_gpu(plan_images: PlanImages, tmp_path: Path) -> None:
    entries = {
        "app": ("plan/app", "v1.0.0"),
        "app-next": ("plan/app", "v1.1.0"),
        "cuda": ("plan/cuda", "v1.1.0"),  # gpu: auto, and its config says CUDA_VERSION
    }
    catalog = load_catalog(write_catalog(tmp_path / "catalog.yaml", plan_images, entries))
    async with Session(SessionOptions(cache_dir=None)) as session:
        disk = await node_disk(session, catalog)
        blob_reads = session.request_stats.get("GET blobs", 0)
    app, app_next = plan_images.image("plan/app", "v1.0.0"), plan_images.image("plan/app", "v1.1.0")
    cuda = plan_images.image("plan/cuda", "v1.1.0")
    assert app.layers[0].digest == cuda.layers[0].digest  # one base under all three
    assert disk.total_bytes == _bytes(app, app_next, cuda) < sum(_bytes(i) for i in (app, app_next, cuda))
    assert disk.layers == 4  # the base once, and each image's own layer
    assert (disk.gpu_images, disk.cpu_images) == (("cuda",), ("app", "app-next"))
    assert disk.gpu_bytes == _bytes(cuda)
    assert disk.cpu_bytes == _bytes(app, app_next)
    assert disk.errors == {} and disk.guessed == ()
    assert blob_reads == 3  # the three configs, no layer
    assert disk.to_json()["total_bytes"] == disk.total_bytes


async def test_explicit_gpu_wins_and_unreadable_images_are_listed(plan_images: PlanImages, tmp_path: Path) -> None:
    path = write_catalog(tmp_path / "catalog.yaml", plan_images, {"app": ("plan/app", "v1.0.0")})
    path.write_text(
        path.read_text().replace("    tag: v1.0.0\n", "    tag: v1.0.0\n    gpu: true\n")
        + "  - name: gone-cuda\n    image: 127.0.0.1:9/plan/gone-cuda\n    tag: v1.0.0\n"
    )
    catalog = load_catalog(path)
    async with Session(SessionOptions(cache_dir=None)) as session:
        disk = await node_disk(session, catalog)
    assert disk.gpu_images == ("app", "gone-cuda")  # gpu: true; and a name guess for the unreadable one
    assert disk.guessed == ("gone-cuda",) and set(disk.errors) == {"gone-cuda"}
    assert disk.gpu_bytes == disk.total_bytes == _bytes(plan_images.image("plan/app", "v1.0.0"))
    assert disk.cpu_bytes == 0
