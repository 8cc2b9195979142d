"""Kubeflow spawner config: every upstream version merged byte-for-byte outside the image sections,
and the result read back through the keys the jupyter-web-app backend and frontend use."""

from __future__ import annotations

import difflib
from typing import Any

import pytest
import yaml

from nbcatalog.catalog import Catalog
from nbcatalog.exporters.gpu import plan_gpu
from nbcatalog.exporters.kubeflow import CONFIGMAP_KEY, KUSTOMIZATION, SECTIONS, configmap, export_spawner_config
from tests.exporters.conftest import reference

UPSTREAM = [
    "kubeflow-v1.2.0-legacy-jwa-spawner_ui_config.yaml",
    "kubeflow-v1.4.0-spawner_ui_config.yaml",
    "kubeflow-v1.4.0-backend-default-spawner_ui_config.yaml",
    "kubeflow-v1.6.0-spawner_ui_config.yaml",
    "kubeflow-v1.8.0-spawner_ui_config.yaml",
    "kubeflow-v1.10.0-spawner_ui_config.yaml",
    "kubeflow-notebooks-v1.11.0-spawner_ui_config.yaml",
]
IMAGE_KEYS = set(SECTIONS.values())
BOOLEANS = {"allowCustomImage", "hideRegistry", "hideTag"}


def get_form_value(body: dict[str, Any], defaults: dict[str, Any], field: str) -> Any:
    """jupyter-web-app backend's ``get_form_value`` (apps/common/form.py): readOnly -> the default."""
    if field not in defaults:
        return body.get(field)
    if defaults[field].get("readOnly", False):
        return defaults[field]["value"]
    return body[field] if field in body else defaults[field]["value"]


def read_like_the_web_app(config: dict[str, Any]) -> dict[str, Any]:
    """What the backend and the Angular form take from the file: images per server type, GPU choices."""
    defaults = config["spawnerFormDefaults"]
    seen: dict[str, Any] = {}
    for section in IMAGE_KEYS & set(defaults):
        value = get_form_value({}, defaults, section)
        options = defaults[section]["options"]
        assert isinstance(options, list) and all(isinstance(option, str) for option in options)
        assert value in options or not options, f"{section}: default {value!r} not among the options"
        seen[section] = (value, options)
    gpus = get_form_value({}, defaults, "gpus")
    assert "num" in gpus and "vendor" in gpus  # set_notebook_gpus refuses a config without them
    seen["vendors"] = {vendor["limitsKey"]: vendor["uiName"] for vendor in gpus.get("vendors", [])}
    seen["affinity"] = {o["configKey"]: o["affinity"] for o in defaults.get("affinityConfig", {}).get("options", [])}
    seen["tolerations"] = {
        o["groupKey"]: o["tolerations"] for o in defaults.get("tolerationGroup", {}).get("options", [])
    }
    return seen


def without_images(config: dict[str, Any]) -> dict[str, Any]:
    defaults = dict(config["spawnerFormDefaults"])
    for section in IMAGE_KEYS & set(defaults):
        defaults[section] = {k: v for k, v in defaults[section].items() if k not in ("value", "options")}
    for key in BOOLEANS:
        defaults.pop(key, None)
    return {**config, "spawnerFormDefaults": defaults}


def image_section_lines(text: str) -> set[int]:
    """0-based lines inside the image sections and the three booleans: the only ones a merge may touch."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    lines: set[int] = set()
    for key_node, value_node in root.value[0][1].value if root else []:
        if key_node.value in IMAGE_KEYS or key_node.value in BOOLEANS:
            lines.update(range(key_node.start_mark.line, value_node.end_mark.line + 1))
    return lines


@pytest.mark.parametrize("name", UPSTREAM)
def test_merge_keeps_everything_but_the_image_sections(name: str, repo_catalog: Catalog) -> None:
    original = reference(name).read_text(encoding="utf-8")
    result = export_spawner_config(repo_catalog, plan_gpu(repo_catalog), existing=original, source=name)
    merged = result.body
    allowed = image_section_lines(original)
    matcher = difflib.SequenceMatcher(a=original.splitlines(), b=merged.splitlines(), autojunk=False)
    for tag, a_start, a_end, _b_start, _b_end in matcher.get_opcodes():
        if tag != "equal":
            touched = set(range(a_start, a_end)) or {a_start - 1}
            assert touched <= allowed, f"{name}: lines {a_start + 1}-{a_end} changed outside the image sections"
    before, after = yaml.safe_load(original), yaml.safe_load(merged)
    assert without_images(after) == without_images(before)
    seen = read_like_the_web_app(after)
    offered = {image.kind: [] for image in repo_catalog.offered("kubeflow")}  # type: dict[str, list[str]]
    for image in repo_catalog.offered("kubeflow"):
        offered[image.kind].append(image.reference)
    legacy = "imageGroupOne" not in before["spawnerFormDefaults"]
    for kind, section in SECTIONS.items():
        if legacy and section != "image":
            assert section not in seen
            continue
        assert seen[section][1] == offered[kind]
    assert seen["image"][0] == "ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.10.0"
    assert "nvidia.com/gpu" in seen["vendors"]
    assert any("cannot bind a GPU" in warning for warning in result.warnings)
    if legacy:
        assert any("legacy format has no imageGroupOne" in warning for warning in result.warnings)
    # Idempotent: merging again changes nothing.
    assert export_spawner_config(repo_catalog, plan_gpu(repo_catalog), existing=merged, source=name).body == merged


def test_fresh_file_has_the_gpu_groups_and_marks_cuda_images(class_catalog: Catalog) -> None:
    result = export_spawner_config(class_catalog, plan_gpu(class_catalog))
    config = yaml.safe_load(result.body)
    seen = read_like_the_web_app(config)
    assert seen["image"] == (
        "quay.io/jupyter/scipy-notebook:2024-05-27",
        [
            "quay.io/jupyter/scipy-notebook:2024-05-27",
            "quay.io/jupyter/pytorch-notebook:cuda12-2024-05-27",
            "example.org/team/gpu-thing:v1",
            "example.org/team/cuda-tools:v1",
        ],
    )
    assert seen["imageGroupOne"][0] == "ghcr.io/kubeflow/kubeflow/notebook-servers/codeserver-python:v1.10.0"
    assert seen["vendors"] == {"nvidia.com/gpu": "NVIDIA GPU"}
    assert set(seen["affinity"]) == set(seen["tolerations"]) == {"gpu-a100", "gpu-g4dn"}
    terms = seen["affinity"]["gpu-g4dn"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    expressions = terms["nodeSelectorTerms"][0]["matchExpressions"]
    assert {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["g4dn.xlarge"]} in expressions
    assert {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"} in seen["tolerations"][
        "gpu-g4dn"
    ]
    cuda_lines = [line for line in result.body.splitlines() if "# CUDA:" in line]
    assert len(cuda_lines) == 2 and all("cuda12" in line or "gpu-thing" in line for line in cuda_lines)
    assert "hidden-base" not in result.body


def test_a_cpu_only_catalog_adds_no_gpu_groups(tmp_path: Any) -> None:
    from nbcatalog.catalog import load_catalog

    path = tmp_path / "catalog.yaml"
    path.write_text("images:\n  - {name: a, image: x/a, tag: v1}\n", encoding="utf-8")
    catalog = load_catalog(path)
    result = export_spawner_config(catalog, plan_gpu(catalog))
    seen = read_like_the_web_app(yaml.safe_load(result.body))
    assert seen["vendors"] == {} and seen["affinity"] == {} and seen["tolerations"] == {}
    assert result.warnings == ()


def test_a_missing_vendor_is_added_and_booleans_follow_the_catalog(tmp_path: Any) -> None:
    from nbcatalog.catalog import load_catalog

    path = tmp_path / "catalog.yaml"
    path.write_text(
        "gpu: {resource: gpu.intel.com/i915, vendor: Intel GPU}\n"
        "kubeflow: {allow_custom_image: false, hide_tag: true}\n"
        "images:\n  - {name: rocm, image: x/rocm, tag: v1, gpu: true}\n",
        encoding="utf-8",
    )
    catalog = load_catalog(path)
    original = reference("kubeflow-v1.10.0-spawner_ui_config.yaml").read_text(encoding="utf-8")
    merged = yaml.safe_load(export_spawner_config(catalog, plan_gpu(catalog), existing=original).body)
    form = merged["spawnerFormDefaults"]
    assert form["allowCustomImage"] is False and form["hideTag"] is True and form["hideRegistry"] is True
    vendors = form["gpus"]["value"]["vendors"]
    assert vendors[-1] == {"limitsKey": "gpu.intel.com/i915", "uiName": "Intel GPU"}
    assert [v["limitsKey"] for v in vendors[:-1]] == ["nvidia.com/gpu", "amd.com/gpu", "habana.ai/gaudi"]


def test_configmap_form_carries_the_file() -> None:
    spawner = "spawnerFormDefaults:\n  image: {value: a, options: [a]}\n"
    text = configmap(spawner)
    assert "does not mount" in text.split("apiVersion:")[0]  # the hash-suffix trap, said before the object
    assert text.endswith(
        "data:\n  spawner_ui_config.yaml: |\n" + "".join(f"    {line}\n" for line in spawner.splitlines())
    )
    document = yaml.safe_load(text)
    assert document["kind"] == "ConfigMap" and document["metadata"]["namespace"] == "kubeflow"
    assert document["metadata"]["name"] == "jupyter-web-app-config"
    assert document["data"][CONFIGMAP_KEY] == spawner
    kustomization = yaml.safe_load(KUSTOMIZATION)
    assert kustomization["configMapGenerator"][0]["files"] == [CONFIGMAP_KEY]


def test_a_merge_notes_the_gpu_groups_the_file_lacks(class_catalog: Catalog) -> None:
    original = reference("kubeflow-v1.10.0-spawner_ui_config.yaml").read_text(encoding="utf-8")
    merged = export_spawner_config(class_catalog, plan_gpu(class_catalog), existing=original).body
    note = [line.split("# nbcatalog| ", 1)[1] for line in merged.splitlines() if "# nbcatalog| " in line]
    snippet = yaml.safe_load("\n".join(note[2:]))
    fresh = read_like_the_web_app(yaml.safe_load(export_spawner_config(class_catalog, plan_gpu(class_catalog)).body))
    assert {o["configKey"]: o["affinity"] for o in snippet["affinityConfig.options"]} == fresh["affinity"]
    assert {o["groupKey"]: o["tolerations"] for o in snippet["tolerationGroup.options"]} == fresh["tolerations"]
    # Once the admin has added the groups, the note goes away.
    form = yaml.safe_load(merged)["spawnerFormDefaults"]
    assert form["affinityConfig"]["options"] == [] and form["tolerationGroup"]["options"] == []
    with_groups = merged.replace(
        "  affinityConfig:\n    readOnly: false\n",
        "  affinityConfig:\n    readOnly: false\n    options:\n"
        + "".join(f"    - {{configKey: {key}, affinity: {{}}}}\n" for key in fresh["affinity"]),
    ).replace("    options: []\n    #options:\n    #  - configKey", "    #options:\n    #  - configKey")
    with_groups = with_groups.replace(
        "  tolerationGroup:\n    readOnly: false\n",
        "  tolerationGroup:\n    readOnly: false\n    options:\n"
        + "".join(f"    - {{groupKey: {key}, tolerations: []}}\n" for key in fresh["tolerations"]),
    ).replace("    options: []\n    #options:\n    #  - groupKey", "    #options:\n    #  - groupKey")
    assert len(yaml.safe_load(with_groups)["spawnerFormDefaults"]["affinityConfig"]["options"]) == 2
    again = export_spawner_config(class_catalog, plan_gpu(class_catalog), existing=with_groups).body
    assert "# nbcatalog| " not in again
