"""Benchmark: lineage of a 30-image catalog whose 13 parent repositories have 200 tags each.

Two families like the real ones (Kubeflow's example-notebook-servers with ``vX.Y.Z`` tags and
Docker Stacks with date tags), every parent version a distinct build on the same version of its own
parent; most entries sit on the newest parent version, a few on older ones (stale bases).

Measured, in one process against the real local registry:
* cold: a fresh session and an empty SQLite cache;
* warm: a fresh session and chain store over the SQLite cache the cold run filled (as the next
  ``nbcatalog lineage`` process sees it): a tag then costs one HEAD;
* exhaustive: every tag of every catalog repository tried for every entry (each fetched once);
* naive count: every tag of every parent repository resolved (manifest + config GETs), no laziness.

Run: python bench/lineage_bench.py [--runs N]. The registry storage is kept under bench/.work/ so the
~2,600 image pushes happen once (about a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nbcatalog import ocibuild as b  # noqa: E402
from nbcatalog.cache import Cache  # noqa: E402
from nbcatalog.catalog import CatalogImage  # noqa: E402
from nbcatalog.lineage import ChainStore, LineageRun, catalog_lineage  # noqa: E402
from nbcatalog.session import Session, SessionOptions  # noqa: E402
from tests.support.images import base_image  # noqa: E402
from tests.support.registry import Pusher, run_registry  # noqa: E402

WORK = ROOT / "bench" / ".work" / "lineage"
VERSIONS = 199  # + ``latest`` = 200 tags per parent repository
NEWEST = VERSIONS - 1

#: repository -> parent repository (None: built on the OS image outside the catalog)
TREE: dict[str, str | None] = {
    "kf/base": None,
    "kf/jupyter": "kf/base",
    "kf/codeserver": "kf/base",
    "kf/rstudio": "kf/base",
    "kf/jupyter-scipy": "kf/jupyter",
    "kf/jupyter-pytorch": "kf/jupyter",
    "kf/jupyter-pytorch-cuda": "kf/jupyter",
    "kf/jupyter-tensorflow": "kf/jupyter",
    "kf/jupyter-tensorflow-cuda": "kf/jupyter",
    "kf/jupyter-pytorch-full": "kf/jupyter-pytorch",
    "kf/jupyter-pytorch-cuda-full": "kf/jupyter-pytorch-cuda",
    "kf/jupyter-tensorflow-full": "kf/jupyter-tensorflow",
    "kf/jupyter-tensorflow-cuda-full": "kf/jupyter-tensorflow-cuda",
    "kf/codeserver-python": "kf/codeserver",
    "kf/rstudio-tidyverse": "kf/rstudio",
    "ds/docker-stacks-foundation": None,
    "ds/base-notebook": "ds/docker-stacks-foundation",
    "ds/minimal-notebook": "ds/base-notebook",
    "ds/scipy-notebook": "ds/minimal-notebook",
    "ds/r-notebook": "ds/minimal-notebook",
    "ds/julia-notebook": "ds/minimal-notebook",
    "ds/pyspark-notebook": "ds/scipy-notebook",
    "ds/all-spark-notebook": "ds/pyspark-notebook",
    "ds/pytorch-notebook": "ds/scipy-notebook",
    "ds/tensorflow-notebook": "ds/scipy-notebook",
    "ds/datascience-notebook": "ds/scipy-notebook",
    "ds/pytorch-notebook-cuda12": "ds/scipy-notebook",
    "ds/tensorflow-notebook-cuda": "ds/scipy-notebook",
    "ds/jax-notebook": "ds/scipy-notebook",
    "ds/polars-notebook": "ds/scipy-notebook",
}
PARENTS = sorted({parent for parent in TREE.values() if parent})
#: entries built on an older parent version (stale bases): repository -> version
STALE = {"kf/jupyter-tensorflow-full": NEWEST - 9, "ds/r-notebook": NEWEST - 40, "kf/rstudio-tidyverse": 120}


def tag(repository: str, version: int) -> str:
    if repository.startswith("ds/"):
        return (datetime.date(2024, 1, 1) + datetime.timedelta(days=version)).isoformat()
    return f"v1.{version}.0"


class Builder:
    """Images built on demand, each (repository, version) once."""

    def __init__(self) -> None:
        self.os_image = base_image()
        self.images: dict[tuple[str, int], b.BuiltImage] = {}

    def image(self, repository: str, version: int) -> b.BuiltImage:
        key = (repository, version)
        if key not in self.images:
            parent = TREE[repository]
            base = self.image(parent, version) if parent else self.os_image
            layer = b.build_layer([b.file(f"opt/{repository}/VERSION", f"{version}\n")])
            env = {"NVIDIA_REQUIRE_CUDA": "cuda>=12.1"} if "cuda" in repository else None
            self.images[key] = b.build_image([layer], base=base, env=env)
        return self.images[key]


def catalog_entries() -> list[CatalogImage]:
    return [
        CatalogImage(
            name=repository.split("/")[1],
            image=f"{{host}}/bench/{repository}",
            tag=tag(repository, STALE.get(repository, NEWEST)),
            parent=parent.split("/")[1] if parent else None,
        )
        for repository, parent in TREE.items()
    ]


def ensure_pushed(pusher: Pusher) -> None:
    marker = WORK / "pushed.done"
    if marker.exists():
        return
    builder = Builder()
    jobs: list[tuple[str, b.BuiltImage, list[str]]] = []
    for repository in PARENTS:
        for version in range(VERSIONS):
            tags = [tag(repository, version)] + (["latest"] if version == NEWEST else [])
            jobs.append((repository, builder.image(repository, version), tags))
    for repository in TREE:
        if repository not in PARENTS:
            version = STALE.get(repository, NEWEST)
            jobs.append((repository, builder.image(repository, version), [tag(repository, version)]))
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda job: pusher.push(f"bench/{job[0]}", job[1], job[2]), jobs))
    print(f"pushed {len(jobs)} images in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    marker.touch()


async def measure(host: str, *, store: ChainStore, exhaustive: bool = False) -> tuple[float, LineageRun]:
    entries = [
        CatalogImage(name=e.name, image=e.image.format(host=host), tag=e.tag, parent=e.parent)
        for e in catalog_entries()
    ]
    started = time.perf_counter()
    async with Session(SessionOptions(cache_dir=None)) as session:
        run = await catalog_lineage(session, entries, store=store, exhaustive=exhaustive)
    return time.perf_counter() - started, run


def requests_line(run: LineageRun) -> str:
    r = run.requests
    manifests, blobs, heads = r.get("GET manifests", 0), r.get("GET blobs", 0), r.get("HEAD manifests", 0)
    return f"GET manifests {manifests:5d}  GET configs {blobs:5d}  HEAD {heads:4d}  tag lists {r.get('GET tags', 0)}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    with run_registry(WORK) as server, Pusher(server.url) as pusher:
        ensure_pushed(pusher)
        cold_times, warm_times = [], []
        for attempt in range(args.runs):
            cache_dir = WORK / f"cache-{attempt}"
            shutil.rmtree(cache_dir, ignore_errors=True)
            with Cache(cache_dir) as cache:
                seconds, cold = asyncio.run(measure(server.host, store=ChainStore(cache)))
            cold_times.append(seconds)
            with Cache(cache_dir) as cache:  # a new process would start like this: only SQLite is warm
                seconds, warm = asyncio.run(measure(server.host, store=ChainStore(cache)))
            warm_times.append(seconds)
            shutil.rmtree(cache_dir, ignore_errors=True)
        seconds_full, full = asyncio.run(measure(server.host, store=ChainStore(), exhaustive=True))
        stale = {
            e.name: e.base.tag if e.base else None for e in cold.entries if e.name in {r.split("/")[1] for r in STALE}
        }
        assert {e.name: e.to_json() for e in cold.entries} == {e.name: e.to_json() for e in full.entries}, (
            "lazy != full"
        )
        tags_total = len(PARENTS) * (VERSIONS + 1)
        print(f"catalog: {len(TREE)} images, {len(PARENTS)} parent repositories x {VERSIONS + 1} tags")
        for label, seconds, run in (
            ("cold", statistics.median(cold_times), cold),
            ("warm", statistics.median(warm_times), warm),
            ("exhaustive", seconds_full, full),
        ):
            print(f"{label:<11} {seconds * 1000:8.0f} ms  chains {run.chains_fetched:5d}  {requests_line(run)}")
        print(
            f"naive: every tag of every parent = {tags_total} tags -> {tags_total} manifest + {tags_total} config GETs"
        )
        print(f"stale bases found: {stale}")
        cli_cold, cli_warm = cli_times(server.host, args.runs)
        print(f"CLI, start-up included: cold {cli_cold * 1000:.0f} ms, warm {cli_warm * 1000:.0f} ms")


def cli_times(host: str, runs: int) -> tuple[float, float]:
    """``nbcatalog lineage`` as a user runs it: a new process, the SQLite cache cold, then warm."""
    nbcatalog = shutil.which("nbcatalog") or sys.exit("nbcatalog is not installed")
    catalog = WORK / "catalog.yaml"
    lines = ["images:"]
    for entry in catalog_entries():
        lines += [f"  - name: {entry.name}", f"    image: {entry.image.format(host=host)}", f'    tag: "{entry.tag}"']
        if entry.parent:
            lines.append(f"    parent: {entry.parent}")
    catalog.write_text("\n".join(lines) + "\n")
    cold: list[float] = []
    warm: list[float] = []
    for attempt in range(runs):
        cache_dir = WORK / f"cli-cache-{attempt}"
        shutil.rmtree(cache_dir, ignore_errors=True)
        command = [nbcatalog, "lineage", "--json", "--catalog", str(catalog), "--cache-dir", str(cache_dir)]
        for samples in (cold, warm):
            started = time.perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            samples.append(time.perf_counter() - started)
        shutil.rmtree(cache_dir, ignore_errors=True)
    return statistics.median(cold), statistics.median(warm)


if __name__ == "__main__":
    main()
