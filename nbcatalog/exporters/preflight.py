"""Before writing profiles/: audit what is about to be written, and refuse what no spawner should offer.

An export is checked the way ``nbcatalog audit`` would check it after the fact, with no registry:
an image reference that does not parse (an empty ``value: ""``, a stray space) or one image listed
twice in the same choice would reach users' spawn forms. Both front ends call :func:`preflight`
(``export`` before it writes, the app before ``w``), so neither writes a file the next audit flags.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from nbcatalog.errors import NbcatalogError
from nbcatalog.exporters.files import PlannedFile, export_mode

_INDEX = re.compile(r"\[\d+\]$")


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason not to write a planned file, at its line in the text that would be written."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def _choice_list(context: str) -> str:
    """The list an option belongs to: ``…image.options[3]`` -> ``…image.options``; a z2jh profile's
    image choices (``profileList[0] "CPU" image=py``) -> that profile."""
    return _INDEX.sub("", context.split(" image=", 1)[0])


class UnsafeExportError(NbcatalogError):
    """The export would write a reference no spawner can use, or offer one image twice (exit 1)."""


def preflight(planned: Iterable[PlannedFile], catalog_refs: Iterable[str] = ()) -> list[Problem]:
    """Invalid references and duplicate options in the files an export would write (empty: write them).

    A merged file also holds the admin's own sections, kept as they were: there only references of
    the catalog (``catalog_refs``) are judged, so an old duplicate of theirs never blocks an export.
    """
    from nbcatalog.audit import RegistryView, audit
    from nbcatalog.profilefiles.reader import read_text

    ours = set(catalog_refs)
    problems: list[Problem] = []
    for file in planned:
        if file.path.name in ("kustomization.yaml", "configmap.yaml"):
            continue  # the packed spawner config is checked as its own file
        read = read_text(file.text, str(file.path), python=file.path.suffix == ".py")
        if export_mode(file.text) == "merged":
            read.records = [record for record in read.records if record.image in ours]
        for finding in audit(read.records, RegistryView(offline=True)):
            if finding.kind == "invalid-reference":
                problems.append(Problem(finding.path, finding.line, f"invalid image reference: {finding.message}"))
        seen: dict[tuple[str, str], int] = {}
        for record in read.records:
            if record.template or record.inherited or record.context.endswith(".value"):
                continue
            key = (_choice_list(record.context), record.image)
            if key in seen and seen[key] != record.line:
                problems.append(
                    Problem(record.path, record.line, f"{record.image} is offered twice in {key[0]} (line {seen[key]})")
                )
            seen.setdefault(key, record.line)
    return problems


def refuse_unsafe(planned: Iterable[PlannedFile], catalog_refs: Iterable[str]) -> None:
    """Raise :class:`UnsafeExportError` naming the first problem (and how many there are)."""
    problems = preflight(planned, catalog_refs)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        first = problems[0]
        raise UnsafeExportError(f"not written: {first.message}{more}", where=f"{first.path}:{first.line}")
