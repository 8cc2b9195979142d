"""``nbcatalog audit`` against the real local registry, over real upstream profile files pointed at it.

Repositories of each tag scheme (Kubeflow semver with an rc, docker-stacks dates with a cuda12- family,
master-<hex> build tags ordered by created) are pushed once; each input format then carries known
stale, missing, mutable, well- and badly-scheduled images, and the findings must be exactly those.
"""
# ruff: noqa: E501 (the jupyterhub_config.py sample keeps a real long line)

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from nbcatalog.audit import collect
from nbcatalog.ocibuild import build_image, build_layer, file
from nbcatalog.profilefiles import read_profile_file
from nbcatalog.session import Session, SessionOptions
from tests.cli.run import run_cli
from tests.support.reference import REFERENCE
from tests.support.registry import Pusher, RegistryServer

KF = "ghcr.io/kubeflow/kubeflow/notebook-servers/"
KF_REPOS = (
    "jupyter-scipy", "jupyter-pytorch-full", "jupyter-pytorch-cuda-full", "jupyter-pytorch-gaudi-full",
    "jupyter-tensorflow-full", "jupyter-tensorflow-cuda-full", "codeserver-python", "rstudio-tidyverse",
)  # fmt: skip


@dataclass(frozen=True)
class Pushed:
    host: str
    scipy_latest_digest: str

    def repo(self, name: str) -> str:
        return f"{self.host}/audit/{name}"


@pytest.fixture(scope="module")
def pushed(registry: RegistryServer, pusher: Pusher) -> Pushed:
    layer = build_layer([file("etc/os-release", "ID=debian\n")])

    def image(tag: str, *, cuda: bool = False, ready: bool = True, created: str = "2024-01-01T00:00:00Z") -> object:
        env = {"PATH": "/usr/bin", **({"CUDA_VERSION": "12.1.1", "NVIDIA_VISIBLE_DEVICES": "all"} if cuda else {})}
        return build_image(
            [layer], env=env, labels={"tag": tag}, created=created,
            user="jovyan" if ready else None, exposed_ports=["8888/tcp"] if ready else None,
        )  # fmt: skip

    for name in KF_REPOS:
        for tag, day in (("v1.9.0", "2024-06-01"), ("v1.10.0-rc.1", "2025-01-01"), ("v1.10.0", "2025-03-01")):
            built = image(tag, cuda="cuda" in name, ready=name != "rstudio-tidyverse", created=f"{day}T00:00:00Z")
            pusher.push(f"audit/{name}", built, [tag])
    for tag in ("cuda12-2024-05-27", "cuda12-2024-12-02", "2024-12-02"):
        pusher.push("audit/pytorch-notebook", image(tag, cuda=tag.startswith("cuda")), [tag])
    for tag in ("2024-05-27", "2024-06-03"):
        pusher.push("audit/base-notebook", image(tag), [tag])
    digest = pusher.push("audit/scipy-notebook", image("2024-06-03"), ["2024-06-03", "latest"])
    pusher.push("audit/builds", image("a", created="2024-01-01T00:00:00Z"), ["master-aaaa1111"])
    pusher.push("audit/builds", image("b", created="2024-03-01T00:00:00Z"), ["master-bbbb2222"])
    return Pushed(registry.host, digest)


def _kubeflow(tmp_path: Path, pushed: Pushed) -> Path:
    text = (REFERENCE / "kubeflow-v1.10.0-spawner_ui_config.yaml").read_text()
    path = tmp_path / "spawner_ui_config.yaml"
    path.write_text(text.replace(KF, f"{pushed.host}/audit/").replace(":v1.10.0", ":v1.9.0"))
    return path


Z2JH = """\
jupyterhub:
  singleuser:
    image:
      name: {host}/audit/base-notebook
      tag: 2024-05-27   # the default
    profileList:
      - display_name: CPU
        default: true
      - display_name: GPU, badly
        kubespawner_override:
          image: "{host}/audit/pytorch-notebook:cuda12-2024-05-27"
          nodeSelector: {{nvidia.com/gpu.present: "true"}}
      - display_name: GPU, well
        kubespawner_override:
          image: {host}/audit/pytorch-notebook:cuda12-2024-12-02
          extra_resource_limits: {{nvidia.com/gpu: "1"}}
      - display_name: GPU for a CPU image
        kubespawner_override:
          extra_resource_limits: {{nvidia.com/gpu: "1"}}
      - display_name: choices
        profile_options:
          image:
            display_name: Image
            choices:
              moving: {{display_name: M, kubespawner_override: {{image: "{host}/audit/scipy-notebook:latest"}}}}
              gone: {{display_name: G, kubespawner_override: {{image: "{host}/audit/base-notebook:2023-01-01"}}}}
              nowhere: {{display_name: N, kubespawner_override: {{image: "{host}/audit/nothing-here:v1"}}}}
              build: {{display_name: B, kubespawner_override: {{image: "{host}/audit/builds:master-aaaa1111"}}}}
            unlisted_choice: {{enabled: true, kubespawner_override: {{image: "{{value}}"}}}}
"""

JUPYTERHUB_CONFIG = """\
c = get_config()  # noqa: F821
c.KubeSpawner.image = "{host}/audit/jupyter-scipy:v1.9.0"
c.KubeSpawner.profile_list = [
    {{"display_name": "Torch", "kubespawner_override": {{"image": "{host}/audit/pytorch-notebook:cuda12-2024-12-02", "extra_resource_limits": {{"nvidia.com/gpu": "1"}}}}}},
]
"""


@pytest.fixture
def profiles(tmp_path: Path, pushed: Pushed) -> dict[str, Path]:
    values = tmp_path / "values.yaml"
    values.write_text(Z2JH.format(host=pushed.host))
    config = tmp_path / "jupyterhub_config.py"
    config.write_text(JUPYTERHUB_CONFIG.format(host=pushed.host))
    workspacekind = tmp_path / "workspacekind.yaml"
    text = (REFERENCE / "kubeflow-notebooks-v2.0.0-beta.0-jupyterlab-workspacekind.yaml").read_text()
    text = text.replace(KF, f"{pushed.host}/audit/").replace(":v1.8.0", ":v1.9.0").replace(":v1.9.2", ":v1.9.0")
    workspacekind.write_text(text)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        "images:\n"
        f"  - name: scipy\n    image: {pushed.host}/audit/jupyter-scipy\n    tag: v1.10.0\n"
        f"  - name: stacks\n    image: {pushed.host}/audit/scipy-notebook\n    tag: 2024-06-03\n"
        f"    digest: sha256:{'0' * 64}   # pinned before the tag moved\n"
    )
    return {
        "kubeflow": _kubeflow(tmp_path, pushed), "z2jh": values, "py": config,
        "workspacekind": workspacekind, "catalog": catalog,
    }  # fmt: skip


def _found(doc: dict[str, object], path: Path) -> list[tuple[int, str, str, str | None]]:
    rows = [f for f in doc["findings"] if f["path"] == str(path)]  # type: ignore[attr-defined]
    return [(f["line"], f["kind"], f["severity"], f["suggested"]) for f in rows]


def test_findings_in_every_format_exactly(
    capsys: pytest.CaptureFixture[str], profiles: dict[str, Path], pushed: Pushed
) -> None:
    files = [str(p) for key, p in profiles.items() if key != "catalog"]
    result = run_cli(capsys, "audit", *files, "--catalog", str(profiles["catalog"]), "--json", "--no-cache")
    assert result.code == 1, result.err
    doc = result.json()
    kubeflow_lines = [40, 44, 45, 46, 47, 48, 49, 64, 68, 85, 89]
    expected_kubeflow = [(line, "stale-tag", "warning", "v1.10.0") for line in kubeflow_lines]  # 273 days
    expected_kubeflow += [(85, "not-kubeflow-ready", "warning", None), (89, "not-kubeflow-ready", "warning", None)]
    expected_kubeflow += [(line, "unknown-image", "info", None) for line in kubeflow_lines if line not in (40, 44)]
    assert sorted(_found(doc, profiles["kubeflow"])) == sorted(expected_kubeflow)
    builds = pushed.repo("builds")
    assert _found(doc, profiles["z2jh"]) == [
        (4, "stale-tag", "info", "2024-06-03"),
        (4, "unknown-image", "info", None),
        (11, "cuda-without-gpu", "warning", None),
        (11, "stale-tag", "warning", "cuda12-2024-12-02"),
        (11, "unknown-image", "info", None),
        (12, "ignored-key", "warning", None),
        (15, "unknown-image", "info", None),
        (17, "gpu-without-cuda", "warning", None),
        (25, "mutable-tag", "warning", "2024-06-03"),
        (26, "missing-tag", "error", "2024-06-03"),
        (26, "unknown-image", "info", None),
        (27, "missing-tag", "error", None),
        (27, "unknown-image", "info", None),
        (28, "stale-tag", "info", "master-bbbb2222"),
        (28, "unknown-image", "info", None),
    ]
    assert next(f for f in doc["findings"] if f["line"] == 28 and f["kind"] == "stale-tag")["image"].startswith(builds)
    assert _found(doc, profiles["py"]) == [(2, "stale-tag", "warning", "v1.10.0"), (4, "unknown-image", "info", None)]
    assert _found(doc, profiles["workspacekind"]) == [
        (383, "stale-tag", "info", "v1.10.0"),  # hidden + redirected
        (417, "stale-tag", "info", "v1.10.0"),  # redirected
        (464, "stale-tag", "info", "v1.10.0"),
        (464, "unknown-image", "info", None),
        (487, "unknown-image", "info", None),
    ]


def test_the_catalog_itself_and_a_moved_digest(
    capsys: pytest.CaptureFixture[str], profiles: dict[str, Path], pushed: Pushed
) -> None:
    result = run_cli(
        capsys, "audit", "--catalog", str(profiles["catalog"]), str(profiles["catalog"]), "--json", "--no-cache"
    )
    doc = result.json()
    assert _found(doc, profiles["catalog"]) == [(6, "mutable-tag", "error", pushed.scipy_latest_digest)]
    assert pushed.scipy_latest_digest[:19] in doc["findings"][0]["message"]
    assert result.code == 1
    passing = run_cli(capsys, "audit", str(profiles["py"]), "--fail-on", "error", "--catalog", str(profiles["catalog"]))
    assert passing.code == 0, passing.out + passing.err


def test_fix_then_nothing_is_stale_and_only_tags_changed(
    capsys: pytest.CaptureFixture[str], profiles: dict[str, Path]
) -> None:
    files = [profiles["kubeflow"], profiles["z2jh"], profiles["py"]]
    before = {p: p.read_text() for p in files}
    catalog = ["--catalog", str(profiles["catalog"]), "--no-cache"]
    dry = run_cli(capsys, "audit", *map(str, files), "--fix", "--dry-run", *catalog)
    assert {p: p.read_text() for p in files} == before
    assert f"+++ b/{profiles['z2jh']}" in dry.out
    assert '-          image: "' in dry.out and "cuda12-2024-12-02" in dry.out
    dry_json = run_cli(capsys, "audit", *map(str, files), "--fix", "--dry-run", "--json", *catalog)
    assert len(dry_json.json()["fixed"]) == 15 and f"+++ b/{profiles['z2jh']}" in dry_json.err
    assert {p: p.read_text() for p in files} == before
    fixed = run_cli(capsys, "audit", *map(str, files), "--fix", *catalog)
    changes = [line for line in fixed.out.splitlines() if line.startswith("fixed ")]
    assert len(changes) == 11 + 3 + 1  # kubeflow lines, z2jh (default, cuda12, build), python default
    assert f"fixed {profiles['z2jh']}:5:12: 2024-05-27 -> 2024-06-03" in changes
    assert "stale-tag" not in fixed.out
    for path in files:
        old, new = before[path], path.read_text()
        changed = [(a, b) for a, b in zip(old.splitlines(), new.splitlines(), strict=True) if a != b]
        assert changed
        for a, b in changed:  # the same line around the tag, only the tag differs
            assert re.sub(r"v1\.9\.0|2024-05-27|cuda12-2024-05-27|master-aaaa1111", "T", a) == re.sub(
                r"v1\.10\.0|2024-06-03|cuda12-2024-12-02|master-bbbb2222", "T", b
            )
    assert "# the default" in profiles["z2jh"].read_text()
    again = run_cli(capsys, "audit", *map(str, files), "--json", *catalog)
    assert not [f for f in again.json()["findings"] if f["kind"] == "stale-tag"]


def test_fix_in_generated_profiles_then_export_needs_no_force(
    capsys: pytest.CaptureFixture[str], pushed: Pushed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default audit fixes the catalog and the profiles generated from it; the fix is not a hand edit."""
    work = tmp_path / "generated"
    work.mkdir()
    (work / "catalog.yaml").write_text(
        f"images:\n  - name: scipy\n    image: {pushed.repo('jupyter-scipy')}\n    tag: v1.9.0\n    gpu: false\n"
    )
    monkeypatch.chdir(work)
    formats = ("-f", "kubeflow", "-f", "jupyterhub", "-f", "kubespawner", "--configmap")
    assert run_cli(capsys, "export", *formats).code == 0
    fixed = run_cli(capsys, "audit", "--fix", "--no-cache", "--fail-on", "none")
    assert "fixed catalog.yaml:4:10: v1.9.0 -> v1.10.0" in fixed.out
    fixed_files = [line.split(":")[0] for line in fixed.out.splitlines() if line.startswith("fixed profiles/")]
    assert sorted(fixed_files) == sorted(
        ["fixed profiles/kubeflow/spawner_ui_config.yaml"] * 2  # value and option
        + ["fixed profiles/kubeflow/configmap.yaml"] * 2  # the same, inside the ConfigMap
        + ["fixed profiles/jupyterhub/values.yaml", "fixed profiles/kubespawner/profile_list.py"]
    )
    check = run_cli(capsys, "export", *formats, "--check", "--json")
    assert "edited by hand" not in check.err
    statuses = {entry["format"]: entry["status"] for entry in check.json()["files"]}
    assert statuses["kubeflow"] == "up-to-date"  # the fix made exactly what the export now writes
    exported = run_cli(capsys, "export", *formats)
    assert exported.code == 0, exported.err
    assert run_cli(capsys, "export", *formats, "--check").code == 0
    again = run_cli(capsys, "audit", "--json", "--no-cache").json()
    assert not [f for f in again["findings"] if f["kind"] == "stale-tag"]


def test_github_and_prometheus_formats(capsys: pytest.CaptureFixture[str], profiles: dict[str, Path]) -> None:
    catalog = ["--catalog", str(profiles["catalog"]), "--no-cache"]
    github = run_cli(capsys, "audit", str(profiles["z2jh"]), "--format", "github", *catalog)
    lines = github.out.splitlines()
    pattern = r"^::(error|warning|notice) file=[^,]+,line=\d+,col=\d+,title=[\w-]+::"
    assert lines and all(re.match(pattern, line) for line in lines)
    assert any(line.startswith(f"::error file={profiles['z2jh']},line=27,") for line in lines)
    prom = run_cli(capsys, "audit", str(profiles["z2jh"]), "--format", "prometheus", *catalog)
    samples = [line for line in prom.out.splitlines() if line.startswith("nbcatalog_audit_finding{")]
    assert len(samples) == 15
    assert "# TYPE nbcatalog_audit_finding gauge" in prom.out
    assert re.search(r'nbcatalog_audit_findings\{severity="error"\} 2$', prom.out, re.M)
    table = run_cli(capsys, "audit", str(profiles["z2jh"]), *catalog)
    assert table.out.startswith(str(profiles["z2jh"])) and "cuda-without-gpu" in table.out
    assert table.code == 1 and "\x1b[" not in table.out


def test_bad_input_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text("hello: world\n")
    result = run_cli(capsys, "audit", str(other))
    assert result.code == 2 and result.out == ""
    assert result.err.strip().count("\n") == 0 and str(other) in result.err
    lone = run_cli(capsys, "audit", str(other), "--dry-run")
    assert lone.code == 2
    for option in ("--kubeconfig", "--context", "--configmap", "--hub-namespace"):
        without_cluster = run_cli(capsys, "audit", str(other), option, "x")
        assert without_cluster.code == 2, option
        assert without_cluster.err == f"nbcatalog: error: {option}: {option} goes with --cluster\n"
    two_outputs = run_cli(capsys, "audit", str(other), "--json", "--format", "github")
    assert two_outputs.code == 2 and two_outputs.out == "" and "--json and --format github" in two_outputs.err


def test_default_paths_are_catalog_and_profiles(
    capsys: pytest.CaptureFixture[str], profiles: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    (work / "profiles").mkdir(parents=True)
    shutil.copy(profiles["catalog"], work / "catalog.yaml")
    shutil.copy(profiles["py"], work / "profiles" / "jupyterhub_config.py")
    monkeypatch.chdir(work)
    doc = run_cli(capsys, "audit", "--json", "--no-cache").json()
    assert {Path(f["path"]).name for f in doc["findings"]} == {"catalog.yaml", "jupyterhub_config.py"}
    monkeypatch.chdir(tmp_path / "work" / "profiles")
    assert run_cli(capsys, "audit", "--catalog", "missing.yaml").code == 2


async def test_tags_listed_once_per_repository_and_cached(profiles: dict[str, Path], tmp_path: Path) -> None:
    records = read_profile_file(profiles["z2jh"]) + read_profile_file(profiles["kubeflow"])
    async with Session(SessionOptions(cache_dir=tmp_path / "cache")) as session:
        await collect(session, records, cache_dir=tmp_path / "cache")
        first = session.request_stats.get("GET tags", 0)
    assert first == 5 + 8  # z2jh: base, pytorch, scipy, nothing-here, builds; kubeflow: 8 repositories
    async with Session(SessionOptions(cache_dir=tmp_path / "cache")) as session:
        await collect(session, records, cache_dir=tmp_path / "cache")
        assert session.request_stats.get("GET tags", 0) == 1  # only the missing repository is asked again


def test_lineage_adds_stale_base_for_catalog_images(
    capsys: pytest.CaptureFixture[str], registry: RegistryServer, pusher: Pusher, tmp_path: Path
) -> None:
    from tests.test_lineage import push_lineage_images

    images = push_lineage_images(pusher, registry.host, prefix="audit-lineage", filler=2)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(images.catalog_yaml())
    args = ["audit", str(catalog), "--catalog", str(catalog), "--json", "--no-cache", "--fail-on", "none"]
    for skipped in ("--no-lineage", "--tags-only"):
        plain = run_cli(capsys, *args, skipped)
        assert plain.code == 0 and not [f for f in plain.json()["findings"] if f["kind"] == "stale-base"]
    by_default = run_cli(capsys, *args)
    assert by_default.json() == run_cli(capsys, *args, "--lineage").json()
    found = {f["image"]: f for f in by_default.json()["findings"] if f["kind"] == "stale-base"}
    assert set(found) == {images.repo("scipy") + ":v1.9.0", images.repo("codeserver") + ":v1.9.1"}
    codeserver = found[images.repo("codeserver") + ":v1.9.1"]
    assert codeserver["message"].endswith(":v1.9.0, the catalog has base at latest")
    assert (codeserver["current"], codeserver["suggested"]) == ("base:v1.9.0", "base:latest")
    assert run_cli(capsys, *args, "--lineage", "--tags-only").code == 2
    assert run_cli(capsys, "audit", str(catalog), "--lineage", "--catalog", str(tmp_path / "none.yaml")).code == 2


async def test_stale_base_reuses_the_tags_the_audit_listed(
    registry: RegistryServer, pusher: Pusher, tmp_path: Path
) -> None:
    """Issue 6: each repository's tags are listed once per run, the lineage scan included."""
    from nbcatalog.audit import LineageFacts
    from tests.test_lineage import push_lineage_images

    images = push_lineage_images(pusher, registry.host, prefix="audit-once", filler=2)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(images.catalog_yaml())
    records = read_profile_file(catalog)
    repositories = {record.image.rsplit(":", 1)[0] for record in records}
    async with Session(SessionOptions(cache_dir=None)) as session:
        view = await collect(session, records, fact_source=LineageFacts(catalog))
        assert session.request_stats.get("GET tags", 0) == len(repositories)
    assert {key for key, facts in view.facts.items() if facts.stale_base} == {
        images.repo("scipy") + ":v1.9.0",
        images.repo("codeserver") + ":v1.9.1",
    }


def test_update_options_reach_the_rules(capsys: pytest.CaptureFixture[str], profiles: dict[str, Path]) -> None:
    args = ["audit", str(profiles["py"]), "--json", "--catalog", str(profiles["catalog"]), "--no-cache"]
    stale = [f for f in run_cli(capsys, *args).json()["findings"] if f["kind"] == "stale-tag"]
    assert [f["message"] for f in stale] == ["1 newer tag of the same scheme, 273 days newer: v1.10.0"]
    with_rc = [f for f in run_cli(capsys, *args, "--allow-prerelease").json()["findings"] if f["kind"] == "stale-tag"]
    assert [f["message"] for f in with_rc] == ["2 newer tags of the same scheme, 273 days newer: v1.10.0"]
    tags_only = [f for f in run_cli(capsys, *args, "--tags-only").json()["findings"] if f["kind"] == "stale-tag"]
    assert [(f["message"], f["severity"]) for f in tags_only] == [("1 newer tag of the same scheme: v1.10.0", "info")]
    within = run_cli(capsys, *args, "--within", "minor").json()["findings"]
    assert not [f for f in within if f["kind"] == "stale-tag"]  # v1.10.0 is another minor release


def test_audit_of_oci_layouts_in_the_demo(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """oci: references are audited like registry ones: the demo leaves codeserver one release behind,
    on the base of that release."""
    from nbcatalog.demo import build_demo

    paths = build_demo(tmp_path / "demo")
    result = run_cli(capsys, "--catalog", str(paths.catalog), "--cache-dir", str(tmp_path / "c"), "audit", "--json")
    assert result.code == 1, result.err
    findings = {(f["kind"], f["current"], f["suggested"]) for f in result.json()["findings"]}
    assert findings == {("stale-tag", "v1.9.1", "v1.10.0"), ("stale-base", "base:v1.9.1", "base:v1.10.0")}


def test_audit_of_an_empty_catalog_finds_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text("# starting out\nimages: []\n")
    result = run_cli(capsys, "audit", "--catalog", str(catalog), "--json", "--no-cache")
    assert (result.code, json.loads(result.out)["findings"], result.err) == (0, [], "")
