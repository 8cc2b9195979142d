"""The catalog's frozen value types: images, GPU scheduling, registry and Kubeflow settings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from nbcatalog.errors import CatalogError
from nbcatalog.policy import Policy
from nbcatalog.refs import AnyRef, OciLayoutRef, parse_reference

Kind = Literal["jupyter", "codeserver", "rstudio"]
GpuMode = Literal["auto"] | bool
KINDS: tuple[str, ...] = ("jupyter", "codeserver", "rstudio")
TAG_POLICIES: tuple[str, ...] = ("auto", "semver", "date", "pinned")
NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,61}[a-z0-9])?$")

TOP_KEYS = ("registries", "gpu", "images", "kubeflow", "pin", "policy")
IMAGE_KEYS = (
    "name", "image", "tag", "digest", "parent", "kind", "display_name", "description",
    "gpu", "tag_policy", "default", "hidden", "exports", "pin",
)  # fmt: skip
#: ``pin: digest``: exports write ``repo:tag@sha256:…`` and catalog.yaml records the digest pinned;
#: ``pin: tag`` (the default): the tag alone, as written.
PIN_MODES: tuple[str, ...] = ("tag", "digest")
EXPORT_FORMATS: tuple[str, ...] = ("kubeflow", "jupyterhub", "kubespawner", "workspacekind")
GPU_KEYS = ("resource", "count", "vendor", "display_name", "node_selector", "tolerations", "classes")
CLASS_KEYS = ("name", "display_name", "description", "node_selector", "tolerations", "limits")
REGISTRY_KEYS = ("insecure", "ca_cert")
KUBEFLOW_KEYS = ("allow_custom_image", "hide_registry", "hide_tag")


@dataclass(frozen=True, slots=True)
class RegistryConfig:
    """Per-registry settings: plain HTTP / unverified TLS for a private registry, an extra CA."""

    host: str
    insecure: bool = False
    ca_cert: str | None = None


@dataclass(frozen=True, slots=True)
class GpuClass:
    """A GPU model users may choose (a100, t4, ...): where it runs and what it requests."""

    name: str
    display_name: str
    description: str = ""
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: tuple[dict[str, Any], ...] = ()
    limits: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GpuConfig:
    """How CUDA images are scheduled: the extended resource, its count and where GPU nodes are."""

    resource: str = "nvidia.com/gpu"
    count: int = 1
    vendor: str = "NVIDIA GPU"
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: tuple[dict[str, Any], ...] = ()
    classes: tuple[GpuClass, ...] = ()

    @property
    def limits(self) -> dict[str, str]:
        """Resource limits for one GPU pod (values as strings: Kubernetes quantities)."""
        return {self.resource: str(self.count)}


@dataclass(frozen=True, slots=True)
class KubeflowOptions:
    """Top-level booleans of the jupyter-web-app image sections."""

    allow_custom_image: bool = True
    hide_registry: bool = True
    hide_tag: bool = False


@dataclass(frozen=True, slots=True)
class CatalogImage:
    """One notebook image the users may spawn; ``line`` points back at catalog.yaml."""

    name: str
    image: str
    tag: str
    kind: str = "jupyter"
    display_name: str = ""
    description: str = ""
    parent: str | None = None
    gpu: GpuMode = "auto"
    tag_policy: str = "auto"  # the tag's own family: what audit, plan and the app assume unless told
    default: bool = False
    digest: str | None = None
    hidden: bool = False
    exports: tuple[str, ...] = EXPORT_FORMATS
    pin: str = "tag"  # effective: the entry's own ``pin:``, else the catalog's
    line: int = 0
    base_dir: str | None = field(default=None, compare=False)

    @property
    def ref(self) -> AnyRef:
        """The full reference: repository, tag and (when pinned) digest."""
        text = f"{self.image}:{self.tag}" + (f"@{self.digest}" if self.digest else "")
        ref = parse_reference(text)
        if isinstance(ref, OciLayoutRef) and self.base_dir and not Path(ref.path).is_absolute():
            ref = OciLayoutRef(str(Path(self.base_dir) / ref.path), ref.tag, ref.digest)
        return ref

    @property
    def reference(self) -> str:
        """The reference as the spawner should pull it: ``image:tag`` (+ ``@digest`` when pinned)."""
        return f"{self.image}:{self.tag}" + (f"@{self.digest}" if self.digest else "")

    @property
    def pins_digest(self) -> bool:
        return self.pin == "digest"

    @property
    def title(self) -> str:
        return self.display_name or self.name

    def offered_in(self, export_format: str) -> bool:
        """Whether spawner forms of ``export_format`` list this image (hidden bases are not)."""
        return not self.hidden and export_format in self.exports


@dataclass(frozen=True, slots=True)
class Catalog:
    """A validated catalog: images in file order, GPU scheduling, registry settings."""

    path: str
    images: list[CatalogImage]
    gpu: GpuConfig = field(default_factory=GpuConfig)
    registries: dict[str, RegistryConfig] = field(default_factory=dict)
    kubeflow: KubeflowOptions = field(default_factory=KubeflowOptions)
    policy: Policy = field(default_factory=Policy)
    pin: str = "tag"

    def get(self, name: str) -> CatalogImage:
        for image in self.images:
            if image.name == name:
                return image
        raise CatalogError(f"no image named {name!r} in the catalog", where=self.path)

    def find(self, name: str) -> CatalogImage | None:
        return next((image for image in self.images if image.name == name), None)

    @property
    def default_image(self) -> CatalogImage | None:
        """The entry marked ``default: true``, else the first one (what spawner forms preselect)."""
        marked = [image for image in self.images if image.default]
        return marked[0] if marked else (self.images[0] if self.images else None)

    def default_for(self, export_format: str) -> CatalogImage | None:
        """The default image among those offered in ``export_format`` (marked, else the first)."""
        offered = self.offered(export_format)
        return next((image for image in offered if image.default), offered[0] if offered else None)

    def offered(self, export_format: str) -> list[CatalogImage]:
        return [image for image in self.images if image.offered_in(export_format)]

    def children(self, name: str) -> list[CatalogImage]:
        return [image for image in self.images if image.parent == name]

    def insecure_registries(self) -> set[str]:
        return {host for host, config in self.registries.items() if config.insecure}
