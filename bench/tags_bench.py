"""Benchmark: `nbcatalog tags` against skopeo on the local registry, measured in the same run.

1. `nbcatalog tags REPO` vs `skopeo list-tags` on a repository with 2,000 tags, start-up included
   (target: within 5x of skopeo).
2. `nbcatalog tags --details` on 200 tags vs a loop of `skopeo inspect --no-tags` calls that fetch
   the same facts (digest, created, platform) per tag (target: >= 10x faster).

Run: python bench/tags_bench.py [--runs N]. The registry's storage is kept under bench/.work/ so the
2,000 manifest PUTs happen once.
"""

from __future__ import annotations

import argparse
import compileall
import os
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
    started = time.perf_counter()
    result = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=CHILD_ENV)
    if result.returncode != 0:
        sys.exit(f"{cmd} failed: {result.stderr}")
    return time.perf_counter() - started


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
        pusher.tag_many(repo, artifact, tags[position::4])
    marker.touch()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    compileall.compile_dir(str(ROOT / "nbcatalog"), quiet=1)
    nbcatalog = console_script()
    print(f"nbcatalog: {nbcatalog}")
    with run_registry(WORK) as server, Pusher(server.url) as pusher:
        ensure_repo(pusher, "bench/many", 2000, WORK / "many.done")
        ensure_repo(pusher, "bench/details", 200, WORK / "details.done")
        many, details = f"{server.host}/bench/many", f"{server.host}/bench/details"

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


if __name__ == "__main__":
    main()
