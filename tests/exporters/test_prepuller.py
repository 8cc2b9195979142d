"""``export --format prepuller``: DaemonSets the API server would take, GPU images on GPU nodes only,
valid container names, pins carried, and the CLI's write/check/guard and audit's reading of the file."""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from nbcatalog.catalog import Catalog, load_catalog
from nbcatalog.exporters.files import DEFAULT_FORMATS, DEFAULT_PATHS
from nbcatalog.exporters.gpu import plan_gpu
from nbcatalog.exporters.prepuller import GPU_NAME, NAME, container_names, export_prepuller
from tests.cli.run import run_cli
from tests.exporters.conftest import REPO_ROOT, SMALL
from tests.exporters.schemacheck import errors
from tests.exporters.schemas import DAEMON_SET

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DIGEST = "sha256:" + "ab" * 32


def daemonsets(catalog: Catalog, detected: set[str] | None = None) -> dict[str, dict[str, Any]]:
    body = export_prepuller(catalog, plan_gpu(catalog, detected)).body
    return {doc["metadata"]["name"]: doc for doc in yaml.safe_load_all(body) if doc}


def pod(daemonset: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = daemonset["spec"]["template"]["spec"]
    return spec


def images(daemonset: dict[str, Any]) -> list[str]:
    return [container["image"] for container in pod(daemonset)["initContainers"]]


def check(daemonset: dict[str, Any]) -> None:
    """The schema, plus what the API server checks across fields: the selector selects the template,
    container names are unique in the pod."""
    assert errors(daemonset, DAEMON_SET) == []
    selector = daemonset["spec"]["selector"]["matchLabels"]
    assert selector.items() <= daemonset["spec"]["template"]["metadata"]["labels"].items()
    names = [c["name"] for c in pod(daemonset)["initContainers"] + pod(daemonset)["containers"]]
    assert len(names) == len(set(names))
    assert len(images(daemonset)) == len(set(images(daemonset)))


def catalog_from(tmp_path: Path, text: str) -> Catalog:
    path = tmp_path / "catalog.yaml"
    path.write_text(text, encoding="utf-8")
    return load_catalog(path)


@pytest.mark.parametrize("fixture", ["small_catalog", "class_catalog", "repo_catalog"])
def test_every_daemonset_passes_the_schema(fixture: str, request: pytest.FixtureRequest) -> None:
    found = daemonsets(request.getfixturevalue(fixture))
    assert set(found) == {NAME, GPU_NAME}
    for daemonset in found.values():
        check(daemonset)
        assert daemonset["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] == "100%"
        assert pod(daemonset)["containers"][0]["image"].startswith("registry.k8s.io/pause:")
        assert "namespace" not in daemonset["metadata"]  # kubectl apply -n decides


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("spec", "template", "spec", "initcontainers"), [], "unexpected key 'initcontainers'"),
        (("spec", "template", "spec", "initContainers", 0, "command"), "echo hi", "expected array"),
        (("spec", "template", "spec", "initContainers", 0, "name"), "pull_scipy", "does not match"),
        (("spec", "template", "spec", "initContainers", 0, "name"), "p" * 64, "longer than 63"),
        (("spec", "template", "spec", "terminationGracePeriodSeconds"), "0", "expected integer"),
        (("spec", "template", "spec", "nodeSelector"), {"gpu": True}, "expected string"),
        (("spec", "template", "spec", "tolerations", 0, "operator"), "Equals", "not one of"),
        (("spec", "updateStrategy", "rollingUpdate", "maxUnavailable"), "all", "does not match"),
        (("spec", "template", "spec", "initContainers", 0, "resources", "limits", "memory"), "64 MB", "not match"),
        (("spec", "template", "spec", "initContainers", 0, "securityContext", "runAsUser"), "65534", "integer"),
        (("metadata", "labels", "app.kubernetes.io/name"), "x" * 64, "longer than 63"),
    ],
)
def test_a_broken_manifest_fails_the_check(
    small_catalog: Catalog, path: tuple[Any, ...], value: Any, message: str
) -> None:
    broken = copy.deepcopy(daemonsets(small_catalog)[GPU_NAME])
    node: Any = broken
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert any(message in error for error in errors(broken, DAEMON_SET)), errors(broken, DAEMON_SET)
    del pod(broken)["containers"]
    assert "$.spec.template.spec: missing required 'containers'" in errors(broken, DAEMON_SET)


def test_gpu_images_only_on_gpu_nodes(small_catalog: Catalog) -> None:
    found = daemonsets(small_catalog)
    cpu, gpu = found[NAME], found[GPU_NAME]
    assert images(gpu) == ["quay.io/jupyter/pytorch-notebook:cuda12-2024-05-27", "example.org/team/gpu-thing:v1"]
    assert images(cpu) == [
        "quay.io/jupyter/scipy-notebook:2024-05-27",
        "example.org/team/cuda-tools:v1",  # gpu: false wins over the name
        "ghcr.io/kubeflow/kubeflow/notebook-servers/codeserver-python:v1.10.0",
        "ghcr.io/kubeflow/kubeflow/notebook-servers/rstudio-tidyverse:v1.10.0",
    ]  # not the hidden base: its shared layers come with the images built on it
    assert pod(gpu)["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-tesla-t4"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod(gpu)["tolerations"]
    assert "nodeSelector" not in pod(cpu) and "affinity" not in pod(cpu)
    assert all(t["key"].startswith("hub.jupyter.org") for t in pod(cpu)["tolerations"])


def test_detected_cuda_decides_as_in_the_other_exports(small_catalog: Catalog) -> None:
    found = daemonsets(small_catalog, detected={"scipy"})
    assert "quay.io/jupyter/scipy-notebook:2024-05-27" in images(found[GPU_NAME])
    assert "quay.io/jupyter/pytorch-notebook:cuda12-2024-05-27" in images(found[NAME])


def test_gpu_classes_pull_on_any_gpu_node(class_catalog: Catalog, tmp_path: Path) -> None:
    gpu = pod(daemonsets(class_catalog)[GPU_NAME])
    assert gpu["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-tesla-t4"}  # the base, not a class
    assert {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"} in gpu["tolerations"]
    no_base = class_catalog_text().replace("  node_selector: {cloud.google.com/gke-accelerator: nvidia-tesla-t4}\n", "")
    catalog = catalog_from(tmp_path, no_base)
    spec = pod(daemonsets(catalog)[GPU_NAME])
    terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert [term["matchExpressions"][0]["key"] for term in terms] == [
        "nvidia.com/gpu.product",
        "node.kubernetes.io/instance-type",
    ]
    check(daemonsets(catalog)[GPU_NAME])


def class_catalog_text() -> str:
    from tests.exporters.conftest import WITH_CLASSES

    return WITH_CLASSES


def test_no_gpu_selector_and_no_classes_is_a_warning(tmp_path: Path) -> None:
    catalog = catalog_from(tmp_path, "images:\n  - {name: torch, image: example.org/torch, tag: v1, gpu: true}\n")
    result = export_prepuller(catalog, plan_gpu(catalog))
    assert any("no node_selector" in warning for warning in result.warnings)
    assert f"No CPU image in the catalog: no {NAME} DaemonSet." in result.body


def test_an_empty_daemonset_is_left_out_and_said(tmp_path: Path) -> None:
    catalog = catalog_from(tmp_path, "images:\n  - {name: scipy, image: quay.io/jupyter/scipy-notebook, tag: v1}\n")
    result = export_prepuller(catalog, plan_gpu(catalog))
    assert f"# No GPU image in the catalog: no {GPU_NAME} DaemonSet." in result.body
    assert set(daemonsets(catalog)) == {NAME}


def test_names_are_valid_and_unique_for_long_and_colliding_catalog_names() -> None:
    long_a, long_b = "a" * 62 + "1", "a" * 62 + "2"
    catalog_names = ["a.b", "a_b", "a-b", long_a, long_b, "x" * 63, "pull", "--"]
    names = container_names(catalog_names)
    assert all(DNS_LABEL.match(name) and len(name) <= 63 for name in names), names
    assert len(set(names)) == len(names)
    assert names[0] == "pull-a-b" and names[1] != names[0] and names[2] not in names[:2]
    assert container_names(catalog_names) == names  # stable from one export to the next


def test_references_are_deduplicated_and_pins_carried(tmp_path: Path) -> None:
    catalog = catalog_from(
        tmp_path,
        "images:\n"
        f"  - {{name: scipy, image: quay.io/jupyter/scipy-notebook, tag: v1, digest: '{DIGEST}'}}\n"
        f"  - {{name: scipy-again, image: quay.io/jupyter/scipy-notebook, tag: v1, digest: '{DIGEST}'}}\n"
        "  - {name: local, image: 'oci:layouts/x', tag: v1}\n",
    )
    result = export_prepuller(catalog, plan_gpu(catalog))
    found = daemonsets(catalog)
    assert images(found[NAME]) == [f"quay.io/jupyter/scipy-notebook:v1@{DIGEST}"]
    assert [c["name"] for c in pod(found[NAME])["initContainers"]] == ["pull-scipy"]
    assert any("oci:" in warning and "local" in warning for warning in result.warnings)


# --- through the CLI ---------------------------------------------------------------------------------


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copy(REPO_ROOT / "catalog.yaml", tmp_path / "catalog.yaml")
    return tmp_path


def test_export_writes_checks_and_guards_the_file(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = str(workdir / "catalog.yaml")
    assert run_cli(capsys, "export", "--catalog", catalog).code == 0
    target = workdir / DEFAULT_PATHS["prepuller"]
    assert not target.exists()  # the bare default writes what it always wrote
    result = run_cli(capsys, "export", "--catalog", catalog, "--format", "prepuller")
    assert result.code == 0, result.err
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# Generated by nbcatalog from catalog.yaml (format: prepuller).")
    assert "# nbcatalog-sha256: " in text.splitlines()[4]
    assert sorted(p.name for p in target.parent.iterdir() if p.is_file()) == ["prepuller.yaml"]  # no temp file
    for daemonset in yaml.safe_load_all(text):
        check(daemonset)
    assert run_cli(capsys, "export", "--catalog", catalog, "--check", "-f", "prepuller").code == 0
    bare = run_cli(capsys, "export", "--catalog", catalog, "--check", "--json")
    assert bare.code == 0  # once written, the bare export keeps it current and checks it
    assert [entry["format"] for entry in bare.json()["files"]] == [*DEFAULT_FORMATS, "prepuller"]
    target.write_text(text.replace("echo Pulling complete", "true"), encoding="utf-8")
    refused = run_cli(capsys, "export", "--catalog", catalog, "-f", "prepuller")
    assert refused.code == 1 and "edited by hand" in refused.err
    assert run_cli(capsys, "export", "--catalog", catalog, "-f", "prepuller", "--force").code == 0
    assert target.read_text(encoding="utf-8") == text


def test_check_sees_a_stale_prepuller(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = workdir / "catalog.yaml"
    assert run_cli(capsys, "export", "--catalog", str(catalog), "--all").code == 0
    assert (workdir / DEFAULT_PATHS["prepuller"]).exists()  # --all is every format
    catalog.write_text(
        catalog.read_text().replace("jupyter-scipy\n    tag: v1.10.0", "jupyter-scipy\n    tag: v1.11.0"),
        encoding="utf-8",
    )
    check_run = run_cli(capsys, "export", "--catalog", str(catalog), "--check", "--json")
    assert check_run.code == 1
    statuses = {entry["format"]: entry["status"] for entry in check_run.json()["files"]}
    assert statuses["prepuller"] == "out-of-date"


def test_base_does_not_apply(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = workdir / "catalog.yaml"
    result = run_cli(capsys, "export", "--catalog", str(base), "-f", "prepuller", "--base", str(base))
    assert result.code == 2 and "--base does not apply to prepuller" in result.err


def test_audit_reads_the_init_container_images(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = str(workdir / "catalog.yaml")
    assert run_cli(capsys, "export", "--catalog", catalog, "-f", "prepuller").code == 0
    profiles = str(workdir / "profiles")
    result = run_cli(capsys, "audit", "--offline", "--json", "--catalog", catalog, profiles)
    assert result.code == 0, result.err
    document = result.json()
    assert document["skipped"] == []
    pulled = [ref["image"] for ref in document["references"] if ref["path"].endswith("prepuller.yaml")]
    expected = daemonsets(load_catalog(workdir / "catalog.yaml"))
    assert pulled == images(expected[NAME]) + images(expected[GPU_NAME])  # not the pause image
    assert not [f for f in document["findings"] if f["source"].startswith(str(workdir / "profiles"))]


def test_small_catalog_round_trips_through_audit_reading(tmp_path: Path) -> None:
    """A hand-made z2jh-style puller (init containers, pause) is read the same way."""
    from nbcatalog.profilefiles.reader import read_text

    catalog = catalog_from(tmp_path, SMALL)
    body = export_prepuller(catalog, plan_gpu(catalog)).body
    read = read_text(body, "prepuller.yaml")
    assert {record.kind for record in read.records} == {"prepuller"}
    assert [r.image for r in read.records] == [
        *images(daemonsets(catalog)[NAME]),
        *images(daemonsets(catalog)[GPU_NAME]),
    ]
    assert all(r.tag_position is not None for r in read.records)  # audit --fix can rewrite them


def test_the_pre_write_check_reads_the_daemonsets() -> None:
    """export refuses, as for the spawner configs, a reference no node can pull or one pulled twice."""
    from nbcatalog.exporters.files import PlannedFile
    from nbcatalog.exporters.preflight import preflight

    text = (
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: p}\nspec:\n  template:\n    spec:\n"
        "      initContainers:\n"
        "        - {name: a, image: 'x/y:v1'}\n        - {name: b, image: 'x/y:v1'}\n"
        "        - {name: c, image: 'bad ref'}\n"
        "      containers: [{name: pause, image: 'registry.k8s.io/pause:3.10'}]\n"
    )
    problems = [str(p) for p in preflight([PlannedFile(Path("p.yaml"), text, "prepuller")])]
    assert problems == [
        "p.yaml:10: invalid image reference: invalid repository path component 'bad ref'",
        "p.yaml:9: x/y:v1 is offered twice in DaemonSet p initContainers (line 8)",
    ]
