"""The catalog's ``policy:`` as audit findings: every record judged by :func:`nbcatalog.policy.check`.

Kept apart from the tag rules so that audit, plan and the app share one judge and its words; this
module only says which record is judged on what. The registry and digest rules need the reference
alone (so ``--offline`` reports them); the platform, age and Kubeflow rules need the image's facts
and say nothing where none were gathered.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import replace

from nbcatalog.audit.facts import image_key
from nbcatalog.audit.rules import Finding, RegistryView
from nbcatalog.errors import NbcatalogError
from nbcatalog.policy import Policy, check
from nbcatalog.profilefiles import ProfileImage
from nbcatalog.refs import parse_reference

#: Where Kubeflow's image requirements matter: its spawner form and WorkspaceKinds, and catalog
#: entries exported to them (a Docker Stacks image offered only through JupyterHub need not meet them).
KUBEFLOW_KINDS = frozenset({"kubeflow", "workspacekind"})


def with_policy(
    findings: Sequence[Finding],
    records: Sequence[ProfileImage],
    view: RegistryView,
    policy: Policy,
    *,
    now: datetime.datetime | None = None,
) -> list[Finding]:
    """``findings`` plus the policy's; where ``policy-kubeflow`` judges a record, it replaces that
    record's ``not-kubeflow-ready`` (the same problem, said once, at the policy's severity)."""
    judged = [finding for record in records for finding in policy_findings(record, view, policy, now=now)]
    places = {(f.path, f.line, f.col) for f in judged if f.kind == "policy-kubeflow"}
    kept = [f for f in findings if not (f.kind == "not-kubeflow-ready" and (f.path, f.line, f.col) in places)]
    return kept + judged


def policy_findings(
    record: ProfileImage, view: RegistryView, policy: Policy, *, now: datetime.datetime | None = None
) -> list[Finding]:
    """The rules ``record`` breaks, at its place; a template, an inherited default (its own record
    speaks for it) or an invalid reference (already its own finding) is not judged."""
    if not policy.active or record.template or record.inherited:
        return []
    try:
        ref = parse_reference(record.image)
    except NbcatalogError:
        return []
    facts = None if view.offline else view.facts.get(image_key(ref))
    image_facts = facts.policy if facts is not None else None
    if image_facts is not None and not kubeflow_matters(record):
        image_facts = replace(image_facts, kubeflow_problems=None)
    pinned = bool(ref.digest or record.pinned_digest or record.pins_digest)
    current = {"policy-registry": ref.name, "policy-digest": ref.tag, "policy-age": ref.tag}
    out: list[Finding] = []
    for violation in check(policy, ref.name, pinned=pinned, facts=image_facts, now=now):
        message = violation.message
        if violation.kind == "policy-digest" and record.kind == "catalog":  # say how, in catalog.yaml's words
            message = "the policy requires a digest: give this entry pin: digest (or a digest:)"
        out.append(Finding(
            record.path, record.line, record.image, violation.kind, violation.severity,
            current.get(violation.kind), None, message, record.context, record.col,
        ))  # fmt: skip
    return out


def kubeflow_matters(record: ProfileImage) -> bool:
    """Kubeflow's spawner form and WorkspaceKinds, and catalog entries exported to either."""
    if record.kind == "catalog":
        return bool(KUBEFLOW_KINDS & set(record.exports))
    return record.kind in KUBEFLOW_KINDS
