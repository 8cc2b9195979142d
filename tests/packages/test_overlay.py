"""Layers applied in order, checked against umoci (an independent OCI unpacker) on random stacks."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from nbcatalog import ocibuild as b
from nbcatalog.packages.image import image_files
from nbcatalog.packages.layer import LayerResult
from nbcatalog.packages.overlay import apply_layers
from nbcatalog.refs import parse_reference
from nbcatalog.session import Session, SessionOptions

# Directories are d*, files f*: a path never changes type, as in a real image build.
DIRS = ["d0", "d1", "d0/d2", "d0/d2/d3"]
FILES = [f"{d}/f{i}" for d in DIRS for i in range(3)] + ["f0"]


def _random_stack(rng: random.Random) -> list[list[b.FileEntry]]:
    layers: list[list[b.FileEntry]] = []
    for _ in range(rng.randrange(2, 6)):
        entries: list[b.FileEntry] = []
        touched: set[str] = set()
        if layers and rng.random() < 0.4:
            directory = rng.choice(DIRS)
            entries.append(b.opaque(directory))
            touched.add(directory)
        for path in rng.sample(FILES + DIRS, rng.randrange(1, 8)):
            if any(path == t or path.startswith(t + "/") or t.startswith(path + "/") for t in touched):
                continue
            touched.add(path)
            if path in FILES and rng.random() < 0.7:
                entries.append(b.file(path, f"{path} from layer {len(layers)}\n"))
            elif layers:
                entries.append(b.whiteout(path))
        layers.append(entries)
    return layers


def _umoci_view(layout: Path, bundle: Path) -> dict[str, bytes]:
    subprocess.run(
        ["umoci", "unpack", "--rootless", "--image", f"{layout}:t", str(bundle)], check=True, capture_output=True
    )
    rootfs = bundle / "rootfs"
    return {"/" + p: (rootfs / p).read_bytes() for p in FILES if (rootfs / p).is_file()}


@pytest.mark.parametrize("seed", range(30))
async def test_random_layer_stacks_match_umoci(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    stack = _random_stack(rng)
    codecs: list[b.Compression] = ["gzip", "none"]  # umoci 0.4 cannot read zstd layers
    image = b.build_image([b.build_layer(entries, rng.choice(codecs)) for entries in stack])
    b.write_layout(tmp_path / "layout", {"t": image})
    async with Session(SessionOptions(cache_dir=None)) as session:
        ours = await image_files(session, parse_reference(f"oci:{tmp_path / 'layout'}:t"), FILES)
    assert ours == _umoci_view(tmp_path / "layout", tmp_path / "bundle")


def test_later_files_replace_earlier_and_removals_cover_subtrees() -> None:
    lower: LayerResult[str] = LayerResult(files={"a/b/c": "1", "a/bc": "1", "a/b": "x", "z": "1"})
    upper: LayerResult[str] = LayerResult(files={"z": "2"}, removed=["a/b"])
    merged = apply_layers([lower, upper])
    assert merged == {"a/bc": (0, "1"), "z": (1, "2")}  # a/bc shares a prefix with a/b but survives
    opaque: LayerResult[str] = LayerResult(files={"a/new": "3"}, opaque_dirs=["a"])
    assert apply_layers([lower, opaque]) == {"a/new": (1, "3"), "z": (0, "1")}
