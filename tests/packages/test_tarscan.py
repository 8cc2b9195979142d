"""The tar scanner against archives written by tarfile (ustar, GNU, pax) and nbcatalog.ocibuild."""

from __future__ import annotations

import gzip
import io
import random
import tarfile

import pytest
import zstandard

from nbcatalog import ocibuild as b
from nbcatalog.errors import RegistryError
from nbcatalog.packages.layer import LayerReader
from nbcatalog.packages.tarscan import TarScanner, normalise_member_name

LONG_DIR = "opt/conda/lib/python3.11/site-packages/" + "a_really_long_package_name_" * 5 + "-1.0.dist-info"


def _tar(fmt: int, members: list[tuple[str, bytes]], prefix: str = "") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as archive:
        for name, data in members:
            info = tarfile.TarInfo(prefix + name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _scan(tar: bytes, wanted: set[str], chunk: int | None = None) -> dict[str, bytes]:
    captured: dict[str, bytes] = {}
    scanner = TarScanner(lambda p: 1 << 20 if p in wanted else 0, captured.__setitem__)
    if chunk is None:
        scanner.feed(tar)
    else:
        for start in range(0, len(tar), chunk):
            scanner.feed(tar[start : start + chunk])
    scanner.close()
    return captured


DEEP_PATH = "usr/" + "deep/" * 25 + "wanted.txt"

MEMBERS = [
    ("etc/passwd", b"root:x:0:0::/root:/bin/sh\n"),
    ("usr/bin/big", bytes(range(256)) * 300),
    (f"{LONG_DIR}/METADATA", b"Name: x\nVersion: 1\n"),
    ("var/lib/dpkg/status", b"Package: a\n" * 50),
    ("empty", b""),
    (DEEP_PATH, b"split into ustar prefix and name"),
]
WANTED = {
    "etc/passwd",
    f"{LONG_DIR}/METADATA",
    "var/lib/dpkg/status",
    "empty",
    DEEP_PATH,
}


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT])
@pytest.mark.parametrize("prefix", ["", "./", "/"])
@pytest.mark.parametrize("chunk", [None, 1, 511, 513, 7919])
def test_formats_prefixes_and_chunkings_capture_exactly_the_wanted_files(
    fmt: int, prefix: str, chunk: int | None
) -> None:
    members = MEMBERS if fmt != tarfile.USTAR_FORMAT else [m for m in MEMBERS if LONG_DIR not in m[0]]
    tar = _tar(fmt, members, prefix)
    expected = {name: data for name, data in members if name in WANTED}
    assert _scan(tar, WANTED, chunk) == expected


def test_random_archives_match_tarfile() -> None:
    rng = random.Random(7)
    for _ in range(20):
        members = [
            (f"d{rng.randrange(5)}/f{i}-" + "x" * rng.randrange(0, 140), rng.randbytes(rng.randrange(0, 3000)))
            for i in range(rng.randrange(1, 30))
        ]
        tar = _tar(rng.choice([tarfile.GNU_FORMAT, tarfile.PAX_FORMAT]), members)
        wanted = {name for name, _ in members if rng.random() < 0.5}
        with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
            oracle = {m.name: archive.extractfile(m).read() for m in archive if m.name in wanted}  # type: ignore[union-attr]
        assert _scan(tar, wanted, rng.randrange(1, 5000)) == oracle


def test_whiteouts_opaque_dirs_symlinks_and_hardlinks_are_recorded() -> None:
    tar = b.build_tar(
        [
            b.file("var/lib/dpkg/status", "Package: a\n"),
            b.hardlink("var/lib/dpkg/status-old", "var/lib/dpkg/status"),
            b.hardlink("etc/group", "etc/not-captured"),
            b.whiteout("opt/conda/conda-meta/numpy-1.0-0.json"),
            b.opaque("usr/lib/python3/dist-packages"),
            b.symlink("usr/local/lib/python3.11/site-packages", "/opt/venv/lib"),
            b.symlink("usr/bin/python", "python3"),
        ],
        member_prefix="./",
    )
    captured: dict[str, bytes] = {}
    wanted = {"var/lib/dpkg/status", "var/lib/dpkg/status-old", "etc/group"}
    scanner = TarScanner(
        lambda p: 100 if p in wanted else 0,
        captured.__setitem__,
        keep_symlink=lambda p: p.endswith("site-packages"),
    )
    scanner.feed(tar)
    summary = scanner.close()
    assert captured == {"var/lib/dpkg/status": b"Package: a\n", "var/lib/dpkg/status-old": b"Package: a\n"}
    assert summary.whiteouts == ["opt/conda/conda-meta/numpy-1.0-0.json"]
    assert summary.opaque_dirs == ["usr/lib/python3/dist-packages"]
    assert summary.symlinks == {"usr/local/lib/python3.11/site-packages": "/opt/venv/lib"}
    assert summary.dangling_hardlinks == ["etc/group"]


def test_oversized_files_are_skipped_and_reported() -> None:
    tar = _tar(tarfile.PAX_FORMAT, [("etc/passwd", b"x" * 1000), ("etc/group", b"g\n")])
    captured: dict[str, bytes] = {}
    scanner = TarScanner(lambda p: 100 if p.startswith("etc/") else 0, captured.__setitem__)
    scanner.feed(tar)
    assert scanner.close().oversized == ["etc/passwd"]
    assert captured == {"etc/group": b"g\n"}


def test_truncated_archive_is_an_error() -> None:
    tar = _tar(tarfile.PAX_FORMAT, MEMBERS)
    scanner = TarScanner(lambda p: 0, lambda p, d: None, where="test layer")
    scanner.feed(tar[:2000])
    with pytest.raises(RegistryError, match="truncated"):
        scanner.close()


def test_corrupt_header_is_an_error() -> None:
    # A stream out of step shows as a header without the ustar magic and a wrong checksum.
    tar = bytearray(_tar(tarfile.PAX_FORMAT, MEMBERS))
    tar[257] ^= 0xFF
    scanner = TarScanner(lambda p: 0, lambda p, d: None)
    with pytest.raises(RegistryError, match="checksum"):
        scanner.feed(bytes(tar))


@pytest.mark.parametrize("codec", ["gzip", "zstd", "none", "gzip-multimember", "zstd-frames"])
def test_layer_reader_decompresses_every_codec(codec: str) -> None:
    tar = _tar(tarfile.PAX_FORMAT, MEMBERS)
    half = len(tar) // 2
    blob = {
        "gzip": lambda: gzip.compress(tar),
        "zstd": lambda: zstandard.ZstdCompressor().compress(tar),
        "none": lambda: tar,
        "gzip-multimember": lambda: gzip.compress(tar[:half]) + gzip.compress(tar[half:]),
        "zstd-frames": lambda: (
            zstandard.ZstdCompressor().compress(tar[:half]) + zstandard.ZstdCompressor().compress(tar[half:])
        ),
    }[codec]()
    reader: LayerReader[bytes] = LayerReader(lambda p: 1 << 20 if p in WANTED else 0, lambda p, d: d)
    for start in range(0, len(blob), 1000):
        reader.feed(blob[start : start + 1000])
    result = reader.finish()
    assert result.files == {name: data for name, data in MEMBERS if name in WANTED}
    assert result.uncompressed_bytes == len(tar)


def test_truncated_gzip_is_an_error() -> None:
    blob = gzip.compress(_tar(tarfile.PAX_FORMAT, MEMBERS))
    reader: LayerReader[bytes] = LayerReader(lambda p: 0, lambda p, d: d)
    reader.feed(blob[: len(blob) // 2])
    with pytest.raises(RegistryError):
        reader.finish()


@pytest.mark.parametrize(
    ("raw", "expected"), [("./usr/lib/", "usr/lib"), ("/etc/passwd", "etc/passwd"), ("./", ""), ("a", "a")]
)
def test_member_names_are_normalised(raw: str, expected: str) -> None:
    assert normalise_member_name(raw) == expected


def test_data_after_the_end_of_archive_marker_is_ignored() -> None:
    tar = _tar(tarfile.PAX_FORMAT, MEMBERS) + b"junk that some tools append" * 40
    assert _scan(tar, WANTED, 700) == {name: data for name, data in MEMBERS if name in WANTED}


@pytest.mark.parametrize("chunk", [None, 1, 512, 1000, 4096])
def test_gnu_long_names_before_whiteouts_dirs_links_and_wanted_files(chunk: int | None) -> None:
    """The scanner's fast path reads GNU long names inline: what follows one must be handled in full."""
    long_dir = "opt/conda/lib/python3.11/site-packages/" + "x" * 90
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:

        def add(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", link: str = "") -> None:
            info = tarfile.TarInfo(name)
            info.type, info.size, info.linkname = kind, len(data), link
            archive.addfile(info, io.BytesIO(data) if data else None)

        add(f"./{long_dir}/", tarfile.DIRTYPE)
        add(f"./{long_dir}/skipped.py", data=b"x" * 700)
        add(f"./{long_dir}/.wh.gone-1.0.dist-info")
        add(f"./{long_dir}/.wh..wh..opq")
        add(f"./{long_dir}/wanted-1.0.dist-info/METADATA", data=b"Name: wanted\n")
        add(f"./{long_dir}/linked.dist-info", tarfile.SYMTYPE, link="elsewhere")
        add(f"./{long_dir}/again/METADATA", tarfile.LNKTYPE, link=f"./{long_dir}/wanted-1.0.dist-info/METADATA")
        add("./short.py", data=b"y" * 10)
    tar = buffer.getvalue()
    captured: dict[str, bytes] = {}
    scanner = TarScanner(
        lambda p: 100 if p.endswith("METADATA") else 0,
        captured.__setitem__,
        keep_symlink=lambda p: p.endswith(".dist-info"),
    )
    for start in range(0, len(tar), chunk or len(tar)):
        scanner.feed(tar[start : start + (chunk or len(tar))])
    summary = scanner.close()
    assert captured == {
        f"{long_dir}/wanted-1.0.dist-info/METADATA": b"Name: wanted\n",
        f"{long_dir}/again/METADATA": b"Name: wanted\n",
    }
    assert summary.whiteouts == [f"{long_dir}/gone-1.0.dist-info"]
    assert summary.opaque_dirs == [long_dir]
    assert summary.symlinks == {f"{long_dir}/linked.dist-info": "elsewhere"}
    assert summary.members == 8
