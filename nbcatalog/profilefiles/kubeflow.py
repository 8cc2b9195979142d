"""Kubeflow v1's ``spawner_ui_config.yaml``: bare, inside a ConfigMap, or packed by a kustomization."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from nbcatalog.errors import BadInputError
from nbcatalog.profilefiles.model import Position, ProfileImage, Scheduling
from nbcatalog.profilefiles.yamlpos import item_pos, load_yaml_all, record_at, tag_position, value_pos


def read_kubeflow(defaults: Any, path: str, lines: list[str], where: str) -> list[ProfileImage]:
    """Every image of ``spawnerFormDefaults``' three image groups, with the GPU dropdown's scheduling."""
    if not isinstance(defaults, Mapping):
        raise BadInputError("spawnerFormDefaults must be a mapping", where=path)
    gpus = defaults.get("gpus") or {}
    value = gpus.get("value") or {} if isinstance(gpus, Mapping) else {}
    vendors = [v.get("limitsKey") for v in value.get("vendors") or [] if isinstance(v, Mapping)]
    num = str(value.get("num", "none"))
    read_only = bool(gpus.get("readOnly")) if isinstance(gpus, Mapping) else False
    limits: dict[str, str] = {}
    if read_only and num != "none" and value.get("vendor"):
        limits[str(value["vendor"])] = num
    scheduling = Scheduling(resource_limits=limits, gpu_offered=bool(vendors) and not (read_only and num == "none"))
    records: list[ProfileImage] = []
    for group in ("image", "imageGroupOne", "imageGroupTwo"):
        section = defaults.get(group)
        if not isinstance(section, Mapping):
            continue
        if isinstance(section.get("value"), str):
            pos = value_pos(section, "value")
            records.append(record_at(path, lines, section["value"], pos, "kubeflow", f"{where}.{group}.value"))
        for index, option in enumerate(section.get("options") or []):
            if isinstance(option, str):
                pos = item_pos(section["options"], index)
                records.append(record_at(path, lines, option, pos, "kubeflow", f"{where}.{group}.options[{index}]"))
    return [replace(record, scheduling=scheduling) for record in records]


def read_configmap(document: Mapping[str, Any], path: str, lines: list[str]) -> list[ProfileImage]:
    data = document["data"]
    key = next(k for k in data if str(k).endswith("spawner_ui_config.yaml"))
    pos = value_pos(data, key)
    inner_lines = str(data[key]).splitlines()
    inner = load_yaml_all(str(data[key]), f"{path} (data.{key})")
    if not inner or not isinstance(inner[0], Mapping) or "spawnerFormDefaults" not in inner[0]:
        raise BadInputError(f"data.{key} holds no spawnerFormDefaults", where=path)
    records = read_kubeflow(inner[0]["spawnerFormDefaults"], path, inner_lines, f"data.{key}")
    return [shift_embedded(record, pos, lines) for record in records]


def shift_embedded(record: ProfileImage, block: Position | None, lines: list[str]) -> ProfileImage:
    """Map a position inside a ``|`` block scalar back to the file; else point at the key."""
    if block is None:
        return replace(record, tag_position=None)
    first = block[0] + 1 if lines[block[0] - 1].rstrip().endswith(("|", "|-", "|+")) else block[0]
    line_no = first + record.line - 1
    if line_no > len(lines):
        return replace(record, line=block[0], col=block[1], tag_position=None)
    line = lines[line_no - 1]
    indent = len(lines[first - 1]) - len(lines[first - 1].lstrip())
    pos = (line_no, record.col + indent)
    if not line[pos[1] - 1 :].lstrip("'\"").startswith(record.image):
        return replace(record, line=block[0], col=block[1], tag_position=None)
    return replace(record, line=pos[0], col=pos[1], tag_position=tag_position(record.image, pos, lines))


def read_kustomization(document: Mapping[str, Any], path: str) -> list[ProfileImage]:
    """Follow ``configMapGenerator`` ``files:`` to the spawner_ui_config.yaml it packs."""
    from nbcatalog.profilefiles.reader import read_profile_file  # the packed file is read like any other

    records: list[ProfileImage] = []
    for generator in document.get("configMapGenerator") or []:
        for entry in generator.get("files") or [] if isinstance(generator, Mapping) else []:
            target = str(entry).split("=", 1)[-1]
            if target.endswith("spawner_ui_config.yaml"):
                records.extend(read_profile_file(Path(path).parent / target))
    return records
