"""What every command shares: building the session from the global options, running it, logging."""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from nbcatalog.errors import BadInputError
from nbcatalog.oci import Platform
from nbcatalog.session import Session, SessionOptions, default_cache_dir

T = TypeVar("T")

_SECRET_PATTERNS = (
    re.compile(r"(?i)(authorization:\s*)(\S+\s+)?\S+"),
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)((?:password|passwd|token|secret|access_token|refresh_token)[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,]+"),
)


class RedactingFilter(logging.Filter):
    """Last line of defence: no credential shape survives into a log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for pattern in _SECRET_PATTERNS:
            message = pattern.sub(lambda m: (m.group(1) or "") + "<redacted>", message)
        record.msg, record.args = message, None
        return True


def output_format(json_flag: bool, chosen: str | None, default: str) -> str:
    """``--json`` is ``--format json``; with another ``--format`` it asks for two outputs (bad usage)."""
    if json_flag and chosen not in (None, "json"):
        raise BadInputError(f"--json and --format {chosen} ask for two outputs", where="--json")
    return "json" if json_flag else chosen or default


def configure_logging(debug: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logger = logging.getLogger("nbcatalog")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG if debug else logging.WARNING)
    logger.propagate = False


def insecure_registries(args: argparse.Namespace) -> frozenset[str]:
    """The flags' hosts and ``NBCATALOG_INSECURE_REGISTRIES``'s, joined by the parser (cli.main)."""
    return frozenset(getattr(args, "insecure_registries", None) or [])


def catalog_insecure_registries(catalog_path: str | None) -> set[str]:
    """``registries: {HOST: {insecure: true}}`` from the catalog, when there is one."""
    if not catalog_path or not Path(catalog_path).is_file():
        return set()
    from nbcatalog.catalog import load_catalog

    catalog = load_catalog(catalog_path)
    return {host for host, config in catalog.registries.items() if config.insecure}


def session_options(args: argparse.Namespace) -> SessionOptions:
    """Options from parsed arguments; ``cli.main.apply_environment`` already checked the platform."""
    platform = Platform.parse(args.platform)
    cache_dir = None if args.no_cache else Path(args.cache_dir) if args.cache_dir else default_cache_dir()
    return SessionOptions(
        platform=platform,
        backend=args.backend,
        insecure_registries=insecure_registries(args),
        cache_dir=cache_dir,
        ca_cert=args.ca_cert,
        include_signature_tags=bool(getattr(args, "include_signatures", False)),
        catalog_registries=lambda: catalog_insecure_registries(getattr(args, "catalog", None)),
    )


def open_session(args: argparse.Namespace) -> Session:
    configure_logging(bool(getattr(args, "debug", False)))
    return Session(session_options(args))


def run_with_session(args: argparse.Namespace, work: Callable[[Session], Awaitable[T]]) -> T:
    """Run ``work`` in a fresh event loop with a session that is always closed."""

    async def main() -> T:
        async with open_session(args) as session:
            return await work(session)

    return run_bounded(main())


def run_bounded(work: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(work)`` within ``limits.command_seconds``: no command waits on a registry forever.

    Every request has its own deadline (``request-seconds``); this is the backstop over all of them,
    for a registry that answers each request just in time, forever.
    """
    from nbcatalog import limits
    from nbcatalog.errors import RegistryError

    async def bounded() -> T:
        try:
            async with asyncio.timeout(limits.current().command_seconds):
                return await work
        except TimeoutError:
            seconds = limits.name_value(limits.current(), "command_seconds")
            raise RegistryError(limits.current().reached("command_seconds", f"gave up after {seconds}")) from None

    return asyncio.run(bounded())
