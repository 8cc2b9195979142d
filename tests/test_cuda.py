"""CUDA detection from each kind of evidence real images carry, and CPU images that must stay CPU."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from nbcatalog import ocibuild as b
from nbcatalog.cuda import CudaInfo, cuda_to_json, detect_cuda, image_cuda
from nbcatalog.refs import parse_reference
from nbcatalog.session import Session, SessionOptions
from tests.support.images import StandardImages, base_image
from tests.support.registry import Pusher, RegistryServer

NVIDIA_CUDA_121_REQUIRE = (
    "cuda>=12.1 brand=tesla,driver>=470,driver<471 brand=unknown,driver>=470,driver<471 "
    "brand=nvidia,driver>=470,driver<471 brand=tesla,driver>=525,driver<526"
)
DOCKER_STACKS_ENV = {"NVIDIA_VISIBLE_DEVICES": "all", "NVIDIA_DRIVER_CAPABILITIES": "compute,utility"}


@dataclass(frozen=True)
class Pkg:
    ecosystem: str
    name: str
    version: str


def test_nvidia_cuda_base_env_gives_full_version_and_min_driver() -> None:
    env = {
        "CUDA_VERSION": "12.1.1",
        "NV_CUDA_LIB_VERSION": "12.1.1-1",
        "NVIDIA_REQUIRE_CUDA": NVIDIA_CUDA_121_REQUIRE,
        **DOCKER_STACKS_ENV,
    }
    info = detect_cuda(env=env)
    assert info is not None
    assert info.version == "12.1.1"
    assert info.min_driver == "470"
    assert {e.key for e in info.evidence} >= {"CUDA_VERSION", "NV_CUDA_LIB_VERSION", "NVIDIA_REQUIRE_CUDA"}


def test_kubeflow_cuda_image_sets_only_require_cuda() -> None:
    env = {"NVIDIA_REQUIRE_CUDA": "cuda>=13.0", **DOCKER_STACKS_ENV, "PATH": "/usr/bin"}
    info = detect_cuda(env=env)
    assert info is not None
    assert info.version == "13.0"
    assert info.min_driver is None


def test_docker_stacks_cuda_tag_prefix_and_nvidia_vars() -> None:
    info = detect_cuda(env=DOCKER_STACKS_ENV, tag="cuda12-2024-05-27")
    assert info is not None
    assert info.version == "12"
    assert [e.source for e in info.evidence] == ["env", "tag"]


def test_docker_stacks_cuda_dash_prefix_has_no_version() -> None:
    info = detect_cuda(env={}, tag="cuda-latest")
    assert info is not None
    assert info.version is None
    assert cuda_to_json(info)["version"] == "unknown"  # type: ignore[index]


def test_nvidia_pair_alone_flags_but_one_variable_does_not() -> None:
    assert detect_cuda(env=DOCKER_STACKS_ENV) is not None
    assert detect_cuda(env={"NVIDIA_VISIBLE_DEVICES": "all"}) is None
    assert detect_cuda(env={"NVIDIA_DRIVER_CAPABILITIES": "compute,utility"}) is None
    assert detect_cuda(env={**DOCKER_STACKS_ENV, "NVIDIA_VISIBLE_DEVICES": "void"}) is None
    assert detect_cuda(env={**DOCKER_STACKS_ENV, "NVIDIA_DRIVER_CAPABILITIES": "video"}) is None


def test_label_evidence() -> None:
    info = detect_cuda(env={}, labels={"com.nvidia.cuda.version": "11.8.0"})
    assert info is not None and info.version == "11.8.0"


@pytest.mark.parametrize(
    ("package", "version"),
    [
        (Pkg("apt", "cuda-cudart-12-1", "12.1.105-1"), "12.1"),
        (Pkg("apt", "libcudnn8", "8.9.0.131-1+cuda12.1"), "12.1"),
        (Pkg("apt", "libnccl2", "2.18.3-1+cuda12.2"), "12.2"),
        (Pkg("apt", "cuda-nvtx-12-2", "12.2.140-1"), None),
        (Pkg("pip", "nvidia-cuda-runtime-cu12", "12.1.105"), "12.1.105"),
        (Pkg("pip", "nvidia-cublas-cu11", "11.11.3.6"), "11"),
        (Pkg("pip", "torch", "2.1.0+cu121"), "12.1"),
        (Pkg("pip", "jaxlib", "0.4.20+cuda12.cudnn89"), "12"),
        (Pkg("conda", "cudatoolkit", "11.8.0"), "11.8.0"),
        (Pkg("conda", "cuda-version", "12.4"), "12.4"),
    ],
)
def test_package_evidence(package: Pkg, version: str | None) -> None:
    info = detect_cuda(env={}, packages=[package, Pkg("pip", "numpy", "1.26.4")])
    assert info is not None
    assert info.version == version
    assert [e.key for e in info.evidence] == [f"{package.ecosystem}:{package.name}"]


def test_cpu_images_are_not_flagged() -> None:
    cpu_packages = [Pkg("pip", "torch", "2.1.0+cpu"), Pkg("pip", "numpy", "1.26.4"), Pkg("apt", "curl", "7")]
    assert detect_cuda(env={"PATH": "/opt/conda/bin"}, tag="2024-05-27", packages=cpu_packages) is None
    # torch +cpu vetoes the weak NVIDIA_* pair ...
    assert detect_cuda(env=DOCKER_STACKS_ENV, packages=cpu_packages) is None
    # ... but not a strong signal.
    assert detect_cuda(env={"CUDA_VERSION": "12.1.1"}, packages=cpu_packages) is not None
    # plain tags that merely mention cuda later are not a prefix
    assert detect_cuda(env={}, tag="v1.9.0-notcuda") is None


def test_cuda_parent_is_weak_evidence() -> None:
    parent = CudaInfo("12.1", None, ())
    info = detect_cuda(env={}, parent=parent)
    assert info is not None and info.version == "12.1"
    assert detect_cuda(env={}, parent=parent, packages=[Pkg("pip", "torch", "2.2.0+cpu")]) is None


def test_env_version_outranks_tag_and_packages() -> None:
    info = detect_cuda(env={"CUDA_VERSION": "12.4.1"}, tag="cuda12-x", packages=[Pkg("pip", "torch", "2.3.0+cu121")])
    assert info is not None and info.version == "12.4.1"
    doc = cuda_to_json(info)
    assert doc is not None and doc["version"] == "12.4.1" and len(doc["evidence"]) == 3
    assert cuda_to_json(None) is None


# -- images in the real registry, config and (optionally) their packages ------------------------------

SITE = "opt/conda/lib/python3.11/site-packages"
DEBIAN_STATUS = Path("/var/lib/dpkg/status").read_text()
CUDA_STANZAS = """
Package: cuda-cudart-12-1
Status: install ok installed
Priority: optional
Section: devel
Architecture: amd64
Version: 12.1.105-1
Description: CUDA Runtime native Libraries

Package: libcudnn8
Status: install ok installed
Priority: optional
Section: multiverse/libs
Architecture: amd64
Version: 8.9.0.131-1+cuda12.1
Description: cuDNN runtime libraries
"""


def dist_info(name: str, version: str) -> b.FileEntry:
    folder = f"{name.replace('-', '_')}-{version}.dist-info"
    return b.file(f"{SITE}/{folder}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


def conda_meta(name: str, version: str) -> b.FileEntry:
    record = json.dumps({"name": name, "version": version, "build": "h0_0", "channel": "conda-forge"})
    return b.file(f"opt/conda/conda-meta/{name}-{version}-h0_0.json", record)


#: name -> (tag, layer files, env, labels, expected version without packages, with packages)
SIGNALS: dict[str, tuple[str, list[b.FileEntry], dict[str, str], dict[str, str], str | None, str | None]] = {
    "nvidia-cuda": (
        "12.4.1-runtime",
        [],
        {"CUDA_VERSION": "12.4.1", "NV_CUDA_LIB_VERSION": "12.4.1-1", "NVIDIA_REQUIRE_CUDA": NVIDIA_CUDA_121_REQUIRE},
        {},
        "12.4.1",
        "12.4.1",
    ),
    "kubeflow-cuda": ("v1.10.0", [], {"NVIDIA_REQUIRE_CUDA": "cuda>=13.0", **DOCKER_STACKS_ENV}, {}, "13.0", "13.0"),
    "docker-stacks": ("cuda12-2024-05-27", [], DOCKER_STACKS_ENV, {}, "12", "12"),
    "labelled": ("v1", [], {}, {"com.nvidia.cuda.version": "11.8.0"}, "11.8.0", "11.8.0"),
    "pip-wheels": (
        "v1",
        [dist_info("torch", "2.1.0+cu121"), dist_info("nvidia-cublas-cu12", "12.1.3.1")],
        {},
        {},
        None,
        "12.1",
    ),
    "debs": (
        "v1",
        [b.file("var/lib/dpkg/status", DEBIAN_STATUS.rstrip("\n") + "\n" + CUDA_STANZAS)],
        {},
        {},
        None,
        "12.1",
    ),
    "conda": ("v1", [conda_meta("cudatoolkit", "11.8.0"), conda_meta("python", "3.11.8")], {}, {}, None, "11.8.0"),
}
CPU: dict[str, tuple[str, list[b.FileEntry], dict[str, str]]] = {
    # torch +cpu under docker-stacks' NVIDIA_* pair: the config alone says "maybe", the packages say CPU
    "torch-cpu-nvidia-env": ("2024-05-27", [dist_info("torch", "2.1.0+cpu")], DOCKER_STACKS_ENV),
    "debian": ("v1", [b.file("var/lib/dpkg/status", DEBIAN_STATUS)], {"NVIDIA_VISIBLE_DEVICES": "all"}),
}


@pytest.fixture(scope="module")
def cuda_images(registry: RegistryServer, pusher: Pusher) -> str:
    os_image = base_image()
    for name, (tag, files, env, labels, _, _) in SIGNALS.items():
        layer = b.build_layer([*files, b.file(f"opt/{name}", "x")])
        pusher.push(f"cuda/{name}", b.build_image([layer], base=os_image, env=env, labels=labels), [tag])
    for name, (tag, files, env) in CPU.items():
        layer = b.build_layer([*files, b.file(f"opt/{name}", "x")])
        pusher.push(f"cuda/{name}", b.build_image([layer], base=os_image, env=env), [tag])
    return registry.host


async def cuda_of(ref: str, tmp_path: Path, read_packages: bool) -> CudaInfo | None:
    async with Session(SessionOptions(cache_dir=tmp_path / "cache")) as session:
        return await image_cuda(session, parse_reference(ref), read_packages=read_packages)


@pytest.mark.parametrize("name", list(SIGNALS))
async def test_registry_images_signal_cuda(cuda_images: str, tmp_path: Path, name: str) -> None:
    tag, _, _, _, from_config, from_packages = SIGNALS[name]
    ref = f"{cuda_images}/cuda/{name}:{tag}"
    config_only = await cuda_of(ref, tmp_path, read_packages=False)
    assert (config_only.version if config_only else None) == from_config
    if from_config is None:
        assert config_only is None  # package-only signals need the packages
    with_packages = await cuda_of(ref, tmp_path, read_packages=True)
    assert with_packages is not None and with_packages.version == from_packages
    assert with_packages.evidence


async def test_registry_cpu_images_are_not_flagged(
    cuda_images: str, tmp_path: Path, test_images: StandardImages
) -> None:
    torch_cpu = f"{cuda_images}/cuda/torch-cpu-nvidia-env:2024-05-27"
    assert await cuda_of(torch_cpu, tmp_path, read_packages=True) is None
    weak = await cuda_of(torch_cpu, tmp_path, read_packages=False)
    assert weak is not None and [e.strength for e in weak.evidence] == ["weak"]
    assert await cuda_of(f"{cuda_images}/cuda/debian:v1", tmp_path, read_packages=True) is None
    assert await cuda_of(test_images.layered_ref, tmp_path, read_packages=True) is None
