"""Files nbcatalog writes get the mode a user expects: ``0666 & ~umask`` when new, the old mode when replaced.

mkstemp makes its temporary file 0600; before issue 11 that mode survived the rename, so profiles,
the ConfigMap and the catalog were unreadable to git, CI and kustomize run by anyone else.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from nbcatalog.catalog.document import CatalogDocument
from nbcatalog.profilefiles.rewrite import rewrite_tags
from nbcatalog.yamlio import atomic_write_text, current_umask
from tests.cli.run import run_cli
from tests.support.reference import REFERENCE

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    mask: int = request.param
    old = os.umask(mask)
    try:
        yield mask
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_current_umask_reads_without_changing_it() -> None:
    old = os.umask(0o027)
    try:
        assert current_umask() == 0o027
        assert current_umask() == 0o027
    finally:
        os.umask(old)


@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)], indirect=["umask"])
def test_export_creates_every_file_with_the_umask_mode(
    umask: int, expected: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(REPO_ROOT / "catalog.yaml", tmp_path / "catalog.yaml")
    catalog = ["--catalog", str(tmp_path / "catalog.yaml")]
    for fmt in ("jupyterhub", "kubespawner", "workspacekind"):
        assert run_cli(capsys, "export", "-f", fmt, *catalog).code == 0
    base = REFERENCE / "kubeflow-v1.10.0-spawner_ui_config.yaml"
    result = run_cli(capsys, "export", "-f", "kubeflow", "--configmap", "--base", str(base), *catalog)
    assert result.code == 0, result.err
    written = sorted(p for p in (tmp_path / "profiles").rglob("*") if p.is_file())
    names = {p.name for p in written}
    assert {"configmap.yaml", "kustomization.yaml", "spawner_ui_config.yaml", "values.yaml"} <= names
    assert {p.relative_to(tmp_path).as_posix(): oct(mode(p)) for p in written} == {
        p.relative_to(tmp_path).as_posix(): oct(expected) for p in written
    }


@pytest.mark.parametrize("umask", [0o022], indirect=True)
def test_export_over_an_existing_file_keeps_its_mode(
    umask: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(REPO_ROOT / "catalog.yaml", tmp_path / "catalog.yaml")
    catalog = ["--catalog", str(tmp_path / "catalog.yaml")]
    assert run_cli(capsys, "export", "-f", "jupyterhub", *catalog).code == 0
    values = tmp_path / "profiles" / "jupyterhub" / "values.yaml"
    generated = values.read_text()
    values.write_text(generated + "# a hand edit, overwritten by --force\n")
    values.chmod(0o664)
    assert run_cli(capsys, "export", "-f", "jupyterhub", "--force", *catalog).code == 0
    assert values.read_text() == generated
    assert mode(values) == 0o664


@pytest.mark.parametrize("umask", [0o022], indirect=True)
def test_catalog_save_new_and_replaced(umask: int, tmp_path: Path) -> None:
    """The app's save (``w`` on the catalog) goes through CatalogDocument.save."""
    path = tmp_path / "catalog.yaml"
    shutil.copy(REPO_ROOT / "catalog.yaml", path)
    document = CatalogDocument.load(path)
    path.unlink()
    document.save(force=True)
    assert mode(path) == 0o644
    path.chmod(0o660)
    document = CatalogDocument.load(path)
    document.save()
    assert mode(path) == 0o660


@pytest.mark.parametrize("umask", [0o022], indirect=True)
def test_audit_fix_rewrite_keeps_the_files_mode(umask: int, tmp_path: Path) -> None:
    profile = tmp_path / "values.yaml"
    profile.write_text("singleuser:\n  image:\n    name: quay.io/jupyter/scipy-notebook\n    tag: 2024-05-27\n")
    profile.chmod(0o640)
    rewrite_tags(profile, {(4, 10): ("2024-05-27", "2024-06-03")})
    assert "tag: 2024-06-03" in profile.read_text()
    assert mode(profile) == 0o640


@pytest.mark.parametrize("umask", [0o077], indirect=True)
def test_a_strict_umask_is_respected(umask: int, tmp_path: Path) -> None:
    target = tmp_path / "new.yaml"
    atomic_write_text(target, "a: 1\n")
    assert mode(target) == 0o600


def test_a_symlinked_target_keeps_the_mode_of_the_file_it_points_to(tmp_path: Path) -> None:
    real = tmp_path / "real.yaml"
    real.write_text("a: 1\n")
    real.chmod(0o604)
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    atomic_write_text(link, "a: 2\n")
    assert link.is_symlink() and real.read_text() == "a: 2\n" and mode(real) == 0o604
