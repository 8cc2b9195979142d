"""z2jh values: KubeSpawner's profileList rules, GPU scheduling only where CUDA is, merges that keep bytes."""

from __future__ import annotations

import difflib
from typing import Any

import pytest
import yaml

from nbcatalog.catalog import Catalog
from nbcatalog.errors import CatalogError
from nbcatalog.exporters.gpu import plan_gpu
from nbcatalog.exporters.jupyterhub import export_values
from nbcatalog.profilefiles.z2jhvalues import export_path
from tests.exporters.conftest import reference
from tests.exporters.schemacheck import errors
from tests.exporters.schemas import PROFILE, Z2JH_VALUES

GPU_KEYS = {"node_selector", "tolerations", "extra_resource_limits"}
CHART_TOLERATION = {"key": "hub.jupyter.org/dedicated", "operator": "Equal", "value": "user", "effect": "NoSchedule"}


def overrides(profile: dict[str, Any]) -> list[dict[str, Any]]:
    """Every kubespawner_override a profile can apply: its own and each choice's."""
    found = [profile.get("kubespawner_override", {})]
    for option in profile.get("profile_options", {}).values():
        found.extend(choice.get("kubespawner_override", {}) for choice in option["choices"].values())
    return found


def images_of(profile: dict[str, Any]) -> set[str]:
    return {o["image"] for o in overrides(profile) if "image" in o}


@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize("catalog_name", ["repo_catalog", "small_catalog", "class_catalog"])
def test_values_follow_the_schema_and_gpu_rules(
    catalog_name: str, grouped: bool, request: pytest.FixtureRequest
) -> None:
    catalog: Catalog = request.getfixturevalue(catalog_name)
    plan = plan_gpu(catalog)
    values = yaml.safe_load(export_values(catalog, plan, profile_options=grouped).body)
    assert errors(values, Z2JH_VALUES) == []
    profiles = values["singleuser"]["profileList"]
    assert sum(1 for p in profiles if p.get("default")) == 1
    slugs = [p["slug"] for p in profiles]
    assert len(slugs) == len(set(slugs))
    offered = {image.reference: image for image in catalog.offered("jupyterhub")}
    assert set().union(*(images_of(p) for p in profiles)) == set(offered)
    for profile in profiles:
        cuda = {plan.needs_gpu(offered[ref]) for ref in images_of(profile)}
        assert len(cuda) == 1, "a profile never mixes CPU and CUDA images"
        for override in overrides(profile):
            if cuda == {False}:
                assert not GPU_KEYS & set(override), profile["slug"]
        if cuda == {True}:
            scheduling = profile["kubespawner_override"]
            assert scheduling["extra_resource_limits"] == {catalog.gpu.resource: str(catalog.gpu.count)}
            assert CHART_TOLERATION in scheduling["tolerations"]
            assert scheduling["node_selector"] == catalog.gpu.node_selector
            for choice_override in overrides(profile)[1:]:
                if "tolerations" in choice_override:
                    assert CHART_TOLERATION in choice_override["tolerations"]


def test_gpu_classes_become_a_choice(class_catalog: Catalog) -> None:
    values = yaml.safe_load(export_values(class_catalog, plan_gpu(class_catalog)).body)
    cuda = next(p for p in values["singleuser"]["profileList"] if p["slug"] == "torch-cuda")
    choices = cuda["profile_options"]["gpu"]["choices"]
    assert list(choices) == ["a100", "g4dn"] and choices["a100"]["default"] is True
    g4dn = choices["g4dn"]["kubespawner_override"]
    assert g4dn["node_selector"]["node.kubernetes.io/instance-type"] == "g4dn.xlarge"
    assert {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"} in g4dn["tolerations"]
    scipy = next(p for p in values["singleuser"]["profileList"] if p["slug"] == "scipy")
    assert "profile_options" not in scipy and scipy["default"] is True


def test_camel_case_override_keys_would_be_caught() -> None:
    bad = {"display_name": "x", "kubespawner_override": {"nodeSelector": {"a": "b"}}}
    assert errors(bad, PROFILE) == ["$.kubespawner_override: unexpected key 'nodeSelector'"]


def singleuser(document: dict[str, Any]) -> dict[str, Any]:
    node: Any = document
    for key in export_path(document, "values.yaml"):
        node = node.get(key) if isinstance(node, dict) else None
    assert isinstance(node, dict), "no singleuser"
    return node


MERGE_TARGETS = [
    "z2jh-4.4.0-lint-and-validate-values.yaml",
    "2i2c-leap-daskhub-common.values.yaml",
    "2i2c-nasa-cryo-common.values.yaml",
    "2i2c-cloudbank-gpu-demo.values.yaml",
]


@pytest.mark.parametrize("name", MERGE_TARGETS)
def test_merging_into_real_values_only_adds_profiles(name: str, small_catalog: Catalog) -> None:
    original = reference(name).read_text(encoding="utf-8")
    plan = plan_gpu(small_catalog)
    merged = export_values(small_catalog, plan, existing=original, source=name).body
    ops = difflib.SequenceMatcher(a=original.splitlines(), b=merged.splitlines(), autojunk=False).get_opcodes()
    assert {tag for tag, *_ in ops} == {"equal", "insert"}, "every original line is kept, in order"
    before, after = yaml.safe_load(original), yaml.safe_load(merged)  # aliases still resolve
    old_profiles = singleuser(before)["profileList"]
    new_profiles = singleuser(after)["profileList"]
    assert new_profiles[: len(old_profiles)] == old_profiles
    assert [p["slug"] for p in new_profiles[len(old_profiles) :]] == [
        "scipy",
        "torch-cuda",
        "forced",
        "cudaish-but-cpu",
        "code",
        "rs",
    ]
    for profile in new_profiles[len(old_profiles) :]:
        assert errors(profile, PROFILE) == []
    result = export_values(small_catalog, plan, existing=original, source=name)
    if any(p.get("default") for p in old_profiles):
        assert any("profiles are marked default" in warning for warning in result.warnings)
    # Merging again changes nothing: nbcatalog's profiles are recognised by slug and replaced in place.
    assert export_values(small_catalog, plan, existing=merged, source=name).body == merged


def test_a_managed_profile_is_replaced_in_place_and_others_kept(small_catalog: Catalog) -> None:
    text = (
        "jupyterhub:\n  singleuser:\n    profileList:\n"
        "    - display_name: Admin's own\n      slug: mine\n      kubespawner_override: &own {image: x/y:1}\n"
        "    - display_name: Old scipy\n      slug: scipy\n      kubespawner_override: {image: old/scipy:0}\n"
        "    - display_name: Uses the anchor\n      slug: other\n      kubespawner_override: *own\n"
        "  hub: {}\n"
    )
    merged = export_values(small_catalog, plan_gpu(small_catalog), existing=text, source="v.yaml").body
    profiles = yaml.safe_load(merged)["jupyterhub"]["singleuser"]["profileList"]
    assert [p["slug"] for p in profiles] == [
        "mine",
        "scipy",
        "other",
        "torch-cuda",
        "forced",
        "cudaish-but-cpu",
        "code",
        "rs",
    ]
    assert profiles[1]["kubespawner_override"]["image"] == "quay.io/jupyter/scipy-notebook:2024-05-27"
    assert profiles[2]["kubespawner_override"] == {"image": "x/y:1"}
    assert merged.endswith("  hub: {}\n")


def test_refuses_to_drop_an_anchor_used_elsewhere(small_catalog: Catalog) -> None:
    text = (
        "singleuser:\n  profileList:\n"
        "    - display_name: Old scipy\n      slug: scipy\n      kubespawner_override: &shared {image: old:0}\n"
        "    - display_name: Mine\n      slug: mine\n      kubespawner_override: *shared\n"
    )
    with pytest.raises(CatalogError, match="anchor") as caught:
        export_values(small_catalog, plan_gpu(small_catalog), existing=text, source="v.yaml")
    assert caught.value.where == "v.yaml:3"


def test_a_profile_list_is_added_where_there_was_none(small_catalog: Catalog) -> None:
    text = "basehub:\n  jupyterhub:\n    singleuser:\n      image: {name: x}\n    hub: {}\n"
    merged = export_values(small_catalog, plan_gpu(small_catalog), existing=text, source="v.yaml").body
    document = yaml.safe_load(merged)
    assert document["basehub"]["jupyterhub"]["singleuser"]["image"] == {"name": "x"}
    assert len(document["basehub"]["jupyterhub"]["singleuser"]["profileList"]) == 6
    assert document["basehub"]["jupyterhub"]["hub"] == {}
