"""The audit's rules, pure: real profile files in, registry answers and image facts given directly."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

from nbcatalog.audit import (
    AuditOptions,
    Finding,
    ImageFacts,
    RegistryView,
    audit,
    failed,
    fixes,
)
from nbcatalog.profilefiles import read_profile_file, rewrite_tags
from nbcatalog.tagfamilies import UpdateOptions
from tests.support.reference import REFERENCE

HUB = "docker.io/kubeflownotebookswg"
GHCR = "ghcr.io/kubeflow/kubeflow/notebook-servers"
KF_TAGS = ["v1.7.0", "v1.8.0", "v1.9.0-rc.0", "v1.9.0", "latest", "master-1831e436"]


def _summary(findings: list[Finding]) -> list[tuple[int, str, str, str | None]]:
    return [(f.line, f.kind, f.severity, f.suggested) for f in findings]


def test_kubeflow_v18_moved_and_stale() -> None:
    records = read_profile_file(REFERENCE / "kubeflow-v1.8.0-spawner_ui_config.yaml")
    names = {r.image.split(":")[0] for r in records}
    view = RegistryView(
        tags={f"docker.io/{name}": KF_TAGS for name in names},
        facts={f"{HUB}/jupyter-pytorch-cuda-full:v1.8.0": ImageFacts(cuda=True, kubeflow_problems=())},
    )
    findings = audit(records, view)
    expected = []
    for record in records:
        name = record.image.split(":")[0].split("/")[1]
        expected.append((record.line, "moved-registry", "warning", f"{GHCR}/{name}:v1.8.0"))
        expected.append((record.line, "stale-tag", "info", "v1.9.0"))
    assert _summary(findings) == sorted(expected, key=lambda e: (e[0], e[1]))
    stale = next(f for f in findings if f.kind == "stale-tag")
    assert stale.message == "1 newer tag of the same scheme: v1.9.0"
    assert stale.to_json()["source"] == f"{REFERENCE / 'kubeflow-v1.8.0-spawner_ui_config.yaml'}:40"
    assert set(stale.to_json()) >= {"source", "image", "kind", "severity", "current", "suggested", "message"}
    # The CUDA image is fine: Kubeflow's form offers GPUs; prereleases count only when asked.
    with_rc = audit(records, view, options=AuditOptions(update=UpdateOptions(allow_prerelease=True)))
    assert {f.message for f in with_rc if f.kind == "stale-tag"} == {"2 newer tags of the same scheme: v1.9.0"}


Z2JH = """\
singleuser:
  image:
    name: quay.io/jupyter/base-notebook
    tag: 2024-05-27
  profileList:
    - display_name: CPU
      default: true
    - display_name: GPU, camelCase
      kubespawner_override:
        image: "quay.io/jupyter/pytorch-notebook:cuda12-2024-05-27"
        nodeSelector: {nvidia.com/gpu.present: "true"}
    - display_name: GPU, own tolerations
      kubespawner_override:
        image: quay.io/jupyter/pytorch-notebook:cuda12-2024-12-02
        extra_resource_limits: {nvidia.com/gpu: "1"}
        tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
    - display_name: GPU, well scheduled
      kubespawner_override:
        image: quay.io/jupyter/pytorch-notebook:cuda12-2024-12-02
        extra_resource_limits: {nvidia.com/gpu: "1"}
        node_selector: {nvidia.com/gpu.present: "true"}
    - display_name: GPU for a CPU image
      kubespawner_override:
        extra_resource_limits: {nvidia.com/gpu: "1"}
    - display_name: moving
      kubespawner_override:
        image: docker.io/jupyter/scipy-notebook
"""
STACKS = {
    "quay.io/jupyter/base-notebook": ["2024-05-27", "2024-06-03", "latest"],
    "quay.io/jupyter/pytorch-notebook": ["cuda12-2024-05-27", "cuda12-2024-12-02", "2024-12-02", "latest"],
    "docker.io/jupyter/scipy-notebook": ["2023-10-20", "2023-09-01", "latest"],
}
FACTS = {
    "quay.io/jupyter/base-notebook:2024-05-27": ImageFacts(cuda=False),
    "quay.io/jupyter/pytorch-notebook:cuda12-2024-05-27": ImageFacts(cuda=True),
    "quay.io/jupyter/pytorch-notebook:cuda12-2024-12-02": ImageFacts(cuda=True),
}


def test_z2jh_scheduling_findings_exactly(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text(Z2JH)
    findings = audit(read_profile_file(path), RegistryView(tags=STACKS, facts=FACTS))
    assert _summary(findings) == [
        (3, "stale-tag", "info", "2024-06-03"),  # the default image, once (profiles using it don't repeat it)
        (10, "cuda-without-gpu", "warning", None),
        (10, "stale-tag", "warning", "cuda12-2024-12-02"),  # 189 days
        (11, "ignored-key", "warning", None),
        (14, "ignored-key", "warning", None),  # tolerations drop hub.jupyter.org/dedicated
        (22, "gpu-without-cuda", "warning", None),  # at the profile that inherits the default image
        (27, "moved-registry", "warning", "quay.io/jupyter/scipy-notebook"),
        (27, "mutable-tag", "warning", "2023-10-20"),
    ]
    by_kind = {(f.line, f.kind): f for f in findings}
    assert "(KubeSpawner ignores nodeSelector here)" in by_kind[(10, "cuda-without-gpu")].message
    assert by_kind[(11, "ignored-key")].current == "nodeSelector"
    assert "hub.jupyter.org/dedicated" in by_kind[(14, "ignored-key")].message
    assert by_kind[(22, "gpu-without-cuda")].context.endswith('"GPU for a CPU image"')
    assert failed(findings, "warning") and failed(findings, "info") and not failed(findings, "error")
    assert not failed(findings, "none")


def test_fix_rewrites_only_stale_tags_then_nothing_is_stale(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text(Z2JH)
    view = RegistryView(tags=STACKS, facts=FACTS)
    edits = fixes(audit(read_profile_file(path), view))
    assert edits == {
        str(path): {(4, 10): ("2024-05-27", "2024-06-03"), (10, 50): ("cuda12-2024-05-27", "cuda12-2024-12-02")}
    }
    before, after = rewrite_tags(path, edits[str(path)])
    assert after == before.replace("tag: 2024-05-27", "tag: 2024-06-03").replace(
        'notebook:cuda12-2024-05-27"', 'notebook:cuda12-2024-12-02"'
    )
    again = audit(read_profile_file(path), view)
    assert not [f for f in again if f.kind == "stale-tag"]


def test_missing_mutable_pinned_and_unreachable(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.yaml"
    digest_then, digest_now = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    catalog.write_text(
        "images:\n"
        f"  - {{name: scipy, image: {GHCR}/jupyter-scipy, tag: v1.9.0, digest: '{digest_then}'}}\n"
        f"  - {{name: gone, image: {GHCR}/jupyter-gone, tag: v1.9.0}}\n"
        f"  - {{name: torch, image: {GHCR}/jupyter-pytorch, tag: v1.8.5}}\n"
        "  - {name: far, image: registry.invalid/x/y, tag: v1}\n"
        f"  - {{name: pinned, image: {GHCR}/codeserver, tag: v1.7.0, tag_policy: pinned}}\n"
    )
    records = read_profile_file(catalog)
    view = RegistryView(
        tags={
            f"{GHCR}/jupyter-scipy": KF_TAGS,
            f"{GHCR}/jupyter-gone": None,
            f"{GHCR}/jupyter-pytorch": KF_TAGS,
            f"{GHCR}/codeserver": KF_TAGS,
        },
        errors={"registry.invalid/x/y": "cannot list tags: connection refused"},
        digests={f"{GHCR}/jupyter-scipy:v1.9.0": digest_now},
    )
    findings = audit(records, view, catalog=records)
    assert _summary(findings) == [
        (2, "mutable-tag", "error", digest_now),  # --fix re-pins to where the tag points now
        (3, "missing-tag", "error", None),
        (4, "missing-tag", "error", "v1.9.0"),
        (5, "registry-error", "warning", None),
    ]
    assert "not the pinned sha256:aaaa" in findings[0].message


def test_unknown_images_and_policy_from_catalog(tmp_path: Path) -> None:
    catalog = read_profile_file(REFERENCE / "kubeflow-notebooks-v1.11.0-spawner_ui_config.yaml")[:1]
    catalog_file = tmp_path / "catalog.yaml"
    catalog_file.write_text(
        f"images:\n  - {{name: scipy, image: {GHCR}/jupyter-scipy, tag: v1.10.0, tag_policy: pinned}}\n"
    )
    catalog = read_profile_file(catalog_file)
    records = read_profile_file(REFERENCE / "kubeflow-v1.10.0-spawner_ui_config.yaml")
    tags = {f"{GHCR}/{n}": ["v1.10.0", "v1.11.0"] for n in {r.image.split("/")[-1].split(":")[0] for r in records}}
    findings = audit(records, RegistryView(tags=tags), catalog=catalog)
    scipy = [f for f in findings if "jupyter-scipy" in f.image]
    assert scipy == []  # in the catalog, and its policy pins it
    others = {(f.kind, f.severity) for f in findings if "jupyter-scipy" not in f.image}
    assert others == {("unknown-image", "info"), ("stale-tag", "info")}
    assert len([f for f in findings if f.kind == "unknown-image"]) == 9


def test_workspacekind_redirects_kubeflow_readiness_and_stale_base() -> None:
    records = read_profile_file(REFERENCE / "kubeflow-notebooks-v2.0.0-beta.0-jupyterlab-workspacekind.yaml")
    tags = ["v1.8.0", "v1.9.2", "v1.10.0"]
    view = RegistryView(
        tags={f"{GHCR}/jupyter-scipy": tags, f"{GHCR}/jupyter-pytorch-cuda-full": tags},
        facts={
            f"{GHCR}/jupyter-scipy:v1.10.0": ImageFacts(
                cuda=False, kubeflow_problems=("runs as root, not jovyan (UID 1000)",)
            ),
            f"{GHCR}/jupyter-pytorch-cuda-full:v1.10.0": ImageFacts(
                cuda=True,
                kubeflow_problems=(),
                stale_base="built on jupyter-pytorch:v1.9.2, the catalog has jupyter-pytorch at v1.10.0",
                stale_base_current="jupyter-pytorch:v1.9.2",
                stale_base_suggested="jupyter-pytorch:v1.10.0",
            ),
        },
    )
    assert _summary(audit(records, view)) == [
        (383, "stale-tag", "info", "v1.10.0"),  # hidden, redirected: kept on purpose
        (417, "stale-tag", "info", "v1.10.0"),
        (434, "not-kubeflow-ready", "warning", None),
        (464, "stale-tag", "info", "v1.10.0"),
        (487, "stale-base", "warning", "jupyter-pytorch:v1.10.0"),
    ]
    stale_base = next(f for f in audit(records, view) if f.kind == "stale-base")
    assert (stale_base.current, stale_base.suggested) == ("jupyter-pytorch:v1.9.2", "jupyter-pytorch:v1.10.0")


def test_build_tags_need_created_dates(tmp_path: Path) -> None:
    path = Path(shutil.copy(REFERENCE / "kubeflow-v1.4.0-backend-default-spawner_ui_config.yaml", tmp_path / "s.yaml"))
    records = [r for r in read_profile_file(path) if "jupyter-scipy" in r.image]
    name = "public.ecr.aws/j1r0q0g6/notebooks/notebook-servers/jupyter-scipy"
    tags = {name: ["master-6e4ad3b4", "master-0b1c2d3e", "v1.4"]}
    day = datetime.datetime(2021, 9, 1, tzinfo=datetime.UTC)
    undated = audit(records, RegistryView(tags=tags))
    assert {f.kind for f in undated} == {"moved-registry"}
    dated = audit(
        records,
        RegistryView(
            tags=tags, created={name: {"master-6e4ad3b4": day, "master-0b1c2d3e": day + datetime.timedelta(days=100)}}
        ),
    )
    stale = [f for f in dated if f.kind == "stale-tag"]
    assert [(f.line, f.suggested, f.severity) for f in stale] == [
        (20, "master-0b1c2d3e", "warning"),
        (23, "master-0b1c2d3e", "warning"),
    ]
    assert stale[0].message == "1 newer tag of the same scheme, 100 days newer: master-0b1c2d3e"


def test_templates_and_invalid_references(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text(
        "singleuser:\n  profileList:\n    - display_name: x\n      kubespawner_override: {image: 'Bad/Name:1'}\n"
        "      profile_options:\n        image:\n          unlisted_choice:\n            enabled: true\n"
        "            kubespawner_override: {image: '{value}'}\n"
    )
    findings = audit(read_profile_file(path), RegistryView())
    assert _summary(findings) == [(4, "invalid-reference", "error", None)]
    assert "lowercase" in findings[0].message


def test_moving_tags_suggest_a_pin_from_their_own_family(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text(
        "singleuser:\n  profileList:\n"
        "    - {display_name: a, kubespawner_override: {image: quay.io/jupyter/pytorch-notebook}}\n"
        "    - {display_name: b, kubespawner_override: {image: 'quay.io/jupyter/pytorch-notebook:cuda12-latest'}}\n"
        "    - {display_name: c, kubespawner_override: {image: 'quay.io/jupyter/pytorch-notebook:latest@sha256:"
        + "c" * 64
        + "'}}\n"
    )
    tags = [
        "2024-05-27",
        "2024-12-02",
        "cuda12-2024-12-02",
        "cuda12-2025-01-06",
        "python-3.12",
        "latest",
        "cuda12-latest",
    ]
    findings = audit(read_profile_file(path), RegistryView(tags={"quay.io/jupyter/pytorch-notebook": tags}))
    assert _summary(findings) == [
        (3, "mutable-tag", "warning", "2024-12-02"),
        (4, "mutable-tag", "warning", "cuda12-2025-01-06"),
    ]  # the digest-pinned one is not mutable
    assert findings[0].message == "no tag means 'latest', which moves: pin a version tag"
    assert fixes(findings) == {}  # --fix never pins a moving tag by itself


def test_kubeflow_with_gpus_switched_off(tmp_path: Path) -> None:
    text = (REFERENCE / "kubeflow-notebooks-v1.11.0-spawner_ui_config.yaml").read_text()
    assert text.count("  gpus:\n    readOnly: false") == 1
    path = tmp_path / "spawner_ui_config.yaml"
    path.write_text(text.replace("  gpus:\n    readOnly: false", "  gpus:\n    readOnly: true"))
    records = read_profile_file(path)
    cuda = f"{GHCR}/jupyter-pytorch-cuda-full:v1.11.0"
    facts = {f"{r.image}": ImageFacts(cuda=r.image == cuda, kubeflow_problems=()) for r in records}
    findings = audit(records, RegistryView(facts=facts))
    assert [(f.line, f.kind) for f in findings] == [(46, "cuda-without-gpu")]
    assert findings[0].message == "a CUDA image with no GPU limit"


def test_an_unreachable_repository_is_one_finding() -> None:
    records = read_profile_file(REFERENCE / "kubeflow-v1.8.0-spawner_ui_config.yaml")
    error = "cannot list tags: cannot reach the registry"
    view = RegistryView(tags={f"{HUB}/jupyter-scipy": ()}, errors={f"{HUB}/jupyter-scipy": error})
    findings = [f for f in audit(records, view) if f.kind == "registry-error"]
    assert [(f.line, f.message) for f in findings] == [(40, error)]  # value (40) and options[0] (44): once


def test_workspacekind_options_are_never_rewritten() -> None:
    records = read_profile_file(REFERENCE / "kubeflow-notebooks-v2.0.0-beta.0-jupyterlab-workspacekind.yaml")
    tags = {f"{GHCR}/jupyter-scipy": ["v1.8.0", "v1.9.2", "v1.10.0", "v1.11.0"]}
    findings = [f for f in audit(records, RegistryView(tags=tags)) if f.kind == "stale-tag"]
    assert [f.line for f in findings] == [383, 417, 434]
    assert findings[2].message.endswith("add an imageConfig value for v1.11.0 and redirect this one to it")
    assert fixes(findings) == {}


def test_digest_pinned_references_are_not_rewritten_by_tag(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    digest = "sha256:" + "d" * 64
    path.write_text(
        "singleuser:\n  profileList:\n"
        "    - display_name: a\n      kubespawner_override:\n"
        f"        image: 'quay.io/jupyter/base-notebook:2024-05-27@{digest}'\n"
    )
    view = RegistryView(tags={"quay.io/jupyter/base-notebook": ["2024-05-27", "2024-06-03"]})
    findings = audit(read_profile_file(path), view)
    assert _summary(findings) == [(5, "stale-tag", "info", "2024-06-03")]
    assert findings[0].message.endswith("; update the digest with the tag") and fixes(findings) == {}
