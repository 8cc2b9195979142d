"""Profile files of every kind, from the real upstream files in tests/fixtures/reference and adaptations."""
# ruff: noqa: E501 (the jupyterhub_config.py sample keeps its real long lines)

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbcatalog.errors import BadInputError
from nbcatalog.profilefiles import (
    ProfileImage,
    iter_unique,
    read_profile_file,
    read_profile_paths,
    read_profile_text,
    rewrite_tags,
)
from tests.support.reference import REFERENCE

REPO_ROOT = Path(__file__).resolve().parent.parent
KF = "ghcr.io/kubeflow/kubeflow/notebook-servers"
YAML_REFERENCES = sorted(p for p in REFERENCE.glob("*.yaml") if "workspace.yaml" not in p.name)


def _images(records: list[ProfileImage]) -> list[str]:
    return [record.image for record in records]


def _tag_at(record: ProfileImage) -> str:
    assert record.tag_position is not None
    line, col = record.tag_position
    text = Path(record.path).read_text(encoding="utf-8").splitlines()[line - 1]
    return text[col - 1 :]


@pytest.mark.parametrize("path", YAML_REFERENCES, ids=lambda p: p.name)
def test_every_position_points_at_the_image_and_its_tag(path: Path, tmp_path: Path) -> None:
    if "kustomization" in path.name:  # needs its configs/ beside it
        (tmp_path / "configs").mkdir()
        shutil.copy(REFERENCE / "kubeflow-v1.10.0-spawner_ui_config.yaml", tmp_path / "configs/spawner_ui_config.yaml")
        path = Path(shutil.copy(path, tmp_path / "kustomization.yaml"))
    records = read_profile_file(path)
    assert records
    for record in records:
        line = Path(record.path).read_text(encoding="utf-8").splitlines()[record.line - 1]
        assert line[record.col - 1 :].lstrip("'\"").startswith(record.image), record
        if record.template:
            assert record.tag_position is None
        elif ":" in record.image.rsplit("/", 1)[-1]:
            tag = record.image.rsplit(":", 1)[1]
            assert _tag_at(record).startswith(tag)


def test_kubeflow_versions() -> None:
    v110 = read_profile_file(REFERENCE / "kubeflow-v1.10.0-spawner_ui_config.yaml")
    assert len(v110) == 11
    cuda = v110[3]
    assert (cuda.image, cuda.line, cuda.col) == (f"{KF}/jupyter-pytorch-cuda-full:v1.10.0", 46, 7)
    assert cuda.context == "spawnerFormDefaults.image.options[2]"
    assert cuda.kind == "kubeflow" and cuda.scheduling.gpu_offered and not cuda.scheduling.gpu_limited
    assert v110[0].context == "spawnerFormDefaults.image.value"
    legacy = read_profile_file(REFERENCE / "kubeflow-v1.2.0-legacy-jwa-spawner_ui_config.yaml")
    assert len(legacy) == 21 and legacy[1].image.endswith("tensorflow-1.5.1-notebook-cpu:v0.5.0")
    master = read_profile_file(REFERENCE / "kubeflow-v1.4.0-backend-default-spawner_ui_config.yaml")
    assert {r.image.rsplit(":", 1)[1] for r in master} == {"master-6e4ad3b4", "master-e9324d39"}
    v16 = read_profile_file(REFERENCE / "kubeflow-v1.6.0-spawner_ui_config.yaml")
    assert v16[0].image == "kubeflownotebookswg/jupyter-scipy:v1.6.0"


def test_kubeflow_gpu_forced_by_admin(tmp_path: Path) -> None:
    text = (REFERENCE / "kubeflow-notebooks-v1.11.0-spawner_ui_config.yaml").read_text()
    text = text.replace('num: "none"', 'num: "1"').replace('vendor: ""', 'vendor: "nvidia.com/gpu"')
    assert text.count("  gpus:\n    readOnly: false") == 1
    forced = tmp_path / "spawner_ui_config.yaml"
    forced.write_text(text.replace("  gpus:\n    readOnly: false", "  gpus:\n    readOnly: true"))
    records = read_profile_file(forced)
    assert len(records) == 10
    assert all(r.scheduling.resource_limits == {"nvidia.com/gpu": "1"} for r in records)


def test_configmap_holding_the_spawner_config(tmp_path: Path) -> None:
    inner = (REFERENCE / "kubeflow-v1.8.0-spawner_ui_config.yaml").read_text()
    configmap = tmp_path / "cm.yaml"
    configmap.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: jupyter-web-app-config-abc\n  namespace: kubeflow\n"
        "data:\n  spawner_ui_config.yaml: |\n" + textwrap.indent(inner, "    ")
    )
    bare = read_profile_file(REFERENCE / "kubeflow-v1.8.0-spawner_ui_config.yaml")
    records = read_profile_file(configmap)
    assert _images(records) == _images(bare)
    assert [r.line for r in records] == [r.line + 7 for r in bare]
    assert all(r.col == b.col + 4 for r, b in zip(records, bare, strict=True))
    assert _tag_at(records[2]).startswith("v1.8.0")


def test_kustomization_follows_its_config_map_generator(tmp_path: Path) -> None:
    (tmp_path / "configs").mkdir()
    shutil.copy(REFERENCE / "kubeflow-v1.10.0-spawner_ui_config.yaml", tmp_path / "configs/spawner_ui_config.yaml")
    shutil.copy(REFERENCE / "kubeflow-v1.10.0-jupyter-web-app-kustomization.yaml", tmp_path / "kustomization.yaml")
    records = read_profile_file(tmp_path / "kustomization.yaml")
    assert len(records) == 11
    assert records[0].path == str(tmp_path / "configs/spawner_ui_config.yaml")


def test_workspacekind_hidden_redirects_and_gpu_pod_config() -> None:
    records = read_profile_file(REFERENCE / "kubeflow-notebooks-v2.0.0-beta.0-jupyterlab-workspacekind.yaml")
    assert [(r.image.rsplit("/", 1)[1], r.hidden, r.redirect_to) for r in records] == [
        ("jupyter-scipy:v1.8.0", True, "jupyter-scipy:v1.9.2"),
        ("jupyter-scipy:v1.9.2", False, "jupyter-scipy:v1.10.0"),
        ("jupyter-scipy:v1.10.0", False, None),
        ("jupyter-pytorch-cuda-full:v1.9.2", False, "jupyter-pytorch-cuda-full:v1.10.0"),
        ("jupyter-pytorch-cuda-full:v1.10.0", False, None),
    ]
    assert records[0].line == 383 and records[0].kind == "workspacekind"
    # big_gpu offers a GPU, tiny/small_cpu do not: offered, never guaranteed.
    assert all(r.scheduling.gpu_offered and not r.scheduling.gpu_limited for r in records)


def test_z2jh_subchart_with_anchors() -> None:
    records = read_profile_file(REFERENCE / "2i2c-leap-daskhub-common.values.yaml")
    assert len(records) == 18
    assert len(list(iter_unique(records))) == 12  # the anchored image option is spelled once
    gpu = [r for r in records if '"GPU"' in r.context and not r.template]
    assert [r.image for r in gpu] == ["pangeo/ml-notebook:2026.06.04", "pangeo/pytorch-notebook:2026.06.04"]
    assert all(r.scheduling.resource_limits == {"nvidia.com/gpu": "1"} for r in gpu)
    assert gpu[0].context.startswith('basehub.jupyterhub.singleuser.profileList[3] "GPU"')
    cpu = [r for r in records if "medium" in r.context or '"CPU only"' in r.context]
    assert cpu and all(r.scheduling.node_selector == {"node.kubernetes.io/instance-type": "n2-highmem-16"} for r in cpu)
    templates = [r for r in records if r.template]
    assert len(templates) == 4 and {r.image for r in templates} == {"{value}"}


def test_z2jh_chart_values_and_cloudbank() -> None:
    chart = read_profile_file(REFERENCE / "z2jh-4.4.0-lint-and-validate-values.yaml")
    assert _images(chart) == ["XYZ:XYZ", "XXX:XXX", "YYY:YYY", "ZZZ:{value}"]
    assert chart[0].scheduling.node_selector == {"mock-node-selector": "mock"}
    assert {t["key"] for t in chart[0].scheduling.tolerations} == {
        "hub.jupyter.org/dedicated",
        "hub.jupyter.org_dedicated",
        "mock-taint-key-singleuser",
    }
    cloudbank = read_profile_file(REFERENCE / "2i2c-cloudbank-gpu-demo.values.yaml")
    gpu = [r for r in cloudbank if "NVIDIA" in r.context and not r.template]
    assert len(gpu) == 3 and all(r.scheduling.gpu_limited for r in gpu)
    assert not any(r.scheduling.gpu_limited for r in cloudbank if "CPU only" in r.context)


Z2JH_BAD = """\
singleuser:
  image:
    name: quay.io/jupyter/base-notebook
    tag: 2024-05-27
  profileList:
    - display_name: GPU, camelCase
      kubespawner_override:
        image: "quay.io/jupyter/pytorch-notebook:cuda12-2024-05-27"
        nodeSelector: {nvidia.com/gpu.present: "true"}
        extraResource: {limits: {nvidia.com/gpu: 1}}
    - display_name: GPU, own tolerations
      kubespawner_override:
        image: quay.io/jupyter/pytorch-notebook:cuda12-2024-05-27
        extra_resource_limits: {nvidia.com/gpu: "1"}
        tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
        extra_tolerations: []
    - display_name: default image
"""


def test_z2jh_ignored_keys_and_tolerations_override(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text(Z2JH_BAD)
    default, camel, own, plain = read_profile_file(path)
    assert default.image == "quay.io/jupyter/base-notebook:2024-05-27"  # unquoted date read as text
    assert default.tag_position == (4, 10)
    assert [(k.key, k.line) for k in camel.scheduling.ignored_keys] == [("nodeSelector", 9), ("extraResource", 10)]
    assert not camel.scheduling.gpu_limited and camel.scheduling.node_selector == {}
    assert own.scheduling.gpu_limited and own.scheduling.tolerations_overridden
    assert [k.key for k in own.scheduling.ignored_keys] == ["extra_tolerations"]
    assert plain.image == default.image and plain.context.endswith('"default image"')
    assert plain.inherited and (plain.line, plain.col, plain.tag_position) == (17, 7, None)


JUPYTERHUB_CONFIG = """\
import os
os.system("touch {marker}")  # never executed by nbcatalog
c = get_config()  # noqa
c.KubeSpawner.image = "quay.io/jupyter/scipy-notebook:2024-05-27"
c.KubeSpawner.node_selector = {{"pool": "cpu"}}
c.KubeSpawner.profile_list = [
    {{"display_name": "Déjà vu", "kubespawner_override": {{"image": 'ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.8.0'}}}},
    {{
        "display_name": "GPU",
        "kubespawner_override": {{"extra_resource_limits": {{"nvidia.com/gpu": "1"}}}},
        "profile_options": {{
            "image": {{
                "display_name": "Image",
                "choices": {{
                    "torch": {{"display_name": "Torch", "kubespawner_override": {{"image": "quay.io/jupyter/pytorch-notebook:cuda12-2024-05-27"}}}},
                    "computed": {{"kubespawner_override": {{"image": os.environ["X"]}}}},
                }},
            }},
        }},
    }},
]
"""


def test_jupyterhub_config_is_read_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "jupyterhub_config.py"
    path.write_text(JUPYTERHUB_CONFIG.format(marker=marker), encoding="utf-8")
    records = read_profile_file(path)
    assert not marker.exists()
    assert [(r.image, r.line) for r in records] == [
        ("quay.io/jupyter/scipy-notebook:2024-05-27", 4),
        (f"{KF}/jupyter-scipy:v1.8.0", 7),
        ("quay.io/jupyter/pytorch-notebook:cuda12-2024-05-27", 15),
    ]
    assert all(r.kind == "kubespawner" for r in records)
    assert _tag_at(records[1]).startswith("v1.8.0'")  # column counted in characters after "Déjà vu"
    assert records[2].scheduling.gpu_limited and records[2].scheduling.node_selector == {"pool": "cpu"}
    assert not records[0].scheduling.gpu_limited


def test_repository_catalog_and_profiles_dir() -> None:
    records = read_profile_file(REPO_ROOT / "catalog.yaml")
    assert records and all(r.kind == "catalog" and r.catalog_name for r in records)
    for record in records:
        assert record.tag_position is not None
        assert _tag_at(record).startswith(record.image.rsplit(":", 1)[1])


def test_catalog_entry_facts(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(
        "gpu: {resource: nvidia.com/gpu, count: 2}\nimages:\n"
        "  - name: scipy\n    image: quay.io/jupyter/scipy-notebook\n    tag: 2024-05-27\n    tag_policy: date\n"
        '  - name: torch\n    image: quay.io/jupyter/pytorch-notebook\n    tag: "cuda12-2024-05-27"\n    gpu: true\n'
        "    digest: sha256:" + "a" * 64 + "\n"
    )
    scipy, torch = read_profile_file(path)
    assert (scipy.image, scipy.tag_policy, scipy.tag_position) == (
        "quay.io/jupyter/scipy-notebook:2024-05-27",
        "date",
        (5, 10),
    )
    assert scipy.scheduling.gpu_mode == "auto" and not scipy.scheduling.gpu_limited
    assert torch.scheduling.resource_limits == {"nvidia.com/gpu": "2"} and torch.pinned_digest == "sha256:" + "a" * 64
    assert torch.tag_position == (9, 11)


def test_an_empty_catalog_is_a_catalog_with_nothing_to_audit() -> None:
    """An admin starting from `images: []` gets no findings, not "not a profile file"."""
    assert read_profile_text("# starting out\ngpu: {resource: nvidia.com/gpu}\nimages: []\n", "catalog.yaml") == []
    with pytest.raises(BadInputError, match="not a profile file"):
        read_profile_text("images: []\nreplicas: 3\n", "values.yaml")  # some other chart's values


def test_cluster_sources() -> None:
    pods = read_profile_text("quay.io/jupyter/base-notebook:latest\n\nx/y:v1\n", "cluster:pods/jhub", kind="pod")
    assert [(r.image, r.line, r.kind) for r in pods] == [
        ("quay.io/jupyter/base-notebook:latest", 1, "cluster"),
        ("x/y:v1", 3, "cluster"),
    ]
    text = (REFERENCE / "kubeflow-v1.10.0-spawner_ui_config.yaml").read_text()
    records = read_profile_text(text, "cluster:configmap/kubeflow/jupyter-web-app-config")
    assert len(records) == 11 and all(r.tag_position is None for r in records)


def test_unknown_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="not a profile file") as info:
        read_profile_file(REFERENCE / "kubeflow-notebooks-v2.0.0-beta.0-jupyterlab-workspace.yaml")
    assert str(info.value).startswith(str(REFERENCE / "kubeflow-notebooks-v2.0.0-beta.0-jupyterlab-workspace.yaml"))
    broken = tmp_path / "broken.yaml"
    broken.write_text("singleuser:\n  image: [unclosed\n")
    with pytest.raises(BadInputError) as info:
        read_profile_file(broken)
    assert info.value.exit_code == 2 and f"{broken}:" in str(info.value)
    python = tmp_path / "other.py"
    python.write_text("print('hello')\n")
    with pytest.raises(BadInputError, match=r"no c\.KubeSpawner"):
        read_profile_file(python)
    with pytest.raises(BadInputError, match="cannot read"):
        read_profile_file(tmp_path / "missing.yaml")


def test_read_profile_paths_expands_directories(tmp_path: Path) -> None:
    shutil.copy(REFERENCE / "kubeflow-v1.8.0-spawner_ui_config.yaml", tmp_path / "a.yaml")
    (tmp_path / "sub").mkdir()
    shutil.copy(REFERENCE / "2i2c-cloudbank-gpu-demo.values.yaml", tmp_path / "sub/b.yml")
    (tmp_path / "README.md").write_text("not read")
    records = read_profile_paths([tmp_path])
    assert {Path(r.path).name for r in records} == {"a.yaml", "b.yml"}


def test_rewrite_tags_changes_only_tags(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_bytes(Z2JH_BAD.replace("\n", "\r\n").encode())
    records = [r for r in iter_unique(read_profile_file(path)) if r.tag_position]
    edits = {r.tag_position: (r.image.rsplit(":", 1)[1], "NEW") for r in records if r.tag_position}
    assert len(edits) == 3
    before, after = rewrite_tags(path, edits, write=False)
    assert path.read_bytes() == before.encode()
    rewrite_tags(path, edits)
    written = path.read_bytes().decode()
    assert written == after
    assert written == before.replace(":cuda12-2024-05-27", ":NEW").replace("2024-05-27\r\n", "NEW\r\n")
    again = read_profile_file(path)
    assert {r.image.rsplit(":", 1)[1] for r in again if r.tag_position} == {"NEW"}
    with pytest.raises(BadInputError, match="file changed"):
        rewrite_tags(path, {(4, 10): ("2024-05-27", "x")})
    with pytest.raises(BadInputError, match="file changed"):  # a prefix of a longer tag is not the tag
        rewrite_tags(path, {(4, 10): ("NE", "x")})


def test_rewrite_tags_renews_the_hash_of_a_generated_file_only(tmp_path: Path) -> None:
    """A tag fix in a generated file is nbcatalog's edit (hash renewed); an earlier hand edit stays visible."""
    from nbcatalog.exporters.common import body_hash, edited_by_hand

    body = "singleuser:\n  image:\n    name: quay.io/jupyter/base-notebook\n    tag: 2024-05-27\n"
    generated = f"# Generated by nbcatalog\n# nbcatalog-sha256: {body_hash(body)}\n{body}"
    path = tmp_path / "values.yaml"
    path.write_text(generated, encoding="utf-8")
    before, after = rewrite_tags(path, {(6, 10): ("2024-05-27", "2024-06-03")})
    assert before == generated
    new_body = body.replace("2024-05-27", "2024-06-03")
    assert after == f"# Generated by nbcatalog\n# nbcatalog-sha256: {body_hash(new_body)}\n{new_body}"
    assert not edited_by_hand(path.read_text(encoding="utf-8"))
    hand_edited = generated.replace("base-notebook", "my-notebook")
    path.write_text(hand_edited, encoding="utf-8")
    _, after = rewrite_tags(path, {(6, 10): ("2024-05-27", "2024-06-03")})
    assert after == hand_edited.replace("2024-05-27", "2024-06-03") and edited_by_hand(after)


def test_old_kubespawner_image_spec(tmp_path: Path) -> None:
    path = tmp_path / "jupyterhub_config.py"
    path.write_text(
        'c.KubeSpawner.image_spec = "jupyter/base-notebook:abcdef012345"\n'
        'c.KubeSpawner.profile_list = [{"display_name": "old", "kubespawner_override": {"image_spec": "jupyter/scipy-notebook:17aba6048f44"}}]\n'
    )
    records = read_profile_file(path)
    assert [(r.image, r.line, r.col) for r in records] == [
        ("jupyter/base-notebook:abcdef012345", 1, 28),
        ("jupyter/scipy-notebook:17aba6048f44", 2, 94),
    ]
    assert _tag_at(records[1]).startswith('17aba6048f44"')


def test_kubectl_list_of_objects(tmp_path: Path) -> None:
    import yaml

    workspacekind = yaml.safe_load(
        (REFERENCE / "kubeflow-notebooks-v2.0.0-beta.0-codeserver-workspacekind.yaml").read_text()
    )
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other"}, "data": {"a": "b"}}
    path = tmp_path / "objects.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [configmap, workspacekind]}))
    records = read_profile_file(path)
    assert [(r.kind, r.image) for r in records] == [("workspacekind", f"{KF}/codeserver-python:v1.10.0")]
    assert _tag_at(records[0]).startswith("v1.10.0")


TAG = st.from_regex(r"\A[a-z0-9][a-z0-9._-]{0,20}\Z")


@settings(max_examples=40, deadline=None)
@given(old=st.lists(TAG, min_size=3, max_size=3), new=st.lists(TAG, min_size=3, max_size=3))
def test_rewrite_round_trip(tmp_path_factory: pytest.TempPathFactory, old: list[str], new: list[str]) -> None:
    path = tmp_path_factory.mktemp("rt") / "values.yaml"
    path.write_text(
        f"singleuser:\n  image: {{name: quay.io/a/b, tag: '{old[0]}'}}  # keep me\n  profileList:\n"
        f'    - kubespawner_override: {{image: "quay.io/a/c:{old[1]}"}}\n'
        f"    - kubespawner_override:\n        image: quay.io/a/d:{old[2]}   # and me\n"
    )
    records = [r for r in read_profile_file(path) if r.tag_position]
    assert [r.image.rsplit(":", 1)[1] for r in records] == old
    edits = {r.tag_position: (t, n) for r, t, n in zip(records, old, new, strict=True) if r.tag_position}
    before, after = rewrite_tags(path, edits)
    assert [r.image.rsplit(":", 1)[1] for r in read_profile_file(path) if r.tag_position] == new
    assert re.sub(r"'[^']*'|:[a-z0-9][\w.-]*", "", before) == re.sub(r"'[^']*'|:[a-z0-9][\w.-]*", "", after)


def test_unquoted_numbers_and_dates_keep_their_spelling(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text("singleuser:\n  image:\n    name: quay.io/a/b\n    tag: 1.10\n")
    assert [r.image for r in read_profile_file(path)] == ["quay.io/a/b:1.10"]


def test_profile_list_in_dict_form(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text(
        "singleuser:\n  profileList:\n"
        "    cpu: {display_name: CPU, kubespawner_override: {image: 'quay.io/jupyter/scipy-notebook:2024-05-27'}}\n"
        "    gpu:\n      kubespawner_override:\n        image: quay.io/jupyter/pytorch-notebook:cuda12-2024-05-27\n"
        "        extra_resource_limits: {nvidia.com/gpu: 1}\n"
    )
    cpu, gpu = read_profile_file(path)
    assert (cpu.line, cpu.context) == (3, 'singleuser.profileList[cpu] "CPU"')
    assert (gpu.line, gpu.context, dict(gpu.scheduling.resource_limits)) == (
        6,
        'singleuser.profileList[gpu] "gpu"',
        {"nvidia.com/gpu": "1"},
    )
