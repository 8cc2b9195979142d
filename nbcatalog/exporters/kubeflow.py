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

from collections.abc import Callable
from dataclasses import dataclass, field
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


@dataclass(frozen=True, slots=True)
class Section:
    """One image section as a merge writes it: the default and the options, each with a trailing comment."""

    value: str
    options: tuple[tuple[str, str], ...]
    names: str = ""

    @property
    def references(self) -> list[str]:
        return [reference for reference, _ in self.options]


@dataclass(frozen=True, slots=True)
class ImageSections:
    """Everything a merge changes in a spawner config, whatever it came from.

    ``export`` builds it from the catalog, ``apply`` from the exported file, and both hand it to
    :func:`merge_images`: one splice, so the cluster gets exactly what ``export --base`` would write.
    Only the sections listed are touched; a group missing here stays in the file as the admin had it.
    """

    sections: dict[str, Section]
    booleans: dict[str, bool] = field(default_factory=dict)
    vendor: dict[str, str] | None = None


def section_values(catalog: Catalog) -> dict[str, tuple[str, list[CatalogImage]]]:
    """section -> (default reference, images) for each image section the catalog has entries for."""
    offered = catalog.offered("kubeflow")
    default = catalog.default_for("kubeflow")
    out: dict[str, tuple[str, list[CatalogImage]]] = {}
    for kind, section in SECTIONS.items():
        images = [image for image in offered if image.kind == kind]
        if images:
            chosen = default if default in images else images[0]
            out[section] = (chosen.reference, images)
    return out


CUDA_NOTE = "  # CUDA: pick a GPU, its affinity and toleration group"


def catalog_sections(catalog: Catalog, plan: GpuPlan) -> ImageSections:
    """What the catalog manages in a spawner config: its image sections, the booleans, a GPU vendor."""
    sections = {
        section: Section(
            value,
            tuple((image.reference, CUDA_NOTE if plan.needs_gpu(image) else "") for image in images),
            _names(images),
        )
        for section, (value, images) in section_values(catalog).items()
    }
    booleans = {
        "allowCustomImage": catalog.kubeflow.allow_custom_image,
        "hideRegistry": catalog.kubeflow.hide_registry,
        "hideTag": catalog.kubeflow.hide_tag,
    }
    cuda = any(plan.needs_gpu(image) for image in catalog.offered("kubeflow"))
    vendor = {"limitsKey": catalog.gpu.resource, "uiName": catalog.gpu.vendor} if cuda else None
    return ImageSections(sections, booleans, vendor)


def file_sections(text: str, source: str) -> ImageSections:
    """The image sections and booleans an exported spawner config holds, to splice into another one.

    A section without options is left out: it manages nothing (a fresh export keeps ``image`` that
    way when the catalog has no Jupyter image), and splicing it would empty the target's list. An
    option's trailing comment (the ``# CUDA:`` mark) comes along, so the result reads like the export.
    """
    root = yamlsplice.compose(text, source)
    form = _form(root, source)
    sections: dict[str, Section] = {}
    for section in SECTIONS.values():
        found = yamlsplice.child(form, section)
        options = yamlsplice.child(found[1], "options") if found is not None else None
        if found is None or options is None or not isinstance(options[1], yaml.SequenceNode):
            continue
        items = []
        for item in options[1].value:
            if not isinstance(item, yaml.ScalarNode):
                raise CatalogError(
                    f"spawnerFormDefaults.{section}.options must list image references",
                    where=f"{source}:{item.start_mark.line + 1}",
                )
            end = yamlsplice.node_end(item)
            rest = text[end : yamlsplice.end_of_line(text, end)].rstrip("\n")
            items.append((str(item.value), rest if rest.lstrip().startswith("#") else ""))
        if not items:
            continue
        value = yamlsplice.child(found[1], "value")
        default = str(value[1].value) if value is not None and isinstance(value[1], yaml.ScalarNode) else items[0][0]
        sections[section] = Section(default, tuple(items))
    booleans = {}
    for key in ("allowCustomImage", "hideRegistry", "hideTag"):
        flag = yamlsplice.child(form, key)
        if flag is not None and isinstance(flag[1], yaml.ScalarNode) and flag[1].value.lower() in ("true", "false"):
            booleans[key] = flag[1].value.lower() == "true"
    return ImageSections(sections, booleans)


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
    """The spawner config text: merged into ``existing`` when given, else a complete fresh file.

    ``existing`` may be the ConfigMap that holds the config (``data["spawner_ui_config.yaml"]``, the
    form ``audit`` reads and kustomize overlays keep): the merge goes into the embedded text and the
    result is the same ConfigMap, every other byte of it kept.
    """
    cuda = [image for image in catalog.offered("kubeflow") if plan.needs_gpu(image)]
    warnings: list[str] = [note] if (note := plan.note()) else []
    if cuda:
        keys = ", ".join(p.key for p in gpu_placements(catalog))
        warnings.append(
            "Kubeflow's spawner form cannot bind a GPU to an image: users of "
            + ", ".join(image.name for image in cuda)
            + f" must pick GPU vendor {catalog.gpu.vendor!r} and the affinity/toleration group ({keys})"
        )
    wanted = catalog_sections(catalog, plan)
    if existing is None or not existing.strip():
        text = merge_images(_fresh_template(wanted), wanted, "template", warnings, fresh=True)
        return ExportResult(_fill_gpu_groups(text, catalog) if cuda else text, tuple(warnings))

    def merge(text: str, where: str) -> str:
        return merge_images(text, wanted, where, warnings, groups_note=lambda t, n: _groups_note(t, catalog, plan, n))

    embedded = find_embedded(existing, source)
    if embedded is None:
        return ExportResult(merge(existing, source), tuple(warnings))
    try:
        merged = merge(embedded.text, embedded.source)
    except CatalogError as exc:
        raise embedded.locate(exc) from None
    return ExportResult(embedded.replace(merged), tuple(warnings))


def splice_exported(live: str, exported: str, *, live_source: str, source: str) -> tuple[str, list[str]]:
    """``apply``'s merge: the image sections of an exported file spliced into the live config.

    The same :func:`merge_images` as ``export --base``, so what the cluster gets is what exporting into
    a copy of the live config would write. Sections the exported file holds no options for are not
    touched (the admin's code-server or RStudio group stays); the GPU vendors are the cluster's own.
    An empty live key has nothing to keep: the exported text goes in as it is.
    """
    if not live.strip():
        return exported, []
    warnings: list[str] = []
    wanted = file_sections(exported, source)
    if not wanted.sections:
        raise CatalogError("no image section with options to apply", where=source)
    return merge_images(live, wanted, live_source, warnings), warnings


def _fresh_template(wanted: ImageSections) -> str:
    """The template without the groups the catalog has no entries for.

    An empty group would need ``value: ""``, which is no image reference (``audit`` rightly calls it
    invalid). The web app's form disables a group that is missing (``config.imageGroupOne?.value``,
    Kubeflow v1.5 to 26.03), and v1.2's legacy file has no groups at all. ``image`` is read without
    that guard, so it stays, as ``options: []`` with no ``value`` (the shape of v1.2's AWS overlay).
    """
    text = TEMPLATE
    root = yamlsplice.compose(text, "template")
    form = _form(root, "template")
    splices = []
    for section in SECTIONS.values():
        if section in wanted.sections:
            continue
        key, node = yamlsplice.find(form, section) or (None, None)
        assert key is not None and node is not None
        if section == "image":
            value_key, value_node = yamlsplice.child(node, "value") or (None, None)
            assert value_key is not None and value_node is not None
            start = yamlsplice.line_start(text, value_key.start_mark.index)
            splices.append(yamlsplice.Splice(start, yamlsplice.end_of_line(text, value_node.end_mark.index), ""))
            continue
        start = yamlsplice.line_start(text, key.start_mark.index)
        comment = text.rfind("\n", 0, start - 1) + 1  # the group's comment line goes with it
        start = comment if text[comment:start].lstrip().startswith("#") else start
        end = yamlsplice.end_of_line(text, yamlsplice.node_end(node))
        end += 1 if text[end : end + 1] == "\n" else 0  # and the blank line after it
        splices.append(yamlsplice.Splice(start, end, ""))
    return yamlsplice.apply(text, splices)


def _form(root: yaml.Node | None, source: str) -> yaml.MappingNode:
    defaults = yamlsplice.find(root, "spawnerFormDefaults")
    if defaults is None or not isinstance(defaults[1], yaml.MappingNode):
        raise CatalogError("not a spawner_ui_config.yaml: no spawnerFormDefaults mapping", where=source)
    return defaults[1]


def merge_images(
    text: str,
    wanted: ImageSections,
    source: str,
    warnings: list[str],
    *,
    fresh: bool = False,
    groups_note: Callable[[str, yaml.Node], str] | None = None,
) -> str:
    """Splice ``wanted`` into a spawner config: the one merge behind ``export --base`` and ``apply``.

    Each listed section's ``value`` and ``options`` are replaced, a listed section the file lacks is
    added (not in the legacy v1.2 format, which has no groups), and a section not listed is left
    byte for byte: the catalog has nothing to say about it, so it stays the admin's.
    """
    root = yamlsplice.compose(text, source)
    form = _form(root, source)
    legacy = yamlsplice.child(form, "imageGroupOne") is None and yamlsplice.child(form, "hideRegistry") is None
    splices: list[yamlsplice.Splice] = []
    for section in SECTIONS.values():
        found = yamlsplice.child(form, section)
        wanted_section = wanted.sections.get(section)
        if wanted_section is None:
            if found is not None and not fresh and _holds_images(found[1]):
                kind = next(k for k, v in SECTIONS.items() if v == section)
                warnings.append(f"{source}: no {kind} images in the catalog: kept {section} as the file has it")
            continue
        if found is None:
            if legacy:
                warnings.append(f"{source}: legacy format has no {section}; left out {wanted_section.names}")
            else:
                splices.append(_new_section(text, form, section, wanted_section))
            continue
        trailer = groups_note(text, found[1]) if groups_note is not None and section == "image" else ""
        splices.extend(_section_splices(text, found[1], wanted_section, source, section, trailer))
    if not legacy:
        splices.extend(_boolean_splices(form, wanted.booleans))
    if wanted.vendor is not None:
        splices.extend(_vendor_splices(text, form, wanted.vendor))
    return yamlsplice.apply(text, splices)


def _holds_images(node: yaml.Node) -> bool:
    value = yamlsplice.child(node, "value")
    options = yamlsplice.child(node, "options")
    return bool(
        (value is not None and isinstance(value[1], yaml.ScalarNode) and value[1].value)
        or (options is not None and isinstance(options[1], yaml.SequenceNode) and options[1].value)
    )


def _names(images: list[CatalogImage]) -> str:
    return ", ".join(image.name for image in images)


def _options_block(section: Section, indent: int) -> str:
    return "\n".join(" " * indent + "- " + yamlsplice.scalar(ref) + note for ref, note in section.options)


def _section_splices(
    text: str, node: yaml.Node, wanted: Section, source: str, section: str, trailer: str = ""
) -> list[yamlsplice.Splice]:
    if not isinstance(node, yaml.MappingNode):
        raise CatalogError(
            f"spawnerFormDefaults.{section} must be a mapping", where=f"{source}:{node.start_mark.line + 1}"
        )
    out = []
    value_found = yamlsplice.child(node, "value")
    if value_found is not None:
        value_node = value_found[1]
        out.append(
            yamlsplice.Splice(
                value_node.start_mark.index, yamlsplice.node_end(value_node), yamlsplice.scalar(wanted.value)
            )
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
            out.append(yamlsplice.Splice(start, _past_note(text, end), _options_block(wanted, indent) + trailer))
        else:
            start = key.end_mark.index + 1
            end = yamlsplice.node_end(options) if options.tag != "tag:yaml.org,2002:null" else start
            body = "\n" + _options_block(wanted, key.start_mark.column)
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
    # ``text`` is what merge_images composed just before, through yamlsplice.compose's check_yaml
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


def _new_section(text: str, form: yaml.MappingNode, section: str, wanted: Section) -> yamlsplice.Splice:
    indent = form.value[0][0].start_mark.column
    at = yamlsplice.end_of_line(text, yamlsplice.node_end(form))
    lines = [
        f"{' ' * indent}{section}:",
        f"{' ' * (indent + 2)}value: {yamlsplice.scalar(wanted.value)}",
        f"{' ' * (indent + 2)}options:",
        _options_block(wanted, indent + 2),
    ]
    prefix = "" if text[:at].endswith("\n") else "\n"
    return yamlsplice.Splice(at, at, prefix + "\n".join(lines) + "\n")


def _boolean_splices(form: yaml.MappingNode, wanted: dict[str, bool]) -> list[yamlsplice.Splice]:
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


def _vendor_splices(text: str, form: yaml.MappingNode, entry: dict[str, str]) -> list[yamlsplice.Splice]:
    """Add the catalog's GPU vendor to ``gpus.value.vendors`` when it is not listed yet."""
    found = yamlsplice.find(form, "gpus", "value", "vendors")
    if found is None:
        return []
    key, vendors = found
    resource = entry["limitsKey"]
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
    try:  # nbcatalog's own output, from text the export checked (check_yaml) when it read it
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


@dataclass(frozen=True, slots=True)
class Embedded:
    """A spawner config held by a ConfigMap (``data["spawner_ui_config.yaml"]``) and where it sits."""

    outer: str
    outer_source: str
    node: yaml.ScalarNode
    key: str
    key_column: int

    @property
    def text(self) -> str:
        return str(self.node.value)

    @property
    def source(self) -> str:
        return f"{self.outer_source} (data.{CONFIGMAP_KEY})"

    def replace(self, config: str) -> str:
        """The ConfigMap with ``config`` in place of the embedded text, every other byte kept."""

        def reads_back(candidate: str) -> bool:
            try:
                return bool(yaml.safe_load(candidate)["data"][self.key] == config)
            except (yaml.YAMLError, TypeError, KeyError):
                return False

        return yamlsplice.replace_scalar(self.outer, self.node, config, self.key_column + 2, reads_back)

    def locate(self, error: CatalogError) -> CatalogError:
        """An error about the embedded text, re-pointed at the ConfigMap's own line and column."""
        where = error.where or ""
        if not where.startswith(self.source):
            return error
        position = where[len(self.source) :].lstrip(":").split(":")
        first = self.node.start_mark.line + 1  # the block's first content line (0-based)
        if self.node.style != "|" or not position[0].isdigit():
            return CatalogError(error.message, where=f"{self.outer_source}:{self.node.start_mark.line + 1}")
        indent = len(self.outer.splitlines()[first]) - len(self.outer.splitlines()[first].lstrip(" "))
        line = first + int(position[0])
        column = f":{int(position[1]) + indent}" if len(position) > 1 and position[1].isdigit() else ""
        return CatalogError(error.message, where=f"{self.outer_source}:{line}{column}")


def find_embedded(text: str, source: str) -> Embedded | None:
    """The embedded spawner config when ``text`` is a ConfigMap holding one; None for a bare file."""
    root = yamlsplice.compose(text, source)
    kind = yamlsplice.child(root, "kind")
    if kind is None or not isinstance(kind[1], yaml.ScalarNode) or kind[1].value != "ConfigMap":
        return None
    data = yamlsplice.child(root, "data")
    found = next(
        (
            (key, value)
            for key, value in (data[1].value if data is not None and isinstance(data[1], yaml.MappingNode) else [])
            if isinstance(key, yaml.ScalarNode) and str(key.value).endswith(CONFIGMAP_KEY)
        ),
        None,
    )
    if found is None or not isinstance(found[1], yaml.ScalarNode):
        where = f"{source}:{(data or kind)[0].start_mark.line + 1}"
        raise CatalogError(f"a ConfigMap without a data.{CONFIGMAP_KEY} text to merge into", where=where)
    key, node = found
    return Embedded(text, source, node, str(key.value), key.start_mark.column)
