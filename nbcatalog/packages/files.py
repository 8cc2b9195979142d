"""Which tar members are package databases, of which ecosystem, and how to parse them.

``classify`` runs once per tar member (tens of thousands per layer), so it rejects by the last
path component first and only then looks at parents.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from nbcatalog.packages import conda, dpkg, jupyterlab, pip, rlib
from nbcatalog.packages.model import ParsedFile

#: Bump when any parser's output changes: cached layer results of older parsers are then ignored.
#: 3: plain files (PLAIN_FILES) are kept beside the package databases.
PARSER_VERSION = 3

MAX_PLAIN_FILE = 1024 * 1024
#: Files kept verbatim in the same read as the package databases (``ParsedFile.content``), so a cold
#: ``inspect --deep``, which needs the users for its Kubeflow checks, reads each layer once, and
#: ``packages`` after it reads none. Path -> size cap.
PLAIN_FILES: dict[str, int] = {"etc/passwd": MAX_PLAIN_FILE}


def parent_dirs(paths: Iterable[str]) -> frozenset[str]:
    """Every directory above each relative path (``etc`` for ``etc/passwd``): a symlink standing for one
    of them may redirect the file, so the scanner records it."""
    return frozenset("/".join(path.split("/")[:depth]) for path in paths for depth in range(1, path.count("/") + 1))


_PLAIN_ANCESTORS = parent_dirs(PLAIN_FILES)

MAX_STATUS_BYTES = 64 * 1024 * 1024
MAX_RECORD_BYTES = 16 * 1024 * 1024

R_LIBRARIES = frozenset(
    {
        "usr/lib/R/library",
        "usr/local/lib/R/site-library",
        "usr/lib/R/site-library",
        "opt/conda/lib/R/library",
        "usr/local/lib/R/library",
    }
)
_R_LIBRARY_SUFFIXES = ("/lib/R/library", "/lib/R/site-library")
#: Directories whose replacement by a symlink must hide what lower layers had under them.
_INTERESTING_DIRS = frozenset(
    {"site-packages", "dist-packages", "conda-meta", "labextensions", "status.d", "dpkg", "conda", "envs"}
    | {"library", "site-library", "R", "jupyter"}
)

PARSERS: dict[str, Callable[[str, bytes], ParsedFile]] = {
    "apt": dpkg.parse,
    "conda": conda.parse,
    "pip": pip.parse,
    "r": rlib.parse,
    "jupyterlab": jupyterlab.parse,
}


def _parent(path: str) -> tuple[str, str]:
    """(parent path, parent's own name)."""
    parent = path[: path.rfind("/")] if "/" in path else ""
    return parent, parent[parent.rfind("/") + 1 :]


#: conda's package cache (``<prefix>/pkgs/<name-version-build>/lib/...``) holds extracted packages that
#: are not installed: their dist-info and labextensions must not count.
_CONDA_PKGS_CACHE = re.compile(r"(?:^|/)pkgs/[^/]+/(?:lib|share)/")


def classify(path: str) -> str | None:
    """The ecosystem whose database ``path`` (normalised, no leading slash) is part of, if any."""
    ecosystem = _classify(path)
    if ecosystem in ("pip", "jupyterlab", "r") and _CONDA_PKGS_CACHE.search(path):
        return None
    return ecosystem


def _classify(path: str) -> str | None:
    base = path[path.rfind("/") + 1 :]
    if base == "status":
        return "apt" if path == dpkg.STATUS_PATH else None
    if base == "METADATA" or base == "PKG-INFO":
        parent, parent_name = _parent(path)
        suffix = ".dist-info" if base == "METADATA" else ".egg-info"
        return "pip" if parent_name.endswith(suffix) and _parent(parent)[1] in pip.SITE_DIRS else None
    if base.endswith(".json"):
        parent_name = _parent(path)[1]
        if parent_name == "conda-meta":
            return "conda"
        if base == "package.json" and jupyterlab.is_extension_manifest(path):
            return "jupyterlab"
        return None
    if base == "DESCRIPTION":
        library = _parent(_parent(path)[0])[0]
        if library in R_LIBRARIES or library.endswith(_R_LIBRARY_SUFFIXES):
            return "r"
        return None
    if base.endswith(".egg-info"):
        return "pip" if _parent(path)[1] in pip.SITE_DIRS else None
    if path.startswith(dpkg.STATUS_DIR + "/") and path.count("/") == 4 and not base.endswith(".md5sums"):
        return "apt"
    return None


#: Every package file has one of these last components or is under ``status.d``: one set lookup and
#: one suffix test turn away most of a layer's members before ``classify`` looks at their parents.
_BASENAMES = frozenset({"status", "METADATA", "PKG-INFO", "DESCRIPTION"} | {p.rsplit("/", 1)[-1] for p in PLAIN_FILES})
_BASE_SUFFIXES = (".json", ".egg-info")
_STATUS_D_PREFIX = dpkg.STATUS_DIR + "/"


def size_cap(path: str) -> int:
    """Bytes to read at most for ``path`` (0: not a package file). Used as the scanner's WantFn."""
    base = path[path.rfind("/") + 1 :]
    if base not in _BASENAMES and not base.endswith(_BASE_SUFFIXES) and not path.startswith(_STATUS_D_PREFIX):
        return 0
    ecosystem = classify(path)
    if ecosystem is None:
        return PLAIN_FILES.get(path, 0)
    return MAX_STATUS_BYTES if ecosystem == "apt" else MAX_RECORD_BYTES


def keep_symlink(path: str) -> bool:
    """A symlink worth recording: it may stand where a package file or its directory was."""
    base = path[path.rfind("/") + 1 :]
    if base in _INTERESTING_DIRS or base.endswith((".dist-info", ".egg-info")) or path in _PLAIN_ANCESTORS:
        return True
    return path in PLAIN_FILES or classify(path) is not None


def parse_file(path: str, data: bytes) -> tuple[str | None, ParsedFile]:
    ecosystem = classify(path)
    if ecosystem is None:
        return None, ParsedFile(content=data if path in PLAIN_FILES else None)
    return ecosystem, PARSERS[ecosystem](path, data)
