"""Entry point: global options, lazy dispatch to one module per command, one error line per failure.

Command modules are imported only when their command runs, so ``nbcatalog --help`` stays fast and
never loads Textual, the kubernetes client or httpx.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Literal, NamedTuple, NoReturn, Protocol

from nbcatalog import __version__
from nbcatalog.errors import EXIT_FAILED, BadInputError, NbcatalogError

#: name -> (module, one-line help). A command module defines ``add_arguments`` and ``run``.
COMMANDS: dict[str, tuple[str, str]] = {
    "tags": ("nbcatalog.cli.tags", "list a repository's tags (--details: digest, created, platforms)"),
    "inspect": ("nbcatalog.cli.inspect", "show an image's manifest, config, layers and CUDA facts"),
    "demo": ("nbcatalog.cli.demo", "build the offline demo layout and catalog, then open the app"),
    "packages": ("nbcatalog.cli.packages", "what apt, conda, pip, R and JupyterLab installed in an image"),
    "diff": ("nbcatalog.cli.diff", "packages added, removed, upgraded or downgraded between two images"),
    "lineage": ("nbcatalog.cli.lineage", "the catalog's images as a tree inferred from their layers"),
    "export": ("nbcatalog.cli.export", "write spawner configs under profiles/ from the catalog (--check for CI)"),
    "apply": ("nbcatalog.cli.apply", "push an exported config to the cluster (kubeconfig or in-cluster)"),
    "audit": ("nbcatalog.cli.audit", "stale, missing or mutable tags and badly scheduled GPU images in profiles"),
    "plan": ("nbcatalog.cli.plan", "what moving each image to its next tag downloads, changes and risks"),
}


class CommandModule(Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``: argparse imports shutil for it, and bz2 and lzma come
    with shutil, ~3 ms of every command's start for a number."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's own layout, at the width it would pick, found without importing shutil."""

    def __init__(
        self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None
    ) -> None:
        super().__init__(prog, indent_increment, max_help_position, _terminal_columns() - 2 if width is None else width)


class _RawDescriptionFormatter(_HelpFormatter, argparse.RawDescriptionHelpFormatter):
    """The top-level help: the command table in the epilog keeps its lines."""


class _Parser(argparse.ArgumentParser):
    """Bad usage is one line naming the option at fault and exit code 2, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"nbcatalog: error: {message} (see `{self.prog} --help`)\n")


class GlobalOption(NamedTuple):
    """One global option and the environment variable that sets it when the flag is not given.

    One table, so the parser, the environment and the documentation (checked by the docs tests)
    cannot drift apart. A flag always beats its variable; an empty variable counts as unset. A
    named tuple, not a dataclass: ``dataclasses`` (and the ``inspect`` it imports) would be a
    quarter of ``nbcatalog --help``.
    """

    flag: str
    dest: str
    env: str
    kind: Literal["path", "hosts", "backend", "platform", "bool", "limits"]
    default: object
    metavar: str | None
    help: str


GLOBAL_OPTIONS: tuple[GlobalOption, ...] = (
    GlobalOption("--catalog", "catalog", "NBCATALOG_CATALOG", "path", "catalog.yaml", "PATH", "catalog file"),
    GlobalOption(
        "--insecure-registry",
        "insecure_registries",
        "NBCATALOG_INSECURE_REGISTRIES",
        "hosts",
        (),
        "HOST[:PORT]",
        "allow plain HTTP / unverified TLS for this registry (repeatable; the variable is comma-separated)",
    ),
    GlobalOption("--backend", "backend", "NBCATALOG_BACKEND", "backend", "httpx", "httpx|skopeo", "registry backend"),
    GlobalOption(
        "--platform", "platform", "NBCATALOG_PLATFORM", "platform", "linux/amd64", "OS/ARCH[/VARIANT]", "image platform"
    ),
    GlobalOption("--cache-dir", "cache_dir", "NBCATALOG_CACHE_DIR", "path", None, "PATH", "cache directory"),
    GlobalOption("--no-cache", "no_cache", "NBCATALOG_NO_CACHE", "bool", False, None, "no cache read or write"),
    GlobalOption("--ca-cert", "ca_cert", "NBCATALOG_CA_CERT", "path", None, "PATH", "extra CA bundle for TLS"),
    GlobalOption(
        "--limit",
        "limits",
        "NBCATALOG_LIMIT_<NAME>",
        "limits",
        (),
        "NAME=VALUE",
        "raise or lower one bound on reads, counts or time, e.g. manifest-bytes=8MiB, command-seconds=600 "
        "(repeatable; one variable per limit; see docs/limits.md)",
    ),
    GlobalOption("--debug", "debug", "NBCATALOG_DEBUG", "bool", False, None, "tracebacks and HTTP log"),
)

BACKENDS = ("httpx", "skopeo")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def add_global_options(parser: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    """The contract's global options; ``suppress`` lets them follow the command without resetting.

    Defaults are None here and filled in by :func:`apply_environment` after parsing, so a bad
    variable is reported only when a command runs (``--help`` still works) and names the variable.
    """
    group = parser.add_argument_group("global options")
    default = argparse.SUPPRESS if suppress else None
    for option in GLOBAL_OPTIONS:
        shown = f"default {option.default}; " if option.default not in (None, False, ()) else ""
        text = f"{option.help} ({shown}env {option.env})"
        if option.kind == "bool":
            group.add_argument(option.flag, dest=option.dest, action="store_true", default=default, help=text)
        elif option.kind in ("hosts", "limits"):
            group.add_argument(
                option.flag, dest=option.dest, action="append", metavar=option.metavar, default=default, help=text
            )
        elif option.kind == "backend":
            group.add_argument(option.flag, dest=option.dest, choices=BACKENDS, default=default, help=text)
        else:
            group.add_argument(option.flag, dest=option.dest, metavar=option.metavar, default=default, help=text)


def env_flag(name: str) -> bool:
    """A boolean variable read leniently (before parsing, for ``--debug``); strict checks come later."""
    return os.environ.get(name, "").strip().lower() in _TRUE


def apply_environment(args: argparse.Namespace) -> argparse.Namespace:
    """Fill every global option the command line left unset from its variable, then its default."""
    for option in GLOBAL_OPTIONS:
        given = getattr(args, option.dest, None)
        if option.kind == "limits":  # one variable per limit: read by nbcatalog.limits itself
            from nbcatalog import limits

            setattr(args, option.dest, list(given or []))
            limits.configure(limits.from_settings(os.environ, args.limits))
            continue
        raw = os.environ.get(option.env, "").strip()
        if option.kind == "hosts":
            hosts = list(given or [])
            hosts.extend(h.strip() for h in raw.split(",") if h.strip())
            setattr(args, option.dest, hosts)
            continue
        if given not in (None, False):
            value: object = given
            if option.kind == "platform":
                _check_platform(str(given), option.flag)
        elif raw:
            value = _env_value(option, raw)
        else:
            value = option.default
        setattr(args, option.dest, value)
    return args


def _check_platform(text: str, where: str) -> None:
    from nbcatalog.oci import Platform  # not for --help: oci brings hashlib, json and dataclasses

    try:
        Platform.parse(text)
    except ValueError as exc:
        raise BadInputError(str(exc), where=where) from exc


def _env_value(option: GlobalOption, raw: str) -> object:
    where = f"environment variable {option.env}"
    if option.kind == "bool":
        word = raw.lower()
        if word not in _TRUE | _FALSE:
            raise BadInputError(f"{raw!r} is not a boolean (use 1/true/yes/on or 0/false/no/off)", where=where)
        return word in _TRUE
    if option.kind == "backend" and raw not in BACKENDS:
        raise BadInputError(f"{raw!r} is not a backend (choose from {', '.join(BACKENDS)})", where=where)
    if option.kind == "platform":
        _check_platform(raw, where)
    return raw


def _top_parser() -> argparse.ArgumentParser:
    lines = "\n".join(f"  {name:<10} {text}" for name, (_, text) in COMMANDS.items())
    parser = _Parser(
        prog="nbcatalog",
        description="Curate the notebook images your JupyterHub and Kubeflow users may spawn.",
        epilog=f"commands:\n{lines}\n\nWith no command, the terminal app opens on the catalog.",
        formatter_class=_RawDescriptionFormatter,
    )
    parser.add_argument("--version", action="version", version=f"nbcatalog {__version__}")
    add_global_options(parser)
    parser.add_argument("command", nargs="?", help=argparse.SUPPRESS)
    parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def parse(argv: Sequence[str]) -> tuple[argparse.Namespace, CommandModule | None]:
    top = _top_parser()
    args = top.parse_args(argv)
    if args.command is None:
        return apply_environment(args), None
    if args.command not in COMMANDS:
        top.error(f"unknown command {args.command!r} (choose from {', '.join(COMMANDS)})")
    module_name, text = COMMANDS[args.command]
    module: CommandModule = importlib.import_module(module_name)
    sub = _Parser(prog=f"nbcatalog {args.command}", description=text, formatter_class=_HelpFormatter)
    module.add_arguments(sub)
    add_global_options(sub, suppress=True)
    sub.parse_args(args.rest, namespace=args)
    return apply_environment(args), module


def _skip_unused_imports() -> None:
    """httpx imports its own CLI (rich, click, pygments) and httpcore tries trio when installed.

    nbcatalog uses neither (asyncio only), and on a command that lists tags in ~20 ms they cost
    ~80 ms of start-up, so the CLI process marks them absent; each package handles that itself.
    """
    for name in ("httpx._main", "trio"):
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> int:
    _skip_unused_imports()
    from nbcatalog.cli.output import guard_output  # stdout and stderr escape what data would make run

    guard_output()
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or env_flag("NBCATALOG_DEBUG")
    try:
        args, module = parse(argv)
        if module is None:
            module = importlib.import_module("nbcatalog.cli.app")
            assert module is not None
        return module.run(args)
    except NbcatalogError as exc:
        if debug:
            raise
        print(f"nbcatalog: error: {_one_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("nbcatalog: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_FAILED
    except Exception as exc:
        if debug:
            raise
        print(
            f"nbcatalog: internal error: {type(exc).__name__}: {_one_line(str(exc))} (run with --debug)",
            file=sys.stderr,
        )
        return EXIT_FAILED


def _one_line(text: str) -> str:
    """Control characters from user input (a newline in a reference) are shown escaped, not obeyed."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


if __name__ == "__main__":
    sys.exit(main())
