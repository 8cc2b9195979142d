"""The catalog model: catalog.yaml loaded into frozen types, every problem named by file:line:column.

catalog.yaml is the admins' source of truth; exports, lineage, diff and audit all read it through
:func:`load_catalog`. Unknown keys are errors (a typo such as ``dispaly_name`` would otherwise be
silently ignored and the profile would look wrong in production); keys starting with ``x-`` are
left alone for the admins' own notes and tools. Edits go through :class:`CatalogDocument`, which
changes the round-trip document in place, validates it and writes it atomically, so the admins'
comments, key order and quoting survive.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nbcatalog.catalog.document import CatalogDocument
    from nbcatalog.catalog.model import (
        EXPORT_FORMATS,
        KINDS,
        NAME_RE,
        TAG_POLICIES,
        Catalog,
        CatalogImage,
        GpuClass,
        GpuConfig,
        GpuMode,
        Kind,
        KubeflowOptions,
        RegistryConfig,
    )
    from nbcatalog.catalog.validate import catalog_from_data, load_catalog

#: Where each name lives, imported on first use: ``nbcatalog.catalog.lookup`` (every ``packages``,
#: ``diff`` and ``inspect`` run) must not pay for the YAML loader and the validator.
_HOMES = {
    "CatalogDocument": "document",
    **dict.fromkeys(
        (
            "EXPORT_FORMATS",
            "KINDS",
            "NAME_RE",
            "TAG_POLICIES",
            "Catalog",
            "CatalogImage",
            "GpuClass",
            "GpuConfig",
            "GpuMode",
            "Kind",
            "KubeflowOptions",
            "RegistryConfig",
        ),
        "model",
    ),
    "catalog_from_data": "validate",
    "load_catalog": "validate",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "EXPORT_FORMATS",
    "KINDS",
    "NAME_RE",
    "TAG_POLICIES",
    "Catalog",
    "CatalogDocument",
    "CatalogImage",
    "GpuClass",
    "GpuConfig",
    "GpuMode",
    "Kind",
    "KubeflowOptions",
    "RegistryConfig",
    "catalog_from_data",
    "load_catalog",
]
