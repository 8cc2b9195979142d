"""The catalog model: catalog.yaml loaded into frozen types, every problem named by file:line:column.

catalog.yaml is the admins' source of truth; exports, lineage, diff and audit all read it through
:func:`load_catalog`. Unknown keys are errors (a typo such as ``dispaly_name`` would otherwise be
silently ignored and the profile would look wrong in production); keys starting with ``x-`` are
left alone for the admins' own notes and tools. Edits go through :class:`CatalogDocument`, which
changes the round-trip document in place, validates it and writes it atomically, so the admins'
comments, key order and quoting survive.
"""

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
