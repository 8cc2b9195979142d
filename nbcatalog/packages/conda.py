"""conda: ``<prefix>/conda-meta/*.json`` records, one per package, under any prefix (envs too)."""

from __future__ import annotations

import json
import re

from nbcatalog.packages.model import Package, ParsedFile

_SUBDIR = re.compile(r"^(noarch|linux|osx|win|emscripten|wasi|zos)(-[a-z0-9_]+)?$")


def channel_name(channel: str) -> str:
    """``https://conda.anaconda.org/conda-forge/linux-64`` -> ``conda-forge``; other URLs keep their host."""
    if "://" not in channel:
        return channel
    host_and_path = channel.split("://", 1)[1].rstrip("/")
    host, _, rest = host_and_path.partition("/")
    parts = [p for p in rest.split("/") if p]
    if parts and _SUBDIR.match(parts[-1]):
        parts.pop()
    if host in ("conda.anaconda.org", "repo.anaconda.com") and parts:
        return "/".join(parts)
    return "/".join([host, *parts])


def parse(path: str, data: bytes) -> ParsedFile:
    result = ParsedFile()
    prefix = "/" + path[: path.rfind("conda-meta/")].rstrip("/")
    try:
        record = json.loads(data)
    except (ValueError, RecursionError) as exc:  # RecursionError: hostile nesting like [[[[...
        result.warn(path, f"not JSON: {exc}")
        return result
    if not isinstance(record, dict):
        result.warn(path, "not a JSON object")
        return result
    name, version = record.get("name"), record.get("version")
    if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
        result.warn(path, "record without name or version")
        return result
    extra: dict[str, str] = {}
    build = record.get("build") or record.get("build_string")
    if isinstance(build, str) and build:
        extra["build"] = build
    channel = record.get("channel") or record.get("schannel")
    if isinstance(channel, str) and channel:
        extra["channel"] = channel_name(channel)
    result.packages.append(Package("conda", name, version, prefix, extra))
    return result
