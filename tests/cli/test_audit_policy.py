"""``nbcatalog audit`` under catalog.yaml ``policy:``, against the real local registry.

Images that each break one rule (an amd64-only image, an arm64-only index, a 2020 build, an image
without port 8888 or user jovyan, one outside the allowed registries) are pushed once beside a clean
multi-arch image; every rule must then fire on the breaking reference, and only there, in the
catalog itself and in the profile files written here.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

import pytest

from nbcatalog.ocibuild import BuiltImage, BuiltIndex, build_image, build_index, build_layer, file
from nbcatalog.policy import POLICY_KINDS
from tests.cli.run import Result, run_cli
from tests.support.registry import Pusher, RegistryServer

FRESH = (datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
OLD = "2020-01-01T00:00:00Z"


@dataclass(frozen=True)
class Pushed:
    host: str
    good_digest: str

    def ref(self, repository: str) -> str:
        return f"{self.host}/{repository}:v1.0.0"


def _image(name: str, platform: str, *, created: str = FRESH, ready: bool = True) -> BuiltImage:
    layer = build_layer([file("etc/image-name", f"{name} {platform}\n")])  # no two alike: no lineage between them
    return build_image(
        [layer], platform=platform, created=created, env={"PATH": "/usr/bin"},
        user="jovyan" if ready else None, exposed_ports=["8888/tcp"] if ready else None,
    )  # fmt: skip


@pytest.fixture(scope="module")
def pushed(registry: RegistryServer, pusher: Pusher) -> Pushed:
    def both(name: str, *, created: str = FRESH, ready: bool = True) -> BuiltIndex:
        platforms = ("linux/amd64", "linux/arm64/v8")
        return build_index([_image(name, platform, created=created, ready=ready) for platform in platforms])

    good = pusher.push("policy/good", both("good"), ["v1.0.0"])
    pusher.push("policy/amd64only", _image("amd64only", "linux/amd64"), ["v1.0.0"])
    pusher.push("policy/arm64only", build_index([_image("arm64only", "linux/arm64/v8")]), ["v1.0.0"])
    pusher.push("policy/old", both("old", created=OLD), ["v1.0.0"])
    pusher.push("policy/unready", both("unready", ready=False), ["v1.0.0"])
    pusher.push("elsewhere/good", both("elsewhere"), ["v1.0.0"])
    return Pushed(registry.host, good)


#: Per kind: the one rule switched on, and the repository that breaks it (policy/good keeps it).
CASES = {
    "policy-registry": ("registries: [{host}/policy/]", "elsewhere/good"),
    "policy-platform": ("platforms: [linux/amd64, linux/arm64]", "policy/amd64only"),
    "policy-age": ("max_age_days: 365", "policy/old"),
    "policy-digest": ("require_digest: true", "policy/good"),  # the same image, but without a digest
    "policy-kubeflow": ("kubeflow_ready: error", "policy/unready"),
}


def _write(tmp_path: Path, pushed: Pushed, rule: str, violating: str) -> dict[str, Path]:
    """A catalog (clean by pin: digest, clean by digest:, violating at line 13 for a one-line rule),
    a Kubeflow spawner config (violating at line 6) and z2jh values (violating at line 8)."""
    good, bad = pushed.ref("policy/good"), pushed.ref(violating)
    pinned = f"{good}@{pushed.good_digest}"
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        f"policy:\n  {rule.replace('{host}', pushed.host)}\nimages:\n"
        f"  - name: clean\n    image: {pushed.host}/policy/good\n    tag: v1.0.0\n    pin: digest\n"
        f"  - name: clean-digest\n    image: {pushed.host}/policy/good\n    tag: v1.0.0\n"
        f"    digest: {pushed.good_digest}\n"
        f"  - name: violating\n    image: {bad.removesuffix(':v1.0.0')}\n    tag: v1.0.0\n"
    )
    kubeflow = tmp_path / "spawner_ui_config.yaml"
    kubeflow.write_text(
        f"spawnerFormDefaults:\n  image:\n    value: {pinned}\n    options:\n      - {pinned}\n      - {bad}\n"
    )
    z2jh = tmp_path / "values.yaml"
    z2jh.write_text(
        "singleuser:\n  profileList:\n"
        f"    - display_name: clean\n      kubespawner_override:\n        image: {pinned}\n"
        f"    - display_name: violating\n      kubespawner_override:\n        image: {bad}\n"
    )
    return {"catalog": catalog, "kubeflow": kubeflow, "z2jh": z2jh}


def _audit(capsys: pytest.CaptureFixture[str], files: dict[str, Path], *more: str) -> Result:
    paths = [str(path) for path in files.values()]
    return run_cli(capsys, "audit", *paths, "--catalog", str(files["catalog"]), "--json", "--no-cache", *more)


def _policy_found(result: Result, path: Path) -> list[tuple[int, str, str]]:
    rows = [f for f in result.json()["findings"] if f["path"] == str(path) and f["kind"].startswith("policy-")]
    return [(f["line"], f["kind"], f["severity"]) for f in rows]


@pytest.mark.parametrize("kind", list(CASES))
def test_each_rule_fires_on_the_violating_reference_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pushed: Pushed, kind: str
) -> None:
    rule, violating = CASES[kind]
    files = _write(tmp_path, pushed, rule, violating)
    result = _audit(capsys, files)
    assert result.code == 1, result.err
    level = POLICY_KINDS[kind]  # policy-age is a warning unless policy.severity says otherwise
    assert _policy_found(result, files["catalog"]) == [(13, kind, level)]
    assert _policy_found(result, files["kubeflow"]) == [(6, kind, level)]
    # JupyterHub does not need Kubeflow's image requirements; every other rule holds there too.
    assert _policy_found(result, files["z2jh"]) == ([] if kind == "policy-kubeflow" else [(8, kind, level)])
    messages = [f["message"] for f in result.json()["findings"] if f["kind"] == kind]
    assert all("\n" not in message for message in messages)
    assert run_cli(capsys, "audit", *[str(p) for p in files.values()], "--catalog", str(files["catalog"]),
                   "--no-cache", "--fail-on", "none").code == 0  # fmt: skip


def test_messages_say_what_the_image_offers(capsys: pytest.CaptureFixture[str], tmp_path: Path, pushed: Pushed) -> None:
    files = _write(tmp_path, pushed, "platforms: [linux/amd64, linux/arm64]", "policy/amd64only")
    found = {f["kind"]: f for f in _audit(capsys, files).json()["findings"] if f["path"] == str(files["catalog"])}
    assert found["policy-platform"]["message"] == "does not offer linux/arm64 (offers linux/amd64)"
    files = _write(tmp_path, pushed, "max_age_days: 365", "policy/old")
    age = next(f for f in _audit(capsys, files).json()["findings"] if f["kind"] == "policy-age")
    assert "(2020-01-01), over max_age_days 365" in age["message"] and age["current"] == "v1.0.0"
    files = _write(tmp_path, pushed, "kubeflow_ready: warn", "policy/unready")
    kubeflow = next(f for f in _audit(capsys, files).json()["findings"] if f["kind"] == "policy-kubeflow")
    assert kubeflow["severity"] == "warning"
    assert kubeflow["message"].startswith("not Kubeflow-ready: exposes HTTP on port 8888 (ExposedPorts: none)")


def test_an_index_without_the_audited_platform_still_breaks_platforms(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pushed: Pushed
) -> None:
    """The arm64-only index cannot be resolved for linux/amd64, but its index says what it offers."""
    files = _write(tmp_path, pushed, "platforms: [linux/amd64]", "policy/arm64only")
    result = _audit(capsys, files)
    found = [f for f in result.json()["findings"] if f["kind"] == "policy-platform"]
    assert [(Path(f["path"]).name, f["line"]) for f in found] == [
        ("catalog.yaml", 13), ("spawner_ui_config.yaml", 6), ("values.yaml", 8),
    ]  # fmt: skip
    assert found[0]["message"] == "does not offer linux/amd64 (offers linux/arm64/v8)"


def test_severity_override(capsys: pytest.CaptureFixture[str], tmp_path: Path, pushed: Pushed) -> None:
    files = _write(tmp_path, pushed, "max_age_days: 365\n  severity: {policy-age: info}", "policy/old")
    result = _audit(capsys, files, "--fail-on", "warning")
    assert _policy_found(result, files["catalog"]) == [(14, "policy-age", "info")]  # the rule takes two lines
    assert result.code == 0, result.out  # info is below --fail-on warning
    assert _audit(capsys, files, "--fail-on", "info").code == 1


def test_offline_still_reports_registry_and_digest(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pushed: Pushed
) -> None:
    rules = "registries: [{host}/policy/]\n  require_digest: true\n  platforms: [linux/arm64]\n  max_age_days: 1"
    files = _write(tmp_path, pushed, rules, "elsewhere/good")
    result = _audit(capsys, files, "--offline")
    assert result.code == 1, result.err
    assert _policy_found(result, files["catalog"]) == [(16, "policy-digest", "error"), (16, "policy-registry", "error")]
    assert _policy_found(result, files["z2jh"]) == [(8, "policy-digest", "error"), (8, "policy-registry", "error")]
    digest = next(f for f in result.json()["findings"] if f["kind"] == "policy-digest" and f["line"] == 16)
    assert digest["message"] == "the policy requires a digest: give this entry pin: digest (or a digest:)"


def test_kubeflow_policy_replaces_not_kubeflow_ready(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pushed: Pushed
) -> None:
    def kinds_at_line_6(mode: str) -> list[str]:
        files = _write(tmp_path, pushed, f"kubeflow_ready: {mode}", "policy/unready")
        found = _audit(capsys, files, "--fail-on", "none").json()["findings"]
        return sorted(f["kind"] for f in found if f["path"] == str(files["kubeflow"]) and f["line"] == 6)

    assert kinds_at_line_6("'off'") == ["not-kubeflow-ready"]
    assert kinds_at_line_6("warn") == ["policy-kubeflow"]
    assert kinds_at_line_6("error") == ["policy-kubeflow"]


def test_docker_stacks_only_entries_need_not_be_kubeflow_ready(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pushed: Pushed
) -> None:
    catalog = tmp_path / "catalog.yaml"
    image = f"{pushed.host}/policy/unready"
    catalog.write_text(
        "policy: {kubeflow_ready: error}\nimages:\n"
        f"  - name: stacks\n    image: {image}\n    tag: v1.0.0\n    exports: [jupyterhub, kubespawner]\n"
        f"  - name: kubeflow\n    image: {image}\n    tag: v1.0.0\n    exports: [kubeflow]\n"
        f"  - name: everywhere\n    image: {image}\n    tag: v1.0.0\n"
    )
    result = _audit(capsys, {"catalog": catalog})
    assert _policy_found(result, catalog) == [(8, "policy-kubeflow", "error"), (12, "policy-kubeflow", "error")]


def test_github_and_prometheus_carry_the_kinds(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pushed: Pushed
) -> None:
    files = _write(tmp_path, pushed, "registries: [{host}/policy/]", "elsewhere/good")
    base = ["audit", str(files["catalog"]), "--catalog", str(files["catalog"]), "--no-cache"]
    github = run_cli(capsys, *base, "--format", "github")
    assert f"::error file={files['catalog']},line=13,col=12,title=policy-registry::" in github.out
    prometheus = run_cli(capsys, *base, "--format", "prometheus")
    assert 'kind="policy-registry",severity="error"' in prometheus.out and github.code == prometheus.code == 1


def test_unknown_policy_key_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text("policy:\n  registry: [quay.io/jupyter/]\nimages: []\n")
    result = run_cli(capsys, "audit", "--catalog", str(catalog), "--offline")
    assert (result.code, result.out) == (2, "")
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert f"{catalog}:2:3" in result.err and "did you mean 'registries'?" in result.err
    catalog.write_text("policy:\n  severity: {policy-ages: info}\nimages: []\n")
    misspelt_kind = run_cli(capsys, "audit", "--catalog", str(catalog), "--offline")
    assert misspelt_kind.code == 2 and "did you mean 'policy-age'?" in misspelt_kind.err


def test_an_empty_catalogs_policy_judges_the_profiles(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pushed: Pushed
) -> None:
    files = _write(tmp_path, pushed, "registries: [{host}/policy/]", "elsewhere/good")
    files["catalog"].write_text(f"policy:\n  registries: [{pushed.host}/policy/]\nimages: []\n")
    result = _audit(capsys, {"catalog": files["catalog"], "z2jh": files["z2jh"]}, "--offline")
    assert _policy_found(result, files["z2jh"]) == [(8, "policy-registry", "error")]
