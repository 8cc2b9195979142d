"""A pre-puller for the catalog's images: Kubernetes DaemonSets that pull them onto every node ahead of users.

A notebook image is gigabytes; the first user to land on a node waits minutes while it pulls.
Zero to JupyterHub ships a pre-puller, Kubeflow does not. This writes the same shape as z2jh's
``continuous-image-puller``: one init container per image that runs the image with a command that
exits at once (so the kubelet must pull it), then a ``pause`` container that keeps the pod, and so
the node's claim on the images, alive. A node added later gets the pod, and the images, too.

Two DaemonSets, because GPU nodes are usually tainted and GPU images are only ever spawned there:
``nbcatalog-image-puller`` (the CPU images; no GPU toleration, so it stays off tainted GPU nodes)
and ``nbcatalog-image-puller-gpu`` (the GPU images, on the catalog's GPU nodes with its tolerations).
Which images need a GPU is decided as every other export decides it (:mod:`nbcatalog.exporters.gpu`).

What is pulled: every image some spawner format offers, once per reference (``repo:tag@sha256:…``
when pinned). Hidden images are not: users never spawn them, and the layers they share with the
images built on them arrive with those images anyway, while their own layers would only take disk.
``oci:`` layouts are files on this machine, no node can pull them: they are left out, with a warning.
No namespace is written: ``kubectl apply -n NAMESPACE`` decides where the pods run.
"""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from nbcatalog.catalog import Catalog, CatalogImage, GpuConfig
from nbcatalog.catalog.model import EXPORT_FORMATS
from nbcatalog.exporters.common import ExportResult
from nbcatalog.exporters.gpu import Z2JH_USER_TOLERATIONS, GpuPlan

NAME = "nbcatalog-image-puller"
GPU_NAME = f"{NAME}-gpu"
#: The pause image z2jh's pre-puller keeps its pods alive with (prePuller.pause.image).
PAUSE_IMAGE = "registry.k8s.io/pause:3.10"
#: What each init container runs: the image's own shell, so pulling is all the container does.
PULL_COMMAND = ("/bin/sh", "-c", "echo Pulling complete")
#: Small and explicit, so a namespace LimitRange or quota that wants requests and limits admits the pods.
RESOURCES: dict[str, Any] = {
    "requests": {"cpu": "10m", "memory": "16Mi"},
    "limits": {"cpu": "100m", "memory": "64Mi"},
}
#: z2jh's prePuller.containerSecurityContext: passes the ``restricted`` Pod Security Standard.
SECURITY_CONTEXT: dict[str, Any] = {
    "runAsNonRoot": True,
    "runAsUser": 65534,
    "runAsGroup": 65534,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}
_LABEL_MAX = 63
_NOT_DNS = re.compile(r"[^a-z0-9-]+")


@dataclass(slots=True)
class Pulls:
    """One DaemonSet's images in catalog order, one per reference, each under the first entry's name."""

    images: dict[str, str] = field(default_factory=dict)  # reference -> catalog name

    def add(self, image: CatalogImage) -> None:
        self.images.setdefault(image.reference, image.name)


def pulled_images(catalog: Catalog, plan: GpuPlan) -> tuple[Pulls, Pulls, list[str]]:
    """(CPU pulls, GPU pulls, skipped oci: names): every image a spawner format offers.

    A reference two entries share with different GPU needs is pulled by both DaemonSets: pods of
    either kind may run it.
    """
    cpu, gpu, local = Pulls(), Pulls(), []
    for image in catalog.images:
        if not any(image.offered_in(export_format) for export_format in EXPORT_FORMATS):
            continue
        if image.image.startswith("oci:"):
            local.append(image.name)
            continue
        (gpu if plan.needs_gpu(image) else cpu).add(image)
    return cpu, gpu, local


def container_names(catalog_names: list[str]) -> list[str]:
    """``pull-<name>`` for each, as DNS-1123 labels (≤63 characters), unique within one pod.

    Catalog names may hold ``.`` and ``_`` and run to 63 characters, so a name is folded to
    ``[a-z0-9-]``; one that is too long, or that folds onto a name already taken, is cut and given
    a hash of the catalog name, which keeps it stable from one export to the next.
    """
    taken: set[str] = set()
    names = []
    for catalog_name in catalog_names:
        folded = _NOT_DNS.sub("-", catalog_name.lower()).strip("-") or "image"
        name = f"pull-{folded}"
        salt = 0
        while len(name) > _LABEL_MAX or name in taken:
            digest = hashlib.sha256(f"{catalog_name}\0{salt}".encode()).hexdigest()[:8]
            name = f"pull-{folded}"[: _LABEL_MAX - 9].rstrip("-") + f"-{digest}"
            salt += 1
        taken.add(name)
        names.append(name)
    return names


def labels(name: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": NAME,
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/component": "image-puller",
        "app.kubernetes.io/part-of": "nbcatalog",
        "app.kubernetes.io/managed-by": "nbcatalog",
    }


def _limits() -> dict[str, Any]:
    """Fresh copies for each container: a shared dict would be written as a YAML anchor and aliases."""
    return {"resources": copy.deepcopy(RESOURCES), "securityContext": copy.deepcopy(SECURITY_CONTEXT)}


def daemonset(name: str, pulls: Pulls, placement: dict[str, Any]) -> dict[str, Any]:
    """One pre-puller DaemonSet; ``placement`` is its nodeSelector/affinity/tolerations."""
    init_containers = [
        {
            "name": container,
            "image": reference,
            "imagePullPolicy": "IfNotPresent",
            "command": list(PULL_COMMAND),
            **_limits(),
        }
        for container, reference in zip(container_names(list(pulls.images.values())), pulls.images, strict=True)
    ]
    selector = {key: labels(name)[key] for key in ("app.kubernetes.io/name", "app.kubernetes.io/instance")}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "labels": labels(name)},
        "spec": {
            "selector": {"matchLabels": selector},
            # All at once: a pod only pulls, so replacing every node's pod together costs nothing.
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "100%"}},
            "template": {
                "metadata": {"labels": labels(name)},
                "spec": {
                    **placement,
                    "terminationGracePeriodSeconds": 0,
                    "automountServiceAccountToken": False,
                    "initContainers": init_containers,
                    "containers": [
                        {
                            "name": "pause",
                            "image": PAUSE_IMAGE,
                            **_limits(),
                        }
                    ],
                },
            },
        },
    }


def gpu_placement(gpu: GpuConfig) -> tuple[dict[str, Any], str | None]:
    """Where GPU images are pulled, and a warning when that cannot be narrowed to GPU nodes.

    Any GPU node will do, whatever its class: the base ``node_selector``, and every class's
    tolerations (tolerating a taint never draws a pod onto a node, so the union is safe). With no
    base selector, the classes' selectors are ORed as node-affinity terms.
    """
    tolerations = [dict(t) for t in Z2JH_USER_TOLERATIONS]
    for toleration in [*gpu.tolerations, *(t for c in gpu.classes for t in c.tolerations)]:
        if dict(toleration) not in tolerations:
            tolerations.append(dict(toleration))
    placement: dict[str, Any] = {}
    warning = None
    if gpu.node_selector:
        placement["nodeSelector"] = dict(gpu.node_selector)
    elif gpu.classes and all(c.node_selector for c in gpu.classes):
        terms = [
            {"matchExpressions": [{"key": k, "operator": "In", "values": [v]} for k, v in c.node_selector.items()]}
            for c in gpu.classes
        ]
        required = {"nodeSelectorTerms": terms}
        placement["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": required}}
    else:
        warning = (
            f"{GPU_NAME}: the catalog's gpu: has no node_selector, so GPU images are pulled on every node "
            "that tolerates its taints (set gpu.node_selector to keep them to GPU nodes)"
        )
    placement["tolerations"] = tolerations
    return placement, warning


def export_prepuller(catalog: Catalog, plan: GpuPlan) -> ExportResult:
    """The DaemonSets as one multi-document YAML; an empty one is left out, and the file says so."""
    cpu, gpu, local = pulled_images(catalog, plan)
    warnings = [note] if (note := plan.note()) else []
    if local:
        warnings.append(f"prepuller: oci: layouts are local files no node can pull; left out: {', '.join(local)}")
    notes: list[str] = []
    documents: list[dict[str, Any]] = []
    if cpu.images:
        documents.append(daemonset(NAME, cpu, {"tolerations": [dict(t) for t in Z2JH_USER_TOLERATIONS]}))
    else:
        notes.append(f"No CPU image in the catalog: no {NAME} DaemonSet.")
    if gpu.images:
        placement, warning = gpu_placement(catalog.gpu)
        documents.append(daemonset(GPU_NAME, gpu, placement))
        warnings.extend([warning] if warning else [])
    else:
        notes.append(f"No GPU image in the catalog: no {GPU_NAME} DaemonSet.")
    if not documents:
        warnings.append("prepuller: no image to pre-pull: the file holds no DaemonSet")
    from nbcatalog.exporters import yamlsplice

    preamble = "".join(
        f"# {line}\n"
        for line in (
            "Pre-pulls the catalog's images on every node: kubectl apply -n NAMESPACE -f THIS_FILE",
            *notes,
        )
    )
    body = preamble + "---\n".join(yamlsplice.block(document, 0) for document in documents)
    return ExportResult(body, tuple(warnings))
