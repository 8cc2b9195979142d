"""catalog.yaml read as a profile source: its entries are audited like any profile's images."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from nbcatalog.catalog.model import EXPORT_FORMATS
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
        digest_pos = value_pos(entry, "digest") if digest else None
        if digest_pos is not None and lines[digest_pos[0] - 1][digest_pos[1] - 1 : digest_pos[1]] in ("'", '"'):
            digest_pos = (digest_pos[0], digest_pos[1] + 1)
        mode = str(entry.get("gpu", "auto")).lower()
        scheduling = gpu_scheduling if mode == "true" else Scheduling()
        records.append(
            ProfileImage(
                path, *(image_pos or (1, 1)), f"{repository}:{tag}" if tag else repository, "catalog",
                f"images[{index}] {entry.get('name', '?')}", replace(scheduling, gpu_mode=mode),
                tag_position=tag_pos, catalog_name=entry.get("name"),
                tag_policy=entry.get("tag_policy"), pinned_digest=str(digest) if digest else None,
                digest_position=digest_pos,
                pins_digest=entry.get("pin", document.get("pin")) == "digest", exports=_exports(entry),
            )
        )  # fmt: skip
    return records


def _exports(entry: Mapping[str, Any]) -> tuple[str, ...]:
    """The entry's ``exports`` (every format when it says none); a malformed one is load_catalog's to report."""
    value = entry.get("exports")
    return tuple(str(item) for item in value) if isinstance(value, list) else EXPORT_FORMATS
