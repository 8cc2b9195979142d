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
from typing import NoReturn, Protocol

from nbcatalog import __version__
from nbcatalog.errors import EXIT_FAILED, NbcatalogError

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
}


class CommandModule(Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


class _Parser(argparse.ArgumentParser):
    """Bad usage is one line naming the option at fault and exit code 2, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"nbcatalog: error: {message} (see `{self.prog} --help`)\n")


def add_global_options(parser: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    """The contract's global options; ``suppress`` lets them follow the command without resetting."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group("global options")
    group.add_argument(
        "--catalog",
        metavar="PATH",
        default=default(os.environ.get("NBCATALOG_CATALOG", "catalog.yaml")),
        help="catalog file (default ./catalog.yaml, env NBCATALOG_CATALOG)",
    )
    group.add_argument(
        "--insecure-registry",
        metavar="HOST[:PORT]",
        action="append",
        dest="insecure_registries",
        default=default([]),
        help="allow plain HTTP / unverified TLS for this registry (repeatable)",
    )
    group.add_argument("--backend", choices=("httpx", "skopeo"), default=default("httpx"))
    group.add_argument("--platform", metavar="OS/ARCH[/VARIANT]", default=default("linux/amd64"))
    group.add_argument("--cache-dir", metavar="PATH", default=default(None))
    group.add_argument("--no-cache", action="store_true", default=default(False))
    group.add_argument("--ca-cert", metavar="PATH", default=default(None), help="extra CA bundle for TLS")
    group.add_argument("--debug", action="store_true", default=default(False), help="tracebacks and HTTP log")


def _top_parser() -> argparse.ArgumentParser:
    lines = "\n".join(f"  {name:<10} {text}" for name, (_, text) in COMMANDS.items())
    parser = _Parser(
        prog="nbcatalog",
        description="Curate the notebook images your JupyterHub and Kubeflow users may spawn.",
        epilog=f"commands:\n{lines}\n\nWith no command, the terminal app opens on the catalog.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
        return args, None
    if args.command not in COMMANDS:
        top.error(f"unknown command {args.command!r} (choose from {', '.join(COMMANDS)})")
    module_name, text = COMMANDS[args.command]
    module: CommandModule = importlib.import_module(module_name)
    sub = _Parser(prog=f"nbcatalog {args.command}", description=text)
    module.add_arguments(sub)
    add_global_options(sub, suppress=True)
    sub.parse_args(args.rest, namespace=args)
    return args, module


def _skip_unused_imports() -> None:
    """httpx imports its own CLI (rich, click, pygments) and httpcore tries trio when installed.

    nbcatalog uses neither (asyncio only), and on a command that lists tags in ~20 ms they cost
    ~80 ms of start-up, so the CLI process marks them absent; each package handles that itself.
    """
    for name in ("httpx._main", "trio"):
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> int:
    _skip_unused_imports()
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
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
