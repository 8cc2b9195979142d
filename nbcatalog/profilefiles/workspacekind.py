"""Kubeflow Notebooks 2.0 WorkspaceKinds: ``imageConfig`` values, scheduled by the ``podConfig`` values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from nbcatalog.profilefiles.model import ProfileImage, Scheduling, common_scheduling, string_map
from nbcatalog.profilefiles.yamlpos import record_at, value_pos


def read_workspacekind(document: Mapping[str, Any], path: str, lines: list[str]) -> list[ProfileImage]:
    options = ((document.get("spec") or {}).get("podTemplate") or {}).get("options") or {}
    name = (document.get("metadata") or {}).get("name", "?")
    pods: list[Scheduling] = []
    for pod in (options.get("podConfig") or {}).get("values") or []:
        spec = pod.get("spec") or {}
        limits = (spec.get("resources") or {}).get("limits") or {}
        pods.append(
            Scheduling(
                node_selector=string_map(spec.get("nodeSelector")),
                tolerations=tuple(spec.get("tolerations") or ()),
                resource_limits=string_map(limits),
            )
        )
    scheduling = replace(common_scheduling(pods), gpu_offered=any(pod.gpu_limited for pod in pods))
    records: list[ProfileImage] = []
    values = (options.get("imageConfig") or {}).get("values") or []
    for value in values:
        spec = value.get("spec") or {}
        if not isinstance(spec.get("image"), str):
            continue
        spawner, redirect = value.get("spawner") or {}, value.get("redirect") or {}
        context = f"WorkspaceKind {name} imageConfig {value.get('id', '?')}"
        pos = value_pos(spec, "image")
        records.append(
            record_at(
                path, lines, spec["image"], pos, "workspacekind", context, scheduling=scheduling,
                hidden=bool(spawner.get("hidden")), redirect_to=redirect.get("to"),
            )
        )  # fmt: skip
    return records
