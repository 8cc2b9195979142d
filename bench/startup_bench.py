"""Benchmark: warm commands against start-up, measured in the same run, interleaved.

1. Warm ``nbcatalog packages --json IMAGE`` on an image with 2,000 apt and 300 pip packages (an OCI
   image layout, so no network: what is left is start-up, the cache read and the JSON) against
   ``nbcatalog --help`` (target: <= 3x).
2. ``nbcatalog tags REPO`` on a local-registry repository with 1,100 tags against the floor
   ``python -c "import httpx, asyncio"``, start-up included (target: <= 1.3x).

Each figure is given as wall time and as CPU time (user + system) of the child, median and range,
and as the ratio of medians with the range of the per-round ratios.

Run: python bench/startup_bench.py [--runs N] [--baseline DIR]. ``--baseline`` names a directory
holding another copy of the ``nbcatalog`` package (the tree before a change): its commands run in
the same rounds, so before and after see the same load. The layout, the registry's storage and the
cache are kept under bench/.work/startup/, so the 1,100 tag PUTs happen once.
"""

from __future__ import annotations

import argparse
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

from nbcatalog import ocibuild as b  # noqa: E402
from tests.support.images import push_many_tags  # noqa: E402
from tests.support.registry import Pusher, run_registry  # noqa: E402

WORK = ROOT / "bench" / ".work" / "startup"
SITE = "opt/conda/lib/python3.11/site-packages"
APT_PACKAGES = 2000
PIP_PACKAGES = 300
TAGS = 1100

#: Children run as an installed tool would: with bytecode, and with the bench's own cache.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {
    "NBCATALOG_CACHE_DIR": str(WORK / "cache")
}


def console_script() -> str:
    """The ``nbcatalog`` beside this interpreter (not a version manager's shim: see tags_bench)."""
    beside = Path(sys.executable).with_name("nbcatalog")
    if beside.is_file():
        return str(beside)
    return shutil.which("nbcatalog") or sys.exit("nbcatalog is not installed (bash scripts/setup)")


def dpkg_status(count: int) -> str:
    """``count`` installed-package records shaped like Debian's (description, depends, size)."""
    records = []
    for n in range(count):
        records.append(
            f"Package: lib-bench-{n:04d}\nStatus: install ok installed\nPriority: optional\nSection: libs\n"
            f"Installed-Size: {100 + n}\nMaintainer: Bench <bench@example.org>\nArchitecture: amd64\n"
            f"Source: bench-src-{n // 10}\nVersion: {n % 7}.{n % 13}.{n % 5}-{n % 3}+deb12u1\n"
            f"Depends: libc6 (>= 2.34), lib-bench-{(n + 1) % count:04d}\n"
            f"Description: benchmark package {n}\n a longer description line for package {n}\n"
        )
    return "\n".join(records)


def ensure_layout() -> str:
    """An image layout with one apt layer and one pip layer; its ``oci:`` reference."""
    layout = WORK / "layout"
    if not (layout / "index.json").exists():
        apt = b.build_layer([b.file("var/lib/dpkg/status", dpkg_status(APT_PACKAGES))], "gzip")
        pip = b.build_layer(
            [
                b.file(
                    f"{SITE}/bench_{n:03d}-{n % 9}.{n % 4}.dist-info/METADATA",
                    f"Metadata-Version: 2.1\nName: bench-{n:03d}\nVersion: {n % 9}.{n % 4}\nSummary: bench\n",
                )
                for n in range(PIP_PACKAGES)
            ],
            "zstd",
        )
        b.write_layout(layout, {"v1": b.build_image([apt, pip], created="2024-01-02T03:04:05Z")})
    return f"oci:{layout}:v1"


class Samples:
    """Wall time and CPU time (user + system) of each run of one command, in seconds.

    CPU time is the steadier figure on a shared machine: a neighbour's load stretches the wall
    time of a run, much less the CPU time it takes.
    """

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []


def timed_once(cmd: list[str], into: Samples | None = None, env: dict[str, str] | None = None) -> None:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env or CHILD_ENV)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(f"{cmd} failed: {result.stderr}")
    if into is not None:
        into.wall.append(wall)
        into.cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)


def timed_rounds(commands: list[tuple[list[str], dict[str, str]]], runs: int) -> list[Samples]:
    """Runs alternate, so every command sees the same load on a machine shared with other work."""
    samples = [Samples() for _ in commands]
    for _ in range(runs):
        for (cmd, env), into in zip(commands, samples, strict=True):
            timed_once(cmd, into, env)
    return samples


def ms(values: list[float]) -> str:
    """Median, and the range, in ms: the machine is shared, so one figure alone says too little."""
    return f"{statistics.median(values) * 1000:6.1f} ms ({min(values) * 1000:.0f}-{max(values) * 1000:.0f})"


def ratio(ours: list[float], floor: list[float]) -> str:
    """The ratio of medians, and the range of the per-pair ratios (each pair ran back to back)."""
    pairs = sorted(a / b for a, b in zip(ours, floor, strict=True))
    return f"{statistics.median(ours) / statistics.median(floor):5.2f}x (pairs {pairs[0]:.2f}-{pairs[-1]:.2f})"


def report(name: str, ours: Samples, floor_name: str, floor: Samples, target: float) -> None:
    print(f"  {name:<40} wall {ms(ours.wall)}   cpu {ms(ours.cpu)}")
    print(f"  {floor_name:<40} wall {ms(floor.wall)}   cpu {ms(floor.cpu)}")
    print(f"  {'ratio':<40} wall {ratio(ours.wall, floor.wall)}   cpu {ratio(ours.cpu, floor.cpu)}", end="")
    print(f"   target <= {target}x")


def count_packages(nbcatalog: str, ref: str) -> int:
    import json

    out = subprocess.run([nbcatalog, "packages", "--json", ref], capture_output=True, env=CHILD_ENV, check=True)
    return len(json.loads(out.stdout)["packages"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a directory holding another nbcatalog package (a copy from before a change): its commands "
        "run in the same rounds, through PYTHONPATH",
    )
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    compileall.compile_dir(str(ROOT / "nbcatalog"), quiet=1)
    nbcatalog = console_script()
    python = sys.executable
    print(f"nbcatalog: {nbcatalog}   runs: {args.runs}   load: {os.getloadavg()[0]:.2f}")

    trees = [("", CHILD_ENV)]
    if args.baseline:
        compileall.compile_dir(str(args.baseline), quiet=1)
        trees.append(("baseline ", CHILD_ENV | {"PYTHONPATH": str(args.baseline.resolve())}))
    floor_cmd = ([python, "-c", "import httpx, asyncio"], CHILD_ENV)

    image = ensure_layout()
    found = count_packages(nbcatalog, image)  # the cold scan: every later run is warm
    commands = [([nbcatalog, "packages", "--json", image], env) for _, env in trees]
    commands += [([nbcatalog, "--help"], env) for _, env in trees]
    samples = timed_rounds(commands, args.runs)
    print("warm packages --json vs --help")
    for index, (label, _) in enumerate(trees):
        report(
            f"{label}packages --json ({found} packages)",
            samples[index],
            f"{label}nbcatalog --help",
            samples[len(trees) + index],
            3,
        )

    with run_registry(WORK / "registry") as server, Pusher(server.url) as pusher:
        marker = WORK / "manytags.done"
        if not marker.exists():
            push_many_tags(pusher, server.host, TAGS, "bench/manytags")
            marker.touch()
        repo = f"{server.host}/bench/manytags"
        timed_once([nbcatalog, "tags", repo])  # the first run sets up what a user's later runs reuse
        commands = [([nbcatalog, "tags", repo], env) for _, env in trees]
        samples = timed_rounds([*commands, floor_cmd], args.runs)
    print("tags vs the interpreter + httpx + asyncio floor")
    for index, (label, _) in enumerate(trees):
        report(
            f"{label}nbcatalog tags ({TAGS} tags)",
            samples[index],
            'python -c "import httpx, asyncio"',
            samples[-1],
            1.3,
        )


if __name__ == "__main__":
    main()
