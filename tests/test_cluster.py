"""nbcatalog.cluster and clusteraudit against the loopback fake API server, a real kubeconfig and the real client."""

from __future__ import annotations

import base64
import copy
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from nbcatalog.cluster import (
    Cluster,
    ClusterNotFoundError,
    ClusterOptions,
    apply_kubeflow,
    apply_workspacekind,
    find_jwa_configmap,
)
from nbcatalog.clusteraudit import REDACTED, read_cluster_profiles, read_cluster_sources, singleuser_profiles
from nbcatalog.errors import BadInputError, ClusterError
from nbcatalog.ocibuild import build_image, build_layer, file
from tests.cli.run import run_cli
from tests.support.kubeapi import FakeKubeAPI, serve
from tests.support.registry import Pusher, RegistryServer

# The image section of Kubeflow v1.10.0's spawner_ui_config.yaml (apps/jupyter/jupyter/manifests/base/configs).
SPAWNER_V1_10 = """\
spawnerFormDefaults:
  # if users can input custom images, or only select from dropdowns
  allowCustomImage: true
  image:
    # the default container image
    value: ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.10.0
    options:
    - ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.10.0
    - ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-pytorch-cuda-full:v1.10.0
  cpu:
    value: '0.5'
"""
SPAWNER_NEW = SPAWNER_V1_10.replace("v1.10.0", "v1.11.0")
MOUNTED = "jupyter-web-app-config-7h2k9m4b5t"
# Strings that only exist in the hub Secret's non-profile data: none may ever come out.
SECRETS = [
    "SECRET-cookie-5f1e2d",
    "SECRET-proxy-token-9a8b7c",
    "SECRET-github-client-3c4d",
    "SECRET-admin-password-77aa",
    "SECRET-profile-env-token-42",
    "SECRET-pull-secret-1b2b",
]


def deployment(name: str, namespace: str, labels: dict[str, str], volumes: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "main", "image": "example/app:1"}], "volumes": volumes},
            },
        },
    }


def configmap(name: str, namespace: str, data: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace}, "data": data}


def seed_kubeflow(api: FakeKubeAPI) -> None:
    """What kustomize leaves behind after two deploys: old hash-named ConfigMaps next to the mounted one."""
    for name in ("jupyter-web-app-config", "jupyter-web-app-config-5c8dk2m7fd", MOUNTED, "centraldashboard-config"):
        api.add(configmap(name, "kubeflow", {"spawner_ui_config.yaml": SPAWNER_V1_10}))
    api.add(deployment("centraldashboard", "kubeflow", {"app": "centraldashboard"}, [
        {"name": "config", "configMap": {"name": "centraldashboard-config"}}]))  # fmt: skip
    api.add(deployment("jupyter-web-app-deployment", "kubeflow", {"app": "jupyter-web-app"}, [
        {"name": "config-volume", "configMap": {"name": MOUNTED}},
        {"name": "logos", "configMap": {"name": "jupyter-web-app-logos"}}]))  # fmt: skip


WORKSPACEKIND = {
    "apiVersion": "kubeflow.org/v1beta1",
    "kind": "WorkspaceKind",
    "metadata": {"name": "jupyterlab"},
    "spec": {
        "spawner": {"displayName": "JupyterLab Notebook", "description": "JupyterLab in a Pod"},
        "podTemplate": {
            "options": {
                "imageConfig": {
                    "spawner": {"default": "jupyterlab_scipy_190"},
                    "values": [
                        {
                            "id": "jupyterlab_scipy_190",
                            "spawner": {"displayName": "jupyter-scipy:v1.9.0"},
                            "spec": {"image": "ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.9.0"},
                        }
                    ],
                }
            }
        },
    },
}


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[FakeKubeAPI]:
    yield from serve(tmp_path)


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every address a socket connects to during the test; anything off loopback is refused, not tried."""
    seen: list[Any] = []
    original = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        seen.append(address)
        if isinstance(address, tuple) and not str(address[0]).startswith("127."):
            raise OSError(f"test guard: refused to connect to {address!r}")
        return original(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen


@pytest.fixture
def cluster(kube: FakeKubeAPI, tmp_path: Path, connections: list[Any]) -> Iterator[Cluster]:
    options = ClusterOptions(kubeconfig=str(kube.write_kubeconfig(tmp_path / "kubeconfig")))
    with Cluster.connect(options) as connected:
        yield connected
    assert all(address[0] == "127.0.0.1" for address in connections)


def test_finds_the_configmap_the_deployment_mounts(kube: FakeKubeAPI, cluster: Cluster) -> None:
    seed_kubeflow(kube)
    target = find_jwa_configmap(cluster, ClusterOptions())
    assert (target.namespace, target.name) == ("kubeflow", MOUNTED)
    assert target.mounted_by == "deployment/kubeflow/jupyter-web-app-deployment"
    assert target.text == SPAWNER_V1_10
    assert all(request.authorization == f"Bearer {kube.token}" for request in kube.requests)


def test_apply_patches_only_the_mounted_configmap(kube: FakeKubeAPI, cluster: Cluster) -> None:
    seed_kubeflow(kube)
    before = {name: kube.get("configmaps", name, "kubeflow") for name in ("jupyter-web-app-config-5c8dk2m7fd",
                                                                          "jupyter-web-app-config")}  # fmt: skip
    change = apply_kubeflow(cluster, SPAWNER_NEW, "profiles/spawner_ui_config.yaml", ClusterOptions(), dry_run=False)
    assert (change.label, change.action) == (f"cluster:configmap/kubeflow/{MOUNTED}", "patched")
    assert "jupyter-web-app-deployment" in change.note
    patched = kube.get("configmaps", MOUNTED, "kubeflow")
    assert patched is not None and patched["data"]["spawner_ui_config.yaml"] == SPAWNER_NEW
    for name, old in before.items():
        assert kube.get("configmaps", name, "kubeflow") == old
    [write] = kube.writes()
    assert (write.method, write.path) == ("PATCH", f"/api/v1/namespaces/kubeflow/configmaps/{MOUNTED}")
    assert write.content_type == "application/strategic-merge-patch+json"
    body = json.loads(write.body)
    assert body["metadata"]["resourceVersion"] and set(body["data"]) == {"spawner_ui_config.yaml"}


def test_dry_run_shows_a_unified_diff_and_writes_nothing(kube: FakeKubeAPI, cluster: Cluster) -> None:
    seed_kubeflow(kube)
    change = apply_kubeflow(cluster, SPAWNER_NEW, "new.yaml", ClusterOptions(), dry_run=True)
    assert change.action == "patched" and kube.writes() == []
    lines = change.diff.splitlines()
    assert lines[0] == f"--- cluster:configmap/kubeflow/{MOUNTED} (spawner_ui_config.yaml)"
    assert lines[1] == "+++ new.yaml"
    assert "-    value: ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.10.0" in lines
    assert "+    value: ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.11.0" in lines
    assert not any(line.startswith(("-", "+")) and "cpu" in line for line in lines)


def test_applying_the_same_text_changes_nothing(kube: FakeKubeAPI, cluster: Cluster) -> None:
    seed_kubeflow(kube)
    change = apply_kubeflow(cluster, SPAWNER_V1_10, "same.yaml", ClusterOptions(), dry_run=False)
    assert (change.action, change.diff) == ("unchanged", "") and kube.writes() == []


def test_configmap_name_and_namespace_can_be_given(kube: FakeKubeAPI, cluster: Cluster) -> None:
    kube.add(configmap("my-jwa", "notebooks", {"spawner_ui_config.yaml": SPAWNER_V1_10}))
    options = ClusterOptions(namespace="notebooks", configmap="my-jwa")
    change = apply_kubeflow(cluster, SPAWNER_NEW, "x.yaml", options, dry_run=False)
    assert change.label == "cluster:configmap/notebooks/my-jwa"
    assert kube.get("configmaps", "my-jwa", "notebooks")["data"]["spawner_ui_config.yaml"] == SPAWNER_NEW  # type: ignore[index]


def test_without_a_mounting_deployment_only_a_single_candidate_is_used(kube: FakeKubeAPI, cluster: Cluster) -> None:
    kube.add(configmap("jupyter-web-app-config-aaaa", "kubeflow", {"spawner_ui_config.yaml": "a: 1\n"}))
    assert find_jwa_configmap(cluster, ClusterOptions()).name == "jupyter-web-app-config-aaaa"
    kube.add(configmap("jupyter-web-app-config-bbbb", "kubeflow", {"spawner_ui_config.yaml": "a: 2\n"}))
    with pytest.raises(ClusterNotFoundError, match="jupyter-web-app-config-aaaa, jupyter-web-app-config-bbbb"):
        find_jwa_configmap(cluster, ClusterOptions())


def test_a_configmap_without_the_key_is_refused(kube: FakeKubeAPI, cluster: Cluster) -> None:
    kube.add(configmap("jwa", "kubeflow", {"other": "x"}))
    with pytest.raises(ClusterError, match=r"cluster:configmap/kubeflow/jwa: .*spawner_ui_config.yaml"):
        find_jwa_configmap(cluster, ClusterOptions(configmap="jwa"))


def test_a_concurrent_edit_is_a_409_conflict_not_an_overwrite(kube: FakeKubeAPI, cluster: Cluster) -> None:
    seed_kubeflow(kube)
    path = f"/api/v1/namespaces/kubeflow/configmaps/{MOUNTED}"
    kube.after("GET", path, lambda api: api.touch("configmaps", MOUNTED, "kubeflow"))
    with pytest.raises(ClusterError) as caught:
        apply_kubeflow(cluster, SPAWNER_NEW, "x.yaml", ClusterOptions(), dry_run=False)
    assert str(caught.value).startswith(f"cluster:configmap/kubeflow/{MOUNTED}: conflict: ")
    assert "\n" not in str(caught.value) and caught.value.exit_code == 1
    assert kube.get("configmaps", MOUNTED, "kubeflow")["data"]["spawner_ui_config.yaml"] == SPAWNER_V1_10  # type: ignore[index]
    assert [r.status for r in kube.writes()] == [409]


def test_forbidden_is_one_clear_line(kube: FakeKubeAPI, cluster: Cluster) -> None:
    seed_kubeflow(kube)
    kube.forbid("patch", "configmaps", "kubeflow")
    with pytest.raises(ClusterError) as caught:
        apply_kubeflow(cluster, SPAWNER_NEW, "x.yaml", ClusterOptions(), dry_run=False)
    message = str(caught.value)
    assert message.startswith(f"cluster:configmap/kubeflow/{MOUNTED}: forbidden: ")
    assert 'cannot patch resource "configmaps"' in message and "\n" not in message
    assert kube.token not in message


def test_a_wrong_token_is_refused_and_never_printed(kube: FakeKubeAPI, tmp_path: Path) -> None:
    kubeconfig = kube.write_kubeconfig(tmp_path / "kc", token="wrong-token-abc")
    with (
        Cluster.connect(ClusterOptions(kubeconfig=str(kubeconfig))) as cluster,
        pytest.raises(ClusterError, match="refused the credentials") as caught,
    ):
        find_jwa_configmap(cluster, ClusterOptions())
    assert "wrong-token-abc" not in str(caught.value)
    assert kube.requests[0].authorization == "Bearer wrong-token-abc"


def test_unreadable_kubeconfig_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInputError) as caught:
        Cluster.connect(ClusterOptions(kubeconfig=str(tmp_path / "missing")))
    assert caught.value.exit_code == 2 and str(tmp_path / "missing") in str(caught.value)


def test_an_unreachable_server_is_a_cluster_error(kube: FakeKubeAPI, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    kube.url = f"https://127.0.0.1:{closed_port}"
    kubeconfig = kube.write_kubeconfig(tmp_path / "kc")
    with (
        Cluster.connect(ClusterOptions(kubeconfig=str(kubeconfig))) as cluster,
        pytest.raises(ClusterError, match=r"cannot reach the Kubernetes API at https://127\.0\.0\.1"),
    ):
        find_jwa_configmap(cluster, ClusterOptions())


def test_an_environment_proxy_is_not_used_for_a_loopback_server(
    kube: FakeKubeAPI, tmp_path: Path, connections: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://192.0.2.1:3128")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    seed_kubeflow(kube)
    with Cluster.connect(ClusterOptions(kubeconfig=str(kube.write_kubeconfig(tmp_path / "kc")))) as cluster:
        assert find_jwa_configmap(cluster, ClusterOptions()).name == MOUNTED
    assert connections and {address[0] for address in connections} == {"127.0.0.1"}


def test_in_cluster_service_account(kube: FakeKubeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text(kube.token)
    (account / "ca.crt").write_bytes(kube.ca_pem)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", kube.url.rsplit(":", 1)[1])
    seed_kubeflow(kube)
    with Cluster.connect(ClusterOptions(serviceaccount_dir=account)) as cluster:
        assert find_jwa_configmap(cluster, ClusterOptions()).name == MOUNTED


# -- WorkspaceKinds --


def test_workspacekind_create_then_update(kube: FakeKubeAPI, cluster: Cluster) -> None:
    created = apply_workspacekind(cluster, WORKSPACEKIND, "wk.yaml", dry_run=False)
    assert (created.label, created.action) == ("cluster:workspacekind/jupyterlab", "created")
    stored = kube.get("workspacekinds", "jupyterlab")
    assert stored is not None and stored["spec"] == WORKSPACEKIND["spec"]
    assert [(r.method, r.path) for r in kube.writes()] == [("POST", "/apis/kubeflow.org/v1beta1/workspacekinds")]

    newer = copy.deepcopy(WORKSPACEKIND)
    values = newer["spec"]["podTemplate"]["options"]["imageConfig"]["values"]  # type: ignore[index]
    values.append({"id": "jupyterlab_scipy_1100", "spawner": {"displayName": "jupyter-scipy:v1.10.0"},
                   "spec": {"image": "ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.10.0"}})  # fmt: skip
    planned = apply_workspacekind(cluster, newer, "wk.yaml", dry_run=True)
    assert planned.action == "replaced" and len(kube.writes()) == 1
    assert "+            image: ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.10.0" in planned.diff
    assert "resourceVersion" not in planned.diff and "uid" not in planned.diff

    replaced = apply_workspacekind(cluster, newer, "wk.yaml", dry_run=False)
    assert replaced.action == "replaced"
    put = kube.writes()[-1]
    assert (put.method, put.path) == ("PUT", "/apis/kubeflow.org/v1beta1/workspacekinds/jupyterlab")
    assert json.loads(put.body)["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]
    assert kube.get("workspacekinds", "jupyterlab")["spec"] == newer["spec"]  # type: ignore[index]

    again = apply_workspacekind(cluster, newer, "wk.yaml", dry_run=False)
    assert again.action == "unchanged" and len(kube.writes()) == 2


def test_workspacekind_conflict_and_forbidden(kube: FakeKubeAPI, cluster: Cluster) -> None:
    kube.add(copy.deepcopy(WORKSPACEKIND))
    newer = copy.deepcopy(WORKSPACEKIND)
    newer["spec"]["spawner"]["displayName"] = "JupyterLab"  # type: ignore[index]
    path = "/apis/kubeflow.org/v1beta1/workspacekinds/jupyterlab"
    kube.after("GET", path, lambda api: api.touch("workspacekinds", "jupyterlab"))
    with pytest.raises(ClusterError, match=r"^cluster:workspacekind/jupyterlab: conflict: .*modified"):
        apply_workspacekind(cluster, newer, "wk.yaml", dry_run=False)

    kube.forbid("create", "workspacekinds")
    other = copy.deepcopy(WORKSPACEKIND)
    other["metadata"] = {"name": "codeserver"}
    with pytest.raises(ClusterError, match=r"^cluster:workspacekind/codeserver: forbidden: .*cluster scope"):
        apply_workspacekind(cluster, other, "wk.yaml", dry_run=False)


def test_workspacekind_input_is_checked(cluster: Cluster) -> None:
    with pytest.raises(BadInputError, match=r"^wk\.yaml: not a kubeflow\.org/v1beta1 WorkspaceKind"):
        apply_workspacekind(cluster, {"apiVersion": "v1", "kind": "ConfigMap"}, "wk.yaml", dry_run=False)
    with pytest.raises(BadInputError, match=r"no metadata\.name"):
        apply_workspacekind(cluster, {**WORKSPACEKIND, "metadata": {}}, "wk.yaml", dry_run=False)


# -- audit --cluster --

HUB_VALUES = f"""\
hub:
  cookieSecret: {SECRETS[0]}
  config:
    JupyterHub:
      admin_access: true
      authenticator_class: github
    GitHubOAuthenticator:
      client_secret: {SECRETS[2]}
    DummyAuthenticator:
      password: {SECRETS[3]}
proxy:
  secretToken: {SECRETS[1]}
singleuser:
  image:
    name: quay.io/jupyter/minimal-notebook
    tag: "2024-05-27"
    pullSecrets: [{SECRETS[5]}]
  extraEnv:
    API_TOKEN: {SECRETS[4]}
  profileList:
    - display_name: CPU
      default: true
      kubespawner_override:
        image: quay.io/jupyter/scipy-notebook:2024-05-27
        environment:
          TOKEN: {SECRETS[4]}
    - display_name: GPU
      profile_options:
        image:
          display_name: Image
          choices:
            pytorch:
              display_name: PyTorch
              kubespawner_override:
                image: quay.io/jupyter/pytorch-notebook:cuda12-2024-05-27
          unlisted_choice:
            enabled: true
            kubespawner_override:
              image: "{{value}}"
      kubespawner_override:
        nodeSelector:
          nvidia.com/gpu.present: "true"
        extra_resource_limits:
          nvidia.com/gpu: "1"
"""


def seed_hub(api: FakeKubeAPI) -> None:
    encoded = {
        "values.yaml": HUB_VALUES,
        "hub.config.JupyterHub.cookie_secret": SECRETS[0],
        "hub.config.ConfigurableHTTPProxy.auth_token": SECRETS[1],
    }
    api.add({"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": {"name": "hub", "namespace": "jhub"},
             "data": {k: base64.b64encode(v.encode()).decode() for k, v in encoded.items()}})  # fmt: skip
    labels = {"app": "jupyterhub", "component": "hub", "release": "jhub"}
    api.add(deployment("hub", "jhub", labels, [
        {"name": "config", "configMap": {"name": "hub"}},
        {"name": "secret", "secret": {"secretName": "hub"}}]))  # fmt: skip
    api.add(configmap("hub", "jhub", {"jupyterhub_config.py": "import z2jh\n"}))
    # an old chart (0.9): values in ConfigMap hub-config, secrets in Secret hub-secret
    old_values = "singleuser:\n  image:\n    name: jupyter/datascience-notebook\n    tag: 2343e33dec46\n"
    api.add(configmap("hub-config", "legacy", {"values.yaml": old_values}))
    api.add({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "hub-secret", "namespace": "legacy"},
             "data": {"proxy.token": base64.b64encode(SECRETS[1].encode()).decode()}})  # fmt: skip
    api.add(deployment("hub", "legacy", {"app": "jupyterhub", "component": "hub"}, [
        {"name": "config", "configMap": {"name": "hub-config"}},
        {"name": "secret", "secret": {"secretName": "hub-secret"}}]))  # fmt: skip


def pod(name: str, namespace: str, labels: dict[str, str], container: str, image: str) -> dict[str, Any]:
    """A notebook pod as Kubeflow's controller or KubeSpawner makes it, with an injected Istio sidecar first."""
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"containers": [{"name": "istio-proxy", "image": "istio/proxyv2:1.22"},
                                    {"name": container, "image": image}]}}  # fmt: skip


def seed_workloads(api: FakeKubeAPI) -> None:
    api.add(pod("alice-0", "kubeflow-user", {"notebook-name": "alice", "statefulset": "alice"},
                "alice", "kubeflownotebookswg/jupyter-scipy:v1.8.0"))  # fmt: skip
    api.add(pod("jupyter-bob", "jhub", {"component": "singleuser-server", "app": "jupyterhub"},
                "notebook", "quay.io/jupyter/scipy-notebook:latest"))  # fmt: skip
    api.add(pod("hub-abc", "jhub", {"component": "hub"}, "hub", "quay.io/jupyterhub/k8s-hub:4.0.0"))
    template = {
        "metadata": {"labels": {"notebook-name": "alice"}},
        "spec": {"containers": [{"name": "alice", "image": "kubeflownotebookswg/jupyter-scipy:v1.8.0"}]},
    }
    api.add({"apiVersion": "apps/v1", "kind": "StatefulSet",
             "metadata": {"name": "alice", "namespace": "kubeflow-user",
                          "ownerReferences": [{"apiVersion": "kubeflow.org/v1", "kind": "Notebook", "name": "alice",
                                               "uid": "1", "controller": True}]},
             "spec": {"selector": {"matchLabels": {"statefulset": "alice"}}, "template": template}})  # fmt: skip
    api.add({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "postgres", "namespace": "db"},
             "spec": {"template": {"spec": {"containers": [{"name": "pg", "image": "postgres:16"}]}}}})  # fmt: skip


def test_audit_reads_every_cluster_source(kube: FakeKubeAPI, cluster: Cluster) -> None:
    seed_kubeflow(kube)
    kube.add(copy.deepcopy(WORKSPACEKIND))
    seed_hub(kube)
    seed_workloads(kube)
    readout = read_cluster_sources(cluster, ClusterOptions())
    assert readout.problems == []
    by_label = {source.label: source for source in readout.sources}
    assert {label: source.kind for label, source in by_label.items()} == {
        f"cluster:configmap/kubeflow/{MOUNTED}": "kubeflow",
        "cluster:workspacekind/jupyterlab": "workspacekind",
        "cluster:secret/jhub/hub": "jupyterhub",
        "cluster:configmap/legacy/hub-config": "jupyterhub",
        "cluster:pod/kubeflow-user/alice-0": "pod",
        "cluster:pod/jhub/jupyter-bob": "pod",
        "cluster:statefulset/kubeflow-user/alice": "statefulset",
    }
    assert by_label[f"cluster:configmap/kubeflow/{MOUNTED}"].text == SPAWNER_V1_10
    workspacekind = yaml.safe_load(by_label["cluster:workspacekind/jupyterlab"].text)
    assert workspacekind["spec"] == WORKSPACEKIND["spec"] and "resourceVersion" not in workspacekind["metadata"]
    assert by_label["cluster:pod/jhub/jupyter-bob"].text == "quay.io/jupyter/scipy-notebook:latest\n"
    assert by_label["cluster:pod/kubeflow-user/alice-0"].text == "kubeflownotebookswg/jupyter-scipy:v1.8.0\n"
    assert by_label["cluster:statefulset/kubeflow-user/alice"].text == "kubeflownotebookswg/jupyter-scipy:v1.8.0\n"
    legacy = yaml.safe_load(by_label["cluster:configmap/legacy/hub-config"].text)
    assert legacy == {"singleuser": {"image": {"name": "jupyter/datascience-notebook", "tag": "2343e33dec46"}}}

    hub = yaml.safe_load(by_label["cluster:secret/jhub/hub"].text)
    assert set(hub) == {"singleuser"} and set(hub["singleuser"]) == {"image", "profileList"}
    assert hub["singleuser"]["image"] == {"name": "quay.io/jupyter/minimal-notebook", "tag": "2024-05-27"}
    cpu, gpu = hub["singleuser"]["profileList"]
    assert cpu["kubespawner_override"] == {
        "image": "quay.io/jupyter/scipy-notebook:2024-05-27",
        "environment": REDACTED,
    }
    assert gpu["kubespawner_override"]["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    choice = gpu["profile_options"]["image"]["choices"]["pytorch"]
    assert choice["kubespawner_override"]["image"] == "quay.io/jupyter/pytorch-notebook:cuda12-2024-05-27"
    assert gpu["profile_options"]["image"]["unlisted_choice"]["kubespawner_override"]["image"] == "{value}"
    everything = repr(readout)
    assert not [secret for secret in SECRETS if secret in everything]


def test_unreadable_sources_are_problems_and_absent_ones_are_not(kube: FakeKubeAPI, cluster: Cluster) -> None:
    seed_hub(kube)
    seed_workloads(kube)
    kube.forbid("get", "secrets", "jhub")
    readout = read_cluster_sources(cluster, ClusterOptions())
    assert readout.problems == [
        'cluster:secret/jhub/hub: forbidden: secrets "hub" is forbidden: User '
        '"system:serviceaccount:nbcatalog:tester" cannot get resource "secrets" in API group "" in the namespace '
        '"jhub" (check the RBAC of the user or service account)'
    ]
    kinds = sorted(source.kind for source in readout.sources)
    assert kinds == ["jupyterhub", "pod", "pod", "statefulset"]  # no Kubeflow, no WorkspaceKinds: not problems


def test_broken_hub_values_never_quote_the_secret(kube: FakeKubeAPI, cluster: Cluster) -> None:
    broken = f"hub:\n  cookieSecret: {SECRETS[0]}\n  bad: [unclosed {SECRETS[1]}\n"
    kube.add({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "hub", "namespace": "jhub"},
              "data": {"values.yaml": base64.b64encode(broken.encode()).decode()}})  # fmt: skip
    kube.add(deployment("hub", "jhub", {"app": "jupyterhub", "component": "hub"},
                        [{"name": "secret", "secret": {"secretName": "hub"}}]))  # fmt: skip
    readout = read_cluster_sources(cluster, ClusterOptions(hub_namespace="jhub"))
    assert readout.problems == ["cluster:secret/jhub/hub: the 'values.yaml' key is not valid YAML"]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (None, {}),
        ({"hub": {"cookieSecret": "x"}}, {}),
        ({"singleuser": {"image": {"name": "a", "tag": "1", "pullSecrets": ["s"]}}},
         {"singleuser": {"image": {"name": "a", "tag": "1"}}}),
        ({"singleuser": {"profileList": {"cpu": {"display_name": "CPU", "secret_key": "x"}}}},
         {"singleuser": {"profileList": {"cpu": {"display_name": "CPU"}}}}),
        ({"singleuser": {"profileList": [{"kubespawner_override": "not a map"}]}},
         {"singleuser": {"profileList": [{"kubespawner_override": REDACTED}]}}),
    ],
)  # fmt: skip
def test_singleuser_profiles_keeps_only_profile_data(values: Any, expected: dict[str, Any]) -> None:
    assert singleuser_profiles(values) == expected


def test_read_cluster_profiles_gives_audit_records_and_no_secret(
    kube: FakeKubeAPI, tmp_path: Path, connections: list[Any]
) -> None:
    seed_kubeflow(kube)
    kube.add(copy.deepcopy(WORKSPACEKIND))
    seed_hub(kube)
    seed_workloads(kube)
    options = ClusterOptions(kubeconfig=str(kube.write_kubeconfig(tmp_path / "kc")))
    read, problems = read_cluster_profiles(options)
    records = read.records
    assert problems == []
    found = {(record.path, record.image) for record in records if not record.template}
    assert found == {
        (f"cluster:configmap/kubeflow/{MOUNTED}", "ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.10.0"),
        (f"cluster:configmap/kubeflow/{MOUNTED}",
         "ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-pytorch-cuda-full:v1.10.0"),
        ("cluster:workspacekind/jupyterlab", "ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.9.0"),
        ("cluster:secret/jhub/hub", "quay.io/jupyter/minimal-notebook:2024-05-27"),
        ("cluster:secret/jhub/hub", "quay.io/jupyter/scipy-notebook:2024-05-27"),
        ("cluster:secret/jhub/hub", "quay.io/jupyter/pytorch-notebook:cuda12-2024-05-27"),
        ("cluster:configmap/legacy/hub-config", "jupyter/datascience-notebook:2343e33dec46"),
        ("cluster:pod/kubeflow-user/alice-0", "kubeflownotebookswg/jupyter-scipy:v1.8.0"),
        ("cluster:pod/jhub/jupyter-bob", "quay.io/jupyter/scipy-notebook:latest"),
        ("cluster:statefulset/kubeflow-user/alice", "kubeflownotebookswg/jupyter-scipy:v1.8.0"),
    }  # fmt: skip
    assert all(record.tag_position is None for record in records)  # live objects are never rewritten
    gpu = [r for r in records if r.image.endswith("cuda12-2024-05-27")]
    assert gpu and gpu[0].scheduling.gpu_limited
    assert not [secret for secret in SECRETS if secret in repr(records) + repr(problems)]
    assert {address[0] for address in connections} == {"127.0.0.1"}


# The docs' example (docs/cluster.md): audit the cluster every morning with a read-only service account.
AUDIT_CRONJOB = (Path(__file__).resolve().parent.parent / "deploy" / "nbcatalog-audit.yaml").read_text()


def test_the_documented_rbac_is_read_only_and_enough_for_audit_cluster(kube: FakeKubeAPI, cluster: Cluster) -> None:
    seed_kubeflow(kube)
    kube.add(copy.deepcopy(WORKSPACEKIND))
    seed_hub(kube)
    seed_workloads(kube)
    manifests = [doc for doc in yaml.safe_load_all(AUDIT_CRONJOB) if doc]
    rules = [rule for doc in manifests for rule in doc.get("rules", [])]
    assert {verb for rule in rules for verb in rule["verbs"]} == {"get", "list"}
    assert all(rule.get("resourceNames") for rule in rules if "secrets" in rule["resources"])
    [cronjob] = [doc for doc in manifests if doc["kind"] == "CronJob"]
    pod_spec = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod_spec["serviceAccountName"] == "nbcatalog-audit"
    kube.grant(manifests, "nbcatalog", "nbcatalog-audit")

    readout = read_cluster_sources(cluster, ClusterOptions(hub_namespace="jhub"))
    assert readout.problems == []
    assert sorted(source.label for source in readout.sources) == [
        f"cluster:configmap/kubeflow/{MOUNTED}",
        "cluster:pod/jhub/jupyter-bob",
        "cluster:pod/kubeflow-user/alice-0",
        "cluster:secret/jhub/hub",
        "cluster:statefulset/kubeflow-user/alice",
        "cluster:workspacekind/jupyterlab",
    ]
    # the grant is enforced: the legacy hub outside jhub is out of reach, and nothing can be written
    everywhere = read_cluster_sources(cluster, ClusterOptions())
    assert everywhere.problems == [
        'cluster:configmap/legacy/hub-config: forbidden: configmaps "hub-config" is forbidden: User '
        '"system:serviceaccount:nbcatalog:nbcatalog-audit" cannot get resource "configmaps" in API group "" '
        'in the namespace "legacy" (check the RBAC of the user or service account)',
        'cluster:secret/legacy/hub-secret: forbidden: secrets "hub-secret" is forbidden: User '
        '"system:serviceaccount:nbcatalog:nbcatalog-audit" cannot get resource "secrets" in API group "" '
        'in the namespace "legacy" (check the RBAC of the user or service account)',
    ]
    with pytest.raises(ClusterError, match="forbidden"):
        apply_kubeflow(cluster, SPAWNER_NEW, "x.yaml", ClusterOptions(), dry_run=False)


def test_audit_cli_over_the_live_cluster_never_prints_a_secret(
    kube: FakeKubeAPI,
    tmp_path: Path,
    connections: list[Any],
    registry: RegistryServer,
    pusher: Pusher,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``nbcatalog audit --cluster`` end to end: the real registry, the fake API server, every output
    format and --debug; the hub Secret's other keys appear in none of it."""
    layer = build_layer([file("etc/os-release", "ID=debian\n")])
    for tag in ("v1.9.0", "v1.10.0"):
        pusher.push("cluster/jupyter-scipy", build_image([layer], labels={"tag": tag}), [tag])
    pusher.push("cluster/scipy-notebook", build_image([layer], labels={"tag": "x"}), ["latest"])
    scipy, stacks = f"{registry.host}/cluster/jupyter-scipy", f"{registry.host}/cluster/scipy-notebook"
    kube.add(configmap("jupyter-web-app-config-abc", "kubeflow", {
        "spawner_ui_config.yaml": f"spawnerFormDefaults:\n  image:\n    value: {scipy}:v1.9.0\n"
                                  f"    options:\n    - {scipy}:v1.9.0\n"}))  # fmt: skip
    values = HUB_VALUES.replace("quay.io/jupyter/scipy-notebook:2024-05-27", f"{stacks}:latest")
    data = {"values.yaml": values, "hub.config.JupyterHub.cookie_secret": SECRETS[0]}
    kube.add({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "hub", "namespace": "jhub"},
              "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}})  # fmt: skip
    kube.add(deployment("hub", "jhub", {"app": "jupyterhub", "component": "hub"},
                        [{"name": "secret", "secret": {"secretName": "hub"}}]))  # fmt: skip
    kube.add(pod("jupyter-bob", "jhub", {"component": "singleuser-server"}, "notebook", f"{scipy}:v1.9.0"))
    kubeconfig = str(kube.write_kubeconfig(tmp_path / "kc"))
    monkeypatch.chdir(tmp_path)  # no catalog.yaml, no profiles/: only the cluster is audited
    outputs = []
    for extra in (["--json"], ["--format", "github"], ["--format", "prometheus"], ["--debug"]):
        args = ["audit", "--cluster", "--tags-only", "--fail-on", "none", "--kubeconfig", kubeconfig, *extra]
        result = run_cli(capsys, *args)
        assert result.code == 0, result.err
        outputs.append(result.out + result.err)
        if extra == ["--json"]:
            found = {(f["source"].rsplit(":", 1)[0], f["kind"], f["image"]) for f in result.json()["findings"]}
    assert ("cluster:configmap/kubeflow/jupyter-web-app-config-abc", "stale-tag", f"{scipy}:v1.9.0") in found
    assert ("cluster:pod/jhub/jupyter-bob", "stale-tag", f"{scipy}:v1.9.0") in found
    assert ("cluster:secret/jhub/hub", "mutable-tag", f"{stacks}:latest") in found
    leaked = [secret for secret in SECRETS for output in outputs if secret in output]
    assert leaked == [] and kube.token not in "".join(outputs)
    assert {address[0] for address in connections} == {"127.0.0.1"}


def test_an_alias_bomb_in_the_hub_values_is_a_problem_not_a_memory_error(kube: FakeKubeAPI, cluster: Cluster) -> None:
    """Issue 14: the hub Secret's values are YAML from the cluster; their aliases are budgeted like a file's."""
    from tests.reliability.test_hostile_files import billion_laughs

    bomb = "hub:\n  cookieSecret: x\n" + billion_laughs("x-bomb")
    kube.add({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "hub", "namespace": "jhub"},
              "data": {"values.yaml": base64.b64encode(bomb.encode()).decode()}})  # fmt: skip
    kube.add(deployment("hub", "jhub", {"app": "jupyterhub", "component": "hub"},
                        [{"name": "secret", "secret": {"secretName": "hub"}}]))  # fmt: skip
    readout = read_cluster_sources(cluster, ClusterOptions(hub_namespace="jhub"))
    assert len(readout.problems) == 1
    assert readout.problems[0].startswith("cluster:secret/jhub/hub")
    assert "aliases" in readout.problems[0] and "yaml-alias-nodes" in readout.problems[0]
