"""What a user types where an image is wanted: a catalog entry's ``NAME``, ``NAME:TAG``, or a reference.

The CLI (``packages``, ``diff``, ``inspect``) and the terminal app read it the same way.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from nbcatalog.errors import InvalidReferenceError
from nbcatalog.refs import AnyRef, parse_reference

if TYPE_CHECKING:
    from nbcatalog.catalog.model import Catalog

_CATALOG_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
#: Docker's tag grammar: no ``/``, so ``host:port/repo:tag`` is never ``NAME:TAG``.
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def may_name_an_entry(text: str) -> bool:
    """Whether ``text`` could be ``NAME`` or ``NAME:TAG`` (so the catalog is worth reading).

    A registry reference (``127.0.0.1:5000/repo:tag``, ``ghcr.io/org/img``) is not: reading and
    validating a catalog costs a few hundred ms of YAML, more than a warm ``packages`` run.
    """
    name, colon, tag = text.strip().partition(":")
    if text.startswith("oci:") or not _CATALOG_NAME.match(name):
        return False
    return not colon or bool(_TAG.match(tag))


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
