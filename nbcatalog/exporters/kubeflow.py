"""Kubeflow jupyter-web-app ``spawner_ui_config.yaml``: the image sections from the catalog.

``kind`` picks the section (jupyter -> ``image``, codeserver -> ``imageGroupOne``, rstudio ->
``imageGroupTwo``); the default image is each section's ``value``. Merging into an admin's file
replaces only those values and option lists (plus the three top-level booleans and a missing GPU
vendor) as text, so every other key, comment and value stays byte-for-byte. The v1.2 legacy format
(``image`` only, no groups, no booleans) gets its ``image`` section and nothing else.

Kubeflow's form binds no GPU to an image: a user picks the image and, separately, a GPU vendor and
count, an affinity and a toleration group. CUDA images are marked in the options list, a warning
says so, and a fresh file carries the affinity/toleration groups the GPU nodes need.
"""

from __future__ import annotations

from typing import Any

import yaml

from nbcatalog.catalog import Catalog, CatalogImage
from nbcatalog.errors import CatalogError
from nbcatalog.exporters import yamlsplice
from nbcatalog.exporters.common import ExportResult
from nbcatalog.exporters.gpu import GpuPlan, Placement, generic_placement, placements
from nbcatalog.exporters.kubeflow_template import TEMPLATE

SECTIONS = {"jupyter": "image", "codeserver": "imageGroupOne", "rstudio": "imageGroupTwo"}
CONFIGMAP_NAME = "jupyter-web-app-config"
CONFIGMAP_NAMESPACE = "kubeflow"
CONFIGMAP_KEY = "spawner_ui_config.yaml"


def section_values(catalog: Catalog) -> dict[str, tuple[str, list[CatalogImage]]]:
    """section -> (default reference, images) for each of the three image sections."""
    offered = catalog.offered("kubeflow")
    default = catalog.default_for("kubeflow")
    out: dict[str, tuple[str, list[CatalogImage]]] = {}
    for kind, section in SECTIONS.items():
        images = [image for image in offered if image.kind == kind]
        chosen = default if default in images else (images[0] if images else None)
        out[section] = (chosen.reference if chosen else "", images)
    return out


def affinity_option(placement: Placement) -> dict[str, Any]:
    terms = [{"key": k, "operator": "In", "values": [v]} for k, v in placement.node_selector.items()]
    return {
        "configKey": placement.key,
        "displayName": placement.display_name,
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": terms}]}
            }
        },
    }


def toleration_option(placement: Placement) -> dict[str, Any]:
    return {"groupKey": placement.key, "displayName": placement.display_name, "tolerations": placement.tolerations}


def gpu_placements(catalog: Catalog) -> list[Placement]:
    found = placements(catalog.gpu)
    return found if catalog.gpu.classes else [generic_placement(catalog.gpu)]


def export_spawner_config(
    catalog: Catalog, plan: GpuPlan, *, existing: str | None = None, source: str = "spawner_ui_config.yaml"
) -> ExportResult:
    """The spawner config text: merged into ``existing`` when given, else a complete fresh file."""
    cuda = [image for image in catalog.offered("kubeflow") if plan.needs_gpu(image)]
    warnings: list[str] = [note] if (note := plan.note()) else []
    if cuda:
        keys = ", ".join(p.key for p in gpu_placements(catalog))
        warnings.append(
            "Kubeflow's spawner form cannot bind a GPU to an image: users of "
            + ", ".join(image.name for image in cuda)
            + f" must pick GPU vendor {catalog.gpu.vendor!r} and the affinity/toleration group ({keys})"
        )
    fresh = existing is None or not existing.strip()
    text = merge_images(TEMPLATE if fresh else str(existing), catalog, plan, source, warnings, fresh=fresh)
    if fresh and cuda:
        text = _fill_gpu_groups(text, catalog)
    return ExportResult(text, tuple(warnings))


def merge_images(
    text: str, catalog: Catalog, plan: GpuPlan, source: str, warnings: list[str], *, fresh: bool = False
) -> str:
    root = yamlsplice.compose(text, source)
    defaults = yamlsplice.find(root, "spawnerFormDefaults")
    if defaults is None or not isinstance(defaults[1], yaml.MappingNode):
        raise CatalogError("not a spawner_ui_config.yaml: no spawnerFormDefaults mapping", where=source)
    form = defaults[1]
    legacy = yamlsplice.child(form, "imageGroupOne") is None and yamlsplice.child(form, "hideRegistry") is None
    splices: list[yamlsplice.Splice] = []
    for section, (value, images) in section_values(catalog).items():
        found = yamlsplice.child(form, section)
        if found is None:
            if images and legacy:
                warnings.append(f"{source}: legacy format has no {section}; left out {_names(images)}")
            elif images:
                splices.append(_new_section(text, form, section, value, images, plan))
            continue
        trailer = "" if fresh or section != "image" else _groups_note(text, catalog, plan, found[1])
        splices.extend(_section_splices(text, found[1], value, images, plan, source, section, trailer))
    if not legacy:
        splices.extend(_boolean_splices(text, form, catalog))
    if any(plan.needs_gpu(image) for image in catalog.offered("kubeflow")):
        splices.extend(_vendor_splices(text, form, catalog))
    return yamlsplice.apply(text, splices)


def _names(images: list[CatalogImage]) -> str:
    return ", ".join(image.name for image in images)


def _options_block(images: list[CatalogImage], plan: GpuPlan, indent: int) -> str:
    lines = []
    for image in images:
        note = "  # CUDA: pick a GPU, its affinity and toleration group" if plan.needs_gpu(image) else ""
        lines.append(" " * indent + "- " + yamlsplice.scalar(image.reference) + note)
    return "\n".join(lines)


def _section_splices(
    text: str,
    node: yaml.Node,
    value: str,
    images: list[CatalogImage],
    plan: GpuPlan,
    source: str,
    section: str,
    trailer: str = "",
) -> list[yamlsplice.Splice]:
    if not isinstance(node, yaml.MappingNode):
        raise CatalogError(f"spawnerFormDefaults.{section} must be a mapping", where=source)
    out = []
    value_found = yamlsplice.child(node, "value")
    if value_found is not None:
        value_node = value_found[1]
        out.append(
            yamlsplice.Splice(value_node.start_mark.index, yamlsplice.node_end(value_node), yamlsplice.scalar(value))
        )
    options_found = yamlsplice.child(node, "options")
    if options_found is not None:
        key, options = options_found
        if isinstance(options, yaml.SequenceNode) and not options.flow_style and options.value:
            first = options.value[0]
            indent = first.start_mark.column - 2
            start = yamlsplice.line_start(text, first.start_mark.index)
            end = yamlsplice.end_of_line(text, yamlsplice.node_end(options))
            end -= 1 if text[end - 1 : end] == "\n" else 0  # the old list's trailing comment goes too
            body = _options_block(images, plan, indent) if images else " " * indent + "[]"
            if not images:
                start, body = key.end_mark.index + 1, " []"
            out.append(yamlsplice.Splice(start, _past_note(text, end), body + trailer))
        else:
            start = key.end_mark.index + 1
            end = yamlsplice.node_end(options) if options.tag != "tag:yaml.org,2002:null" else start
            indent = key.start_mark.column
            body = "\n" + _options_block(images, plan, indent) if images else " []"
            out.append(yamlsplice.Splice(start, _past_note(text, end), body + trailer))
    return out


NOTE_MARK = "# nbcatalog| "


def _past_note(text: str, end: int) -> int:
    """Extend a splice over the note a previous merge left right after it (so merging is idempotent)."""
    while end < len(text) and text[end] == "\n":
        next_end = text.find("\n", end + 1)
        next_end = len(text) if next_end < 0 else next_end
        if not text[end + 1 : next_end].lstrip(" ").startswith(NOTE_MARK.strip()):
            break
        end = next_end
    return end


def _groups_note(text: str, catalog: Catalog, plan: GpuPlan, section: yaml.Node) -> str:
    """Comment lines with the affinity/toleration options GPU notebooks need and the file lacks.

    A merge must not change the admin's affinityConfig or tolerationGroup, so the groups are
    offered as a note right below the image options instead.
    """
    import json

    if not any(plan.needs_gpu(image) for image in catalog.offered("kubeflow")):
        return ""
    form = (yaml.safe_load(text) or {}).get("spawnerFormDefaults", {})
    have_affinity = {o.get("configKey") for o in (form.get("affinityConfig") or {}).get("options") or []}
    have_groups = {o.get("groupKey") for o in (form.get("tolerationGroup") or {}).get("options") or []}
    wanted = gpu_placements(catalog)
    affinity = [affinity_option(p) for p in wanted if p.key not in have_affinity]
    groups = [toleration_option(p) for p in wanted if p.key not in have_groups]
    if not affinity and not groups:
        return ""
    indent = " " * (section.start_mark.column)
    lines = [
        "CUDA images need a GPU node and Kubeflow binds no GPU to an image: add these options",
        f"(from the catalog's gpu: section) and tell users to pick them with {catalog.gpu.vendor}.",
    ]
    if affinity:
        lines.append("affinityConfig.options:")
        lines.extend(f"  - {json.dumps(option)}" for option in affinity)
    if groups:
        lines.append("tolerationGroup.options:")
        lines.extend(f"  - {json.dumps(option)}" for option in groups)
    return "".join(f"\n{indent}{NOTE_MARK}{line}" for line in lines)


def _new_section(
    text: str, form: yaml.MappingNode, section: str, value: str, images: list[CatalogImage], plan: GpuPlan
) -> yamlsplice.Splice:
    indent = form.value[0][0].start_mark.column
    at = yamlsplice.end_of_line(text, yamlsplice.node_end(form))
    lines = [
        f"{' ' * indent}{section}:",
        f"{' ' * (indent + 2)}value: {yamlsplice.scalar(value)}",
        f"{' ' * (indent + 2)}options:",
        _options_block(images, plan, indent + 2),
    ]
    prefix = "" if text[:at].endswith("\n") else "\n"
    return yamlsplice.Splice(at, at, prefix + "\n".join(lines) + "\n")


def _boolean_splices(text: str, form: yaml.MappingNode, catalog: Catalog) -> list[yamlsplice.Splice]:
    wanted = {
        "allowCustomImage": catalog.kubeflow.allow_custom_image,
        "hideRegistry": catalog.kubeflow.hide_registry,
        "hideTag": catalog.kubeflow.hide_tag,
    }
    out = []
    for key, flag in wanted.items():
        found = yamlsplice.child(form, key)
        if found is None:
            continue
        node = found[1]
        current = node.value.lower() if isinstance(node, yaml.ScalarNode) else None
        if current != ("true" if flag else "false"):
            out.append(yamlsplice.Splice(node.start_mark.index, yamlsplice.node_end(node), yamlsplice.scalar(flag)))
    return out


def _vendor_splices(text: str, form: yaml.MappingNode, catalog: Catalog) -> list[yamlsplice.Splice]:
    """Add the catalog's GPU vendor to ``gpus.value.vendors`` when it is not listed yet."""
    found = yamlsplice.find(form, "gpus", "value", "vendors")
    if found is None:
        return []
    key, vendors = found
    resource = catalog.gpu.resource
    entry = {"limitsKey": resource, "uiName": catalog.gpu.vendor}
    if isinstance(vendors, yaml.SequenceNode):
        for item in vendors.value:
            limits_key = yamlsplice.child(item, "limitsKey")
            if limits_key is not None and limits_key[1].value == resource:
                return []
        if vendors.value and not vendors.flow_style:
            first = vendors.value[0]
            at = yamlsplice.end_of_line(text, yamlsplice.node_end(vendors))
            return [yamlsplice.Splice(at, at, yamlsplice.block([entry], first.start_mark.column - 2))]
    start = key.end_mark.index + 1
    end = yamlsplice.node_end(vendors)
    return [yamlsplice.Splice(start, end, "\n" + yamlsplice.block([entry], key.start_mark.column).rstrip("\n"))]


def _fill_gpu_groups(text: str, catalog: Catalog) -> str:
    """In a fresh file, the affinity and toleration groups that send a notebook to GPU nodes."""
    root = yamlsplice.compose(text, "template")
    splices = []
    for section, build in (("affinityConfig", affinity_option), ("tolerationGroup", toleration_option)):
        found = yamlsplice.find(root, "spawnerFormDefaults", section, "options")
        assert found is not None
        key, options = found
        groups = [build(placement) for placement in gpu_placements(catalog)]
        block = yamlsplice.block(groups, key.start_mark.column + 2).rstrip("\n")
        splices.append(yamlsplice.Splice(key.end_mark.index + 1, yamlsplice.node_end(options), "\n" + block))
    return yamlsplice.apply(text, splices)


def configmap(spawner_config: str) -> str:
    """The ConfigMap the jupyter-web-app mounts (kustomize names it ``jupyter-web-app-config-<hash>``).

    The file goes in as a literal block, line for line as in spawner_ui_config.yaml, so that people
    can read it and ``audit --fix`` can rewrite its tags; a text a literal block cannot hold exactly
    falls back to a quoted scalar.
    """
    metadata = {"name": CONFIGMAP_NAME, "namespace": CONFIGMAP_NAMESPACE, "labels": {"app": "jupyter-web-app"}}
    document: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata}
    head = CONFIGMAP_NOTE + yamlsplice.block(document, 0)
    chomp = "+" if spawner_config.endswith("\n\n") else "" if spawner_config.endswith("\n") else "-"
    lines = "".join(f"    {line}\n" if line.strip() else "\n" for line in spawner_config.splitlines())
    literal = f"{head}data:\n  {CONFIGMAP_KEY}: |{chomp}\n{lines}"
    try:
        if yaml.safe_load(literal)["data"][CONFIGMAP_KEY] == spawner_config:
            return literal
    except (yaml.YAMLError, TypeError, KeyError):
        pass
    return yamlsplice.block({**document, "data": {CONFIGMAP_KEY: spawner_config}}, 0)


CONFIGMAP_NOTE = f"""\
# Kubeflow's manifests deploy this ConfigMap through kustomize, which names it {CONFIGMAP_NAME}-<hash>:
# `kubectl apply` of this file creates a ConfigMap the jupyter-web-app does not mount
# (kubeflow/manifests#2526). Use kustomization.yaml beside it, or `nbcatalog apply --format kubeflow`,
# which patches the ConfigMap the Deployment mounts.
"""

KUSTOMIZATION = f"""\
# Overlay for Kubeflow's jupyter-web-app manifests: add them under resources:, then
# `kustomize build`. The generator replaces the ConfigMap the Deployment mounts, hash suffix and all.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: {CONFIGMAP_NAMESPACE}
configMapGenerator:
  - name: {CONFIGMAP_NAME}
    behavior: replace
    files:
      - {CONFIGMAP_KEY}
"""
