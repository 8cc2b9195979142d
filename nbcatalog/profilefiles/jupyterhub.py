"""z2jh ``singleuser`` values and KubeSpawner's ``profile_list``: one shape, one walker.

Profiles, their ``profile_options`` and choices, and ``kubespawner_override`` as KubeSpawner applies
it: known keys change the scheduling, keys it silently ignores are listed (z2jh#1744).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from nbcatalog.profilefiles.model import (
    CHART_DEDICATED_KEYS,
    FileKind,
    IgnoredKey,
    ProfileImage,
    Scheduling,
    common_scheduling,
    string_map,
)
from nbcatalog.profilefiles.yamlpos import item_pos, key_pos, node_pos, record_at, tag_field, value_pos

_CHART_ONLY_KEYS = {
    "extra_tolerations": "tolerations (which replaces the chart's defaults: repeat them)",
    "extra_resource": "extra_resource_limits / extra_resource_guarantees",
    "extra_env": "environment",
    "extra_node_affinity": "node_affinity_required / node_affinity_preferred",
    "extra_pod_affinity": "pod_affinity_required / pod_affinity_preferred",
}
_CAMEL_HINTS = {
    "nodeSelector": "node_selector",
    "extraResource": "extra_resource_limits / extra_resource_guarantees",
    "extraResourceLimits": "extra_resource_limits",
    "extraTolerations": "tolerations (which replaces the chart's defaults: repeat them)",
    "extraEnv": "environment",
}


class ProfileWalker:
    """Walks z2jh ``singleuser`` values or KubeSpawner config: profiles, options, choices, overrides."""

    def __init__(self, path: str, lines: list[str], kind: FileKind) -> None:
        self.path, self.lines, self.kind = path, lines, kind

    def singleuser(self, values: Mapping[str, Any], where: str) -> list[ProfileImage]:
        default_tolerations = [
            {"key": key, "operator": "Equal", "value": "user", "effect": "NoSchedule"}
            for key in sorted(CHART_DEDICATED_KEYS)
            if self.kind == "z2jh"
        ]
        selector = values.get("nodeSelector") or {}
        limits = (values.get("extraResource") or {}).get("limits") or {}
        base = Scheduling(
            node_selector={str(k): str(v) for k, v in selector.items() if v is not None},
            tolerations=tuple(default_tolerations + list(values.get("extraTolerations") or [])),
            resource_limits=string_map(limits),
        )
        return self.walk(values.get("image"), base, values.get("profileList"), where)

    def walk(self, image: Any, base: Scheduling, profiles: Any, where: str) -> list[ProfileImage]:
        records: list[ProfileImage] = []
        default = self.default_image(image, where)
        if default is not None:
            records.append(replace(default, scheduling=base))
        items = list(profiles.items()) if isinstance(profiles, Mapping) else list(enumerate(profiles or []))
        for key, profile in items:
            if isinstance(profile, Mapping):
                if default is not None:
                    position = value_pos(profiles, key) if isinstance(key, str) else item_pos(profiles, key)
                    line, col = position or (default.line, default.col)
                    default = replace(default, line=line, col=col, tag_position=None, inherited=True)
                records.extend(self.profile(profile, key, base, default, f"{where}.profileList[{key}]"))
        return records

    def default_image(self, image: Any, where: str) -> ProfileImage | None:
        if isinstance(image, str):
            return record_at(self.path, self.lines, image, node_pos(image), self.kind, f"{where}.image")
        if not isinstance(image, Mapping) or not isinstance(image.get("name"), str):
            return None
        tag, tag_pos = tag_field(image, self.lines)
        pos = value_pos(image, "name") or (1, 1)
        text = f"{image['name']}:{tag}" if tag else str(image["name"])
        return ProfileImage(self.path, *pos, text, self.kind, f"{where}.image", tag_position=tag_pos)

    def profile(
        self, profile: Mapping[str, Any], key: object, base: Scheduling, default: ProfileImage | None, where: str
    ) -> list[ProfileImage]:
        title = profile.get("display_name") or profile.get("slug") or key
        context = f'{where} "{title}"'
        override = profile.get("kubespawner_override") or {}
        scheduling = self.override(base, override)
        options = profile.get("profile_options") or {}
        image_options: list[tuple[Any, Mapping[str, Any]]] = []
        other_options: list[tuple[Any, Mapping[str, Any]]] = []
        for name, option in options.items() if isinstance(options, Mapping) else []:
            if isinstance(option, Mapping):
                sets_image = any(
                    _image_key((choice or {}).get("kubespawner_override")) is not None
                    for choice in [*(option.get("choices") or {}).values(), option.get("unlisted_choice")]
                    if isinstance(choice, Mapping)
                )
                (image_options if sets_image else other_options).append((name, option))
        for _, option in other_options:
            choices = [
                self.override(scheduling, choice.get("kubespawner_override") or {})
                for choice in (option.get("choices") or {}).values()
                if isinstance(choice, Mapping)
            ]
            if choices:
                agreed = common_scheduling(choices)
                scheduling = replace(
                    scheduling,
                    node_selector={**scheduling.node_selector, **agreed.node_selector},
                    resource_limits={**scheduling.resource_limits, **agreed.resource_limits},
                    gpu_offered=scheduling.gpu_offered or any(choice.gpu_limited for choice in choices),
                    ignored_keys=tuple(dict.fromkeys(k for c in choices for k in c.ignored_keys)),
                    tolerations_overridden=scheduling.tolerations_overridden
                    or any(c.tolerations_overridden for c in choices),
                    tolerations=agreed.tolerations or scheduling.tolerations,
                )
        records: list[ProfileImage] = []
        if _image_key(override) is not None:
            records.append(self.image(override, context, scheduling))
        elif not image_options and default is not None:
            records.append(replace(default, context=context, scheduling=scheduling))
        for name, option in image_options:
            for choice_name, choice in (option.get("choices") or {}).items():
                choice_override = (choice or {}).get("kubespawner_override") or {}
                if _image_key(choice_override) is not None:
                    choice_scheduling = self.override(scheduling, choice_override)
                    records.append(self.image(choice_override, f"{context} {name}={choice_name}", choice_scheduling))
            unlisted = option.get("unlisted_choice")
            if isinstance(unlisted, Mapping) and _image_key(unlisted.get("kubespawner_override")) is not None:
                record = self.image(unlisted["kubespawner_override"], f"{context} {name} (unlisted)", scheduling)
                records.append(replace(record, template="{value}" in record.image, tag_position=None))
        return records

    def image(self, override: Mapping[str, Any], context: str, scheduling: Scheduling) -> ProfileImage:
        key = _image_key(override) or "image"
        pos = value_pos(override, key)
        record = record_at(self.path, self.lines, override[key], pos, self.kind, context)
        return replace(record, scheduling=scheduling)

    def override(self, base: Scheduling, override: Mapping[str, Any]) -> Scheduling:
        """KubeSpawner's view after ``kubespawner_override``: known keys apply, unknown ones are listed."""
        ignored = list(base.ignored_keys)
        for key in override:
            text = str(key)
            hint = _CAMEL_HINTS.get(text) or _CHART_ONLY_KEYS.get(text)
            if hint is None and re.search(r"[a-z][A-Z]", text):
                hint = "KubeSpawner options are snake_case"
            if hint is not None:
                line, col = key_pos(override, key)
                ignored.append(IgnoredKey(text, line, col, hint))
        selector = {**base.node_selector, **string_map(override.get("node_selector"))}
        limits = {**base.resource_limits, **string_map(override.get("extra_resource_limits"))}
        replaced = "tolerations" in override
        return replace(
            base, node_selector={k: v for k, v in selector.items() if v != "None"}, resource_limits=limits,
            tolerations=tuple(override.get("tolerations") or ()) if replaced else base.tolerations,
            tolerations_overridden=base.tolerations_overridden or replaced,
            ignored_keys=tuple(dict.fromkeys(ignored)),
        )  # fmt: skip


def _image_key(override: Any) -> str | None:
    """``image``, or ``image_spec`` (KubeSpawner's name for it before 0.12), when it holds a string."""
    if isinstance(override, Mapping):
        for key in ("image", "image_spec"):
            if isinstance(override.get(key), str):
                return key
    return None
