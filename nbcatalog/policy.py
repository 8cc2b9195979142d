"""The organisation's image policy (catalog.yaml ``policy:``) and its one judge, for audit, plan and the app.

Admins write down the rules their images must meet once: which registries images may come from,
which platforms every image must offer, how old an image may be, whether profiles must pin digests,
and whether Kubeflow's image requirements are enforced. :func:`check` is pure (a reference and what
is known about its image in, violations out) so that ``audit`` (catalog entries and every profile
file), ``plan`` (the candidate tag) and the app judge an image by the same rules and the same words.
What is not known about an image (no registry answer, offline) is never a violation: a policy
finding is a fact about the image, not a guess.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from nbcatalog.tagfamilies import Severity

if TYPE_CHECKING:
    from nbcatalog.resolution import ResolvedImage

KubeflowMode = Literal["off", "warn", "error"]
KUBEFLOW_MODES: tuple[KubeflowMode, ...] = ("off", "warn", "error")
POLICY_KEYS = ("registries", "platforms", "max_age_days", "require_digest", "kubeflow_ready", "severity")
#: Finding kinds and the severity each has unless ``policy.severity`` says otherwise.
POLICY_KINDS: dict[str, Severity] = {
    "policy-registry": "error",
    "policy-platform": "error",
    "policy-age": "warning",
    "policy-digest": "error",
    "policy-kubeflow": "error",
}
#: What ``kubeflow_ready`` maps to; ``off`` does not judge at all.
_KUBEFLOW_SEVERITY: dict[str, Severity] = {"warn": "warning", "error": "error"}


@dataclass(frozen=True, slots=True)
class Policy:
    """The rules of catalog.yaml ``policy:``; the defaults judge nothing (no policy, no findings)."""

    registries: tuple[str, ...] = ()  # allowed ``registry/repository`` prefixes; () = any
    platforms: tuple[str, ...] = ()  # every image must offer these (``os/arch[/variant]``)
    max_age_days: int | None = None  # the image config's ``created``
    require_digest: bool = False  # references must carry ``@sha256:…``
    kubeflow_ready: KubeflowMode = "off"
    severity: Mapping[str, Severity] = field(default_factory=dict)  # per kind, over POLICY_KINDS
    line: int = 0

    @property
    def active(self) -> bool:
        return (
            bool(self.registries or self.platforms or self.max_age_days is not None or self.require_digest)
            or self.kubeflow_ready != "off"
        )

    def severity_of(self, kind: str) -> Severity:
        if kind in self.severity:
            return self.severity[kind]
        if kind == "policy-kubeflow" and self.kubeflow_ready in _KUBEFLOW_SEVERITY:
            return _KUBEFLOW_SEVERITY[self.kubeflow_ready]
        return POLICY_KINDS[kind]


@dataclass(frozen=True, slots=True)
class PolicyFacts:
    """What is known about one image for the policy (``None``: not known, so not judged)."""

    platforms: tuple[str, ...] | None = None  # what the index offers; a single manifest offers its config's
    created: datetime.datetime | None = None
    kubeflow_problems: tuple[str, ...] | None = None  # () = ready


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: the finding kind, its severity under this policy and a one-line message."""

    kind: str
    severity: Severity
    message: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "severity": self.severity, "message": self.message}


def check(
    policy: Policy,
    name: str,
    *,
    pinned: bool,
    facts: PolicyFacts | None = None,
    now: datetime.datetime | None = None,
) -> list[Violation]:
    """The rules ``name`` (``registry/repository``) breaks; ``pinned``: the reference carries a digest.

    The registry and digest rules need only the reference; the platform, age and Kubeflow rules
    need ``facts`` and say nothing where a fact is not known.
    """
    out: list[Violation] = []

    def add(kind: str, message: str) -> None:
        out.append(Violation(kind, policy.severity_of(kind), message))

    if policy.registries and not any(_under(name, prefix) for prefix in policy.registries):
        add("policy-registry", f"{name} is not under an allowed registry ({', '.join(policy.registries)})")
    if policy.require_digest and not pinned:
        add("policy-digest", "the policy requires a digest (repo:tag@sha256:…); this reference has none")
    if facts is None:
        return out
    if policy.platforms and facts.platforms is not None:
        missing = [p for p in policy.platforms if not platform_offered(p, facts.platforms)]
        if missing:
            has = ", ".join(facts.platforms) or "none"
            add("policy-platform", f"does not offer {', '.join(missing)} (offers {has})")
    if policy.max_age_days is not None and facts.created is not None:
        age = ((now or datetime.datetime.now(datetime.UTC)) - facts.created).days
        if age > policy.max_age_days:
            add("policy-age", f"built {age} days ago ({facts.created.date().isoformat()}), over max_age_days "
                f"{policy.max_age_days}")  # fmt: skip
    if policy.kubeflow_ready != "off" and facts.kubeflow_problems:
        add("policy-kubeflow", "not Kubeflow-ready: " + "; ".join(facts.kubeflow_problems))
    return out


def worst(violations: Sequence[Violation]) -> Severity | None:
    order: tuple[Severity, ...] = ("info", "warning", "error")
    return max((v.severity for v in violations), key=order.index, default=None)


def _under(name: str, prefix: str) -> bool:
    """``ghcr.io/kubeflow/`` allows ``ghcr.io/kubeflow/x``; ``quay.io/jupyter`` (no slash) the same,
    but never ``quay.io/jupyter-evil/x``: a prefix is matched on path segments."""
    prefix = prefix.rstrip("/")
    return name == prefix or name.startswith(prefix + "/")


def platform_offered(wanted: str, offered: Sequence[str]) -> bool:
    """Whether ``wanted`` (``os/arch[/variant]``) is among ``offered``; ``linux/arm64`` matches ``linux/arm64/v8``."""
    parts = wanted.lower().split("/")
    for item in offered:
        have = item.lower().split("/")
        if have[: len(parts)] == parts or (len(parts) == 3 and parts[2] == "v8" and have == parts[:2]):
            return True
    return False


def facts_from_image(image: ResolvedImage) -> PolicyFacts:
    """The policy's facts from one resolved image: the platforms its index offers (a single manifest
    offers its config's), its config's ``created`` and Kubeflow's requirements judged on the config."""
    from nbcatalog.audit.facts import parse_time
    from nbcatalog.kubeflowreq import check_kubeflow

    report = check_kubeflow(image.config, None)
    problems = tuple(f"{r.description} ({r.evidence})" for r in report.failures)
    return PolicyFacts(tuple(image.platforms), parse_time(image.config.created), problems)
