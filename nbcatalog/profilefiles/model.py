"""The one record type every profile reader returns, and the scheduling facts GPU findings judge."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

FileKind = Literal["kubeflow", "workspacekind", "z2jh", "kubespawner", "catalog", "cluster", "prepuller"]
Position = tuple[int, int]  # 1-based line, 1-based column

#: The z2jh chart's own toleration for its dedicated user nodes; a profile ``tolerations`` replaces it.
CHART_DEDICATED_KEYS = frozenset({"hub.jupyter.org/dedicated", "hub.jupyter.org_dedicated"})


@dataclass(frozen=True, slots=True)
class IgnoredKey:
    """A key KubeSpawner silently ignores where it was written (z2jh#1744): camelCase, chart-only."""

    key: str
    line: int
    col: int
    hint: str


@dataclass(frozen=True, slots=True)
class Scheduling:
    """Where a profile's pod lands and what it may claim: the facts GPU findings are judged on."""

    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: tuple[Mapping[str, Any], ...] = ()
    resource_limits: Mapping[str, str] = field(default_factory=dict)
    gpu_offered: bool = False  # the user may pick a GPU (Kubeflow's dropdown, a GPU podConfig)
    tolerations_overridden: bool = False  # a profile's ``tolerations`` replaced the chart's defaults
    ignored_keys: tuple[IgnoredKey, ...] = ()
    gpu_mode: str | None = None  # catalog entries: "auto", "true" or "false"

    @property
    def gpu_limited(self) -> bool:
        """A GPU is always requested (an extended resource limit such as ``nvidia.com/gpu``)."""
        return any(is_gpu_resource(key) for key in self.resource_limits)


@dataclass(frozen=True, slots=True)
class ProfileImage:
    """One image reference in a profile source, with the scheduling around it."""

    path: str
    line: int
    col: int
    image: str
    kind: FileKind
    context: str
    scheduling: Scheduling = field(default_factory=Scheduling)
    tag_position: Position | None = None  # where the tag text starts, when --fix can rewrite it
    template: bool = False  # an unlisted_choice such as ``'{value}'``: not an image
    hidden: bool = False
    redirect_to: str | None = None
    catalog_name: str | None = None
    tag_policy: str | None = None
    pinned_digest: str | None = None
    #: where a catalog entry's ``digest:`` text starts, for --fix to re-pin it; a reference spelled
    #: ``repo:tag@digest`` needs none (its digest follows the tag at ``tag_position``)
    digest_position: Position | None = None
    inherited: bool = False  # a profile without its own image: the default image, placed at the profile
    pins_digest: bool = False  # catalog entries: ``pin: digest`` (own or top level), exports add the digest
    exports: tuple[str, ...] = ()  # catalog entries: the export formats that offer it (policy-kubeflow)

    @property
    def source(self) -> str:
        return f"{self.path}:{self.line}"


def is_gpu_resource(name: str) -> bool:
    """``nvidia.com/gpu``, ``amd.com/gpu``, ``gpu.intel.com/i915``, ``habana.ai/gaudi``..."""
    return "gpu" in name.lower() or name.lower().startswith("habana.ai/")


def string_map(value: Any) -> dict[str, str]:
    """A YAML/Python mapping of scheduling values (node selector, limits) as text; a missing one is empty."""
    return {str(k): str(v) for k, v in (value or {}).items()}


def common_scheduling(choices: list[Scheduling]) -> Scheduling:
    """What every choice agrees on: a GPU limit only counts if no choice goes without it."""
    if not choices:
        return Scheduling()
    limits = dict(choices[0].resource_limits)
    selector = dict(choices[0].node_selector)
    for choice in choices[1:]:
        limits = {k: v for k, v in limits.items() if choice.resource_limits.get(k) == v}
        selector = {k: v for k, v in selector.items() if choice.node_selector.get(k) == v}
    same_tolerations = all(choice.tolerations == choices[0].tolerations for choice in choices)
    return Scheduling(selector, choices[0].tolerations if same_tolerations else (), limits)


def iter_unique(records: Sequence[ProfileImage]) -> Iterator[ProfileImage]:
    """Records with distinct (path, line, col): YAML anchors make one spelling serve many profiles."""
    seen: set[tuple[str, int, int]] = set()
    for record in records:
        key = (record.path, record.line, record.col)
        if key not in seen:
            seen.add(key)
            yield record


UnreadKind = Literal["unreadable-profiles", "no-images"]


@dataclass(frozen=True, slots=True)
class Unread:
    """A profile source nbcatalog could not read in full, or found without images.

    Audit turns each into a finding of its own, so "no findings" never stands for "read nothing":
    dynamic Python, helm template expressions, Python in ``hub.extraConfig``, shapes it does not know.
    """

    path: str
    line: int
    col: int
    kind: UnreadKind
    message: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file found in a directory that is not a profile source (or could not be read), and why."""

    path: str
    reason: str


@dataclass(slots=True)
class ProfileRead:
    """Everything read from the paths given: the references, what could not be read, what was skipped."""

    records: list[ProfileImage] = field(default_factory=list)
    unread: list[Unread] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # the profile files read, in order

    def extend(self, other: ProfileRead) -> None:
        self.records.extend(other.records)
        self.unread.extend(other.unread)
        self.skipped.extend(other.skipped)
        self.files.extend(other.files)
