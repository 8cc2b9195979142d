"""Hostile layers: bombs stop at a cap with bounded memory; odd tar entries are never written or followed."""

from __future__ import annotations

import json
import sqlite3
import tarfile
import uuid
from pathlib import Path

import pytest

from nbcatalog import ocibuild as b
from nbcatalog.packages import files as package_files
from nbcatalog.packages.image import image_files
from nbcatalog.refs import parse_reference
from nbcatalog.session import Session, SessionOptions
from tests.cli.run import run_cli
from tests.reliability.hostile import (
    end_of_archive,
    gzip_bomb,
    gzip_parts,
    layer_from_blob,
    member,
    read_in_child,
    status_record,
    tar_gz,
    zstd_bomb,
)
from tests.support.registry import Pusher, RegistryServer

GIB = 1 << 30
#: A bomb must be refused after about a GiB of inflation: seconds, not minutes.
BOMB_SECONDS = 15
#: Peak RSS growth allowed while walking any hostile layer (a bomb used to take 1 GiB per GiB).
RSS_BUDGET_MIB = 100


@pytest.mark.parametrize("codec", ["gzip", "zstd"])
def test_decompression_bomb_stops_at_the_cap_with_bounded_memory(codec: str, tmp_path: Path) -> None:
    header = member("data/zeros.bin", size=8 * GIB)
    blob = gzip_bomb(header, 8 * 1024) if codec == "gzip" else zstd_bomb(header, 8)
    assert len(blob) < 10 * 1024 * 1024  # ~8 MiB (gzip) or ~300 KiB (zstd) that claim 8 GiB
    outcome = read_in_child(blob, tmp_path)
    assert outcome["error"] is not None and outcome["error"].startswith("SizeLimitError")
    assert "decompression bomb" in outcome["error"]
    assert outcome["seconds"] < BOMB_SECONDS
    assert outcome["rss_growth_mib"] < RSS_BUDGET_MIB, outcome


def test_bomb_after_the_end_of_the_archive_is_stopped_too(tmp_path: Path) -> None:
    tar = member("var/lib/dpkg/status", status_record("curl")) + end_of_archive()
    outcome = read_in_child(gzip_bomb(tar, 4 * 1024), tmp_path)
    assert "decompression bomb" in (outcome["error"] or "")
    assert outcome["rss_growth_mib"] < RSS_BUDGET_MIB


def test_huge_pax_header_is_skipped_not_buffered(tmp_path: Path) -> None:
    """A pax header claiming 512 MiB used to be collected into memory whole."""
    header = member("././@PaxHeader", kind=tarfile.XHDTYPE, size=512 << 20)
    tail = member("var/lib/dpkg/status", status_record("after-pax")) + end_of_archive()
    outcome = read_in_child(gzip_bomb(header, 512, tail), tmp_path)
    assert outcome["error"] is None, outcome
    assert outcome["packages"] == ["after-pax"]
    assert outcome["rss_growth_mib"] < RSS_BUDGET_MIB, outcome


def test_oversized_package_files_are_skipped_unread(tmp_path: Path) -> None:
    metadata = "usr/local/lib/python3.11/site-packages/huge-1.0.dist-info/METADATA"
    blob = gzip_parts(
        [(member(metadata, size=20 << 20), 20), (member("var/lib/dpkg/status", size=70 << 20), 70)],
        tail=member("usr/lib/R/site-library/ok/DESCRIPTION", b"Package: ok\nVersion: 1.2\n") + end_of_archive(),
        fill=b"Package: x\nVersion: 1\n\n".ljust(1 << 20, b"x"),
    )
    outcome = read_in_child(blob, tmp_path)
    assert outcome["error"] is None, outcome
    assert outcome["packages"] == ["ok"]
    assert f"/{metadata}: too large to read, skipped" in outcome["warnings"]
    assert "/var/lib/dpkg/status: too large to read, skipped" in outcome["warnings"]
    assert outcome["rss_growth_mib"] < RSS_BUDGET_MIB, outcome


def test_size_field_past_the_data_is_a_truncation_error(tmp_path: Path) -> None:
    blob = tar_gz(member("var/lib/dpkg/status", status_record("liar"), size=1 << 60))
    outcome = read_in_child(blob, tmp_path)
    assert outcome["error"] is not None and "truncated" in outcome["error"]


def _lower_layer() -> b.Layer:
    return b.build_layer(
        [
            b.file("var/lib/dpkg/status", status_record("base-files", "12.4")),
            b.file("opt/conda/conda-meta/numpy-1.26.4-h0_0.json", json.dumps({"name": "numpy", "version": "1.26.4"})),
            b.file("usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA", "Name: six\nVersion: 1.16.0\n"),
            b.file("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"),
        ]
    )


def _hostile_layer(escape: str) -> b.Layer:
    """Every entry here would hurt a reader that wrote layers to disk or followed links."""
    tar = b"".join(
        [
            member("/var/lib/dpkg/status", status_record("absolute-path", "2.0")),
            member(f"../../../../../../tmp/{escape}", b"written outside"),
            member(f"var/lib/dpkg/../../../../../../../tmp/{escape}-2", b"written outside"),
            member("dev/evil", kind=tarfile.CHRTYPE),
            member("var/lib/dpkg/status.d/evil", kind=tarfile.BLKTYPE),
            member("var/lib/dpkg/status.d/fifo", kind=tarfile.FIFOTYPE),
            member("opt/conda/conda-meta", kind=tarfile.SYMTYPE, link="conda-meta"),
            member(
                "usr/lib/python3/dist-packages", kind=tarfile.SYMTYPE, link="../../../usr/lib/python3/dist-packages"
            ),
            member("etc/passwd", kind=tarfile.SYMTYPE, link="/etc/shadow"),
            member(
                "usr/local/lib/python3.11/site-packages/evil-1.dist-info/METADATA",
                kind=tarfile.LNKTYPE,
                link="/etc/passwd",
            ),
            end_of_archive(),
        ]
    )
    return b.layer_from_tar(tar)


@pytest.fixture(scope="module")
def hostile_ref(pusher: Pusher, registry: RegistryServer) -> tuple[str, str]:
    escape = f"nbcatalog-escape-{uuid.uuid4().hex}"
    image = b.build_image([_lower_layer(), _hostile_layer(escape)])
    pusher.push("reliability/hostile", image, ["v1"])
    return f"{registry.host}/reliability/hostile:v1", escape


def test_hostile_entries_are_read_as_names_never_written_or_followed(
    capsys: pytest.CaptureFixture[str], hostile_ref: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref, escape = hostile_ref
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    result = run_cli(capsys, "packages", ref, "--json", "--cache-dir", str(tmp_path / "cache"))
    assert result.code == 0, result.err
    doc = result.json()
    names = {(p["ecosystem"], p["name"]) for p in doc["packages"]}
    # the absolute path is the image's own /var/lib/dpkg/status (as Docker reads it); the symlinks
    # that replaced conda-meta and dist-packages hide what was below them and lead nowhere
    assert names == {("apt", "absolute-path")}
    assert any("hard link to a file that was not read" in w for w in doc["warnings"])
    assert list(work.iterdir()) == []
    assert not list(Path("/tmp").glob(f"{escape}*"))
    assert not list(tmp_path.rglob(f"{escape}*"))


async def test_symlinked_passwd_is_not_followed_to_the_host(hostile_ref: tuple[str, str]) -> None:
    ref, _ = hostile_ref
    async with Session(SessionOptions(cache_dir=None)) as session:
        found = await image_files(session, parse_reference(ref), ["/etc/passwd", "/etc/shadow"])
    assert found == {}


@pytest.mark.parametrize("codec", ["gzip", "zstd"])
def test_bomb_pushed_to_a_registry_fails_the_command_and_caches_nothing(
    capsys: pytest.CaptureFixture[str], pusher: Pusher, registry: RegistryServer, tmp_path: Path, codec: str
) -> None:
    header = member("data/zeros.bin", size=4 * GIB)
    bomb = layer_from_blob(gzip_bomb(header, 4 * 1024) if codec == "gzip" else zstd_bomb(header, 4), codec)  # type: ignore[arg-type]
    honest = b.build_layer([b.file("var/lib/dpkg/status", status_record("honest"))])
    pusher.push("reliability/bomb", b.build_image([honest, bomb]), [codec])
    cache = tmp_path / "cache"
    result = run_cli(capsys, "packages", f"{registry.host}/reliability/bomb:{codec}", "--cache-dir", str(cache))
    assert result.code == 1  # what a registry sends fails the operation (exit 2 is for the user's own input)
    assert result.out == ""
    line = result.err.strip()
    assert "\n" not in line and "decompression bomb" in line and "reliability/bomb" in line
    with sqlite3.connect(cache / "cache.sqlite3") as db:
        cached = {digest for (digest,) in db.execute("SELECT digest FROM layers")}
    assert bomb.digest not in cached


def test_many_hard_links_to_a_big_file_are_not_parsed_again_and_again(tmp_path: Path) -> None:
    """300 links to a 10 MiB METADATA (48 KiB of gzip) took 5 s of parsing; 30,000 would take minutes."""
    site = "usr/local/lib/python3.11/site-packages"
    target = f"{site}/big-1.0.dist-info/METADATA"
    links = [member(f"{site}/link{i}-1.0.dist-info/METADATA", kind=tarfile.LNKTYPE, link=target) for i in range(3000)]
    metadata = b"Name: big\nVersion: 1.0\nSummary: " + b"x" * (10 << 20) + b"\n"
    outcome = read_in_child(tar_gz(member(target, metadata), *links), tmp_path)
    assert outcome["error"] is None, outcome
    assert outcome["seconds"] < 10
    assert 1 < outcome["packages"].count("big") <= 4  # the file and the links within the budget
    assert sum("too large to read" in warning for warning in outcome["warnings"]) >= 2990


@pytest.mark.parametrize(
    "path",
    ["opt/conda/conda-meta/deep-1.0-0.json", "opt/conda/share/jupyter/labextensions/deep/package.json"],
)
def test_deeply_nested_json_records_are_warnings(path: str) -> None:
    """A conda record or extension manifest of ``[[[[...]]]]`` used to abort the whole image's scan."""
    ecosystem, parsed = package_files.parse_file(path, b"[" * 100_000 + b"]" * 100_000)
    assert ecosystem is not None
    assert parsed.packages == [] and parsed.warnings and "not JSON" in parsed.warnings[0]
