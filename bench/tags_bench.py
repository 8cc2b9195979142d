"""Benchmark: `nbcatalog tags` against skopeo on the local registry, measured in the same run.

1. `nbcatalog tags REPO` vs `skopeo list-tags` on a repository with 2,000 tags, start-up included
   (target: within 5x of skopeo).
2. `nbcatalog tags --details` on 200 tags vs a loop of `skopeo inspect --no-tags` calls that fetch
   the same facts (digest, created, platform) per tag (target: >= 10x faster).
3. `nbcatalog tags --details` on 3,000 tags on loopback: wall (target <= 4 s), wall and CPU per tag
   (target <= 1.3 ms wall), and, from one in-process run of the same work, the peak concurrency the
   adaptive limiter allowed.

Run: python bench/tags_bench.py [--runs N]. The registry's storage is kept under bench/.work/ so the
2,000 manifest PUTs happen once.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.images import base_image, layered_image  # noqa: E402
from tests.support.registry import Pusher, run_registry  # noqa: E402

WORK = ROOT / "bench" / ".work" / "tags"
WIDE_TAGS = 3000


#: Children run as an installed tool would: with bytecode (pip compiles it; some shells here disable it).
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def console_script() -> str:
    """The ``nbcatalog`` pip installed for this interpreter, started the way a user's shell starts it.

    PATH may put a version manager's shim first (pyenv's is a bash script running ``pyenv exec``:
    tens of ms of bash per run on these machines). That is this machine's set-up, not the tool's
    cost, and skopeo is not started through one either.
    """
    beside = Path(sys.executable).with_name("nbcatalog")
    if beside.is_file():
        return str(beside)
    return shutil.which("nbcatalog") or sys.exit("nbcatalog is not installed (bash scripts/setup)")


def timed_once(cmd: list[str]) -> float:
    return timed_cpu(cmd)[0]


def timed_cpu(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and the child's CPU seconds (user + system) of one run (children run one at a time)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=CHILD_ENV)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{cmd} failed: {result.stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def timed_pair(ours: list[str], theirs: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Runs alternate, so both commands see the same load on a machine shared with other work."""
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        samples[0].append(timed_once(ours))
        samples[1].append(timed_once(theirs))
    return samples


def ms(samples: list[float]) -> str:
    """Median, and the range, in ms: the machine is shared, so one figure alone says too little."""
    return f"{statistics.median(samples) * 1000:7.1f} ms ({min(samples) * 1000:.0f}-{max(samples) * 1000:.0f})"


def ensure_repo(pusher: Pusher, repo: str, count: int, marker: Path) -> None:
    if marker.exists():
        return
    base = base_image()
    artifacts = [layered_image(base, f"{n}.0.0") for n in range(4)]
    tags = [f"v{i // 100}.{(i // 10) % 10}.{i % 10}" for i in range(count)]
    for artifact in artifacts:
        pusher.push(repo, artifact)
    for position, artifact in enumerate(artifacts):
        pusher.tag_many(repo, artifact, tags[position::4], workers=8)
    marker.touch()


def peak_concurrency(repo: str) -> tuple[int | None, float]:
    """One in-process ``tag_details`` of ``repo``: the peak concurrency its host was allowed, and the wall."""
    from nbcatalog.refs import parse_repository
    from nbcatalog.session import Session, SessionOptions

    async def run() -> tuple[int | None, float]:
        async with Session(SessionOptions(cache_dir=None)) as session:
            ref = parse_repository(repo)
            tags = await session.list_tags(ref)
            started = time.perf_counter()
            details = await session.tag_details(ref, tags)
            wall = time.perf_counter() - started
            if any(detail.error for detail in details):
                sys.exit(f"tag details failed: {next(d.error for d in details if d.error)}")
            peaks = getattr(session, "concurrency_peaks", None)
            return (max(peaks.values()) if peaks else None), wall

    return asyncio.run(run())


def wide_details(nbcatalog: str, repo: str, runs: int, count: int) -> None:
    """``tags --details`` on ``count`` tags: wall, wall and CPU per tag, peak concurrency, by the targets."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = timed_cpu([nbcatalog, "tags", repo, "--details", "--no-cache"])
        walls.append(wall)
        cpus.append(cpu)
    peak, _ = peak_concurrency(repo)
    per_tag = [w / count * 1000 for w in walls]
    cpu_tag = [c / count * 1000 for c in cpus]
    print(
        f"tags --details, {count:,}: wall {ms(walls)} (target <= 4000 ms)\n"
        f"    wall per tag {statistics.median(per_tag):.2f} ms ({min(per_tag):.2f}-{max(per_tag):.2f};"
        " target <= 1.3 ms)"
        f"   CPU per tag {statistics.median(cpu_tag):.2f} ms ({min(cpu_tag):.2f}-{max(cpu_tag):.2f})"
        f"   peak concurrency {peak if peak is not None else 'n/a (fixed)'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--wide-only", action="store_true", help="only the 3,000-tag --details figure")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    compileall.compile_dir(str(ROOT / "nbcatalog"), quiet=1)
    nbcatalog = console_script()
    print(f"nbcatalog: {nbcatalog}")
    with run_registry(WORK) as server, Pusher(server.url) as pusher:
        ensure_repo(pusher, "bench/many", 2000, WORK / "many.done")
        ensure_repo(pusher, "bench/details", 200, WORK / "details.done")
        ensure_repo(pusher, "bench/wide", WIDE_TAGS, WORK / "wide.done")
        many, details = f"{server.host}/bench/many", f"{server.host}/bench/details"
        if args.wide_only:
            wide_details(nbcatalog, f"{server.host}/bench/wide", max(3, args.runs), WIDE_TAGS)
            return

        ours, theirs = timed_pair(
            [nbcatalog, "tags", many, "--no-cache"],
            ["skopeo", "list-tags", "--tls-verify=false", f"docker://{many}"],
            args.runs,
        )
        ratio = statistics.median(ours) / statistics.median(theirs)
        print(
            f"tags, 2,000 tags:      nbcatalog {ms(ours)}   skopeo list-tags {ms(theirs)}"
            f"   ratio {ratio:5.2f}x (target <= 5x)"
        )

        detail_runs = max(2, args.runs // 3)
        command = [nbcatalog, "tags", details, "--details", "--no-cache"]
        ours_details = [timed_once(command) for _ in range(detail_runs // 2)]
        tags = [f"v{i // 100}.{(i // 10) % 10}.{i % 10}" for i in range(200)]
        started = time.perf_counter()
        for tag in tags:
            subprocess.run(
                ["skopeo", "inspect", "--no-tags", "--tls-verify=false", f"docker://{details}:{tag}"],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        loop = time.perf_counter() - started
        ours_details += [timed_once(command) for _ in range(detail_runs - detail_runs // 2)]
        print(
            f"tags --details, 200:   nbcatalog {ms(ours_details)}   skopeo inspect loop {loop * 1000:7.1f} ms"
            f"   speed-up {loop / statistics.median(ours_details):5.1f}x (target >= 10x)"
        )
        wide_details(nbcatalog, f"{server.host}/bench/wide", max(3, args.runs // 2), WIDE_TAGS)


if __name__ == "__main__":
    main()
