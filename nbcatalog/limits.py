"""Every bound on what nbcatalog reads, counts and waits for, in one table both front ends share.

A registry is someone else's server and a profile file may come from anyone's pull request, so no
read is unbounded: in bytes (per kind of response or file), in count (tag pages, tags, requests,
the tags a lineage scan tries) and in time (per request and per command). The figures live here
and nowhere else; each module asks :func:`current` for the one it enforces, so the CLI's
``--limit NAME=VALUE``, the ``NBCATALOG_LIMIT_<NAME>`` variables and the documentation's table
(checked by the docs tests) cannot drift apart.

A limit reached is never silent: the error or finding names the limit and how to raise it
(:meth:`Limits.hint`). Defaults sit far above what real registries and real admins' files need
(Docker Hub's largest tag lists, Kubeflow's biggest spawner configs) and far below what would
exhaust a laptop.
"""

from __future__ import annotations

import contextvars
import dataclasses
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from nbcatalog.errors import BadInputError

Kind = Literal["bytes", "count", "seconds"]

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


def _limit(default: float, kind: Kind, what: str) -> Any:
    return field(default=default, metadata={"kind": kind, "what": what})


@dataclass(frozen=True, slots=True)
class Limits:
    """The active bounds; ``name_with_underscores`` here is ``name-with-dashes`` on the command line."""

    # -- bytes of one response, by kind -----------------------------------------------------------
    token_bytes: int = _limit(1 * MiB, "bytes", "a token service's answer")
    tag_page_bytes: int = _limit(32 * MiB, "bytes", "one page of a tag list")
    manifest_bytes: int = _limit(4 * MiB, "bytes", "a manifest or an image index")
    config_bytes: int = _limit(16 * MiB, "bytes", "an image config")
    error_body_bytes: int = _limit(64 * KiB, "bytes", "an error answer's body (read this far, the rest ignored)")
    # -- counts ---------------------------------------------------------------------------------
    tag_pages: int = _limit(1000, "count", "pages of one repository's tag list")
    tags: int = _limit(200_000, "count", "tags in one repository's tag list")
    requests: int = _limit(50_000, "count", "registry requests one command (in the app: one read) makes")
    redirects: int = _limit(10, "count", "redirects followed by one request")
    registry_concurrency: int = _limit(
        32, "count", "requests in flight to one registry host (it starts at 16 and adapts; loopback at most 16)"
    )
    lineage_scan_tags: int = _limit(
        1000, "count", "tags of one candidate parent repository that lineage tries (--exhaustive: all)"
    )
    # -- time -----------------------------------------------------------------------------------
    stall_seconds: float = _limit(30.0, "seconds", "waiting for the next byte of any answer")
    request_seconds: float = _limit(60.0, "seconds", "one request whole, body included (all but layer downloads)")
    layer_seconds: float = _limit(1800.0, "seconds", "one layer download whole")
    command_seconds: float = _limit(3600.0, "seconds", "one command's registry work whole")
    # -- local files ----------------------------------------------------------------------------
    file_bytes: int = _limit(
        16 * MiB,
        "bytes",
        "a file nbcatalog reads: catalog, profiles, values, kubeconfig, Docker config, an oci: index.json",
    )
    yaml_depth: int = _limit(200, "count", "nesting of one YAML document")
    yaml_alias_nodes: int = _limit(100_000, "count", "nodes that YAML aliases (*name) add to one file when expanded")

    @staticmethod
    def option(name: str) -> str:
        """``manifest_bytes`` as the user writes it: ``manifest-bytes``."""
        return name.replace("_", "-")

    @staticmethod
    def variable(name: str) -> str:
        return "NBCATALOG_LIMIT_" + name.upper()

    def hint(self, name: str) -> str:
        """How to raise ``name``, for the end of an error line."""
        return f"raise with --limit {self.option(name)}=N or {self.variable(name)}"

    def reached(self, name: str, what: str) -> str:
        """``what`` (the thing cut off) with the limit's value and how to raise it, as one phrase."""
        return f"{what} (limit {name_value(self, name)}; {self.hint(name)})"

    def replace(self, **changes: float) -> Limits:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class LimitInfo:
    """One row of the documentation's table."""

    name: str
    option: str
    variable: str
    kind: Kind
    default: float
    what: str


def table() -> list[LimitInfo]:
    """Every limit, in declaration order: the parser, the environment and the docs use this."""
    return [
        LimitInfo(
            f.name,
            Limits.option(f.name),
            Limits.variable(f.name),
            f.metadata["kind"],
            f.default,  # type: ignore[arg-type]
            f.metadata["what"],
        )
        for f in dataclasses.fields(Limits)
    ]


_UNITS = {"": 1, "b": 1, "k": KiB, "kb": 1000, "kib": KiB, "m": MiB, "mb": 1000**2, "mib": MiB, "g": GiB}
_UNITS |= {"gb": 1000**3, "gib": GiB}
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_value(kind: Kind, text: str, where: str) -> float:
    """``16MiB``/``500k``/``1000``/``2.5``: a positive number of the limit's kind, else bad input."""
    match = _NUMBER.match(text)
    unit = match.group(2).lower() if match else ""
    if match is None or (kind != "bytes" and unit not in ("", "s" if kind == "seconds" else "")):
        expected = {"bytes": "a size such as 16MiB", "count": "a whole number", "seconds": "seconds such as 90"}
        raise BadInputError(f"{text!r} is not {expected[kind]}", where=where)
    number = float(match.group(1))
    if kind == "bytes":
        if unit not in _UNITS:
            raise BadInputError(f"{text!r}: unknown unit {match.group(2)!r} (use KiB, MiB or GiB)", where=where)
        number *= _UNITS[unit]
    if number <= 0:
        raise BadInputError(f"{text!r} must be more than 0", where=where)
    if kind == "seconds":
        return number
    if kind == "count" and not number.is_integer():
        raise BadInputError(f"{text!r} is not a whole number", where=where)
    return int(number)


def name_value(limits: Limits, name: str) -> str:
    """A limit's value as the user would write it (``4MiB``, ``1000``, ``60s``)."""
    value = getattr(limits, name)
    kind = next(info.kind for info in table() if info.name == name)
    return format_value(kind, value)


def format_value(kind: Kind, value: float) -> str:
    if kind == "seconds":
        return f"{value:g}s"
    if kind == "bytes":
        for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
            if value >= size and value % size == 0:
                return f"{int(value // size)}{unit}"
        return f"{int(value)}B"
    return f"{int(value)}"


def from_settings(environ: Mapping[str, str], options: Iterable[str] = ()) -> Limits:
    """The defaults, then each ``NBCATALOG_LIMIT_*`` variable, then each ``--limit NAME=VALUE``.

    An unknown name or a bad value is one line naming the variable or the option (exit 2).
    """
    known = {info.name: info for info in table()}
    changes: dict[str, float] = {}
    for info in known.values():
        raw = environ.get(info.variable, "").strip()
        if raw:
            changes[info.name] = parse_value(info.kind, raw, f"environment variable {info.variable}")
    for option in options:
        name, sep, raw = option.partition("=")
        key = name.strip().replace("-", "_")
        if not sep or key not in known:
            names = ", ".join(info.option for info in known.values())
            raise BadInputError(f"{option!r} is not NAME=VALUE with NAME one of: {names}", where="--limit")
        changes[key] = parse_value(known[key].kind, raw, f"--limit {name.strip()}")
    return Limits().replace(**changes)


_active: Limits | None = None


def current() -> Limits:
    """The limits in force: what :func:`configure` set, else the defaults and the environment's.

    Process-wide rather than passed down: the CLI sets them once before any work, the app at start,
    and file readers deep in the domain modules (a YAML loader, the Docker config reader) enforce
    the same figures without every call site threading an argument through.
    """
    global _active
    if _active is None:
        _active = from_settings(os.environ)
    return _active


def configure(limits: Limits | None) -> None:
    """Set the limits for this process (None: back to defaults and environment, read afresh)."""
    global _active
    _active = limits


#: The ``requests`` count of one piece of work. The CLI runs one command per process and counts on
#: the registry client; each of the app's reads (a worker: a task and the tasks it starts) starts
#: its own with :func:`fresh_request_budget`, so a day in the app is not one command's budget, and
#: two reads at once do not reset each other's.
_request_budget: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("request_budget", default=None)


def fresh_request_budget() -> None:
    """From here on, in this task and those it starts, requests count from zero against ``requests``."""
    _request_budget.set([0])


def request_budget() -> list[int] | None:
    """The counter of the work in progress (one element, mutable), or None outside any."""
    return _request_budget.get()
