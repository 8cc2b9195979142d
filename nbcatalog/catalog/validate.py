"""Validation of loaded catalog YAML into the model, every problem named by file:line:column."""

from __future__ import annotations

import datetime
import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nbcatalog.catalog.model import (
    CLASS_KEYS,
    EXPORT_FORMATS,
    GPU_KEYS,
    IMAGE_KEYS,
    KINDS,
    KUBEFLOW_KEYS,
    NAME_RE,
    PIN_MODES,
    REGISTRY_KEYS,
    TOP_KEYS,
    Catalog,
    CatalogImage,
    GpuClass,
    GpuConfig,
    KubeflowOptions,
    RegistryConfig,
)
from nbcatalog.errors import CatalogError, InvalidReferenceError
from nbcatalog.policy import KUBEFLOW_MODES, POLICY_KEYS, POLICY_KINDS, Policy
from nbcatalog.refs import OciLayoutRef, parse_reference
from nbcatalog.yamlio import item_position, key_position, node_position, read_yaml, value_position


def load_catalog(path: str | Path) -> Catalog:
    """Read and validate catalog.yaml; any problem raises CatalogError (exit 2) naming file:line:col."""
    return catalog_from_data(read_yaml(path), str(path))


def catalog_from_data(data: Any, source: str) -> Catalog:
    """Validate loaded YAML (round-trip or plain) into a Catalog."""
    return _Validator(source).catalog(data)


class _Validator:
    """Walks the loaded document with positions at hand, so every error says where."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.nodes: dict[str, Any] = {}
        self.raw_images: list[Any] = []
        self.base_dir = str(Path(source).resolve().parent)
        self.pin = "tag"

    def error(self, message: str, position: tuple[int, int] | None) -> CatalogError:
        where = f"{self.source}:{position[0]}:{position[1]}" if position else self.source
        return CatalogError(message, where=where)

    def mapping(self, node: Any, what: str, position: tuple[int, int] | None) -> Mapping[Any, Any]:
        if not isinstance(node, Mapping):
            raise self.error(f"{what} must be a mapping, got {_type_name(node)}", position)
        return node

    def check_keys(self, node: Mapping[Any, Any], allowed: tuple[str, ...], what: str) -> None:
        for key in node:
            if isinstance(key, str) and (key in allowed or key.startswith("x-")):
                continue
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (expected one of: {', '.join(allowed)})"
            raise self.error(f"unknown key {key!r} in {what}{hint}", key_position(node, key))

    def string(self, node: Mapping[Any, Any], key: str, what: str, *, required: bool = False) -> str | None:
        if key not in node or node[key] is None:
            if required:
                raise self.error(f"{what} needs {key!r}", node_position(node))
            return None
        value = node[key]
        if isinstance(value, datetime.date):
            return value.isoformat()  # an unquoted 2024-05-27 tag: lossless, accept it
        if isinstance(value, bool) or not isinstance(value, str):
            raise self.error(
                f"{what}.{key} must be a string, got {_type_name(value)} {value!r} (quote it)",
                value_position(node, key),
            )
        if not value.strip():
            raise self.error(f"{what}.{key} must not be empty", value_position(node, key))
        return str(value)

    def boolean(self, node: Mapping[Any, Any], key: str, what: str, default: bool) -> bool:
        value = node.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(f"{what}.{key} must be true or false, got {value!r}", value_position(node, key))
        return bool(value)

    def string_map(self, node: Mapping[Any, Any], key: str, what: str) -> dict[str, str]:
        value = node.get(key)
        if value is None:
            return {}
        mapping = self.mapping(value, f"{what}.{key}", value_position(node, key))
        out: dict[str, str] = {}
        for k, v in mapping.items():
            if isinstance(v, bool | dict | list) or v is None:
                raise self.error(f"{what}.{key}.{k} must be a string", value_position(mapping, k))
            out[str(k)] = str(v)
        return out

    def tolerations(self, node: Mapping[Any, Any], what: str) -> tuple[dict[str, Any], ...]:
        value = node.get("tolerations")
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.error(f"{what}.tolerations must be a list", value_position(node, "tolerations"))
        out = []
        for index, item in enumerate(value):
            toleration = self.mapping(item, f"{what}.tolerations[{index}]", item_position(value, index))
            allowed = ("key", "operator", "value", "effect", "tolerationSeconds")
            self.check_keys(toleration, allowed, f"{what}.tolerations[{index}]")
            out.append({str(k): _plain(v) for k, v in toleration.items()})
        return tuple(out)

    def catalog(self, data: Any) -> Catalog:
        if data is None:
            data = {}
        root = self.mapping(data, "the catalog", (1, 1))
        self.check_keys(root, TOP_KEYS, "the catalog")
        registries = self.registries(root)
        gpu = self.gpu(root.get("gpu"), value_position(root, "gpu"))
        kubeflow = self.kubeflow(root)
        policy = self.policy(root)
        self.pin = self.pin_mode(root, "the catalog") or "tag"
        raw_images = root.get("images") or []
        if not isinstance(raw_images, list):
            raise self.error("images must be a list", value_position(root, "images"))
        images = [self.image(item, item_position(raw_images, i)) for i, item in enumerate(raw_images)]
        self.raw_images = raw_images
        self.nodes = {image.name: raw_images[i] for i, image in reversed(list(enumerate(images)))}
        self.relations(images)
        return Catalog(self.source, images, gpu, registries, kubeflow, policy, self.pin)

    def pin_mode(self, node: Mapping[Any, Any], what: str) -> str | None:
        value = self.string(node, "pin", what)
        if value is not None and value not in PIN_MODES:
            raise self.error(f"{what}.pin must be one of {', '.join(PIN_MODES)}, got {value!r}",
                             value_position(node, "pin"))  # fmt: skip
        return value

    def policy(self, root: Mapping[Any, Any]) -> Policy:
        """catalog.yaml ``policy:``; unknown keys (and unknown finding kinds under ``severity``) are
        errors with a did-you-mean, as everywhere: a misspelt rule would silently enforce nothing."""
        value = root.get("policy")
        if value is None:
            return Policy()
        section = self.mapping(value, "policy", value_position(root, "policy"))
        self.check_keys(section, POLICY_KEYS, "policy")
        registries = self.string_list(section, "registries", "policy")
        platforms = self.string_list(section, "platforms", "policy")
        for index, platform in enumerate(platforms):
            parts = platform.split("/")
            if not 2 <= len(parts) <= 3 or not all(parts):
                raise self.error(
                    f"policy.platforms[{index}] must be os/arch[/variant] (linux/amd64), got {platform!r}",
                    item_position(section["platforms"], index),
                )
        age = section.get("max_age_days")
        if age is not None and (isinstance(age, bool) or not isinstance(age, int) or age < 1):
            raise self.error(f"policy.max_age_days must be a positive number of days, got {age!r}",
                             value_position(section, "max_age_days"))  # fmt: skip
        kubeflow = section.get("kubeflow_ready", "off")
        if kubeflow is False:
            kubeflow = "off"  # YAML 1.1 reads a bare `off` as false
        if kubeflow not in KUBEFLOW_MODES:
            raise self.error(f"policy.kubeflow_ready must be one of {', '.join(KUBEFLOW_MODES)}, got {kubeflow!r}",
                             value_position(section, "kubeflow_ready"))  # fmt: skip
        severity: dict[str, Any] = {}
        raw = section.get("severity")
        if raw is not None:
            levels = self.mapping(raw, "policy.severity", value_position(section, "severity"))
            self.check_keys(levels, tuple(POLICY_KINDS), "policy.severity")
            for kind, level in levels.items():
                if level not in ("info", "warning", "error"):
                    raise self.error(f"policy.severity.{kind} must be info, warning or error, got {level!r}",
                                     value_position(levels, kind))  # fmt: skip
                severity[str(kind)] = str(level)
        return Policy(
            registries=tuple(registries),
            platforms=tuple(platforms),
            max_age_days=int(age) if age is not None else None,
            require_digest=self.boolean(section, "require_digest", "policy", False),
            kubeflow_ready=kubeflow,
            severity=severity,
            line=(key_position(root, "policy") or (0, 0))[0],
        )

    def string_list(self, node: Mapping[Any, Any], key: str, what: str) -> list[str]:
        value = node.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(f"{what}.{key} must be a list", value_position(node, key))
        out = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.error(f"{what}.{key}[{index}] must be a non-empty string, got {item!r}",
                                 item_position(value, index))  # fmt: skip
            out.append(str(item))
        return out

    def registries(self, root: Mapping[Any, Any]) -> dict[str, RegistryConfig]:
        value = root.get("registries")
        if value is None:
            return {}
        section = self.mapping(value, "registries", value_position(root, "registries"))
        out = {}
        for host, config in section.items():
            entry = self.mapping(config or {}, f"registries.{host}", value_position(section, host))
            self.check_keys(entry, REGISTRY_KEYS, f"registries.{host}")
            what = f"registries.{host}"
            out[str(host)] = RegistryConfig(
                str(host), self.boolean(entry, "insecure", what, False), self.string(entry, "ca_cert", what)
            )
        return out

    def kubeflow(self, root: Mapping[Any, Any]) -> KubeflowOptions:
        value = root.get("kubeflow")
        if value is None:
            return KubeflowOptions()
        section = self.mapping(value, "kubeflow", value_position(root, "kubeflow"))
        self.check_keys(section, KUBEFLOW_KEYS, "kubeflow")
        return KubeflowOptions(
            self.boolean(section, "allow_custom_image", "kubeflow", True),
            self.boolean(section, "hide_registry", "kubeflow", True),
            self.boolean(section, "hide_tag", "kubeflow", False),
        )

    def gpu(self, value: Any, position: tuple[int, int] | None) -> GpuConfig:
        if value is None:
            return GpuConfig()
        section = self.mapping(value, "gpu", position)
        self.check_keys(section, GPU_KEYS, "gpu")
        count = section.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise self.error(f"gpu.count must be a positive integer, got {count!r}", value_position(section, "count"))
        vendor = self.string(section, "vendor", "gpu") or self.string(section, "display_name", "gpu")
        raw_classes = section.get("classes") or []
        if not isinstance(raw_classes, list):
            raise self.error("gpu.classes must be a list", value_position(section, "classes"))
        classes = [self.gpu_class(item, item_position(raw_classes, i), i) for i, item in enumerate(raw_classes)]
        seen: set[str] = set()
        for index, gpu_class in enumerate(classes):
            if gpu_class.name in seen:
                raise self.error(f"duplicate GPU class name {gpu_class.name!r}", item_position(raw_classes, index))
            seen.add(gpu_class.name)
        return GpuConfig(
            resource=self.string(section, "resource", "gpu") or "nvidia.com/gpu",
            count=int(count),
            vendor=vendor or "NVIDIA GPU",
            node_selector=self.string_map(section, "node_selector", "gpu"),
            tolerations=self.tolerations(section, "gpu"),
            classes=tuple(classes),
        )

    def gpu_class(self, item: Any, position: tuple[int, int] | None, index: int) -> GpuClass:
        what = f"gpu.classes[{index}]"
        node = self.mapping(item, what, position)
        self.check_keys(node, CLASS_KEYS, what)
        name = self.string(node, "name", what, required=True) or ""
        if not NAME_RE.match(name):
            raise self.error(f"{what}.name {name!r} must be lowercase letters, digits, '-', '.', '_'",
                             value_position(node, "name"))  # fmt: skip
        return GpuClass(
            name=name,
            display_name=self.string(node, "display_name", what) or name,
            description=self.string(node, "description", what) or "",
            node_selector=self.string_map(node, "node_selector", what),
            tolerations=self.tolerations(node, what),
            limits=self.string_map(node, "limits", what),
        )

    def image(self, item: Any, position: tuple[int, int] | None) -> CatalogImage:
        node = self.mapping(item, "an images entry", position)
        name_hint = node.get("name") if isinstance(node.get("name"), str) else "?"
        what = f"image {name_hint!r}"
        self.check_keys(node, IMAGE_KEYS, what)
        name = self.string(node, "name", "an images entry", required=True) or ""
        if not NAME_RE.match(name):
            raise self.error(
                f"image name {name!r} must be 1-63 lowercase letters, digits, '-', '.', '_' "
                "(it becomes a profile slug)",
                value_position(node, "name"),
            )
        repository = self.string(node, "image", what, required=True) or ""
        tag = self.string(node, "tag", what, required=True) or ""
        digest = self.string(node, "digest", what)
        kind = self.string(node, "kind", what) or "jupyter"
        if kind not in KINDS:
            raise self.error(
                f"{what}.kind must be one of {', '.join(KINDS)}, got {kind!r}", value_position(node, "kind")
            )
        policy = self.string(node, "tag_policy", what) or "auto"
        self.check_policy(policy, node, what)
        gpu = node.get("gpu", "auto")
        if gpu is None:
            gpu = "auto"
        if gpu != "auto" and not isinstance(gpu, bool):
            raise self.error(f"{what}.gpu must be auto, true or false, got {gpu!r}", value_position(node, "gpu"))
        image = CatalogImage(
            name=name,
            image=repository,
            tag=tag,
            kind=kind,
            display_name=self.string(node, "display_name", what) or name,
            description=self.string(node, "description", what) or "",
            parent=self.string(node, "parent", what),
            gpu=gpu,
            tag_policy=policy,
            default=self.boolean(node, "default", what, False),
            digest=digest,
            hidden=self.boolean(node, "hidden", what, False),
            exports=self.exports(node, what),
            pin=self.pin_mode(node, what) or self.pin,
            line=position[0] if position else 0,
            base_dir=self.base_dir,
        )
        self.check_reference(image, node, what)
        return image

    def exports(self, node: Mapping[Any, Any], what: str) -> tuple[str, ...]:
        value = node.get("exports")
        if value is None:
            return EXPORT_FORMATS
        if not isinstance(value, list) or not all(item in EXPORT_FORMATS for item in value):
            raise self.error(
                f"{what}.exports must be a list of {', '.join(EXPORT_FORMATS)}", value_position(node, "exports")
            )
        return tuple(str(item) for item in value)

    def check_policy(self, policy: str, node: Mapping[Any, Any], what: str) -> None:
        """One parser for tag policies (tagfamilies'), so the catalog accepts what the audit applies."""
        from nbcatalog.errors import BadInputError
        from nbcatalog.tagfamilies import parse_policy

        try:
            parse_policy(policy)
        except BadInputError as exc:
            raise self.error(f"{what}: {exc.message}", value_position(node, "tag_policy")) from None

    def check_reference(self, image: CatalogImage, node: Mapping[Any, Any], what: str) -> None:
        try:
            bare = parse_reference(image.image)
        except InvalidReferenceError as exc:
            raise self.error(f"{what}.image: {exc}", value_position(node, "image")) from None
        if bare.digest or (bare.tag and not isinstance(bare, OciLayoutRef)):
            raise self.error(
                f"{what}.image must be a repository without tag or digest (use tag: / digest:), got {image.image!r}",
                value_position(node, "image"),
            )
        try:
            _ = image.ref
        except InvalidReferenceError as exc:
            key = "digest" if image.digest and image.digest in str(exc) else "tag"
            raise self.error(f"{what}.{key}: {exc.message}", value_position(node, key)) from None

    def where(self, image: CatalogImage, key: str) -> tuple[int, int] | None:
        """Position of ``key`` in ``image``'s entry; the entry itself for edits made in memory."""
        node = self.nodes.get(image.name)
        return value_position(node, key) or key_position(node, "name") or (image.line, 1)

    def duplicate_position(self, image: CatalogImage) -> tuple[int, int] | None:
        seen = 0
        for node in self.raw_images:
            if isinstance(node, Mapping) and node.get("name") == image.name:
                seen += 1
                if seen == 2:
                    return key_position(node, "name") or (image.line, 1)
        return (image.line, 1)

    def relations(self, images: list[CatalogImage]) -> None:
        by_name: dict[str, CatalogImage] = {}
        for image in images:
            if image.name in by_name:
                first = by_name[image.name]
                message = f"duplicate image name {image.name!r} (first at line {first.line})"
                raise self.error(message, self.duplicate_position(image))
            by_name[image.name] = image
        defaults = [image for image in images if image.default]
        for index, second in enumerate(defaults):
            for first in defaults[:index]:
                shared = [fmt for fmt in first.exports if fmt in second.exports]
                if shared:
                    message = (
                        f"more than one image has default: true (lines {first.line}, {second.line}) "
                        f"for the same export ({', '.join(shared)})"
                    )
                    raise self.error(message, self.where(second, "default"))
        for image in images:
            if image.parent is not None and image.parent not in by_name:
                close = difflib.get_close_matches(image.parent, list(by_name), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                message = f"image {image.name!r}: unknown parent {image.parent!r}{hint}"
                raise self.error(message, self.where(image, "parent"))
        for image in images:
            chain = [image.name]
            current = image
            while current.parent is not None:
                current = by_name[current.parent]
                if current.name in chain:
                    cycle = " -> ".join([*chain[chain.index(current.name) :], current.name])
                    raise self.error(f"parent cycle: {cycle}", self.where(image, "parent"))
                chain.append(current.name)


def _plain(value: Any) -> Any:
    """Round-trip scalars and containers as plain Python values (for exporters and equality)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a string" if isinstance(value, str) else type(value).__name__
