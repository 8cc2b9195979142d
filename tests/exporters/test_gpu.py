"""Which images get GPU scheduling, and where GPU pods are sent."""

from __future__ import annotations

from nbcatalog.catalog import Catalog
from nbcatalog.exporters.gpu import Z2JH_USER_TOLERATIONS, placements, plan_gpu, with_chart_tolerations


def test_explicit_gpu_wins_and_auto_falls_back_to_names(small_catalog: Catalog) -> None:
    plan = plan_gpu(small_catalog)
    assert plan.cuda == {"torch-cuda", "forced"}  # cudaish-but-cpu says gpu: false
    assert plan.guessed == ("torch-cuda",)
    assert plan.note() is not None and "torch-cuda" in plan.note()  # type: ignore[operator]


def test_detected_names_replace_the_guess(small_catalog: Catalog) -> None:
    plan = plan_gpu(small_catalog, detected={"scipy"})
    assert plan.cuda == {"scipy", "forced"}
    assert plan.note() is None
    assert plan_gpu(small_catalog, detected=set()).cuda == {"forced"}


def test_class_placements_extend_the_generic_one(class_catalog: Catalog) -> None:
    found = {p.key: p for p in placements(class_catalog.gpu)}
    assert list(found) == ["gpu-a100", "gpu-g4dn"]
    a100 = found["gpu-a100"]
    assert a100.node_selector == {
        "cloud.google.com/gke-accelerator": "nvidia-tesla-t4",
        "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-40GB",
    }
    assert a100.limits == {"nvidia.com/gpu": "2"}
    g4dn = found["gpu-g4dn"]
    assert g4dn.tolerations[-1] == {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}
    assert g4dn.tolerations[0]["key"] == "nvidia.com/gpu"


def test_chart_tolerations_come_first_once() -> None:
    merged = with_chart_tolerations([dict(Z2JH_USER_TOLERATIONS[0]), {"key": "nvidia.com/gpu", "operator": "Exists"}])
    assert [t["key"] for t in merged] == ["hub.jupyter.org/dedicated", "hub.jupyter.org_dedicated", "nvidia.com/gpu"]
