"""Zero to JupyterHub values: ``singleuser.profileList`` from the catalog (also used for KubeSpawner).

One profile per image, or (``profile_options=True``) one CPU and one GPU profile with an image
choice. GPU profiles carry ``node_selector``, ``tolerations`` and ``extra_resource_limits`` in
``kubespawner_override`` (snake_case: KubeSpawner silently ignores camelCase keys there), and their
tolerations repeat the chart's ``hub.jupyter.org/dedicated`` ones because an override replaces the
list. GPU classes become a ``gpu`` choice in ``profile_options``. CPU profiles carry none of this.
"""

from __future__ import annotations

from typing import Any

import yaml

from nbcatalog.catalog import Catalog, CatalogImage
from nbcatalog.errors import CatalogError
from nbcatalog.exporters import yamlsplice
from nbcatalog.exporters.common import ExportResult
from nbcatalog.exporters.gpu import GpuPlan, Placement, generic_placement, placements, with_chart_tolerations
from nbcatalog.profilefiles.z2jhvalues import export_path

GROUPED_SLUGS = ("images-cpu", "images-gpu")


def scheduling_override(placement: Placement) -> dict[str, Any]:
    """The KubeSpawner trait values that put a pod on a GPU node and claim the GPU."""
    return {
        "node_selector": dict(placement.node_selector),
        "tolerations": with_chart_tolerations(placement.tolerations),
        "extra_resource_limits": dict(placement.limits),
    }


def gpu_option(catalog: Catalog) -> dict[str, Any] | None:
    """A ``profile_options`` entry to choose a GPU model, when the catalog lists GPU classes."""
    if not catalog.gpu.classes:
        return None
    choices: dict[str, Any] = {}
    for index, placement in enumerate(placements(catalog.gpu)):
        assert placement.gpu_class is not None
        choice: dict[str, Any] = {"display_name": placement.display_name}
        if index == 0:
            choice["default"] = True
        choice["kubespawner_override"] = scheduling_override(placement)
        choices[placement.gpu_class.name] = choice
    return {"display_name": "GPU type", "choices": choices}


def _description(image: CatalogImage) -> str:
    """What users read in the form: ``repo:tag``, never the pinned digest (noise to them, and text
    that ``audit --fix`` re-pinning the ``image`` would leave behind)."""
    shown = f"{image.image}:{image.tag}"
    return f"{image.description} ({shown})" if image.description else shown


def image_profile(image: CatalogImage, catalog: Catalog, plan: GpuPlan, *, default: bool) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "display_name": image.title,
        "description": _description(image),
        "slug": image.name,
    }
    if default:
        profile["default"] = True
    override: dict[str, Any] = {"image": image.reference}
    if plan.needs_gpu(image):
        override.update(scheduling_override(generic_placement(catalog.gpu)))
        option = gpu_option(catalog)
        if option is not None:
            profile["profile_options"] = {"gpu": option}
    profile["kubespawner_override"] = override
    return profile


def grouped_profiles(
    images: list[CatalogImage], catalog: Catalog, plan: GpuPlan, default: CatalogImage | None
) -> list[dict[str, Any]]:
    """``--profile-options``: a CPU profile and a GPU profile, each with an image choice."""
    profiles = []
    groups = (
        ("images-cpu", "CPU notebook", [i for i in images if not plan.needs_gpu(i)]),
        ("images-gpu", f"GPU notebook ({catalog.gpu.vendor})", [i for i in images if plan.needs_gpu(i)]),
    )
    for slug, title, members in groups:
        if not members:
            continue
        choices: dict[str, Any] = {}
        for index, image in enumerate(members):
            choice: dict[str, Any] = {"display_name": image.title}
            if image is default or (index == 0 and default not in members):
                choice["default"] = True
            choice["kubespawner_override"] = {"image": image.reference}
            choices[image.name] = choice
        profile: dict[str, Any] = {"display_name": title, "description": "choose an image", "slug": slug}
        if default in members:
            profile["default"] = True
        options: dict[str, Any] = {"image": {"display_name": "Image", "choices": choices}}
        if slug == "images-gpu":
            option = gpu_option(catalog)
            if option is not None:
                options["gpu"] = option
            profile["kubespawner_override"] = scheduling_override(generic_placement(catalog.gpu))
        profile["profile_options"] = options
        profiles.append(profile)
    return profiles


def profile_list(
    catalog: Catalog, plan: GpuPlan, *, profile_options: bool = False, export_format: str = "jupyterhub"
) -> list[dict[str, Any]]:
    images = catalog.offered(export_format)
    default = catalog.default_for(export_format)
    if profile_options:
        return grouped_profiles(images, catalog, plan, default)
    return [image_profile(image, catalog, plan, default=image is default) for image in images]


def export_values(
    catalog: Catalog, plan: GpuPlan, *, profile_options: bool = False, existing: str | None = None,
    source: str = "values.yaml",
) -> ExportResult:  # fmt: skip
    """z2jh values text: fresh, or merged into ``existing`` replacing only nbcatalog's profiles."""
    profiles = profile_list(catalog, plan, profile_options=profile_options)
    warnings = [note] if (note := plan.note()) else []
    if existing is None or not existing.strip():
        return ExportResult(yamlsplice.block({"singleuser": {"profileList": profiles}}, 0), tuple(warnings))
    managed = {image.name for image in catalog.images} | set(GROUPED_SLUGS)
    merged = merge_profiles(existing, profiles, managed, source)
    defaults = _default_slugs(merged, source)
    if len(defaults) > 1:
        warnings.append(
            f"{source}: {len(defaults)} profiles are marked default ({', '.join(defaults)}); "
            "KubeSpawner preselects the first"
        )
    return ExportResult(merged, tuple(warnings))


def _default_slugs(text: str, source: str) -> list[str]:
    """The slugs of profiles marked default in the singleuser the merge wrote to."""
    root = yamlsplice.compose(text, source)
    found = yamlsplice.find(root, *export_path(root, source), "profileList")
    if found is None or not isinstance(found[1], yaml.SequenceNode):
        return []
    slugs = []
    for item in found[1].value:
        default = yamlsplice.child(item, "default")
        if (
            default is not None
            and isinstance(default[1], yaml.ScalarNode)
            and default[1].value.lower() in ("true", "yes", "on")
        ):
            name = yamlsplice.child(item, "slug") or yamlsplice.child(item, "display_name")
            slugs.append(str(name[1].value) if name is not None and isinstance(name[1], yaml.ScalarNode) else "?")
    return slugs


def merge_profiles(text: str, profiles: list[dict[str, Any]], managed: set[str], source: str) -> str:
    """Replace the profiles whose slug nbcatalog manages, keep the others byte-for-byte, append new ones."""
    root = yamlsplice.compose(text, source)
    path = export_path(root, source)  # the one place the chart reads; ambiguity is refused there
    found = yamlsplice.find(root, *path)
    if found is not None:
        return _merge_into_singleuser(text, found[0], found[1], profiles, managed, source)
    if len(path) > 1:
        raise CatalogError(f"no {'.'.join(path)}: section to merge into; add one first", where=source)
    suffix = "" if text.endswith("\n") else "\n"
    return text + suffix + yamlsplice.block({"singleuser": {"profileList": profiles}}, 0)


def _merge_into_singleuser(
    text: str, key: Any, singleuser: Any, profiles: list[dict[str, Any]], managed: set[str], source: str
) -> str:

    found = yamlsplice.child(singleuser, "profileList")
    if not isinstance(singleuser, yaml.MappingNode) or singleuser.flow_style:
        raise CatalogError("singleuser must be a block mapping to merge into", where=source)
    if found is None:
        indent = singleuser.value[0][0].start_mark.column if singleuser.value else key.start_mark.column + 2
        at = yamlsplice.end_of_line(text, yamlsplice.node_end(singleuser))
        block = yamlsplice.block({"profileList": profiles}, indent)
        return text[:at] + ("" if text[:at].endswith("\n") else "\n") + block + text[at:]
    list_key, sequence = found
    by_slug = {profile["slug"]: profile for profile in profiles}
    if not isinstance(sequence, yaml.SequenceNode) or sequence.flow_style or not sequence.value:
        start = list_key.end_mark.index + 1
        end = yamlsplice.node_end(sequence) if sequence.value or sequence.tag != "tag:yaml.org,2002:null" else start
        block = yamlsplice.block(profiles, list_key.start_mark.column + 2)
        return text[:start] + "\n" + block.rstrip("\n") + text[end:]
    items = yamlsplice.sequence_items(sequence, text)
    first_line = text[items[0][0] :]
    dash_column = len(first_line) - len(first_line.lstrip(" "))
    splices: list[yamlsplice.Splice] = []
    placed: set[str] = set()
    for start, end, item in items:
        slug_node = yamlsplice.child(item, "slug")
        slug = slug_node[1].value if slug_node is not None else None
        if slug not in managed:
            continue
        _check_anchors(text, start, end, source)
        replacement = ""
        if slug in by_slug:
            replacement = yamlsplice.block([by_slug[slug]], dash_column)
            placed.add(slug)
        splices.append(yamlsplice.Splice(start, end, replacement))
    new = [profile for profile in profiles if profile["slug"] not in placed]
    if new:
        at = items[-1][1]
        splices.append(yamlsplice.Splice(at, at, yamlsplice.block(new, dash_column)))
    return yamlsplice.apply(text, splices)


def _check_anchors(text: str, start: int, end: int, source: str) -> None:
    """Refuse to drop an anchor that the rest of the file still refers to."""
    inside = yamlsplice.anchors_in(text[start:end])
    used = inside & yamlsplice.aliases_in(text[:start] + text[end:])
    if used:
        line = text.count("\n", 0, start) + 1
        raise CatalogError(
            f"the profile here defines anchor(s) {', '.join(sorted(used))} used elsewhere; "
            "move them out of the nbcatalog-managed profile first",
            where=f"{source}:{line}",
        )
