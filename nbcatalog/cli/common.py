"""What every command shares: building the session from the global options, running it, logging.

The session and the event loop are imported when a command first asks for them, not with this
module: a warm command that needs neither (:mod:`nbcatalog.packages.warm`) never pays for them.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from nbcatalog.cachedir import default_cache_dir
from nbcatalog.errors import BadInputError

if TYPE_CHECKING:
    import asyncio

    from nbcatalog.session import Session, SessionOptions

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


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is logged, not when the handler was made:
    the output guard (``cli.output``) and test harnesses replace it, and a closed one must not be used."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


def configure_logging(debug: bool) -> None:
    handler = _CurrentStderr()
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
    """``registries: {HOST: {insecure: true}}`` from the catalog, when there is one.

    A catalog path with nothing there is no catalog; one that is there but is no regular file (a
    FIFO, ``/dev/zero``) is refused by the loader, naming it, rather than silently ignored.
    """
    if not catalog_path or not Path(catalog_path).exists():
        return set()
    from nbcatalog.catalog import load_catalog

    catalog = load_catalog(catalog_path)
    return {host for host, config in catalog.registries.items() if config.insecure}


def cache_dir_option(args: argparse.Namespace) -> Path | None:
    """The cache directory the global options name; None for ``--no-cache``."""
    return None if args.no_cache else Path(args.cache_dir) if args.cache_dir else default_cache_dir()


def session_options(args: argparse.Namespace) -> SessionOptions:
    """Options from parsed arguments; ``cli.main.apply_environment`` already checked the platform."""
    from nbcatalog.oci import Platform
    from nbcatalog.session import SessionOptions

    return SessionOptions(
        platform=Platform.parse(args.platform),
        backend=args.backend,
        insecure_registries=insecure_registries(args),
        cache_dir=cache_dir_option(args),
        ca_cert=args.ca_cert,
        include_signature_tags=bool(getattr(args, "include_signatures", False)),
        catalog_registries=lambda: catalog_insecure_registries(getattr(args, "catalog", None)),
    )


def open_session(args: argparse.Namespace) -> Session:
    from nbcatalog.session import Session

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
    import asyncio

    from nbcatalog import limits
    from nbcatalog.errors import RegistryError

    async def bounded() -> T:
        asyncio.get_running_loop().set_exception_handler(_loop_exception)
        try:
            async with asyncio.timeout(limits.current().command_seconds):
                return await work
        except TimeoutError:
            seconds = limits.name_value(limits.current(), "command_seconds")
            raise RegistryError(limits.current().reached("command_seconds", f"gave up after {seconds}")) from None

    return asyncio.run(bounded())


def _loop_exception(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """What asyncio would print as "Fatal error: protocol.data_received() call failed" and a
    traceback (a callback that failed after its request was already answered or abandoned) goes
    to the debug log: the failure that matters reaches the user as the command's own error line."""
    exception = context.get("exception")
    detail = f": {type(exception).__name__}: {exception}" if exception else ""
    logging.getLogger("nbcatalog.asyncio").debug("%s%s", context.get("message", "event loop error"), detail)
