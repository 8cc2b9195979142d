"""Benchmark: `nbcatalog plan` of a 12-image catalog in the local registry, cold and warm.

Each image has v1.0.0 and v1.1.0 on one shared base layer, with a ~4 MiB application layer that
differs between the two (a dpkg status and a pip dist-info inside, so the package read has work).
Measured against the same registry in the same run:
* plan, cold: `nbcatalog plan --json` with an empty cache (both tags of every image read in full);
* plan, warm: the same again (the layer cache answers: only manifests and configs are fetched);
* skopeo copy: `skopeo copy docker://… dir:` of both tags of every image, sequentially: the raw
  download a cold plan cannot avoid;
* skopeo inspect: `skopeo inspect --raw` of both tags' manifests: the least a warm plan must ask.

Run: python bench/plan_bench.py [--runs N]. Registry storage stays under bench/.work/plan.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nbcatalog import ocibuild as b  # noqa: E402
from tests.support.images import base_image  # noqa: E402
from tests.support.registry import Pusher, run_registry  # noqa: E402

WORK = ROOT / "bench" / ".work" / "plan"
IMAGES, PAYLOAD = 12, 4 * 1024 * 1024
CLI = [sys.executable, "-m", "nbcatalog.cli.main"]


def payload(seed: str) -> bytes:
    """Incompressible bytes (a hash chain), the same for the same seed: gzip cannot shrink them."""
    out = bytearray()
    block = hashlib.sha256(seed.encode()).digest()
    while len(out) < PAYLOAD:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:PAYLOAD])


def release(base: b.BuiltImage, index: int, version: str) -> b.BuiltImage:
    status = "".join(
        f"Package: pkg{n}\nStatus: install ok installed\nVersion: {version}-{n}\nArchitecture: amd64\n\n"
        for n in range(300)
    )
    meta = f"Metadata-Version: 2.1\nName: app{index}\nVersion: {version}\n"
    layer = b.build_layer(
        [
            b.file("var/lib/dpkg/status", status),
            b.file(f"opt/conda/lib/python3.11/site-packages/app{index}-{version}.dist-info/METADATA", meta),
            b.file(f"opt/app{index}/blob.bin", payload(f"{index}-{version}")),
        ],
        created_by=f"RUN install app{index} {version}",
    )
    return b.build_image([layer], base=base, created="2024-03-04T05:06:07Z", env={"APP": version})


def ensure_images(pusher: Pusher) -> None:
    marker = WORK / "images.done"
    if marker.exists():
        return
    base = base_image()
    for index in range(IMAGES):
        for version in ("1.0.0", "1.1.0"):
            pusher.push(f"bench/plan-{index:02d}", release(base, index, version), [f"v{version}"])
    marker.touch()


def timed(cmd: list[str], runs: int, before: object = None) -> float:
    samples = []
    for _ in range(runs):
        if callable(before):
            before()
        started = time.perf_counter()
        result = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if result.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed: {result.stderr}")
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def timed_all(cmds: list[list[str]], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        for cmd in cmds:
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    with run_registry(WORK / "registry") as server, Pusher(server.url) as pusher:
        ensure_images(pusher)
        host = server.host
        scratch = Path(tempfile.mkdtemp(prefix="nbcatalog-plan-bench-"))
        catalog = scratch / "catalog.yaml"
        lines = ["images:"]
        for index in range(IMAGES):
            lines += [f"  - name: app-{index:02d}", f"    image: {host}/bench/plan-{index:02d}", "    tag: v1.0.0"]
        catalog.write_text("\n".join(lines) + "\n")
        cache = scratch / "cache"
        plan = [*CLI, "--catalog", str(catalog), "--cache-dir", str(cache), "plan", "--json"]

        def empty_cache() -> None:
            shutil.rmtree(cache, ignore_errors=True)

        empty_cache()
        check = subprocess.run(plan, capture_output=True, text=True)
        document = json.loads(check.stdout)
        pulled = sum(image["pull_bytes"] or 0 for image in document["images"])
        errors = [image["error"] for image in document["images"] if image["error"]]
        if errors or pulled == 0:
            sys.exit(f"the plan did not read the images: {errors or 'nothing to pull'}")
        cold = timed(plan, args.runs, empty_cache)
        warm = timed(plan, args.runs)
        refs = [f"docker://{host}/bench/plan-{i:02d}:v{v}" for i in range(IMAGES) for v in ("1.0.0", "1.1.0")]
        tls = ["--src-tls-verify=false"]
        copies = []
        for n, ref in enumerate(refs):
            copies.append(["skopeo", "copy", "-q", *tls, ref, f"dir:{scratch / 'copy' / str(n)}"])
        for n in range(len(refs)):
            (scratch / "copy" / str(n)).mkdir(parents=True, exist_ok=True)
        copy = timed_all(copies, args.runs)
        inspect = timed_all([["skopeo", "inspect", "--raw", "--tls-verify=false", ref] for ref in refs], args.runs)
        shutil.rmtree(scratch, ignore_errors=True)
    size = IMAGES * 2 * PAYLOAD / 1024 / 1024
    print(f"catalog of {IMAGES} images, 2 tags each, ~{size:.0f} MiB of layers uncompressed, "
          f"{pulled / 1024 / 1024:.1f} MiB to pull; median of {args.runs} runs")  # fmt: skip
    print(f"plan, cold (empty cache)    {cold:6.2f} s")
    print(f"skopeo copy, both tags      {copy:6.2f} s   plan cold / skopeo copy   = {cold / copy:.2f}x")
    print(f"plan, warm (layer cache)    {warm:6.2f} s")
    print(f"skopeo inspect --raw, both  {inspect:6.2f} s   plan warm / skopeo inspect = {warm / inspect:.2f}x")


if __name__ == "__main__":
    main()
