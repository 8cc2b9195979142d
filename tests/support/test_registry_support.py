"""The harness itself: the registry serves what the pusher pushed, byte for byte, as skopeo sees it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml

from nbcatalog.oci import MANIFEST_ACCEPT
from nbcatalog.ocibuild import BuiltIndex
from tests.support.images import ManyTags, StandardImages, base_image, layered_image
from tests.support.proxy import PaginatingProxy
from tests.support.registry import Pusher, RegistryServer, run_registry


def skopeo(*args: str) -> str:
    return subprocess.run(["skopeo", *args], check=True, capture_output=True, text=True).stdout


def test_registry_listens_on_loopback_only(registry: RegistryServer) -> None:
    assert registry.host.startswith("127.0.0.1:")
    assert httpx.get(f"{registry.url}/v2/").status_code == 200
    assert registry.process.poll() is None


def test_pushed_manifests_served_unchanged(registry: RegistryServer, test_images: StandardImages) -> None:
    for image in (
        test_images.layered,
        test_images.zstd,
        test_images.docker,
        test_images.multiarch,
        test_images.docker_list,
    ):
        response = httpx.get(
            f"{registry.url}/v2/{image.repository}/manifests/{image.tag}", headers={"Accept": MANIFEST_ACCEPT}
        )
        assert response.status_code == 200, image.ref
        assert response.content == image.artifact.manifest
        assert response.headers["docker-content-digest"] == image.digest
        assert response.headers["content-type"] == image.artifact.media_type


def test_skopeo_agrees(test_images: StandardImages) -> None:
    layered = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{test_images.layered_ref}"))
    assert layered["Digest"] == test_images.layered.digest
    assert layered["Env"][-1] == "NB_USER=jovyan"
    arm = json.loads(
        skopeo(
            "inspect",
            "--tls-verify=false",
            "--override-arch",
            "arm64",
            f"docker://{test_images.multiarch_ref}",
        )
    )
    assert arm["Architecture"] == "arm64" and arm["Digest"] == test_images.multiarch.digest
    tags = json.loads(skopeo("list-tags", "--tls-verify=false", f"docker://{test_images.layered.repo_ref}"))
    assert sorted(tags["Tags"]) == ["v1.0.0", "v2.0.0"]


def test_push_skips_present_blobs_and_is_repeatable(pusher: Pusher, test_images: StandardImages) -> None:
    image = test_images.layered
    assert all(pusher.has_blob(image.repository, digest) for digest in image.artifact.blobs)
    assert pusher.push(image.repository, image.artifact, [image.tag]) == image.digest


def test_many_tags(registry: RegistryServer, many_tags: ManyTags) -> None:
    listed = httpx.get(f"{registry.url}/v2/{many_tags.repository}/tags/list").json()["tags"]
    assert len(many_tags.tags) == 1100
    assert sorted(listed) == sorted(many_tags.tags)


def test_docker_manifest_list_selects_by_platform(test_images: StandardImages) -> None:
    listed = test_images.docker_list
    for arch, child in (("amd64", 0), ("arm64", 1)):
        out = skopeo("inspect", "--tls-verify=false", "--override-arch", arch, "--raw", f"docker://{listed.ref}")
        assert json.loads(out)["mediaType"] == "application/vnd.docker.distribution.manifest.list.v2+json"
        config = json.loads(
            skopeo("inspect", "--tls-verify=false", "--override-arch", arch, "--config", f"docker://{listed.ref}")
        )
        assert isinstance(listed.artifact, BuiltIndex)
        assert config["architecture"] == arch
        assert config["rootfs"]["diff_ids"] == listed.artifact.images[child].diff_ids


def test_run_registry_leaves_nothing_running(tmp_path: Path) -> None:
    with run_registry(tmp_path) as server:
        assert httpx.get(f"{server.url}/v2/").status_code == 200
        config = yaml.safe_load(server.config_path.read_text()) if server.config_path else {}
        assert config["http"]["addr"] == server.host and "auth" not in config
    assert server.process.poll() is not None
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/v2/")


def test_push_through_the_proxy(paginating_proxy: PaginatingProxy, scratch_repo: str) -> None:
    image = layered_image(base_image(), "9.9.9")
    with Pusher(paginating_proxy.url) as through_proxy:
        assert through_proxy.push(scratch_repo, image, ["v9.9.9"]) == image.digest
    assert [method for method, _ in paginating_proxy.log].count("PUT") >= 4  # blobs and the manifest
    out = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{paginating_proxy.host}/{scratch_repo}:v9.9.9"))
    assert out["Digest"] == image.digest
