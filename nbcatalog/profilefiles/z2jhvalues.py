"""Where Zero to JupyterHub's values live in a values file: the one locator audit, export and --fix share.

z2jh is often a sub-chart: 2i2c's hubs write ``jupyterhub:`` or ``basehub.jupyterhub:``, Pangeo-style
daskhub deployments ``daskhub.jupyterhub:``, BinderHub ``binderhub.jupyterhub:``. The chart reads its
values only under its own key, so writing ``singleuser:`` anywhere else is silently ignored. This
module finds every mapping that *is* z2jh's values — at the top, or under any chain of sub-chart keys
— by what z2jh's values hold (``singleuser``, ``hub``, ``prePuller``, ``cull``), and never descends
into z2jh's own sections (``custom:`` is free-form: 2i2c's basehub keeps a ``singleuser`` there that
the chart never reads). Export writes to exactly one place and refuses, naming the candidates, when
a file holds several; it never guesses.

The walk works on plain loaded YAML (audit's readers) and on PyYAML's composed nodes (export's
splices) through the same code, so the two can never disagree about a file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import yaml

from nbcatalog.errors import CatalogError

#: Keys only z2jh's values hold at their top: one of them marks a mapping as the chart's values.
Z2JH_MARKERS = ("singleuser", "hub", "prePuller", "cull")
#: z2jh's own top-level sections: never sub-charts, so never searched (``custom`` is free-form).
Z2JH_OWN_KEYS = frozenset(
    {
        "apps",
        "cull",
        "custom",
        "debug",
        "enabled",
        "fullnameOverride",
        "global",
        "httpRoute",
        "hub",
        "imagePullSecret",
        "imagePullSecrets",
        "ingress",
        "nameOverride",
        "prePuller",
        "proxy",
        "rbac",
        "scheduling",
        "singleuser",
    }
)
#: How many sub-chart keys deep z2jh may sit (``a.b.c.jupyterhub`` is 4): deeper is not a chart.
MAX_SUBCHART_DEPTH = 4

KeyPath = tuple[str, ...]
_Children = Callable[[Any], "list[tuple[str, Any]] | None"]


def _plain_children(node: Any) -> list[tuple[str, Any]] | None:
    if not isinstance(node, Mapping):
        return None
    return [(key, value) for key, value in node.items() if isinstance(key, str)]


def _node_children(node: Any) -> list[tuple[str, Any]] | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    return [(key.value, value) for key, value in node.value if isinstance(key, yaml.ScalarNode)]


def _is_null(node: Any) -> bool:
    return node is None or (isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null")


def _is_values(children: list[tuple[str, Any]], kids: _Children) -> bool:
    """A mapping is z2jh's values when one of its marker keys holds a mapping (``singleuser:`` may be empty)."""
    for key, value in children:
        if key in Z2JH_MARKERS and (kids(value) is not None or (key == "singleuser" and _is_null(value))):
            return True
    return False


def _walk(node: Any, kids: _Children, path: KeyPath = ()) -> Iterator[KeyPath]:
    children = kids(node)
    if children is None:
        return
    values = _is_values(children, kids)
    if values:
        yield path
    if len(path) >= MAX_SUBCHART_DEPTH:
        return
    for key, value in children:
        # Inside z2jh's values, its own sections are not sub-charts; any other key may still be one
        # (a file that sets ``singleuser:`` at the top *and* under ``daskhub.jupyterhub:``).
        if not (values and key in Z2JH_OWN_KEYS):
            yield from _walk(value, kids, (*path, key))


def values_paths(document: Any) -> list[KeyPath]:
    """Key paths of every z2jh values mapping in a loaded document (``()`` is the top level)."""
    return list(_walk(document, _node_children if isinstance(document, yaml.Node) else _plain_children))


def singleuser_paths(document: Any) -> list[KeyPath]:
    """Key paths of every ``singleuser`` mapping z2jh reads (those that exist and are mappings)."""
    kids = _node_children if isinstance(document, yaml.Node) else _plain_children
    found = []
    for path in values_paths(document):
        node = _get(document, path, kids)
        value = dict(kids(node) or []).get("singleuser")
        if kids(value) is not None:
            found.append((*path, "singleuser"))
    return found


def _get(document: Any, path: KeyPath, kids: _Children) -> Any:
    node = document
    for key in path:
        node = dict(kids(node) or []).get(key)
    return node


def dotted(path: KeyPath) -> str:
    return ".".join(path) + ":" if path else "(top level)"


def export_path(document: Any, source: str) -> KeyPath:
    """The ``singleuser`` path an export writes to; ambiguity and a sub-chart with nowhere to write refuse.

    An empty file (or one with no z2jh values and no ``jupyterhub:`` key) gets a top-level
    ``singleuser`` — the chart installed directly. A ``jupyterhub:`` key with no z2jh values under it
    is a sub-chart not configured yet: writing at the top would be ignored, so it is refused.
    """
    candidates = values_paths(document)
    if len(candidates) > 1:
        names = ", ".join(dotted(path) for path in candidates)
        raise CatalogError(
            f"z2jh values in {len(candidates)} places ({names}); nbcatalog cannot tell which one the chart "
            "reads: keep one, or export into a file that holds only that one",
            where=source,
        )
    if candidates:
        return (*candidates[0], "singleuser")
    kids = _node_children if isinstance(document, yaml.Node) else _plain_children
    subchart = next(_keys_named(document, "jupyterhub", kids), None)
    if subchart is not None:
        raise CatalogError(
            f"{dotted(subchart)} looks like the jupyterhub sub-chart but holds no z2jh values; "
            f"add `singleuser:` under it first, so the profiles go where the chart reads them",
            where=source,
        )
    return ("singleuser",)


def _keys_named(node: Any, name: str, kids: _Children, path: KeyPath = ()) -> Iterator[KeyPath]:
    if len(path) > MAX_SUBCHART_DEPTH:
        return
    for key, value in kids(node) or []:
        if key == name:
            yield (*path, key)
        yield from _keys_named(value, name, kids, (*path, key))
