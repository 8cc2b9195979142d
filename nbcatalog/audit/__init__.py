"""The audit: which profiles use stale, missing or mutable tags, and which GPU images are scheduled wrongly.

:mod:`~nbcatalog.audit.rules` is the pure part (records + registry view + facts in, findings out),
:mod:`~nbcatalog.audit.facts` what is known about images and its sources, :mod:`~nbcatalog.audit.fetch`
the registry I/O (:func:`collect`).
"""

from nbcatalog.audit.facts import ConfigFacts, FactSource, ImageFacts, LineageFacts, NoFacts
from nbcatalog.audit.fetch import MAX_BUILD_TAGS, TAG_CACHE_SECONDS, collect
from nbcatalog.audit.rules import (
    MOVED_REGISTRIES,
    SEVERITIES,
    AuditOptions,
    Finding,
    RegistryView,
    audit,
    failed,
    fixes,
)

__all__ = [
    "MAX_BUILD_TAGS",
    "MOVED_REGISTRIES",
    "SEVERITIES",
    "TAG_CACHE_SECONDS",
    "AuditOptions",
    "ConfigFacts",
    "FactSource",
    "Finding",
    "ImageFacts",
    "LineageFacts",
    "NoFacts",
    "RegistryView",
    "audit",
    "collect",
    "failed",
    "fixes",
]
