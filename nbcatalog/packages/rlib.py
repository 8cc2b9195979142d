"""R: ``<library>/<package>/DESCRIPTION`` files under the usual R library directories."""

from __future__ import annotations

from nbcatalog.packages.dcf import paragraphs
from nbcatalog.packages.model import Package, ParsedFile

_FIELDS = frozenset({"Package", "Version", "Repository", "Built"})


def parse(path: str, data: bytes) -> ParsedFile:
    result = ParsedFile()
    text = data.decode("utf-8", "replace")
    library = "/" + path.rsplit("/", 2)[0]
    for line, fields in paragraphs(text, _FIELDS):
        name, version = fields.get("Package"), fields.get("Version")
        if not name or not version:
            result.warn(path, "DESCRIPTION without Package or Version", line)
            return result
        extra = {"repository": fields["Repository"]} if fields.get("Repository") else {}
        result.packages.append(Package("r", name, version, library, extra))
        return result
    result.warn(path, "empty DESCRIPTION")
    return result
