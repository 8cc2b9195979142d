"""Benchmark: `nbcatalog audit` of many image references over many repositories in the local registry.

For each size (references over repositories) it runs the whole `nbcatalog audit --json --no-cache`
process twice (--tags-only, and with image facts: each distinct image's manifest and config) and
reports wall time, peak RSS (getrusage in the audit process) and the most connections the registry
saw at once (a counting relay in front of it), checking every stale/missing finding as it goes.

Run: python bench/load_bench.py [--sizes 1000/100,5000/500,10000/1000]. Registry storage stays under
bench/.work/load so the repositories are pushed once (~1 min for 1,000).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.reliability.load import (  # noqa: E402
    ConnectionGauge,
    push_repositories,
    run_audit,
    write_profiles,
)
from tests.support.registry import Pusher, run_registry  # noqa: E402

WORK = ROOT / "bench" / ".work" / "load"
PREFIX = "bench-load"


def ensure_repositories(pusher: Pusher, host: str, count: int) -> list[str]:
    marker = WORK / f"repos-{count}.done"
    if marker.exists():
        return [f"{host}/{PREFIX}/repo-{n:04d}" for n in range(count)]
    repositories = push_repositories(pusher, host, PREFIX, count)
    marker.touch()
    return repositories


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000/100,5000/500,10000/1000", help="REFS/REPOS,...")
    options = parser.parse_args()
    sizes = [tuple(int(x) for x in size.split("/")) for size in options.sizes.split(",")]
    most_repos = max(repos for _, repos in sizes)
    WORK.mkdir(parents=True, exist_ok=True)
    print("| references | repositories | mode | seconds | peak RSS MiB | most connections |")
    print("|---:|---:|---|---:|---:|---:|")
    with run_registry(WORK / "registry") as server, Pusher(server.url) as pusher:
        gauge = ConnectionGauge(server.host)
        try:
            ensure_repositories(pusher, server.host, most_repos)
            for references, repos in sizes:
                names = [f"{gauge.host}/{PREFIX}/repo-{n:04d}" for n in range(repos)]
                with tempfile.TemporaryDirectory() as scratch:
                    workload = write_profiles(Path(scratch), names, references)
                    for mode in ("--tags-only", "with facts"):
                        gauge.peak = gauge.open
                        extra = ["--tags-only"] if mode == "--tags-only" else []
                        result = run_audit(workload.paths, "--no-cache", *extra)
                        kinds = Counter(f["kind"] for f in result["doc"]["findings"])
                        checked = {k: kinds[k] for k in workload.expected()}
                        if checked != workload.expected() or kinds["registry-error"]:
                            raise SystemExit(f"wrong findings at {references}/{repos}: {dict(kinds)}")
                        print(
                            f"| {len(workload.references)} | {repos} | {mode} | {result['seconds']:.2f} "
                            f"| {result['peak_rss_mib']:.0f} | {gauge.peak} |",
                            flush=True,
                        )
        finally:
            gauge.close()


if __name__ == "__main__":
    main()
