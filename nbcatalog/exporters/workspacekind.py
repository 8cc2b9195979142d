"""Kubeflow Notebooks 2.0 ``WorkspaceKind`` objects (kubeflow.org/v1beta1, cluster-scoped).

One WorkspaceKind per catalog ``kind`` (jupyterlab, codeserver, rstudio), each image an
``imageConfig`` value with id ``<name>:<tag>`` (``…@sha256:<12 hex>`` when pinned). CUDA images carry
the label ``gpu: required`` and the ``podConfig`` offers GPU values (one per GPU class) with node
selector, tolerations and the GPU limit. The admission webhook refuses to change or remove an option
that workspaces still use, so options of the previous export that left the catalog (or moved to a new
tag or digest) are kept verbatim, hidden, with a ``redirect`` to their replacement, as the upstream
sample does.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

from nbcatalog.catalog import Catalog, CatalogImage
from nbcatalog.errors import CatalogError
from nbcatalog.exporters import yamlsplice
from nbcatalog.exporters.common import ExportResult
from nbcatalog.exporters.gpu import GpuPlan, placements
from nbcatalog.yamlio import check_yaml

API_VERSION = "kubeflow.org/v1beta1"
#: kind -> (WorkspaceKind name, display name, port id, port, remove path prefix, request headers, env)
KINDS: dict[str, dict[str, Any]] = {
    "jupyter": {
        "name": "jupyterlab", "display": "JupyterLab Notebook", "port_id": "jupyterlab", "port": 8888,
        "remove_prefix": False, "headers": {},
        "env": [{"name": "NB_PREFIX", "value": '{{ httpPathPrefix "jupyterlab" }}'}],
    },
    "codeserver": {
        "name": "codeserver", "display": "VS Code (code-server)", "port_id": "codeserver", "port": 8888,
        "remove_prefix": True, "headers": {}, "env": [],
    },
    "rstudio": {
        "name": "rstudio", "display": "RStudio", "port_id": "rstudio", "port": 8787, "remove_prefix": True,
        "headers": {"set": {"X-RStudio-Root-Path": '{{ httpPathPrefix "rstudio" }}'}}, "env": [],
    },
}  # fmt: skip
CPU_POD_CONFIG = "small-cpu"


def option_id(image: CatalogImage) -> str:
    """``<name>:<tag>``, plus ``@<algorithm>:<12 hex>`` when pinned to a digest.

    The webhook keeps an option's spec as the workspaces that use it saw it, so a re-pin (the same
    tag at a new digest) has to be a new option, the old one kept hidden and redirected to it, as a
    new tag is; the short digest keeps the id readable and far below its 256 characters.
    """
    if image.digest:
        algorithm, _, hexpart = image.digest.partition(":")
        return f"{image.name}:{image.tag}@{algorithm}:{hexpart[:12]}"
    return f"{image.name}:{image.tag}"


def _spawner(display_name: str, description: str, labels: list[dict[str, str]]) -> dict[str, Any]:
    spawner: dict[str, Any] = {"displayName": display_name}
    if len(description) >= 2:
        spawner["description"] = description[:1024]
    if labels:
        spawner["labels"] = labels
    return spawner


def image_value(image: CatalogImage, kind: dict[str, Any], plan: GpuPlan) -> dict[str, Any]:
    labels = [{"key": "gpu", "value": "required"}] if plan.needs_gpu(image) else []
    return {
        "id": option_id(image),
        "spawner": _spawner(image.title, image.description, labels),
        "spec": {
            "image": image.reference,
            "imagePullPolicy": "IfNotPresent",
            "ports": [{"id": kind["port_id"], "port": kind["port"]}],
        },
    }


def pod_values(catalog: Catalog, with_gpu: bool) -> list[dict[str, Any]]:
    values: list[dict[str, Any]] = [
        {
            "id": CPU_POD_CONFIG,
            "spawner": _spawner("Small CPU", "1 CPU, 2 GiB memory", [{"key": "gpu", "value": "none"}]),
            "spec": {"resources": {"requests": {"cpu": "1000m", "memory": "2Gi"}}},
        }
    ]
    if not with_gpu:
        return values
    for placement in placements(catalog.gpu):
        values.append(
            {
                "id": placement.key,
                "spawner": _spawner(
                    placement.display_name, placement.description, [{"key": "gpu", "value": placement.key}]
                ),
                "spec": {
                    "nodeSelector": dict(placement.node_selector),
                    "tolerations": [dict(t) for t in placement.tolerations],
                    "resources": {
                        "requests": {"cpu": "4000m", "memory": "16Gi"},
                        "limits": {k: int(v) if v.isdigit() else v for k, v in placement.limits.items()},
                    },
                },
            }
        )
    return values


def keep_previous(
    current: list[dict[str, Any]], previous: list[dict[str, Any]], replacement: dict[str, str], fallback: str
) -> list[dict[str, Any]]:
    """Previous options missing now come first, verbatim but hidden and redirected; then the current ones."""
    current_ids = {value["id"] for value in current}
    kept = []
    for old in previous:
        if not isinstance(old, dict) or old.get("id") in current_ids:
            continue
        value = copy.deepcopy(old)
        value.setdefault("spawner", {})["hidden"] = True
        if "redirect" not in value:
            target = replacement.get(str(old["id"]).split(":", 1)[0], fallback)
            value["redirect"] = {
                "to": target,
                "message": {"level": "Info", "text": f"{old['id']} was replaced by {target} in the catalog"},
            }
        kept.append(value)
    return kept + current


def workspace_kind(
    kind_name: str, images: list[CatalogImage], catalog: Catalog, plan: GpuPlan, previous: dict[str, Any] | None
) -> dict[str, Any]:
    kind = KINDS[kind_name]
    default = catalog.default_for("workspacekind")
    chosen = default if default in images else images[0]
    current = [image_value(image, kind, plan) for image in images]
    old_options = (previous or {}).get("spec", {}).get("podTemplate", {}).get("options", {})
    old_images = old_options.get("imageConfig", {}).get("values", []) or []
    old_pods = old_options.get("podConfig", {}).get("values", []) or []
    by_name = {image.name: option_id(image) for image in images}
    image_values = keep_previous(current, old_images, by_name, option_id(chosen))
    pod_config = keep_previous(
        pod_values(catalog, any(plan.needs_gpu(image) for image in images)), old_pods, {}, CPU_POD_CONFIG
    )
    template: dict[str, Any] = {
        "volumeMounts": {"home": "/home/jovyan"},
        "ports": [
            {
                "id": kind["port_id"],
                "defaultDisplayName": kind["display"],
                "protocol": "HTTP",
                "httpProxy": {"removePathPrefix": kind["remove_prefix"], "requestHeaders": kind["headers"]},
            }
        ],
    }
    if kind["env"]:
        template["extraEnv"] = kind["env"]
    template["options"] = {
        "imageConfig": {"spawner": {"default": option_id(chosen)}, "values": image_values},
        "podConfig": {"spawner": {"default": CPU_POD_CONFIG}, "values": pod_config},
    }
    return {
        "apiVersion": API_VERSION,
        "kind": "WorkspaceKind",
        "metadata": {"name": kind["name"]},
        "spec": {
            "spawner": {
                "displayName": kind["display"],
                "description": f"A Workspace which runs {kind['display']} in a Pod (from the nbcatalog catalog)",
                "hidden": False,
                "deprecated": False,
                "icon": {"url": "https://jupyter.org/assets/favicons/apple-touch-icon-152x152.png"},
                "logo": {"url": "https://jupyter.org/assets/favicons/apple-touch-icon-152x152.png"},
            },
            "podTemplate": template,
        },
    }


def read_previous(text: str | None, source: str) -> dict[str, dict[str, Any]]:
    """WorkspaceKinds of a previous export (or an admin's file) by name."""
    if not text:
        return {}
    check_yaml(text, source)
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        raise CatalogError(f"cannot read the previous WorkspaceKinds: {exc}", where=source) from None
    except RecursionError:  # hostile nesting such as [[[[...]]]]
        raise CatalogError("YAML nested too deeply", where=source) from None
    return {
        doc["metadata"]["name"]: doc
        for doc in documents
        if isinstance(doc, dict) and doc.get("kind") == "WorkspaceKind" and isinstance(doc.get("metadata"), dict)
    }


def export_workspacekinds(
    catalog: Catalog, plan: GpuPlan, *, previous: str | None = None, source: str = "workspacekind.yaml"
) -> ExportResult:
    before = read_previous(previous, source)
    offered = catalog.offered("workspacekind")
    documents = []
    for kind_name, kind in KINDS.items():
        images = [image for image in offered if image.kind == kind_name]
        if images:
            documents.append(workspace_kind(kind_name, images, catalog, plan, before.get(kind["name"])))
    warnings = [note] if (note := plan.note()) else []
    dropped = sorted(set(before) - {doc["metadata"]["name"] for doc in documents})
    if dropped:
        warnings.append(f"WorkspaceKind(s) {', '.join(dropped)} no longer exported; delete them by hand when unused")
    body = "---\n".join(yamlsplice.block(doc, 0) for doc in documents)
    return ExportResult(body, tuple(warnings))
