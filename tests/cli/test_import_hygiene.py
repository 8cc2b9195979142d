"""Start-up stays light and the core never imports the UI or the cluster client.

Each check runs in a fresh interpreter, since this test process has imported everything already.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import nbcatalog

HEAVY = ("textual", "kubernetes", "httpx", "ruamel", "yaml", "zstandard", "isal")


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
