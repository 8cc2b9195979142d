"""``nbcatalog apply`` end to end: real kubeconfig, real client, the loopback fake API server."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.cli.run import run_cli
from tests.support.kubeapi import FakeKubeAPI, serve
from tests.test_cluster import MOUNTED, SPAWNER_NEW, SPAWNER_V1_10, WORKSPACEKIND, seed_kubeflow


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[FakeKubeAPI]:
    yield from serve(tmp_path)


@pytest.fixture
def kubeconfig(kube: FakeKubeAPI, tmp_path: Path) -> str:
    return str(kube.write_kubeconfig(tmp_path / "kubeconfig"))


def test_kubeflow_apply_patches_the_mounted_configmap_and_says_which(
    kube: FakeKubeAPI, kubeconfig: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_kubeflow(kube)
    exported = tmp_path / "spawner_ui_config.yaml"
    exported.write_text(SPAWNER_NEW)
    result = run_cli(capsys, "apply", "--format", "kubeflow", "--file", str(exported), "--kubeconfig", kubeconfig)
    assert result.code == 0, result.err
    assert f"nbcatalog: cluster:configmap/kubeflow/{MOUNTED}: patched (mounted by deployment/kubeflow/" in result.err
    assert "+    value: ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.11.0" in result.out
    assert kube.get("configmaps", MOUNTED, "kubeflow")["data"]["spawner_ui_config.yaml"] == SPAWNER_NEW  # type: ignore[index]
    assert kube.token not in result.out + result.err


def test_dry_run_json_and_the_default_path(
    kube: FakeKubeAPI, kubeconfig: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    seed_kubeflow(kube)
    (tmp_path / "profiles" / "kubeflow").mkdir(parents=True)
    # the ConfigMap form of the export: the key is taken out of it
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "jupyter-web-app-config"},
                 "data": {"spawner_ui_config.yaml": SPAWNER_NEW}}  # fmt: skip
    (tmp_path / "profiles" / "kubeflow" / "spawner_ui_config.yaml").write_text(yaml.safe_dump(configmap))
    monkeypatch.chdir(tmp_path)
    result = run_cli(capsys, "apply", "--format", "kubeflow", "--dry-run", "--json", "--kubeconfig", kubeconfig)
    assert result.code == 0, result.err
    document = result.json()
    assert (document["format"], document["dry_run"], document["file"]) == (
        "kubeflow", True, "profiles/kubeflow/spawner_ui_config.yaml")  # fmt: skip
    [change] = document["changes"]
    assert (change["object"], change["action"]) == (f"cluster:configmap/kubeflow/{MOUNTED}", "patched")
    assert "-    value: ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.10.0\n" in change["diff"]
    assert kube.writes() == []
    assert kube.get("configmaps", MOUNTED, "kubeflow")["data"]["spawner_ui_config.yaml"] == SPAWNER_V1_10  # type: ignore[index]


def test_workspacekind_create_then_update(
    kube: FakeKubeAPI, kubeconfig: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    codeserver = copy.deepcopy(WORKSPACEKIND)
    codeserver["metadata"] = {"name": "codeserver"}
    exported = tmp_path / "workspacekind.yaml"
    exported.write_text(yaml.safe_dump_all([WORKSPACEKIND, codeserver]))
    args = ("apply", "--format", "workspacekind", "--file", str(exported), "--kubeconfig", kubeconfig)
    first = run_cli(capsys, *args)
    assert first.code == 0, first.err
    assert first.err.splitlines() == [
        "nbcatalog: cluster:workspacekind/jupyterlab: created",
        "nbcatalog: cluster:workspacekind/codeserver: created",
    ]
    newer = copy.deepcopy(WORKSPACEKIND)
    newer["spec"]["spawner"]["displayName"] = "JupyterLab 4"  # type: ignore[index]
    exported.write_text(yaml.safe_dump_all([newer, codeserver]))
    second = run_cli(capsys, *args, "--json")
    assert second.code == 0, second.err
    actions = {c["object"]: c["action"] for c in second.json()["changes"]}
    assert actions == {"cluster:workspacekind/jupyterlab": "replaced", "cluster:workspacekind/codeserver": "unchanged"}
    assert kube.get("workspacekinds", "jupyterlab")["spec"]["spawner"]["displayName"] == "JupyterLab 4"  # type: ignore[index]
    assert [r.method for r in kube.writes()] == ["POST", "POST", "PUT"]


def test_conflict_and_forbidden_are_one_line_and_exit_1(
    kube: FakeKubeAPI, kubeconfig: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_kubeflow(kube)
    exported = tmp_path / "spawner_ui_config.yaml"
    exported.write_text(SPAWNER_NEW)
    args = ("apply", "--format", "kubeflow", "--file", str(exported), "--kubeconfig", kubeconfig)
    kube.after("GET", f"/api/v1/namespaces/kubeflow/configmaps/{MOUNTED}",
               lambda api: api.touch("configmaps", MOUNTED, "kubeflow"))  # fmt: skip
    conflict = run_cli(capsys, *args)
    assert conflict.code == 1 and conflict.out == ""
    [line] = conflict.err.splitlines()
    assert line.startswith(f"nbcatalog: error: cluster:configmap/kubeflow/{MOUNTED}: conflict: ")

    kube.forbid("patch", "configmaps", "kubeflow")
    forbidden = run_cli(capsys, *args)
    assert forbidden.code == 1
    [line] = forbidden.err.splitlines()
    assert line.startswith(f"nbcatalog: error: cluster:configmap/kubeflow/{MOUNTED}: forbidden: ")
    assert 'cannot patch resource "configmaps"' in line


def test_jupyterhub_only_prints_the_values_for_helm(
    kube: FakeKubeAPI, kubeconfig: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values = "singleuser:\n  profileList:\n  - display_name: CPU\n"
    exported = tmp_path / "jupyterhub-values.yaml"
    exported.write_text(values)
    result = run_cli(capsys, "apply", "--format", "jupyterhub", "--file", str(exported), "--kubeconfig", kubeconfig)
    assert (result.code, result.out) == (0, values)
    assert "helm release" in result.err and f"--values {exported}" in result.err
    document = run_cli(capsys, "apply", "--format", "jupyterhub", "--file", str(exported), "--json").json()
    assert set(document) == {"format", "file", "dry_run", "changes", "warnings", "helm_values", "message"}
    assert (document["helm_values"], document["changes"], document["warnings"]) == (values, [], [])
    assert kube.requests == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a: [1, 2\n", ":2:1: not valid YAML"),
        ("kind: Kustomization\n", "not a Kubeflow spawner_ui_config.yaml"),
    ],
)
def test_bad_input_files_exit_2_naming_the_file(
    kube: FakeKubeAPI, kubeconfig: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    exported = tmp_path / "bad.yaml"
    exported.write_text(content)
    result = run_cli(capsys, "apply", "--format", "kubeflow", "--file", str(exported), "--kubeconfig", kubeconfig)
    assert result.code == 2
    [line] = result.err.splitlines()
    assert line.startswith(f"nbcatalog: error: {exported}") and message in line
    assert kube.requests == []


def test_apply_takes_no_hub_namespace(capsys: pytest.CaptureFixture[str]) -> None:
    """Only the audit looks for the z2jh hub: apply never touches it, so it must not accept the option."""
    with pytest.raises(SystemExit) as exited:
        run_cli(capsys, "apply", "--format", "jupyterhub", "--hub-namespace", "jhub")
    assert exited.value.code == 2
    assert "unrecognized arguments: --hub-namespace" in capsys.readouterr().err


def test_missing_export_and_bad_workspacekind_exit_2(
    kube: FakeKubeAPI, kubeconfig: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    missing = run_cli(capsys, "apply", "--format", "workspacekind", "--kubeconfig", kubeconfig)
    assert missing.code == 2 and "nbcatalog export --format workspacekind" in missing.err
    exported = tmp_path / "wk.yaml"
    exported.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    wrong = run_cli(capsys, "apply", "--format", "workspacekind", "--file", str(exported), "--kubeconfig", kubeconfig)
    assert wrong.code == 2 and f"{exported}: not a kubeflow.org/v1beta1 WorkspaceKind" in wrong.err
    assert [r.method for r in kube.requests] == []


CATALOG = """\
gpu:
  resource: nvidia.com/gpu
  node_selector: {nvidia.com/gpu.present: "true"}
images:
  - name: jupyter-scipy
    image: ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy
    tag: v1.10.0
    kind: jupyter
    default: true
  - name: jupyter-pytorch-cuda
    image: ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-pytorch-cuda
    tag: v1.10.0
    kind: jupyter
    gpu: true
"""


def test_export_then_apply_from_the_default_paths(
    kube: FakeKubeAPI, kubeconfig: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_kubeflow(kube)
    project = tmp_path / "project"
    project.mkdir()
    catalog = project / "catalog.yaml"
    catalog.write_text(CATALOG)
    exported = run_cli(capsys, "--catalog", str(catalog), "export", "--format", "kubeflow", "--format", "workspacekind")
    assert exported.code == 0, exported.err
    for export_format in ("kubeflow", "workspacekind"):
        applied = run_cli(
            capsys, "--catalog", str(catalog), "apply", "--format", export_format, "--kubeconfig", kubeconfig, "--json"
        )
        assert applied.code == 0, applied.err
        assert {c["action"] for c in applied.json()["changes"]} <= {"patched", "created"}
        assert applied.json()["warnings"] == [] and "warning" not in applied.err
    spawner = (project / "profiles" / "kubeflow" / "spawner_ui_config.yaml").read_text()
    live = kube.get("configmaps", MOUNTED, "kubeflow")["data"]["spawner_ui_config.yaml"]  # type: ignore[index]
    # the generated file's image sections, spliced into the live config: its cpu stays the cluster's
    assert (
        yaml.safe_load(live)["spawnerFormDefaults"]["image"] == yaml.safe_load(spawner)["spawnerFormDefaults"]["image"]
    )
    assert live.endswith("  cpu:\n    value: '0.5'\n") and "jupyter-pytorch-cuda:v1.10.0" in live
    kinds = [
        d for d in yaml.safe_load_all((project / "profiles" / "workspacekind" / "workspacekind.yaml").read_text()) if d
    ]
    assert kinds
    for kind in kinds:
        stored = kube.get("workspacekinds", kind["metadata"]["name"])
        assert stored is not None and stored["spec"] == kind["spec"]
    again = run_cli(capsys, "--catalog", str(catalog), "apply", "--format", "workspacekind", "--kubeconfig", kubeconfig)
    assert again.code == 0 and again.out == "" and "unchanged" in again.err


def test_kubeflow_export_merged_into_the_live_config_applies_without_warning(
    kube: FakeKubeAPI, kubeconfig: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The way to keep the cluster's own settings: export into a copy of the live config, then apply."""
    seed_kubeflow(kube)
    live = tmp_path / "live.yaml"
    live.write_text(kube.get("configmaps", MOUNTED, "kubeflow")["data"]["spawner_ui_config.yaml"])  # type: ignore[index]
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG)
    exported = run_cli(capsys, "--catalog", str(catalog), "export", "-f", "kubeflow", "--base", str(live))
    assert exported.code == 0, exported.err
    applied = run_cli(capsys, "--catalog", str(catalog), "apply", "--format", "kubeflow", "--kubeconfig", kubeconfig)
    assert applied.code == 0, applied.err
    assert "patched" in applied.err and "warning: " not in applied.err
    after = kube.get("configmaps", MOUNTED, "kubeflow")["data"]["spawner_ui_config.yaml"]  # type: ignore[index]
    before = yaml.safe_load(live.read_text())["spawnerFormDefaults"]
    kept = {key: value for key, value in before.items() if key not in ("image", "imageGroupOne", "imageGroupTwo")}
    merged = yaml.safe_load(after)["spawnerFormDefaults"]
    assert {key: merged[key] for key in kept} == kept


def test_kubeflow_apply_splices_into_the_live_config_and_keeps_the_clusters_settings(
    kube: FakeKubeAPI, kubeconfig: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 12, point 8: a generated export applied to a cluster running Kubeflow v1.10's own config
    changes only the image sections; cpu, memory, GPU vendors, affinity and toleration groups, the
    code-server and RStudio groups (the catalog has none) and every comment stay the cluster's."""
    from tests.support.reference import REFERENCE
    from tests.test_cluster import configmap, deployment

    live = (REFERENCE / "kubeflow-v1.10.0-spawner_ui_config.yaml").read_text()
    assert 'value: "1.0Gi"' in live
    live = live.replace('value: "1.0Gi"', 'value: "6.0Gi"')  # this cluster's own size
    kube.add(configmap(MOUNTED, "kubeflow", {"spawner_ui_config.yaml": live}))
    kube.add(deployment("jupyter-web-app-deployment", "kubeflow", {"app": "jupyter-web-app"}, [
        {"name": "config-volume", "configMap": {"name": MOUNTED}}]))  # fmt: skip
    project = tmp_path / "project"
    project.mkdir()
    (project / "catalog.yaml").write_text(CATALOG)
    catalog = str(project / "catalog.yaml")
    assert run_cli(capsys, "--catalog", catalog, "export", "--format", "kubeflow").code == 0
    dry = run_cli(
        capsys, "--catalog", catalog, "apply", "--format", "kubeflow", "--dry-run", "--kubeconfig", kubeconfig
    )
    assert dry.code == 0, dry.err
    assert kube.writes() == []
    changed = [line for line in dry.out.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed and all("notebook-servers/" in line or "image" in line or "#" in line for line in changed), changed
    assert "imageGroupOne" in dry.err and "kept" in dry.err  # said, and kept
    applied = run_cli(capsys, "--catalog", catalog, "apply", "--format", "kubeflow", "--kubeconfig", kubeconfig)
    assert applied.code == 0, applied.err
    after = kube.get("configmaps", MOUNTED, "kubeflow")["data"]["spawner_ui_config.yaml"]  # type: ignore[index]
    before_form, after_form = (yaml.safe_load(t)["spawnerFormDefaults"] for t in (live, after))
    for key in before_form:
        if key != "image":
            assert after_form[key] == before_form[key], key
    assert after_form["memory"]["value"] == "6.0Gi"
    assert after_form["image"]["options"] == [
        "ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.10.0",
        "ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-pytorch-cuda:v1.10.0",
    ]
    comments = [line for line in live.splitlines() if line.lstrip().startswith("#")]
    assert all(comment in after.splitlines() for comment in comments)
    again = run_cli(capsys, "--catalog", catalog, "apply", "--format", "kubeflow", "--kubeconfig", kubeconfig)
    assert again.code == 0 and again.out == "" and "unchanged" in again.err
