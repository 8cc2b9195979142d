"""Start-up stays light and the core never imports the UI or the cluster client.

Each check runs in a fresh interpreter, since this test process has imported everything already.
Each command is also run in one, to check what it imports: modules it must not need (the UI, the
YAML stack, the decompressors on a warm run, SQLite where there is no cache to read) and the cost
of what it does import, summed from ``-X importtime`` and compared with ``import httpx, asyncio``
measured the same way in the same test, so a loaded machine slows both alike.
"""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

import nbcatalog
from nbcatalog import ocibuild as b
from tests.support.images import ManyTags

HEAVY = ("textual", "kubernetes", "httpx", "ruamel", "yaml", "zstandard", "isal")
#: Never needed by a command that neither opens the app nor talks to a cluster.
UI_AND_CLUSTER = {"textual", "rich", "kubernetes"}
#: Reading catalog.yaml, scanning layers: not on a warm run of an image reference.
YAML_AND_SCANNING = {
    "ruamel",
    "yaml",
    "zstandard",
    "isal",
    "nbcatalog.yamlio",
    "nbcatalog.catalog.validate",
    "nbcatalog.catalog.document",
    "nbcatalog.packages.tarscan",
    "nbcatalog.packages.decompress",
}
#: Summed self import time over the floor's (``import httpx, asyncio``, start-up included). Today
#: the offline commands are at ~0.6-0.7, ``tags`` over HTTP at ~0.75 and ``--help`` at ~0.2:
#: generous, so an added heavy import fails them, a busy machine does not.
OFFLINE_BOUND = 1.0
ONLINE_BOUND = 1.2
HELP_BOUND = 0.4


def _modules_after(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint('@@MODULES@@', *sorted(k for k, v in sys.modules.items() if v is not None))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    return set(result.stdout.rpartition("@@MODULES@@")[2].split())


def test_help_imports_nothing_heavy() -> None:
    loaded = _modules_after(
        "from nbcatalog.cli.main import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    )
    assert "nbcatalog.cli.main" in loaded
    assert not {m.split(".")[0] for m in loaded} & set(HEAVY)


def test_tags_command_does_not_load_the_ui_or_cluster_client() -> None:
    loaded = _modules_after("import nbcatalog.cli.tags, nbcatalog.session, nbcatalog.registry.distribution")
    roots = {m.split(".")[0] for m in loaded}
    assert "textual" not in roots and "kubernetes" not in roots


def test_only_tui_imports_textual_and_only_cluster_imports_kubernetes() -> None:
    names = [
        info.name
        for info in pkgutil.walk_packages(nbcatalog.__path__, "nbcatalog.")
        if not info.name.startswith(("nbcatalog.tui", "nbcatalog.cluster", "nbcatalog.__main__"))
        and info.name not in ("nbcatalog.cli.app", "nbcatalog.cli.apply")
    ]
    loaded = _modules_after("\n".join(f"import {name}" for name in names))
    roots = {m.split(".")[0] for m in loaded}
    assert "textual" not in roots, "a core module imports textual"
    assert "kubernetes" not in roots, "a core module imports kubernetes"


_RUN_COMMAND = """import sys
from nbcatalog.cli.main import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
sys.stdout.flush()
print('@@MODULES@@', code, *sorted(k for k, v in sys.modules.items() if v is not None), file=sys.__stderr__)
"""


def _child(code: str, argv: Sequence[str], cwd: Path) -> tuple[int, set[str]]:
    """(summed self import time in µs, modules loaded) of ``code`` run with ``argv`` in a fresh interpreter.

    With bytecode, as an installed tool runs: compiling would be counted as import time.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["NBCATALOG_CACHE_DIR"] = str(cwd / "cache")
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code, *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )
    lines = result.stderr.splitlines()
    cost = sum(
        int(line.split("|")[0].split(":")[1])
        for line in lines
        if line.startswith("import time:") and "[us]" not in line
    )
    marker = next((line for line in lines if line.startswith("@@MODULES@@")), None)
    assert marker is not None, result.stderr[-2000:]
    exit_code, *modules = marker.split()[1:]
    assert exit_code in ("0", "None"), result.stderr[-2000:]
    return cost, set(modules)


def _cheapest(code: str, argv: Sequence[str], cwd: Path, runs: int = 3) -> tuple[int, set[str]]:
    """The lowest cost of a few runs: a neighbour's load only ever adds to it."""
    samples = [_child(code, argv, cwd) for _ in range(runs)]
    return min(cost for cost, _ in samples), samples[0][1]


def _present(loaded: set[str], names: set[str]) -> set[str]:
    """Those of ``names`` (top-level packages or full module names) among ``loaded``."""
    return {name for name in names if name in loaded or any(m.startswith(name + ".") for m in loaded)}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with no catalog.yaml, and an image layout: v1 (apt + pip layers) and v2 (apt)."""
    root = tmp_path_factory.mktemp("imports")
    status = "\n".join(f"Package: lib{n}\nStatus: install ok installed\nVersion: 1.{n}\n" for n in range(50))
    apt = b.build_layer([b.file("var/lib/dpkg/status", status)], "gzip")
    site = "opt/conda/lib/python3.11/site-packages"
    pip = b.build_layer(
        [b.file(f"{site}/pkg{n}-1.0.dist-info/METADATA", f"Name: pkg{n}\nVersion: 1.0\n") for n in range(5)], "zstd"
    )
    b.write_layout(root / "layout", {"v1": b.build_image([apt, pip]), "v2": b.build_image([apt])})
    for tag in ("v1", "v2"):  # the cold scans: what follows is warm
        _child(_RUN_COMMAND, ["packages", "--json", f"oci:{root}/layout:{tag}"], root)
    return root


@pytest.fixture(scope="module")
def floor(workdir: Path) -> int:
    return _cheapest("import httpx, asyncio, sys\nprint('@@MODULES@@', 0, file=sys.stderr)", [], workdir)[0]


def _offline_commands(root: Path) -> dict[str, tuple[list[str], set[str]]]:
    """command -> (argv, what it must not import beyond UI_AND_CLUSTER)."""
    v1, v2 = f"oci:{root}/layout:v1", f"oci:{root}/layout:v2"
    no_network = YAML_AND_SCANNING | {"httpx", "h11", "nbcatalog.registry.distribution"}
    #: A warm ``packages`` on a layout answers without an event loop (nbcatalog.packages.warm).
    no_loop = no_network | {"asyncio", "ssl", "nbcatalog.session", "nbcatalog.packages.image"}
    return {
        "packages": (["packages", "--json", v1], no_loop),
        "diff": (["diff", "--json", v1, v2], no_network),
        "tags": (["tags", "--json", f"oci:{root}/layout"], no_network | {"sqlite3", "nbcatalog.packages"}),
        "inspect": (["inspect", "--json", v1], no_network | {"sqlite3", "nbcatalog.packages.image"}),
    }


@pytest.mark.parametrize("command", ["packages", "diff", "tags", "inspect"])
def test_a_warm_offline_command_imports_only_what_it_needs(workdir: Path, floor: int, command: str) -> None:
    argv, absent = _offline_commands(workdir)[command]
    cost, loaded = _cheapest(_RUN_COMMAND, argv, workdir)
    assert f"nbcatalog.cli.{command}" in loaded
    assert not _present(loaded, UI_AND_CLUSTER | absent)
    assert cost <= OFFLINE_BOUND * floor, f"{command}: imports cost {cost / floor:.2f}x the httpx + asyncio floor"


def test_tags_over_http_imports_only_what_it_needs(workdir: Path, floor: int, many_tags: ManyTags) -> None:
    cost, loaded = _cheapest(_RUN_COMMAND, ["tags", many_tags.repo_ref], workdir)
    assert "nbcatalog.registry.distribution" in loaded
    assert not _present(loaded, UI_AND_CLUSTER | YAML_AND_SCANNING - {"zstandard"} | {"nbcatalog.packages"})
    assert cost <= ONLINE_BOUND * floor, f"tags: imports cost {cost / floor:.2f}x the httpx + asyncio floor"


def test_help_costs_a_fraction_of_the_floor(workdir: Path, floor: int) -> None:
    cost, loaded = _cheapest(_RUN_COMMAND, ["--help"], workdir)
    assert not _present(loaded, UI_AND_CLUSTER | set(HEAVY) | {"dataclasses", "asyncio", "nbcatalog.oci"})
    assert cost <= HELP_BOUND * floor, f"--help: imports cost {cost / floor:.2f}x the httpx + asyncio floor"
