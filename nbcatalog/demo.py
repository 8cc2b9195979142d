"""The offline demo: OCI image layouts of a Kubeflow-like image family and a catalog pointing at them.

Built once into the user's data directory (``$NBCATALOG_DEMO_DIR`` or platformdirs' user data dir +
``/demo``) and rebuilt only when ``DEMO_VERSION`` changes, so ``nbcatalog demo`` starts instantly the
second time. One layout per repository, since tags belong to repositories: ``oci:<layouts>/jupyter:v1.10.0``.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from nbcatalog.errors import BadInputError, NbcatalogError

#: Bump when the demo's content changes: existing demo directories are then rebuilt.
DEMO_VERSION = "nbcatalog-demo 2"
STAMP = ".demo-version"
DEMO_DIR_ENV = "NBCATALOG_DEMO_DIR"

#: Catalog entries: name -> (parent, kind, display name, description, tag in the catalog).
#: codeserver stays on an older tag on purpose, so ``audit`` has a stale tag to report.
ENTRIES: dict[str, tuple[str | None, str, str, str, str]] = {
    "base": (None, "jupyter", "Demo base (Debian + s6 + Miniforge)", "the common base; not a notebook", "v1.10.0"),
    "jupyter": ("base", "jupyter", "JupyterLab", "plain JupyterLab", "v1.10.0"),
    "jupyter-pytorch": ("jupyter", "jupyter", "JupyterLab + PyTorch", "PyTorch (CPU)", "v1.10.0"),
    "jupyter-pytorch-cuda": ("jupyter", "jupyter", "JupyterLab + PyTorch (CUDA)", "PyTorch with CUDA 12.1", "v1.10.0"),
    "codeserver": ("base", "codeserver", "code-server", "VS Code in the browser", "v1.9.1"),
    "rstudio": ("base", "rstudio", "RStudio", "RStudio Server with R", "v1.10.0"),
}


@dataclass(frozen=True)
class DemoPaths:
    """Where the demo lives; ``layouts[name]`` is an OCI image layout directory per repository."""

    root: Path
    catalog: Path
    layouts: dict[str, Path]
    built: bool

    def reference(self, name: str, tag: str | None = None) -> str:
        """``oci:PATH:TAG`` of a demo image (the catalog's tag by default)."""
        return f"oci:{self.layouts[name]}:{tag or ENTRIES[name][4]}"

    def to_json(self) -> dict[str, object]:
        return {
            "root": str(self.root),
            "catalog": str(self.catalog),
            "layouts": {name: str(path) for name, path in self.layouts.items()},
            "references": {name: self.reference(name) for name in self.layouts},
            "built": self.built,
        }


def default_demo_dir() -> Path:
    override = os.environ.get(DEMO_DIR_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("nbcatalog")) / "demo"


def demo_tags() -> list[str]:
    from nbcatalog.demodata.releases import RELEASES

    return [release.tag for release in RELEASES]


def _paths(root: Path, built: bool) -> DemoPaths:
    layouts = {name: root / "layouts" / name for name in ENTRIES}
    return DemoPaths(root, root / "catalog.yaml", layouts, built)


def is_current(root: Path) -> bool:
    stamp = root / STAMP
    return stamp.is_file() and stamp.read_text().strip() == DEMO_VERSION and (root / "catalog.yaml").is_file()


def build_demo(data_dir: Path | str | None = None, *, force: bool = False) -> DemoPaths:
    """Build the demo under ``data_dir`` unless a build of this ``DEMO_VERSION`` is already there.

    Layouts are written to a staging directory and moved into place, so an interrupted build never
    leaves a half-written demo that later runs would take for complete.
    """
    root = Path(data_dir) if data_dir is not None else default_demo_dir()
    root = root.expanduser().absolute()
    if not force and is_current(root):
        return _paths(root, built=False)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInputError(f"cannot create the demo directory: {exc.strerror}", where=str(root)) from exc
    try:
        return _build(root)
    except OSError as exc:
        raise NbcatalogError(f"cannot write the demo: {exc.strerror or exc}", where=str(root)) from exc


def _build(root: Path) -> DemoPaths:
    from nbcatalog.demodata.images import build_release
    from nbcatalog.demodata.releases import RELEASES
    from nbcatalog.ocibuild import Artifact, OciLayout
    from nbcatalog.yamlio import atomic_write_text

    staging = root / f".staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    (root / STAMP).unlink(missing_ok=True)
    layouts = {name: OciLayout(staging / name) for name in ENTRIES}
    newest: dict[str, Artifact] = {}
    for release in RELEASES:
        newest = build_release(release)
        for name, artifact in newest.items():
            layouts[name].add(artifact, release.tag)
    for name, artifact in newest.items():  # a mutable tag that follows releases, for audit to flag
        layouts[name].add(artifact, "latest")
    final = root / "layouts"
    shutil.rmtree(final, ignore_errors=True)
    try:
        staging.rename(final)
    except OSError:
        if not final.is_dir():
            raise
        # A concurrent `nbcatalog demo` got there first; builds are deterministic, so its result is ours.
        shutil.rmtree(staging, ignore_errors=True)
    paths = _paths(root, built=True)
    atomic_write_text(paths.catalog, render_catalog(paths))
    (root / STAMP).write_text(DEMO_VERSION + "\n")
    return paths


def _quote(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text)


def render_catalog(paths: DemoPaths) -> str:
    """The demo catalog in the contract's format; ``image:`` is the layout (the repository)."""
    lines = [
        "# nbcatalog demo catalog: generated by `nbcatalog demo`; images are local OCI image layouts.",
        "# Try: nbcatalog --catalog THIS_FILE lineage | nbcatalog tags oci:LAYOUT | nbcatalog audit",
        "gpu:",
        "  resource: nvidia.com/gpu",
        "  count: 1",
        "  node_selector:",
        '    nvidia.com/gpu.present: "true"',
        "  tolerations:",
        "    - {key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}",
        "images:",
    ]
    for name, (parent, kind, display, description, tag) in ENTRIES.items():
        lines += [
            f"  - name: {name}",
            f"    image: {_quote('oci:' + str(paths.layouts[name]))}",
            f"    tag: {tag}",
        ]
        if parent:
            lines.append(f"    parent: {parent}")
        lines += [
            f"    kind: {kind}",
            f"    display_name: {_quote(display)}",
            f"    description: {_quote(description)}",
            "    gpu: auto",
            "    tag_policy: semver",
        ]
        if name == "base":
            lines.append("    hidden: true")
        if name == "jupyter":
            lines.append("    default: true")
    return "\n".join(lines) + "\n"
