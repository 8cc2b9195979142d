"""apt: ``/var/lib/dpkg/status`` (installed packages only) and distroless ``status.d/*`` files."""

from __future__ import annotations

from nbcatalog.packages.dcf import paragraphs
from nbcatalog.packages.model import Package, ParsedFile

STATUS_PATH = "var/lib/dpkg/status"
STATUS_DIR = "var/lib/dpkg/status.d"
_FIELDS = frozenset({"Package", "Version", "Status", "Architecture", "Source"})


def is_installed(status: str) -> bool:
    """dpkg's ``want flag status``: installed is the status word, whatever the selection."""
    words = status.split()
    return len(words) == 3 and words[1] == "ok" and words[2] == "installed"


def parse(path: str, data: bytes) -> ParsedFile:
    result = ParsedFile()
    text = data.decode("utf-8", "replace")
    distroless = path.startswith(STATUS_DIR + "/")
    location = "/" + (STATUS_DIR if distroless else path)
    for line, fields in paragraphs(text, _FIELDS):
        if "\0malformed" in fields:
            result.warn(path, "line without 'Field:' in this record", int(fields["\0malformed"]))
        status = fields.get("Status")
        if status is None and not distroless:
            result.warn(path, "record without Status", line)
            continue
        if status is not None and not is_installed(status):
            continue
        name, version = fields.get("Package"), fields.get("Version")
        if not name or not version:
            result.warn(path, "installed record without Package or Version", line)
            continue
        extra = {"arch": fields["Architecture"]} if fields.get("Architecture") else {}
        if fields.get("Source"):
            extra["source"] = fields["Source"].split(" ", 1)[0]
        result.packages.append(Package("apt", name, version, location, extra))
    return result
