"""Which kind of profile source a YAML document is: recognised by content, never by file name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nbcatalog.catalog.model import TOP_KEYS
from nbcatalog.profilefiles.z2jhvalues import values_paths


def detect(document: Any) -> str | None:
    """``kubeflow``, ``workspacekind``, ``prepuller``, ``configmap``, ``kustomization``, ``list``, ``catalog``,
    ``z2jh``."""
    if not isinstance(document, Mapping):
        return None
    if "spawnerFormDefaults" in document:
        return "kubeflow"
    kind = document.get("kind")
    if kind == "WorkspaceKind":
        return "workspacekind"
    if kind == "DaemonSet" and _pulls_images(document):
        return "prepuller"
    if kind == "ConfigMap" and any(str(k).endswith("spawner_ui_config.yaml") for k in document.get("data") or {}):
        return "configmap"
    if kind == "Kustomization" or "configMapGenerator" in document:
        return "kustomization"
    if kind == "List" and isinstance(document.get("items"), list):  # kubectl get -o yaml
        return "list" if any(detect(item) for item in document["items"]) else None
    images = document.get("images")
    if isinstance(images, list) and images and all(isinstance(i, Mapping) and "image" in i for i in images):
        return "catalog"
    if values_paths(document):  # the chart's values, at the top or under sub-chart keys
        return "z2jh"
    if images == [] and set(document) <= set(TOP_KEYS):
        return "catalog"  # a catalog the admin is just starting: nothing to audit, but not a stranger
    return None


def _pulls_images(document: Mapping[Any, Any]) -> bool:
    """A DaemonSet with init containers: an image pre-puller (nbcatalog's or z2jh's image-puller)."""
    template = (document.get("spec") or {}).get("template") if isinstance(document.get("spec"), Mapping) else None
    pod = template.get("spec") if isinstance(template, Mapping) else None
    return isinstance(pod, Mapping) and bool(pod.get("initContainers"))
