"""The builder makes artifacts real tools accept: umoci unpacks (verifying diff_ids), skopeo inspects."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest
import zstandard

from nbcatalog import ocibuild as b
from nbcatalog.oci import (
    DOCKER_LAYER_GZIP,
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_LAYER_GZIP,
    OCI_LAYER_ZSTD,
    ImageConfig,
    ImageIndex,
    ManifestBlob,
    Platform,
)
from tests.support.images import base_image, layered_image


def tar_members(tar_bytes: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as archive:
        return {member.name: member for member in archive.getmembers()}


def skopeo_json(*args: str) -> dict[str, object]:
    out = subprocess.run(["skopeo", *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def test_layer_members_kinds_and_digests() -> None:
    layer = b.build_layer(
        [
            b.file("etc/hosts", "127.0.0.1 localhost\n"),
            b.symlink("bin/sh", "dash"),
            b.hardlink("usr/bin/sh2", "usr/bin/dash"),
            b.file("usr/bin/dash", b"ELF", 0o755),
            b.whiteout("var/cache/old"),
            b.opaque("etc/apt"),
        ],
        "gzip",
    )
    tar_bytes = gzip.decompress(layer.blob)
    assert layer.diff_id == "sha256:" + hashlib.sha256(tar_bytes).hexdigest()
    assert layer.digest == "sha256:" + hashlib.sha256(layer.blob).hexdigest()
    assert layer.media_type == OCI_LAYER_GZIP
    members = tar_members(tar_bytes)
    assert members["etc"].isdir() and members["usr/bin"].isdir()
    assert members["bin/sh"].issym() and members["bin/sh"].linkname == "dash"
    assert members["usr/bin/sh2"].islnk() and members["usr/bin/sh2"].linkname == "usr/bin/dash"
    assert members["usr/bin/dash"].mode == 0o755 and members["usr/bin/dash"].mtime == b.FIXED_MTIME
    assert "var/cache/.wh.old" in members and "etc/apt/.wh..wh..opq" in members


def test_member_prefix_and_compressions_are_deterministic() -> None:
    entries = [b.file("etc/debian_version", "12.5\n")]
    prefixed = b.build_layer(entries, "none", member_prefix="./")
    assert "./etc/debian_version" in tar_members(prefixed.blob)
    zstd_layer = b.build_layer(entries, "zstd")
    assert zstd_layer.media_type == OCI_LAYER_ZSTD
    plain = b.build_layer(entries, "none")
    assert zstandard.ZstdDecompressor().decompress(zstd_layer.blob) == plain.blob
    assert zstd_layer.diff_id == plain.diff_id != prefixed.diff_id
    assert b.build_layer(entries, "gzip").digest == b.build_layer(entries, "gzip").digest
    assert b.build_layer(entries, "gzip", docker=True).media_type == DOCKER_LAYER_GZIP


def test_image_config_inherits_from_base() -> None:
    base = base_image()
    child = layered_image(base, "1.2.3")
    config = ImageConfig.parse(child.config, digest=child.config_digest)
    assert child.layers[: len(base.layers)] == base.layers
    assert list(config.diff_ids) == [layer.diff_id for layer in child.layers]
    assert config.env["PATH"].startswith("/usr/local/sbin") and config.env["APP_VERSION"] == "1.2.3"
    assert config.user == "jovyan"
    assert child.config_doc["config"]["ExposedPorts"] == {"8888/tcp": {}}
    layer_entries = [h for h in child.history if not h.get("empty_layer")]
    assert len(layer_entries) == len(child.layers)
    assert {
        "created": child.created,
        "created_by": "ENV APP_VERSION=1.2.3",
        "empty_layer": True,
    } in child.history
    assert any(h["created_by"] == "WORKDIR /home/jovyan" for h in child.history)


def test_index_with_attestations() -> None:
    amd = base_image("linux/amd64")
    arm = base_image("linux/arm64/v8")
    index = b.build_index([amd, arm], attestation=True)
    assert index.media_type == OCI_INDEX
    parsed = ImageIndex.parse(ManifestBlob(OCI_INDEX, index.digest, index.manifest))
    assert parsed.platforms() == ["linux/amd64", "linux/arm64/v8"]
    attestations = [d for d in parsed.manifests if d.is_attestation]
    assert [d.annotations["vnd.docker.reference.digest"] for d in attestations] == [amd.digest, arm.digest]
    selected = parsed.select(Platform("linux", "arm64"))
    assert selected is not None and selected.digest == arm.digest
    pushed_order = [digest for _, digest, _ in index.manifests]
    assert pushed_order[:2] == [amd.digest, arm.digest]


def test_layout_validates_with_umoci_and_skopeo(tmp_path: Path) -> None:
    base = base_image()
    child = layered_image(base, "1.0.0")
    layout_dir = tmp_path / "layout"
    b.write_layout(layout_dir, {"base": base, "v1": child})
    b.OciLayout(layout_dir).add(layered_image(base, "2.0.0"), "v2")  # extends an existing layout
    b.OciLayout(layout_dir).add(child, "v2")  # re-pointing a tag replaces it
    assert sorted(b.OciLayout(layout_dir).tags) == ["base", "v1", "v2"]
    bundle = tmp_path / "bundle"
    subprocess.run(
        ["umoci", "unpack", "--rootless", "--image", f"{layout_dir}:v1", str(bundle)],
        check=True,
        capture_output=True,
    )
    rootfs = bundle / "rootfs"
    assert (rootfs / "opt/app/VERSION").read_text() == "1.0.0\n"
    assert not (rootfs / "usr/bin/dash").exists()  # whited out by the child
    assert (rootfs / "bin/sh").is_symlink()
    inspected = skopeo_json("inspect", f"oci:{layout_dir}:v2")
    assert inspected["Digest"] == child.digest
    config = skopeo_json("inspect", "--config", f"oci:{layout_dir}:base")
    assert config["rootfs"] == {"type": "layers", "diff_ids": base.diff_ids}


def test_layout_with_zstd_and_index_inspects(tmp_path: Path) -> None:
    index = b.build_index([base_image("linux/amd64"), base_image("linux/arm64/v8", "zstd")])
    b.write_layout(tmp_path, {"multi": index})
    arm = skopeo_json("inspect", "--override-arch", "arm64", f"oci:{tmp_path}:multi")
    assert arm["Architecture"] == "arm64" and arm["Digest"] == index.digest
    assert arm["Layers"] == [layer.digest for layer in index.images[1].layers]


def test_docker_typed_image() -> None:
    image = b.build_image([b.build_layer([b.file("a", "b")], docker=True)], docker=True)
    assert image.media_type == DOCKER_MANIFEST
    manifest = json.loads(image.manifest)
    assert manifest["config"]["mediaType"] == "application/vnd.docker.container.image.v1+json"


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_layer_from_foreign_tar(compression: b.Compression) -> None:
    tar_bytes = b.build_tar([b.file("x", "y")], member_prefix="./")
    layer = b.layer_from_tar(tar_bytes, compression)
    assert layer.diff_id == "sha256:" + hashlib.sha256(tar_bytes).hexdigest()
    assert layer.compression == compression


def test_host_files_and_directories(tmp_path: Path) -> None:
    status = b.host_file("/var/lib/dpkg/status")
    assert status.path == "var/lib/dpkg/status" and b"Package: dpkg\n" in status.data
    tree = tmp_path / "rootfs"
    (tree / "etc").mkdir(parents=True)
    (tree / "etc/hostname").write_text("demo\n")
    (tree / "bin").symlink_to("usr/bin")
    layer = b.layer_from_tar(b.tar_directory(tree), "gzip")
    members = tar_members(gzip.decompress(layer.blob))
    assert set(members) == {".", "./bin", "./etc", "./etc/hostname"}
    assert members["./bin"].issym() and members["./etc/hostname"].size == 5
