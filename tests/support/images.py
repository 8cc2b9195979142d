"""The standard set of test images, built with ``nbcatalog.ocibuild`` and pushed once per session."""

from __future__ import annotations

from dataclasses import dataclass

from nbcatalog import ocibuild as b
from tests.support.registry import Pusher

PASSWD = "root:x:0:0:root:/root:/bin/bash\njovyan:x:1000:100::/home/jovyan:/bin/bash\n"


@dataclass(frozen=True)
class PushedImage:
    """One artifact at ``host/repository:tag``."""

    host: str
    repository: str
    tag: str
    artifact: b.Artifact

    @property
    def ref(self) -> str:
        return f"{self.host}/{self.repository}:{self.tag}"

    @property
    def digest(self) -> str:
        return self.artifact.manifest_digest

    @property
    def image(self) -> b.BuiltImage:
        """The artifact as a single-platform image (``TypeError`` for an index)."""
        if not isinstance(self.artifact, b.BuiltImage):
            raise TypeError(f"{self.ref} is an index, not an image")
        return self.artifact

    @property
    def digest_ref(self) -> str:
        return f"{self.host}/{self.repository}@{self.digest}"

    @property
    def repo_ref(self) -> str:
        return f"{self.host}/{self.repository}"


@dataclass(frozen=True)
class StandardImages:
    """What ``test_images`` pushed: layered (gzip), zstd, Docker schema 2, multi-arch with attestations."""

    host: str
    base: PushedImage
    layered: PushedImage
    layered_v2: PushedImage
    zstd: PushedImage
    docker: PushedImage
    multiarch: PushedImage
    #: A Docker manifest list (schema 2 children, amd64 + arm64/v8, no attestations), as older Hub images.
    docker_list: PushedImage

    @property
    def layered_ref(self) -> str:
        return self.layered.ref

    @property
    def zstd_ref(self) -> str:
        return self.zstd.ref

    @property
    def docker_ref(self) -> str:
        return self.docker.ref

    @property
    def multiarch_ref(self) -> str:
        return self.multiarch.ref


@dataclass(frozen=True)
class ManyTags:
    """A repository with ``len(tags)`` tags over a few manifests; ``tags`` in push (oldest-first) order."""

    host: str
    repository: str
    tags: tuple[str, ...]
    artifacts: tuple[b.BuiltImage, ...]

    @property
    def repo_ref(self) -> str:
        return f"{self.host}/{self.repository}"


def base_image(platform: str = "linux/amd64", compression: b.Compression = "gzip") -> b.BuiltImage:
    rootfs = b.build_layer(
        [
            b.file("etc/os-release", 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n'),
            b.file("etc/passwd", PASSWD),
            b.file("usr/bin/dash", b"\x7fELF-not-really", 0o755),
            b.symlink("bin/sh", "/usr/bin/dash"),
            b.directory("tmp", 0o1777),
        ],
        compression,
        created_by="/bin/sh -c #(nop) ADD file:rootfs in / ",
    )
    return b.build_image(
        [rootfs],
        platform=platform,
        created="2024-01-02T03:04:05Z",
        env={"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
        cmd=["bash"],
    )


def layered_image(base: b.BuiltImage, version: str, compression: b.Compression = "gzip") -> b.BuiltImage:
    """Two layers on ``base``, with ENV/LABEL/USER/EXPOSE steps (history with empty layers)."""
    packages = b.build_layer(
        [b.file("opt/app/VERSION", version + "\n"), b.hardlink("opt/app/VERSION.bak", "opt/app/VERSION")],
        compression,
        created_by=f"RUN /bin/sh -c install-app {version} # buildkit",
    )
    cleanup = b.build_layer(
        [b.whiteout("usr/bin/dash"), b.opaque("tmp"), b.file("home/jovyan/.keep", "", uid=1000, gid=100)],
        compression,
        created_by="RUN /bin/sh -c cleanup # buildkit",
    )
    return b.build_image(
        [packages, b.EmptyStep("WORKDIR /home/jovyan"), cleanup],
        base=base,
        created="2024-03-04T05:06:07Z",
        env={"APP_VERSION": version, "NB_USER": "jovyan"},
        labels={"org.opencontainers.image.version": version, "maintainer": "nbcatalog tests"},
        user="jovyan",
        exposed_ports=["8888"],
        cmd=["start-notebook.sh"],
        working_dir="/home/jovyan",
    )


def push_standard_images(pusher: Pusher, host: str) -> StandardImages:
    base = base_image()
    layered = layered_image(base, "1.0.0")
    layered_v2 = layered_image(base, "2.0.0")
    zstd = layered_image(base_image(compression="zstd"), "1.0.0", "zstd")
    docker_layer = b.build_layer([b.file("etc/docker-built", "yes\n")], docker=True)
    docker = b.build_image([docker_layer], docker=True, env={"FROM_DOCKER": "1"}, created="2023-06-01T00:00:00Z")
    multiarch = b.build_index(
        [
            layered_image(base_image("linux/amd64"), "3.0.0"),
            layered_image(base_image("linux/arm64/v8"), "3.0.0"),
        ],
        attestation=True,
    )
    docker_children = [
        b.build_image([docker_layer], docker=True, platform=platform, created="2023-06-01T00:00:00Z")
        for platform in ("linux/amd64", "linux/arm64/v8")
    ]
    docker_list = b.build_index(docker_children, attestation=False, docker=True)
    pushed = {
        "base": PushedImage(host, "test/base", "latest", base),
        "layered": PushedImage(host, "test/layered", "v1.0.0", layered),
        "layered_v2": PushedImage(host, "test/layered", "v2.0.0", layered_v2),
        "zstd": PushedImage(host, "test/zstd", "v1.0.0", zstd),
        "docker": PushedImage(host, "test/docker", "v1", docker),
        "multiarch": PushedImage(host, "test/multiarch", "v3.0.0", multiarch),
        "docker_list": PushedImage(host, "test/dockerlist", "v1", docker_list),
    }
    for image in pushed.values():
        pusher.push(image.repository, image.artifact, [image.tag])
    return StandardImages(host=host, **pushed)


def push_many_tags(pusher: Pusher, host: str, count: int = 1100, repository: str = "test/manytags") -> ManyTags:
    """``count`` tags (``v0.0.0`` ...) spread over four manifests; tags listed in push order."""
    base = base_image()
    artifacts = tuple(layered_image(base, f"{n}.0.0") for n in range(4))
    tags = tuple(f"v{i // 100}.{(i // 10) % 10}.{i % 10}" for i in range(count))
    for artifact in artifacts:
        pusher.push(repository, artifact)
    for position, artifact in enumerate(artifacts):
        pusher.tag_many(repository, artifact, tags[position::4])
    return ManyTags(host, repository, tags, artifacts)
