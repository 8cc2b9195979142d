"""Which images need a GPU, and which CUDA they carry, with the evidence for the answer.

Real images signal CUDA in different ways: ``nvidia/cuda`` descendants set ``CUDA_VERSION`` and
``NV_CUDA_LIB_VERSION``; Kubeflow's ``-cuda`` images set ``NVIDIA_REQUIRE_CUDA`` plus the two
``NVIDIA_*`` runtime variables; docker-stacks' CUDA images set only the two ``NVIDIA_*`` variables and
carry the version in the tag prefix (``cuda12-``). Packages, when read, add more evidence.

The rule (why an image is flagged):

* **strong** evidence alone flags it: ``NVIDIA_REQUIRE_CUDA``, ``CUDA_VERSION``, ``NV_CUDA_LIB_VERSION``,
  a CUDA label, a ``cuda``-prefixed tag, or a CUDA package (``cuda-*``/``libcudnn*`` debs,
  ``nvidia-*-cu1x`` wheels, ``torch``/``jax`` with a ``+cu121`` local version, conda ``cudatoolkit`` /
  ``cuda-version``);
* **weak** evidence flags it only when nothing says "CPU": ``NVIDIA_VISIBLE_DEVICES`` (not ``void`` /
  ``none``) *together with* ``NVIDIA_DRIVER_CAPABILITIES`` naming ``compute``, ``utility`` or ``all``
  (docker-stacks' CUDA images), or a CUDA parent image. One of the two variables alone is not enough:
  they are runtime hints that CPU images sometimes copy;
* CPU evidence (``torch``/``jax`` with a ``+cpu`` local version) vetoes weak evidence only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from nbcatalog.oci import ImageConfig
    from nbcatalog.refs import AnyRef
    from nbcatalog.session import Session

_VERSION_RE = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")
_REQUIRE_CUDA_RE = re.compile(r"cuda\s*>=\s*(\d+(?:\.\d+){0,2})")
_DRIVER_MIN_RE = re.compile(r"driver\s*>=\s*(\d+(?:\.\d+)*)")
_TAG_PREFIX_RE = re.compile(r"^cuda(\d+(?:\.\d+)?)?-")
_DEB_RUNTIME_RE = re.compile(r"^cuda-(?:cudart|libraries|runtime|toolkit|nvcc|compat)-(\d+)-(\d+)$")
_DEB_CUDA_RE = re.compile(r"^(?:cuda-[a-z0-9-]+|libcudnn\d*(?:-[a-z0-9-]+)?|libnccl\d*)$")
_DEB_BUILT_FOR_RE = re.compile(r"\+cuda(\d+\.\d+)")
_WHEEL_RE = re.compile(r"^nvidia-[a-z0-9-]+-cu(\d+)$")
_LOCAL_CU_RE = re.compile(r"\+cu(?:da)?(\d+)")
_LOCAL_CPU_RE = re.compile(r"\+cpu\b")
_CUDA_LABELS = ("com.nvidia.cuda.version", "cuda.version", "org.opencontainers.image.cuda.version")
_ML_PACKAGES = ("torch", "jax", "jaxlib", "tensorflow", "pytorch")


class PackageLike(Protocol):
    """What CUDA detection needs of a package the packages reader found."""

    @property
    def ecosystem(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...


@dataclass(frozen=True, slots=True)
class CudaEvidence:
    """One fact that speaks for (or, with ``strength="cpu"``, against) CUDA."""

    source: str  # env | label | tag | parent | package
    key: str
    value: str
    strength: str  # strong | weak | cpu
    version: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source, "key": self.key, "value": self.value}
        out["strength"] = self.strength
        if self.version:
            out["version"] = self.version
        return out


@dataclass(frozen=True, slots=True)
class CudaInfo:
    """An image found to need CUDA: its version when known and the minimum driver it declares."""

    version: str | None
    min_driver: str | None
    evidence: tuple[CudaEvidence, ...]

    @property
    def major(self) -> str | None:
        return self.version.split(".")[0] if self.version else None


def _norm_version(text: str) -> str | None:
    match = _VERSION_RE.search(text)
    if not match:
        return text if text.isdigit() else None
    return ".".join(part for part in match.groups() if part is not None)


def _cu_digits(digits: str) -> str:
    """``121`` -> ``12.1``, ``118`` -> ``11.8``, ``12`` -> ``12`` (a wheel's ``cu12`` is a major only)."""
    if len(digits) <= 2:
        return digits
    return f"{digits[:2]}.{digits[2:]}" if digits.startswith("1") else f"{digits[:1]}.{digits[1:]}"


def _env_evidence(env: Mapping[str, str]) -> list[CudaEvidence]:
    found: list[CudaEvidence] = []
    if require := env.get("NVIDIA_REQUIRE_CUDA", "").strip():
        match = _REQUIRE_CUDA_RE.search(require)
        found.append(CudaEvidence("env", "NVIDIA_REQUIRE_CUDA", require, "strong", match.group(1) if match else None))
    for key in ("CUDA_VERSION", "NV_CUDA_LIB_VERSION"):
        if value := env.get(key, "").strip():
            found.append(CudaEvidence("env", key, value, "strong", _norm_version(value)))
    visible = env.get("NVIDIA_VISIBLE_DEVICES")
    capabilities = env.get("NVIDIA_DRIVER_CAPABILITIES")
    if visible is not None and capabilities is not None:
        wanted = {c.strip() for c in capabilities.split(",")} & {"compute", "utility", "all"}
        if visible.strip().lower() not in ("", "void", "none") and wanted:
            value = f"NVIDIA_VISIBLE_DEVICES={visible} NVIDIA_DRIVER_CAPABILITIES={capabilities}"
            found.append(CudaEvidence("env", "NVIDIA_VISIBLE_DEVICES+NVIDIA_DRIVER_CAPABILITIES", value, "weak"))
    return found


def _label_evidence(labels: Mapping[str, str]) -> list[CudaEvidence]:
    return [
        CudaEvidence("label", key, labels[key], "strong", _norm_version(labels[key]))
        for key in _CUDA_LABELS
        if labels.get(key, "").strip()
    ]


def _tag_evidence(tag: str | None) -> list[CudaEvidence]:
    if not tag:
        return []
    match = _TAG_PREFIX_RE.match(tag)
    if not match:
        return []
    return [CudaEvidence("tag", "prefix", tag, "strong", match.group(1))]


def _package_evidence(packages: Iterable[PackageLike]) -> list[CudaEvidence]:
    found: list[CudaEvidence] = []
    for package in packages:
        name, version, eco = package.name.lower(), package.version, package.ecosystem
        key = f"{eco}:{package.name}"
        if eco == "apt":
            if runtime := _DEB_RUNTIME_RE.match(name):
                found.append(CudaEvidence("package", key, version, "strong", ".".join(runtime.groups())))
            elif _DEB_CUDA_RE.match(name):  # NVIDIA's cuDNN/NCCL debs say their CUDA: 8.9.7.29-1+cuda12.2
                built_for = _DEB_BUILT_FOR_RE.search(version)
                found.append(CudaEvidence("package", key, version, "strong", built_for.group(1) if built_for else None))
        elif eco == "pip" and (wheel := _WHEEL_RE.match(name.replace("_", "-"))):
            cuda = _norm_version(version) if name.startswith("nvidia-cuda-runtime") else None
            found.append(CudaEvidence("package", key, version, "strong", cuda or wheel.group(1)))
        elif eco == "conda" and name in ("cudatoolkit", "cuda-version", "cuda-runtime", "cuda-cudart"):
            found.append(CudaEvidence("package", key, version, "strong", _norm_version(version)))
        elif name in _ML_PACKAGES:
            if cu := _LOCAL_CU_RE.search(version):
                found.append(CudaEvidence("package", key, version, "strong", _cu_digits(cu.group(1))))
            elif _LOCAL_CPU_RE.search(version):
                found.append(CudaEvidence("package", key, version, "cpu"))
    return found


def _min_driver(evidence: Iterable[CudaEvidence]) -> str | None:
    drivers: list[tuple[int, ...]] = []
    for item in evidence:
        if item.key == "NVIDIA_REQUIRE_CUDA":
            drivers += [tuple(int(p) for p in d.split(".")) for d in _DRIVER_MIN_RE.findall(item.value)]
    return ".".join(str(p) for p in min(drivers)) if drivers else None


def _best_version(evidence: Iterable[CudaEvidence]) -> str | None:
    """The most precise version the most direct source gives (env before labels, packages, tag)."""
    order = {"env": 0, "label": 1, "package": 2, "tag": 3, "parent": 4}
    candidates = [e for e in evidence if e.version and e.strength != "cpu"]
    if not candidates:
        return None
    best_source = min(order[e.source] for e in candidates)
    versions = [e.version for e in candidates if order[e.source] == best_source and e.version]
    return max(versions, key=lambda v: (v.count("."), v))


def detect_cuda(
    *,
    env: Mapping[str, str],
    labels: Mapping[str, str] | None = None,
    tag: str | None = None,
    parent: CudaInfo | None = None,
    packages: Iterable[PackageLike] | None = None,
) -> CudaInfo | None:
    """CUDA facts of one image, or None for a CPU image (see the module docstring for the rule)."""
    evidence = _env_evidence(env) + _label_evidence(labels or {}) + _tag_evidence(tag)
    if packages is not None:
        evidence += _package_evidence(packages)
    if parent is not None:
        value = f"parent CUDA {parent.version}" if parent.version else "parent is a CUDA image"
        evidence.append(CudaEvidence("parent", "parent", value, "weak", parent.version))
    strong = any(e.strength == "strong" for e in evidence)
    weak = any(e.strength == "weak" for e in evidence)
    cpu = any(e.strength == "cpu" for e in evidence)
    if not strong and not (weak and not cpu):
        return None
    return CudaInfo(_best_version(evidence), _min_driver(evidence), tuple(evidence))


def detect_cuda_in_config(
    config: ImageConfig,
    *,
    tag: str | None = None,
    parent: CudaInfo | None = None,
    packages: Iterable[PackageLike] | None = None,
) -> CudaInfo | None:
    """:func:`detect_cuda` over an image config's env and labels."""
    return detect_cuda(env=config.env, labels=config.labels, tag=tag, parent=parent, packages=packages)


def cuda_to_json(info: CudaInfo | None) -> dict[str, Any] | None:
    """The ``cuda`` key of ``inspect --json``: null for CPU images; ``version`` is ``"unknown"`` when no
    source names one (the contract promises a string)."""
    if info is None:
        return None
    return {
        "version": info.version or "unknown",
        "min_driver": info.min_driver,
        "evidence": [e.to_json() for e in info.evidence],
    }


async def image_cuda(session: Session, ref: AnyRef, *, read_packages: bool = False) -> CudaInfo | None:
    """CUDA facts of ``ref`` on the session's platform: from its config, and from its installed
    packages too when ``read_packages`` (that streams every layer once; results are cached per layer)."""
    image = await session.resolve(ref)
    packages = None
    if read_packages:
        from nbcatalog.packages.image import image_packages

        packages = (await image_packages(session, ref)).packages
    return detect_cuda_in_config(image.config, tag=ref.tag, packages=packages)
