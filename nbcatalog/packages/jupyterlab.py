"""jupyterlab: prebuilt (federated) extensions, ``share/jupyter/labextensions/[@scope/]name/package.json``."""

from __future__ import annotations

import json

from nbcatalog.packages.model import Package, ParsedFile

MARKER = "share/jupyter/labextensions/"


def is_extension_manifest(path: str) -> bool:
    """Only the top ``package.json`` of an extension, not ones nested in its static files."""
    index = path.find(MARKER)
    if index < 0 or (index and path[index - 1] != "/"):
        return False
    rest = path[index + len(MARKER) :].split("/")
    if rest[-1] != "package.json":
        return False
    return len(rest) == 2 or (len(rest) == 3 and rest[0].startswith("@"))


def parse(path: str, data: bytes) -> ParsedFile:
    result = ParsedFile()
    location = "/" + path[: path.find(MARKER) + len(MARKER)].rstrip("/")
    try:
        manifest = json.loads(data)
    except (ValueError, RecursionError) as exc:  # RecursionError: hostile nesting like [[[[...
        result.warn(path, f"not JSON: {exc}")
        return result
    name = manifest.get("name") if isinstance(manifest, dict) else None
    version = manifest.get("version") if isinstance(manifest, dict) else None
    if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
        result.warn(path, "package.json without name or version")
        return result
    result.packages.append(Package("jupyterlab", name, version, location))
    return result
