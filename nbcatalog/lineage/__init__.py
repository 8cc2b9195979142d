"""Image lineage from layer chains: which image was built on which, and on which exact parent tag.

:mod:`nbcatalog.lineage.core` is the pure part (chains in, parents and issues out);
:mod:`nbcatalog.lineage.scan` is the I/O (:func:`catalog_lineage` fetches only the chains it needs).
"""

from nbcatalog.lineage.core import (
    BaseMatch,
    Chain,
    Issue,
    LineageEntry,
    LineageImage,
    choose_parent_entry,
    common_prefix,
    declared_root,
    is_ancestor,
    is_moving,
    judge,
    own_ancestors,
    repositories_to_search,
    scan_order,
    tag_preference,
    tree_roots,
    with_ancestors,
    with_parent_cuda,
)
from nbcatalog.lineage.scan import ChainSource, ChainStore, LineageRun, RepoScan, catalog_lineage, find_base

__all__ = [
    "BaseMatch",
    "Chain",
    "ChainSource",
    "ChainStore",
    "Issue",
    "LineageEntry",
    "LineageImage",
    "LineageRun",
    "RepoScan",
    "catalog_lineage",
    "choose_parent_entry",
    "common_prefix",
    "declared_root",
    "find_base",
    "is_ancestor",
    "is_moving",
    "judge",
    "own_ancestors",
    "repositories_to_search",
    "scan_order",
    "tag_preference",
    "tree_roots",
    "with_ancestors",
    "with_parent_cuda",
]
