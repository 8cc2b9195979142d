"""Catalogs for the export tests: the repository's own catalog.yaml and a small one made per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbcatalog.catalog import Catalog, load_catalog
from tests.support.reference import REFERENCE

REPO_ROOT = Path(__file__).resolve().parents[2]

SMALL = """\
gpu:
  resource: nvidia.com/gpu
  count: 2
  node_selector: {cloud.google.com/gke-accelerator: nvidia-tesla-t4}
  tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
images:
  - {name: scipy, image: quay.io/jupyter/scipy-notebook, tag: "2024-05-27", default: true}
  - {name: torch-cuda, image: quay.io/jupyter/pytorch-notebook, tag: cuda12-2024-05-27, parent: scipy}
  - {name: forced, image: example.org/team/gpu-thing, tag: v1, gpu: true}
  - {name: cudaish-but-cpu, image: example.org/team/cuda-tools, tag: v1, gpu: false}
  - {name: code, image: ghcr.io/kubeflow/kubeflow/notebook-servers/codeserver-python, tag: v1.10.0, kind: codeserver}
  - {name: rs, image: ghcr.io/kubeflow/kubeflow/notebook-servers/rstudio-tidyverse, tag: v1.10.0, kind: rstudio}
  - {name: hidden-base, image: quay.io/jupyter/docker-stacks-foundation, tag: "2024-05-27", hidden: true}
"""

WITH_CLASSES = SMALL.replace(
    "images:\n",
    "  classes:\n"
    "    - {name: a100, display_name: A100, node_selector: {nvidia.com/gpu.product: NVIDIA-A100-SXM4-40GB}}\n"
    "    - name: g4dn\n"
    "      display_name: T4 on g4dn.xlarge\n"
    "      node_selector: {node.kubernetes.io/instance-type: g4dn.xlarge}\n"
    "      tolerations: [{key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}]\n"
    "images:\n",
)


def reference(name: str) -> Path:
    return REFERENCE / name


@pytest.fixture
def repo_catalog() -> Catalog:
    return load_catalog(REPO_ROOT / "catalog.yaml")


@pytest.fixture
def small_catalog(tmp_path: Path) -> Catalog:
    path = tmp_path / "catalog.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return load_catalog(path)


@pytest.fixture
def class_catalog(tmp_path: Path) -> Catalog:
    path = tmp_path / "catalog.yaml"
    path.write_text(WITH_CLASSES, encoding="utf-8")
    return load_catalog(path)
