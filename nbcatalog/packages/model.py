"""The package model shared by every ecosystem parser, the cache, diff and the front ends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ECOSYSTEMS = ("apt", "conda", "pip", "r", "jupyterlab")


@dataclass(frozen=True, slots=True)
class Package:
    """One installed package; ``location`` is where it is installed (prefix, site-packages, library)."""

    ecosystem: str
    name: str
    version: str
    location: str
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ecosystem": self.ecosystem,
            "name": self.name,
            "version": self.version,
            "location": self.location,
        }
        out.update(self.extra)
        return out

    def to_row(self) -> list[Any]:
        """Compact form for the cache."""
        return [self.ecosystem, self.name, self.version, self.location, self.extra]

    @classmethod
    def from_row(cls, row: list[Any]) -> Package:
        return cls(str(row[0]), str(row[1]), str(row[2]), str(row[3]), dict(row[4] or {}))


@dataclass(slots=True)
class ParsedFile:
    """What one package-database file yielded: packages, and warnings for malformed records; a plain
    file read in the same pass (``files.PLAIN_FILES``, e.g. ``/etc/passwd``) keeps its bytes instead."""

    packages: list[Package] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    content: bytes | None = None

    def warn(self, path: str, message: str, line: int | None = None) -> None:
        where = f"/{path}:{line}" if line else f"/{path}"
        self.warnings.append(f"{where}: {message}")
