"""catalog.yaml read as a profile source: its entries are audited like any profile's images."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from nbcatalog.profilefiles.model import ProfileImage, Scheduling, string_map
from nbcatalog.profilefiles.yamlpos import scalar_text, tag_field, value_pos


def read_catalog(document: Mapping[str, Any], path: str, lines: list[str]) -> list[ProfileImage]:
    gpu = document.get("gpu") or {}
    resource, count = str(gpu.get("resource", "nvidia.com/gpu")), str(gpu.get("count", 1))
    gpu_scheduling = Scheduling(
        node_selector=string_map(gpu.get("node_selector")),
        tolerations=tuple(gpu.get("tolerations") or ()),
        resource_limits={resource: count},
    )
    records: list[ProfileImage] = []
    for index, entry in enumerate(document["images"]):
        image_pos = value_pos(entry, "image")
        repository = scalar_text(entry.get("image"), image_pos, lines) or ""
        tag, tag_pos = tag_field(entry, lines)
        digest = entry.get("digest")
        mode = str(entry.get("gpu", "auto")).lower()
        scheduling = gpu_scheduling if mode == "true" else Scheduling()
        records.append(
            ProfileImage(
                path, *(image_pos or (1, 1)), f"{repository}:{tag}" if tag else repository, "catalog",
                f"images[{index}] {entry.get('name', '?')}", replace(scheduling, gpu_mode=mode),
                tag_position=tag_pos, catalog_name=entry.get("name"),
                tag_policy=entry.get("tag_policy"), pinned_digest=str(digest) if digest else None,
            )
        )  # fmt: skip
    return records
