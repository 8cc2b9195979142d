"""What a user types where an image is wanted: a catalog entry's ``NAME``, ``NAME:TAG``, or a reference.

The CLI (``packages``, ``diff``, ``inspect``) and the terminal app read it the same way.
"""

from __future__ import annotations

import re

from nbcatalog.catalog.model import Catalog
from nbcatalog.errors import InvalidReferenceError
from nbcatalog.refs import AnyRef, parse_reference

_CATALOG_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def may_name_an_entry(text: str) -> bool:
    """Whether ``text`` could be ``NAME`` or ``NAME:TAG`` (so the catalog is worth reading)."""
    return bool(_CATALOG_NAME.match(text.strip().partition(":")[0])) and not text.startswith("oci:")


def reference_for(text: str, catalog: Catalog | None) -> AnyRef:
    """A catalog entry's reference (at ``TAG`` when given), else ``text`` parsed as a reference."""
    text = text.strip()
    if not text:
        raise InvalidReferenceError("empty reference", where="input")
    name, _, tag = text.partition(":")
    if catalog is not None and may_name_an_entry(text):
        entry = catalog.find(name)
        if entry is not None:
            return entry.ref.with_tag(tag) if tag else entry.ref
    return parse_reference(text)
