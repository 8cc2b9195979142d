"""pip: ``*.dist-info/METADATA`` and ``*.egg-info`` (directory ``PKG-INFO`` or single file) in every
``site-packages``/``dist-packages``; ``location`` is that directory, so two Pythons stay apart."""

from __future__ import annotations

from nbcatalog.packages.model import Package, ParsedFile

SITE_DIRS = frozenset({"site-packages", "dist-packages"})


def site_dir(path: str) -> str:
    """The site-packages directory a metadata file belongs to, with a leading slash."""
    parts = path.split("/")
    for index in range(len(parts) - 1, -1, -1):
        if parts[index] in SITE_DIRS:
            return "/" + "/".join(parts[: index + 1])
    return "/" + "/".join(parts[:-1])


def headers(text: str) -> dict[str, str]:
    """RFC 822 headers up to the first blank line (the body is the long description)."""
    out: dict[str, str] = {}
    for line in text.split("\n"):  # not splitlines(): \f or U+2028 in a summary must not start a header
        if not line.strip(" \t\r"):
            break
        if line[0] in " \t":
            continue
        key, sep, value = line.partition(":")
        if sep and key not in out:
            out[key.strip()] = value.strip()
    return out


def parse(path: str, data: bytes) -> ParsedFile:
    result = ParsedFile()
    fields = headers(data.decode("utf-8", "replace"))
    name, version = fields.get("Name"), fields.get("Version")
    if not name or not version:
        result.warn(path, "metadata without Name or Version")
        return result
    result.packages.append(Package("pip", name, version, site_dir(path)))
    return result
