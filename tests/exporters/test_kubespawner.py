"""KubeSpawner profile_list as Python: it runs, and it is exactly the z2jh profiles."""

from __future__ import annotations

import ast
from types import SimpleNamespace
from typing import Any

from nbcatalog.catalog import Catalog
from nbcatalog.exporters.gpu import plan_gpu
from nbcatalog.exporters.jupyterhub import profile_list
from nbcatalog.exporters.kubespawner import export_profile_list


def run_config(source: str) -> Any:
    """Execute the file as JupyterHub would, with a stand-in for get_config()."""
    config = SimpleNamespace(KubeSpawner=SimpleNamespace())
    namespace: dict[str, Any] = {"get_config": lambda: config}
    exec(compile(source, "profile_list.py", "exec"), namespace)  # our own generated file
    return config.KubeSpawner.profile_list


def test_python_equals_the_profile_data(class_catalog: Catalog) -> None:
    plan = plan_gpu(class_catalog)
    for grouped in (False, True):
        source = export_profile_list(class_catalog, plan, profile_options=grouped).body
        ast.parse(source)
        expected = profile_list(class_catalog, plan, profile_options=grouped, export_format="kubespawner")
        assert run_config(source) == expected
        assert export_profile_list(class_catalog, plan, profile_options=grouped).body == source  # deterministic


def test_repo_catalog_offers_only_its_kubespawner_images(repo_catalog: Catalog) -> None:
    profiles = run_config(export_profile_list(repo_catalog, plan_gpu(repo_catalog)).body)
    slugs = [profile["slug"] for profile in profiles]
    assert slugs == [image.name for image in repo_catalog.offered("kubespawner")]
    assert "jupyter-scipy" not in slugs and "docker-stacks-foundation" not in slugs
    cuda = next(profile for profile in profiles if profile["slug"] == "pytorch-notebook-cuda12")
    assert cuda["kubespawner_override"]["extra_resource_limits"] == {"nvidia.com/gpu": "1"}
    assert set(cuda["profile_options"]["gpu"]["choices"]) == {"t4", "a100", "h100"}
