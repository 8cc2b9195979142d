"""catalog.yaml ``policy:``: its validation, the pure judge, and the audit's use of it with facts given."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from nbcatalog.audit import ImageFacts, RegistryView, audit
from nbcatalog.catalog import load_catalog
from nbcatalog.errors import CatalogError
from nbcatalog.policy import Policy, PolicyFacts, check, platform_offered, worst
from nbcatalog.profilefiles import read_profile_file

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
FRESH = PolicyFacts(("linux/amd64", "linux/arm64/v8"), NOW - datetime.timedelta(days=10), ())


def _kinds(policy: Policy, name: str = "quay.io/jupyter/base", *, pinned: bool = False,
           facts: PolicyFacts | None = FRESH) -> list[str]:  # fmt: skip
    return [v.kind for v in check(policy, name, pinned=pinned, facts=facts, now=NOW)]


@pytest.mark.parametrize(
    ("policy", "violating", "kind"),
    [
        (Policy(registries=("quay.io/jupyter/",)), {"name": "docker.io/jupyter/base"}, "policy-registry"),
        (Policy(require_digest=True), {"pinned": False}, "policy-digest"),
        (Policy(platforms=("linux/amd64", "linux/arm64")), {"facts": PolicyFacts(("linux/amd64",))}, "policy-platform"),
        (Policy(max_age_days=365), {"facts": PolicyFacts(created=NOW - datetime.timedelta(days=400))}, "policy-age"),
        (Policy(kubeflow_ready="warn"), {"facts": PolicyFacts(kubeflow_problems=("no port 8888",))}, "policy-kubeflow"),
    ],
)
def test_each_rule_fires_only_on_its_violation(policy: Policy, violating: dict[str, object], kind: str) -> None:
    assert _kinds(policy, pinned=True) == []
    arguments: dict[str, object] = {"pinned": True, **violating}
    assert _kinds(policy, **arguments) == [kind]  # type: ignore[arg-type]


def test_what_is_not_known_is_never_a_violation() -> None:
    everything = Policy(platforms=("linux/amd64",), max_age_days=1, kubeflow_ready="error")
    assert _kinds(everything, facts=None) == [] and _kinds(everything, facts=PolicyFacts()) == []
    assert not Policy().active and _kinds(Policy(), "anything/at/all", facts=PolicyFacts(("windows/amd64",))) == []


def test_prefixes_match_on_path_segments_and_arm64_on_its_variant() -> None:
    allowed = Policy(registries=("quay.io/jupyter",))
    assert _kinds(allowed, "quay.io/jupyter/scipy-notebook") == []
    assert _kinds(allowed, "quay.io/jupyter-evil/scipy-notebook") == ["policy-registry"]
    assert platform_offered("linux/arm64", ["linux/arm64/v8"]) and platform_offered("linux/arm64/v8", ["linux/arm64"])
    assert not platform_offered("linux/arm64", ["linux/amd64"])


def test_severity_override_and_kubeflow_mode() -> None:
    policy = Policy(max_age_days=1, kubeflow_ready="warn", severity={"policy-age": "info"})
    assert policy.severity_of("policy-age") == "info" and policy.severity_of("policy-kubeflow") == "warning"
    assert Policy(kubeflow_ready="error").severity_of("policy-kubeflow") == "error"
    assert Policy().severity_of("policy-registry") == "error" and Policy().severity_of("policy-age") == "warning"
    old = PolicyFacts(created=NOW - datetime.timedelta(days=30), kubeflow_problems=("x",))
    assert worst(check(policy, "a/b", pinned=True, facts=old, now=NOW)) == "warning"


def test_policy_is_read_from_the_catalog(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(
        "policy:\n  registries: [ghcr.io/kubeflow/, quay.io/jupyter/]\n  platforms: [linux/amd64, linux/arm64]\n"
        "  max_age_days: 365\n  require_digest: true\n  kubeflow_ready: off\n  severity: {policy-age: info}\n"
        "images: []\n"
    )
    policy = load_catalog(path).policy
    assert policy == Policy(("ghcr.io/kubeflow/", "quay.io/jupyter/"), ("linux/amd64", "linux/arm64"), 365, True,
                            "off", {"policy-age": "info"}, line=1)  # fmt: skip
    assert load_catalog(path).policy.active


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("policy:\n  registry: [quay.io/]\n", ":2:3", "unknown key 'registry' in policy (did you mean 'registries'?)"),
        ("policy:\n  platforms: [amd64]\n", ":2:15", "must be os/arch[/variant]"),
        ("policy:\n  max_age_days: 0\n", ":2:17", "positive number of days"),
        ("policy:\n  kubeflow_ready: strict\n", ":2:19", "must be one of off, warn, error"),
        ("policy:\n  require_digest: 'yes'\n", ":2:19", "must be true or false"),
        ("policy:\n  severity: {policy-ages: info}\n", ":2:14", "did you mean 'policy-age'?"),
        ("policy:\n  severity: {policy-age: low}\n", ":2:26", "must be info, warning or error"),
        ("policy: [quay.io/]\n", ":1:9", "policy must be a mapping"),
    ],
)
def test_bad_policy_names_file_line_and_key(tmp_path: Path, text: str, where: str, words: str) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(text + "images: []\n")
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert str(caught.value.where).endswith(where) and words in caught.value.message
    assert "\n" not in caught.value.message


def test_audit_judges_catalog_entries_by_their_exports_and_pins(tmp_path: Path) -> None:
    """Pure: a Docker Stacks entry exported only to JupyterHub is never judged on Kubeflow's needs;
    ``pin: digest`` (own or top level) and ``digest:`` both satisfy require_digest."""
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        "pin: digest\nimages:\n"
        "  - {name: stacks, image: quay.io/jupyter/scipy-notebook, tag: 2024-06-03, exports: [jupyterhub]}\n"
        "  - {name: kf, image: ghcr.io/kubeflow/jupyter, tag: v1.10.0, exports: [kubeflow], pin: tag}\n"
        "  - {name: wk, image: ghcr.io/kubeflow/code, tag: v1, digest: 'sha256:" + "a" * 64 + "', pin: tag}\n"
    )  # fmt: skip
    records = read_profile_file(catalog)
    unready = ImageFacts(kubeflow_problems=("no 8888",), policy=PolicyFacts(kubeflow_problems=("no 8888",)))
    view = RegistryView(facts={f"{r.image}": unready for r in records})
    policy = Policy(require_digest=True, kubeflow_ready="error")
    found = [(f.line, f.kind) for f in audit(records, view, policy=policy) if f.kind.startswith("policy-")]
    assert found == [(4, "policy-digest"), (4, "policy-kubeflow"), (5, "policy-kubeflow")]
    assert [f for f in audit(records, view) if f.kind.startswith("policy-")] == []  # no policy, no findings


def test_audit_says_a_kubeflow_problem_once(tmp_path: Path) -> None:
    spawner = tmp_path / "spawner_ui_config.yaml"
    spawner.write_text("spawnerFormDefaults:\n  image:\n    value: ghcr.io/kubeflow/jupyter:v1.10.0\n")
    records = read_profile_file(spawner)
    problem = ("exposes HTTP on port 8888 (ExposedPorts: none)",)
    facts = ImageFacts(kubeflow_problems=problem, policy=PolicyFacts(kubeflow_problems=problem))
    view = RegistryView(facts={"ghcr.io/kubeflow/jupyter:v1.10.0": facts})
    assert [f.kind for f in audit(records, view)] == ["not-kubeflow-ready"]
    for mode, level in (("warn", "warning"), ("error", "error")):
        found = audit(records, view, policy=Policy(kubeflow_ready=mode))  # type: ignore[arg-type]
        assert [(f.kind, f.severity) for f in found] == [("policy-kubeflow", level)]
        assert found[0].message == "not Kubeflow-ready: " + problem[0]
    offline = audit(records, RegistryView(facts=view.facts, offline=True), policy=Policy(kubeflow_ready="error"))
    assert offline == []
