"""WorkspaceKinds: the CRD's rules, GPU pod configs for CUDA images, and hidden redirects that keep
every option workspaces may still use (the admission webhook refuses to change or drop them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from nbcatalog.catalog import Catalog, CatalogDocument, load_catalog
from nbcatalog.exporters.gpu import plan_gpu
from nbcatalog.exporters.workspacekind import export_workspacekinds, read_previous
from tests.exporters.conftest import REPO_ROOT, reference
from tests.exporters.schemacheck import errors
from tests.exporters.schemas import WORKSPACE_KIND


def documents(text: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in yaml.safe_load_all(text)}


def options(kind: dict[str, Any], which: str) -> list[dict[str, Any]]:
    values: list[dict[str, Any]] = kind["spec"]["podTemplate"]["options"][which]["values"]
    return values


def check_consistency(kind: dict[str, Any]) -> None:
    """What the CRD's listMapKeys and the webhook add to the schema: unique ids, defaults and redirects exist."""
    assert errors(kind, WORKSPACE_KIND) == []
    ports = {port["id"] for port in kind["spec"]["podTemplate"]["ports"]}
    for which in ("imageConfig", "podConfig"):
        values = options(kind, which)
        ids = [value["id"] for value in values]
        assert len(ids) == len(set(ids))
        default = kind["spec"]["podTemplate"]["options"][which]["spawner"]["default"]
        assert default in ids and not next(v for v in values if v["id"] == default)["spawner"].get("hidden")
        for value in values:
            if "redirect" in value:
                assert value["redirect"]["to"] in ids
    for value in options(kind, "imageConfig"):
        assert {port["id"] for port in value["spec"]["ports"]} <= ports


def test_the_upstream_sample_passes_the_schema_checks() -> None:
    sample = documents(reference("kubeflow-notebooks-v2.0.0-beta.0-jupyterlab-workspacekind.yaml").read_text())
    kind = sample["jupyterlab"]
    trimmed = {**kind, "spec": {k: v for k, v in kind["spec"].items() if k in ("spawner", "podTemplate")}}
    template = trimmed["spec"]["podTemplate"]
    trimmed["spec"]["podTemplate"] = {k: template[k] for k in ("volumeMounts", "ports", "extraEnv", "options")}
    check_consistency(trimmed)


def test_one_kind_per_catalog_kind_and_gpu_only_where_cuda(class_catalog: Catalog) -> None:
    plan = plan_gpu(class_catalog)
    kinds = documents(export_workspacekinds(class_catalog, plan).body)
    assert set(kinds) == {"jupyterlab", "codeserver", "rstudio"}
    for kind in kinds.values():
        check_consistency(kind)
    jupyterlab = kinds["jupyterlab"]
    images = {value["id"]: value for value in options(jupyterlab, "imageConfig")}
    assert set(images) == {"scipy:2024-05-27", "torch-cuda:cuda12-2024-05-27", "forced:v1", "cudaish-but-cpu:v1"}
    for value_id, value in images.items():
        labels = {label["key"]: label["value"] for label in value["spawner"].get("labels", [])}
        assert (labels.get("gpu") == "required") == (value_id in ("torch-cuda:cuda12-2024-05-27", "forced:v1"))
    pods = {value["id"]: value for value in options(jupyterlab, "podConfig")}
    assert list(pods) == ["small-cpu", "gpu-a100", "gpu-g4dn"]
    assert "limits" not in pods["small-cpu"]["spec"]["resources"] and "nodeSelector" not in pods["small-cpu"]["spec"]
    g4dn = pods["gpu-g4dn"]["spec"]
    assert g4dn["resources"]["limits"] == {"nvidia.com/gpu": 2}
    assert g4dn["nodeSelector"]["node.kubernetes.io/instance-type"] == "g4dn.xlarge"
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in g4dn["tolerations"]
    # Kinds without CUDA images offer no GPU pod config.
    assert [value["id"] for value in options(kinds["codeserver"], "podConfig")] == ["small-cpu"]
    assert jupyterlab["spec"]["podTemplate"]["extraEnv"][0]["name"] == "NB_PREFIX"
    rstudio_port = kinds["rstudio"]["spec"]["podTemplate"]["ports"][0]
    assert rstudio_port["httpProxy"]["requestHeaders"]["set"]["X-RStudio-Root-Path"]


def test_moved_and_removed_images_stay_hidden_with_a_redirect(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text((REPO_ROOT / "catalog.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    catalog = load_catalog(path)
    first = export_workspacekinds(catalog, plan_gpu(catalog)).body
    document = CatalogDocument.load(path)
    document.set_tag("jupyter-scipy", "v1.11.0")
    document.remove_image("jupyter-tensorflow-cuda-full")
    document.save()
    moved = load_catalog(path)
    second = export_workspacekinds(moved, plan_gpu(moved), previous=first).body
    before, after = documents(first)["jupyterlab"], documents(second)["jupyterlab"]
    check_consistency(after)
    old = {value["id"]: value for value in options(before, "imageConfig")}
    new = {value["id"]: value for value in options(after, "imageConfig")}
    assert set(old) <= set(new), "no option a workspace may use disappears"
    for value_id, value in old.items():
        assert new[value_id]["spec"] == value["spec"], "the webhook refuses changed specs"
    scipy = new["jupyter-scipy:v1.10.0"]
    assert scipy["spawner"]["hidden"] is True and scipy["redirect"]["to"] == "jupyter-scipy:v1.11.0"
    gone = new["jupyter-tensorflow-cuda-full:v1.10.0"]
    assert gone["spawner"]["hidden"] is True
    assert gone["redirect"]["to"] == after["spec"]["podTemplate"]["options"]["imageConfig"]["spawner"]["default"]
    assert after["spec"]["podTemplate"]["options"]["imageConfig"]["spawner"]["default"] == "jupyter-scipy:v1.11.0"
    # Exporting again from its own output is stable, and a chain of moves keeps each hop.
    assert export_workspacekinds(moved, plan_gpu(moved), previous=second).body == second
    document.set_tag("jupyter-scipy", "v1.12.0")
    document.save()
    third_catalog = load_catalog(path)
    third = documents(export_workspacekinds(third_catalog, plan_gpu(third_catalog), previous=second).body)
    hops = {v["id"]: v.get("redirect", {}).get("to") for v in options(third["jupyterlab"], "imageConfig")}
    assert hops["jupyter-scipy:v1.10.0"] == "jupyter-scipy:v1.11.0"
    assert hops["jupyter-scipy:v1.11.0"] == "jupyter-scipy:v1.12.0"
    check_consistency(third["jupyterlab"])


def test_previous_file_may_be_the_upstream_sample(repo_catalog: Catalog) -> None:
    sample = reference("kubeflow-notebooks-v2.0.0-beta.0-jupyterlab-workspacekind.yaml").read_text()
    assert set(read_previous(sample, "sample")) == {"jupyterlab"}
    out = documents(export_workspacekinds(repo_catalog, plan_gpu(repo_catalog), previous=sample).body)
    ids = [value["id"] for value in options(out["jupyterlab"], "imageConfig")]
    # The sample's v1.8.0/v1.9.2 options are kept (already redirected) alongside the catalog's.
    assert "jupyter-scipy:v1.8.0" in ids and "jupyter-scipy:v1.10.0" in ids
    sample_pods = {v["id"] for v in options(documents(sample)["jupyterlab"], "podConfig")}
    assert sample_pods <= {v["id"] for v in options(out["jupyterlab"], "podConfig")}
