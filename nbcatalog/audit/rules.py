"""The audit's rules: profile records + what the registries said + image facts in, findings out.

A pure function, :func:`audit`, so every rule is tested with facts given directly; the I/O that fills
a :class:`RegistryView` is :func:`nbcatalog.audit.fetch.collect`.

Each rule either needs no registry (``invalid-reference``, ``ignored-key``, ``moved-registry``,
``unknown-image``, ``mutable-tag`` for a moving or missing tag: the reference and the file say it all)
or is judged on registry data (``registry-error``, ``missing-tag``, ``stale-tag``, ``mutable-tag`` for
a pinned digest that moved, and the image-fact checks). The first kind is always reported, whatever
the network did; the second only where the registry answered, and never in an offline view.
The catalog's ``policy:`` findings follow the same split, in :mod:`~nbcatalog.audit.policyrules`.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from nbcatalog.audit.facts import ImageFacts, image_key
from nbcatalog.errors import NbcatalogError
from nbcatalog.policy import Policy
from nbcatalog.profilefiles import CHART_DEDICATED_KEYS, ProfileImage
from nbcatalog.profilefiles.model import Unread
from nbcatalog.refs import parse_reference
from nbcatalog.tagfamilies import (
    MOVING_TAGS,
    Severity,
    UpdateOptions,
    classify,
    newer_tags,
    newest_update,
    parse_policy,
    severity,
    sort_tags,
)

SEVERITIES: tuple[Severity, ...] = ("info", "warning", "error")
_NO_POLICY = Policy()  # catalog.yaml without ``policy:``: judges nothing
#: Old homes of notebook images and their successors (prefix of ``registry/repository``).
MOVED_REGISTRIES: tuple[tuple[str, str], ...] = (
    ("public.ecr.aws/j1r0q0g6/notebooks/notebook-servers/", "ghcr.io/kubeflow/kubeflow/notebook-servers/"),
    ("docker.io/kubeflownotebookswg/", "ghcr.io/kubeflow/kubeflow/notebook-servers/"),
    ("docker.io/jupyter/", "quay.io/jupyter/"),
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem at one place; ``fix`` is where --fix writes ``suggested`` over ``current``."""

    path: str
    line: int
    image: str
    kind: str
    severity: Severity
    current: str | None
    suggested: str | None
    message: str
    context: str = ""
    col: int = 1
    fix: tuple[int, int] | None = None

    @property
    def source(self) -> str:
        return f"{self.path}:{self.line}"

    def to_json(self) -> dict[str, Any]:
        keys = ("source", "image", "kind", "severity", "current", "suggested", "message")
        out = {key: getattr(self, key) for key in keys}
        out.update(path=self.path, line=self.line, column=self.col, context=self.context)
        return out


@dataclass(frozen=True, slots=True)
class RegistryView:
    """What the registries said, keyed by ``registry/repository`` and ``registry/repository:tag``.

    ``unreachable`` is keyed by registry host (as the references spell it): a host that could not be
    reached at all fails every repository alike, so it is one finding naming how many references it
    left unchecked, not one per repository. ``offline`` means no registry was consulted: only the
    rules that need none are judged, and nothing is said about tags, digests or registry errors.
    """

    tags: Mapping[str, Sequence[str] | None] = field(default_factory=dict)  # None: no such repository
    errors: Mapping[str, str] = field(default_factory=dict)
    digests: Mapping[str, str] = field(default_factory=dict)
    created: Mapping[str, Mapping[str, datetime.datetime]] = field(default_factory=dict)
    facts: Mapping[str, ImageFacts] = field(default_factory=dict)
    unreachable: Mapping[str, str] = field(default_factory=dict)
    offline: bool = False


@dataclass(frozen=True, slots=True)
class AuditOptions:
    update: UpdateOptions = field(default_factory=UpdateOptions)
    unknown_images: bool = True


def audit(
    records: Sequence[ProfileImage],
    view: RegistryView,
    *,
    catalog: Sequence[ProfileImage] = (),
    options: AuditOptions = AuditOptions(),
    unread: Iterable[Unread] = (),
    policy: Policy = _NO_POLICY,
) -> list[Finding]:
    """Findings for ``records``, judged on ``view``; the same finding at the same place once.

    ``unread`` (what the readers could not read) joins as coverage findings, sorted among the rest;
    ``policy`` (catalog.yaml ``policy:``) adds its ``policy-*`` findings for every record.
    """
    from nbcatalog.audit.coverage import coverage_findings
    from nbcatalog.audit.policyrules import with_policy

    policies = {
        name: record.tag_policy for record in catalog if (name := _repo_name(record.image)) and record.tag_policy
    }
    known = {name for record in catalog if (name := _repo_name(record.image))}
    findings: list[Finding] = []
    for record in records:
        if not record.template:
            findings.extend(_judge(record, view, policies, known if catalog else None, options))
    findings.extend(coverage_findings(unread))
    findings = with_policy(findings, records, view, policy)
    unique = {(f.path, f.line, f.col, f.kind, f.message): f for f in findings}
    ordered = sorted(unique.values(), key=lambda f: (f.path, f.line, f.col, f.kind))
    # An unreachable repository is one finding, not one per profile; an unreachable host one finding
    # on its first reference, saying how many references it left unchecked.
    per_host = {_unreachable_message(host, text) for host, text in view.unreachable.items()}
    affected = Counter(f.message for f in ordered if f.kind == "registry-error" and f.message in per_host)
    out: list[Finding] = []
    said: set[str] = set()
    for f in ordered:
        if f.kind == "registry-error":
            if f.message in said:
                continue
            said.add(f.message)
            if f.message in affected:
                n = affected[f.message]
                f = replace(f, message=f"{f.message}: {n} reference{'s' if n != 1 else ''} not checked")
        out.append(f)
    return out


def _unreachable_message(host: str, text: str) -> str:
    return f"registry {host} unreachable ({text})"


def _repo_name(image: str) -> str | None:
    try:
        return parse_reference(image).name
    except NbcatalogError:
        return None


def _judge(
    record: ProfileImage,
    view: RegistryView,
    policies: Mapping[str, str],
    known: set[str] | None,
    options: AuditOptions,
) -> Iterable[Finding]:
    def finding(kind: str, level: Severity, message: str, current: str | None = None, **more: Any) -> Finding:
        return Finding(
            record.path, record.line, record.image, kind, level, current, more.pop("suggested", None),
            message, record.context, record.col, **more,
        )  # fmt: skip

    try:
        ref = parse_reference(record.image)
    except NbcatalogError as exc:
        yield finding("invalid-reference", "error", exc.message, record.image)
        return
    facts = None if view.offline else view.facts.get(image_key(ref))
    yield from _scheduling_findings(record, facts, finding)
    if record.inherited:  # the default image's own record has the rest
        return
    for old, new in MOVED_REGISTRIES:
        if str(ref).startswith(old):
            moved = new + str(ref).removeprefix(old)
            yield finding("moved-registry", "warning", f"{old}… moved to {new}…", ref.name, suggested=moved)
    if known is not None and record.kind != "catalog" and ref.name not in known and options.unknown_images:
        yield finding("unknown-image", "info", f"{ref.name} is not in the catalog", ref.name)
    tag = ref.tag
    created = view.created.get(ref.name)
    answered = not view.offline and ref.name not in view.errors and ref.registry not in view.unreachable
    if (tag is None or classify(tag).kind == "moving") and ref.digest is None:
        # A moving tag moves whatever the registry says; its tags only pick the pin to suggest.
        pin = _newest_pinnable(tag, (view.tags.get(ref.name) or ()) if answered else (), created)
        text = f"'{tag}' moves" if tag else "no tag means 'latest', which moves"
        yield finding(
            "mutable-tag", "warning", f"{text}: pin a version tag", tag, suggested=pin, fix=record.tag_position
        )
    if view.offline:
        return  # no registry consulted: the rest needs one
    if ref.registry in view.unreachable:
        yield finding("registry-error", "warning", _unreachable_message(ref.registry, view.unreachable[ref.registry]))
        return
    if ref.name in view.errors:
        yield finding("registry-error", "warning", view.errors[ref.name], ref.tag)
        return
    tags = view.tags.get(ref.name, ())
    policy = parse_policy(record.tag_policy or policies.get(ref.name), where=record.source)
    if ref.name not in view.tags:
        return  # not asked (or not answered): nothing to say about its tags
    if tags is None:
        yield finding("missing-tag", "error", f"repository {ref.name} does not exist", tag)
        return
    if tag is None:
        return
    if tag not in tags:
        candidates = newer_tags(tag, tags, policy=policy, options=options.update, created=created)
        yield finding(
            "missing-tag", "error", f"tag {tag} does not exist in {ref.name}", tag,
            suggested=candidates[-1] if candidates else None,
        )  # fmt: skip
        return
    current_digest = view.digests.get(image_key(ref))
    pinned = record.pinned_digest or ref.digest  # the catalog's ``digest:``, or the reference's own
    if pinned and current_digest and current_digest != pinned:
        yield _digest_moved(record, tag, pinned, current_digest, finding)
    behind = newest_update(tag, tags, policy=policy, options=options.update, created=created)
    if behind is not None:
        level = severity(behind)
        parts = [f"{behind.versions} newer tag{'s' if behind.versions != 1 else ''} of the same scheme"]
        if behind.days is not None:
            parts.append(f"{behind.days} days newer")
        message = f"{', '.join(parts)}: {behind.newest}"
        fix = record.tag_position
        if record.pinned_digest or ref.digest:  # a tag alone would no longer match its digest
            fix = None
            message += "; update the digest with the tag"
        if record.hidden or record.redirect_to:
            level, message = "info", f"{message} (kept for existing workspaces: hidden or redirected)"
        if record.kind == "workspacekind":  # options are versioned by id: add one, redirect the old
            fix = None
            if not record.redirect_to:
                message += f"; add an imageConfig value for {behind.newest} and redirect this one to it"
        yield finding("stale-tag", level, message, tag, suggested=behind.newest, fix=fix)


def _digest_moved(record: ProfileImage, tag: str, pinned: str, now: str, finding: Callable[..., Finding]) -> Finding:
    """The pinned digest is no longer what its tag points at: say which tag the old digest was (what a
    user on it runs), and re-pin in place, writing the new digest over the old one.

    A WorkspaceKind option is never re-pinned in place (the webhook keeps an option's spec as its
    workspaces saw it): ``export`` adds one for the new digest and redirects this one to it. An
    option already hidden or redirected is kept for existing workspaces on purpose: info only.
    """
    message = f"{tag} now points at {now[:19]}…, not the pinned {pinned[:19]}… (what {tag} was when pinned)"
    level: Severity = "error"
    fix = _digest_position(record, tag)
    if record.kind == "workspacekind":
        fix = None
        if not (record.hidden or record.redirect_to):
            message += "; re-pin the catalog and export: it adds an imageConfig value and redirects this one to it"
    if record.hidden or record.redirect_to:
        level, message = "info", f"{message} (kept for existing workspaces: hidden or redirected)"
    return finding("mutable-tag", level, message, pinned, suggested=now, fix=fix)


def _digest_position(record: ProfileImage, tag: str) -> tuple[int, int] | None:
    """Where the pinned digest's text starts: a catalog entry's ``digest:``, else right after
    ``tag@`` in a reference spelled whole (its tag's place is known only when it is)."""
    if record.kind == "catalog":
        return record.digest_position
    if record.tag_position is None:
        return None
    line, col = record.tag_position
    return line, col + len(tag) + 1


def is_fix(finding: Finding) -> bool:
    """Whether --fix writes this finding's ``suggested`` over its ``current``: a stale tag, or a
    pinned digest its tag moved from (a re-pin; ``current`` is a digest, which no tag can spell).
    A moving tag is pinned only on purpose, and the cluster is changed only through ``apply``."""
    if finding.path.startswith("cluster:") or not (finding.fix and finding.current and finding.suggested):
        return False
    return finding.kind == "stale-tag" or (finding.kind == "mutable-tag" and ":" in finding.current)


def _newest_pinnable(
    moving: str | None, tags: Sequence[str], created: Mapping[str, datetime.datetime] | None
) -> str | None:
    """The newest release of the biggest version family sharing the moving tag's prefix
    (``cuda12-latest`` -> ``cuda12-2024-12-02``, ``latest`` -> ``2024-12-02`` or ``v1.10.0``)."""
    version = classify(moving) if moving else None
    prefix = version.family[1] if version and version.kind == "moving" and moving not in MOVING_TAGS else ""
    families: dict[tuple[str, ...], list[str]] = {}
    for tag in sort_tags(tags, created):
        candidate = classify(tag)
        if candidate.kind in ("semver", "date") and not candidate.prerelease and candidate.family[1] == prefix:
            families.setdefault(candidate.family, []).append(tag)
    return max(families.values(), key=len)[-1] if families else None


def _scheduling_findings(record: ProfileImage, facts: ImageFacts | None, finding: Any) -> Iterable[Finding]:
    if record.kind == "prepuller":  # a pod that only pulls: where it runs says nothing of a notebook's GPU
        return
    scheduling = record.scheduling
    for key in scheduling.ignored_keys:
        yield Finding(
            record.path, key.line, record.image, "ignored-key", "warning", key.key, None,
            f"KubeSpawner ignores '{key.key}' in kubespawner_override; use {key.hint}", record.context, key.col,
        )  # fmt: skip
    dedicated = any(t.get("key") in CHART_DEDICATED_KEYS for t in scheduling.tolerations)
    if record.kind == "z2jh" and scheduling.gpu_limited and scheduling.tolerations_overridden and not dedicated:
        yield finding(
            "ignored-key", "warning",
            "this GPU profile's tolerations replace the chart's hub.jupyter.org/dedicated toleration: "
            "add it back or the pod cannot use the dedicated user nodes",
        )  # fmt: skip
    if facts is None:
        return
    gpu = scheduling.gpu_limited or scheduling.gpu_offered
    if facts.cuda and scheduling.gpu_mode != "auto" and not gpu:
        hint = " (its node selector targets GPU nodes, but no GPU is requested)" if scheduling.node_selector else ""
        if scheduling.ignored_keys:
            hint = f" (KubeSpawner ignores {', '.join(k.key for k in scheduling.ignored_keys)} here)"
        yield finding("cuda-without-gpu", "warning", f"a CUDA image with no GPU limit{hint}")
    if facts.cuda is False and scheduling.gpu_limited:
        limits = ", ".join(f"{k}: {v}" for k, v in scheduling.resource_limits.items())
        yield finding("gpu-without-cuda", "warning", f"requests a GPU ({limits}) for an image without CUDA")
    if facts.kubeflow_problems and record.kind in ("kubeflow", "workspacekind"):
        yield finding("not-kubeflow-ready", "warning", "; ".join(facts.kubeflow_problems))
    if facts.stale_base:
        yield finding(
            "stale-base", "warning", facts.stale_base, facts.stale_base_current, suggested=facts.stale_base_suggested
        )


def failed(findings: Sequence[Finding], fail_on: str) -> bool:
    """Exit code 1 material: any finding at or above ``fail_on`` (``none`` never fails)."""
    if fail_on == "none":
        return False
    threshold = SEVERITIES.index(fail_on)
    return any(SEVERITIES.index(f.severity) >= threshold for f in findings)


def fixes(findings: Sequence[Finding]) -> dict[str, dict[tuple[int, int], tuple[str, str]]]:
    """The --fix edits per file: stale tags and re-pins (see :func:`is_fix`)."""
    edits: dict[str, dict[tuple[int, int], tuple[str, str]]] = {}
    for f in findings:
        if is_fix(f) and f.fix and f.current and f.suggested:
            edits.setdefault(f.path, {})[f.fix] = (f.current, f.suggested)
    return edits
