"""Benchmark: `nbcatalog audit` of 300 profiles over 60 repositories (50 tags each) in the local registry.

Measured against the same registry in the same run:
* audit, tags only: the whole `nbcatalog audit --tags-only --json` process (start-up, parsing the
  z2jh values file, listing each distinct repository once, concurrently; the rules);
* audit, with facts: the same plus each distinct image's manifest and config (CUDA, Kubeflow checks);
* the same tag resolution done by sequential `skopeo list-tags` calls, once per profile (what a
  shell loop over the profiles does) and once per distinct repository;
and the registry requests the audit made (from the session's counters, in-process).

Run: python bench/audit_bench.py [--runs N]. Registry storage stays under bench/.work/audit so the
3,000 tag pushes happen once (about a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nbcatalog.audit import NoFacts, audit, collect  # noqa: E402
from nbcatalog.profilefiles import read_profile_file  # noqa: E402
from nbcatalog.session import Session, SessionOptions  # noqa: E402
from tests.support.images import base_image, layered_image  # noqa: E402
from tests.support.registry import Pusher, run_registry  # noqa: E402

WORK = ROOT / "bench" / ".work" / "audit"
REPOS, TAGS, PROFILES = 60, 50, 300


def ensure_repos(pusher: Pusher) -> None:
    marker = WORK / "repos.done"
    if marker.exists():
        return
    base = base_image()
    for index in range(REPOS):
        artifact = layered_image(base, f"{index}.0.0")
        repo = f"bench/nb-{index:02d}"
        pusher.push(repo, artifact)
        pusher.tag_many(repo, artifact, [f"v1.{minor}.0" for minor in range(TAGS)])
    marker.touch()


def write_values(host: str, path: Path) -> list[str]:
    """300 profiles, each pinning repository i % 60 at an older tag (so every one is stale)."""
    lines = ["singleuser:", "  profileList:"]
    images = []
    for index in range(PROFILES):
        image = f"{host}/bench/nb-{index % REPOS:02d}:v1.{index % 40}.0"
        images.append(image)
        lines += [
            f"    - display_name: profile {index}",
            "      kubespawner_override:",
            f"        image: {image}",
            '        extra_resource_limits: {"example.com/none": "0"}',
        ]
    path.write_text("\n".join(lines) + "\n")
    return images


def timed(cmd: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        result = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if result.returncode not in (0, 1):
            sys.exit(f"{cmd} failed: {result.stderr}")
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


async def requests(values: Path, facts: bool) -> tuple[dict[str, int], int]:
    records = read_profile_file(values)
    async with Session(SessionOptions(cache_dir=None)) as session:
        view = await collect(session, records, fact_source=None if facts else NoFacts())
        stats = dict(session.request_stats)
    return stats, len([f for f in audit(records, view) if f.kind == "stale-tag"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    nbcatalog = shutil.which("nbcatalog") or sys.exit("nbcatalog is not installed (pip install -e .)")
    with run_registry(WORK / "registry") as server, Pusher(server.url) as pusher:
        ensure_repos(pusher)
        values = WORK / "values.yaml"
        images = write_values(server.host, values)
        common = ["audit", str(values), "--json", "--no-cache", "--catalog", str(WORK / "none.yaml")]
        tags_only = timed([nbcatalog, *common, "--tags-only"], args.runs)
        with_facts = timed([nbcatalog, *common], args.runs)
        started = time.perf_counter()
        for image in images:
            repo = image.rsplit(":", 1)[0]
            subprocess.run(["skopeo", "list-tags", "--tls-verify=false", f"docker://{repo}"], check=True,
                           stdout=subprocess.DEVNULL)  # fmt: skip
        per_profile = time.perf_counter() - started
        started = time.perf_counter()
        for repo in sorted({image.rsplit(":", 1)[0] for image in images}):
            subprocess.run(["skopeo", "list-tags", "--tls-verify=false", f"docker://{repo}"], check=True,
                           stdout=subprocess.DEVNULL)  # fmt: skip
        per_repo = time.perf_counter() - started
        stats_tags, stale = asyncio.run(requests(values, facts=False))
        stats_facts, _ = asyncio.run(requests(values, facts=True))
    print(f"audit of {PROFILES} profiles over {REPOS} repositories x {TAGS} tags ({stale} stale-tag findings)")
    print(f"  nbcatalog audit --tags-only   {tags_only * 1000:8.1f} ms   requests {stats_tags}")
    print(f"  nbcatalog audit (with facts)  {with_facts * 1000:8.1f} ms   requests {stats_facts}")
    print(f"  skopeo list-tags per profile  {per_profile * 1000:8.1f} ms   ({PROFILES} calls)")
    print(f"  skopeo list-tags per repo     {per_repo * 1000:8.1f} ms   ({REPOS} calls)")
    print(f"  speed-up vs per-profile skopeo: {per_profile / tags_only:5.1f}x tags only (target >= 10x), "
          f"{per_profile / with_facts:5.1f}x with facts; vs per-repo skopeo: {per_repo / tags_only:5.1f}x")  # fmt: skip


if __name__ == "__main__":
    main()
