"""GPU scheduling rules every exporter shares: which images need a GPU, and where such pods go.

``gpu: true/false`` in the catalog is explicit. ``gpu: auto`` is decided by a set of image names
detected as CUDA (the lineage/CUDA scan computes it from the registry); when none is given, an
offline name heuristic (``cuda`` in the name or tag) decides, and the plan says so.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from nbcatalog.catalog import Catalog, CatalogImage, GpuClass, GpuConfig

#: z2jh's default user-pod tolerations (scheduling.userPods.tolerations): a profile override that
#: sets ``tolerations`` replaces the chart's list, so GPU profiles repeat these.
Z2JH_USER_TOLERATIONS: tuple[dict[str, str], ...] = (
    {"key": "hub.jupyter.org/dedicated", "operator": "Equal", "value": "user", "effect": "NoSchedule"},
    {"key": "hub.jupyter.org_dedicated", "operator": "Equal", "value": "user", "effect": "NoSchedule"},
)


@dataclass(frozen=True, slots=True)
class GpuPlan:
    """Which catalog images get GPU scheduling, and which of them were guessed from their names."""

    cuda: frozenset[str]
    guessed: tuple[str, ...] = ()

    def needs_gpu(self, image: CatalogImage) -> bool:
        return image.name in self.cuda

    def note(self) -> str | None:
        if not self.guessed:
            return None
        return (
            "CUDA not detected from the registry (offline): guessed from names/tags for "
            + ", ".join(self.guessed)
            + " (--detect-cuda reads their configs; gpu: true/false in the catalog decides outright)"
        )


def plan_gpu(catalog: Catalog, detected: Collection[str] | None = None) -> GpuPlan:
    """Decide GPU images: explicit ``gpu:`` first, then ``detected`` names, else the name heuristic."""
    cuda: set[str] = set()
    guessed: list[str] = []
    for image in catalog.images:
        if image.gpu is True:
            cuda.add(image.name)
        elif image.gpu == "auto":
            if detected is not None:
                if image.name in detected:
                    cuda.add(image.name)
            elif looks_like_cuda(image):
                cuda.add(image.name)
                guessed.append(image.name)
    return GpuPlan(frozenset(cuda), tuple(guessed))


def looks_like_cuda(image: CatalogImage) -> bool:
    """The offline guess: ``cuda`` in the entry name, repository or tag."""
    return any("cuda" in text.lower() for text in (image.name, image.image, image.tag))


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a GPU pod runs and what it claims: one per GPU class, or the generic one."""

    key: str
    display_name: str
    description: str
    node_selector: dict[str, str]
    tolerations: list[dict[str, Any]]
    limits: dict[str, str]
    gpu_class: GpuClass | None = field(default=None)


def generic_placement(gpu: GpuConfig) -> Placement:
    return Placement(
        key="gpu",
        display_name=f"{gpu.count} x {gpu.vendor}",
        description=f"any node with {gpu.resource}",
        node_selector=dict(gpu.node_selector),
        tolerations=[dict(t) for t in gpu.tolerations],
        limits=gpu.limits,
    )


def class_placement(gpu: GpuConfig, gpu_class: GpuClass) -> Placement:
    """A class adds to (and overrides) the generic selector; its tolerations come after the generic ones."""
    tolerations = [dict(t) for t in gpu.tolerations]
    for toleration in gpu_class.tolerations:
        if dict(toleration) not in tolerations:
            tolerations.append(dict(toleration))
    return Placement(
        key=f"gpu-{gpu_class.name}",
        display_name=gpu_class.display_name,
        description=gpu_class.description or f"{gpu.count} x {gpu_class.display_name}",
        node_selector={**gpu.node_selector, **gpu_class.node_selector},
        tolerations=tolerations,
        limits={**gpu.limits, **gpu_class.limits},
        gpu_class=gpu_class,
    )


def placements(gpu: GpuConfig) -> list[Placement]:
    """The GPU choices to offer: one per class, or the generic placement when there are no classes."""
    if gpu.classes:
        return [class_placement(gpu, gpu_class) for gpu_class in gpu.classes]
    return [generic_placement(gpu)]


def with_chart_tolerations(tolerations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """z2jh's user tolerations first, then the GPU ones (no duplicates)."""
    merged = [dict(t) for t in Z2JH_USER_TOLERATIONS]
    for toleration in tolerations:
        if toleration not in merged:
            merged.append(toleration)
    return merged
