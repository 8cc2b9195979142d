"""Writers killed at random moments leave the old file or the new one, and a cache that still works."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from nbcatalog.cache import Cache
from nbcatalog.catalog import load_catalog
from tests.cli.run import run_cli
from tests.support.images import StandardImages

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 12

CATALOG = """\
# Our notebook images (comment kept by every save)
images:
  - name: scipy      # the default image
    image: quay.io/jupyter/scipy-notebook
    tag: "2024-05-27"
    display_name: SciPy
  - name: pytorch
    image: quay.io/jupyter/pytorch-notebook
    tag: "2024-05-27"
    parent: scipy
"""

CATALOG_WRITER = """
import sys
from nbcatalog.catalog import CatalogDocument
document = CatalogDocument.load(sys.argv[1])
round = 0
while True:
    round += 1
    document.set_tag("scipy", "2024-06-%02d" % (round % 28 + 1))
    document.save()
    if round == 1:
        print("saved", flush=True)
"""

EXPORT_WRITER = """
import contextlib, io, sys
from nbcatalog.cli.main import main
first = True
while True:
    for catalog in sys.argv[2:]:
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["export", "--format", "jupyterhub", "--catalog", catalog, "-o", sys.argv[1]]) == 0
        if first:
            print("saved", flush=True)
            first = False
"""

CACHE_WRITER = """
import hashlib, sys
from pathlib import Path
from nbcatalog.cache import Cache
cache = Cache(Path(sys.argv[1]))
n = int(sys.argv[2])
while True:
    n += 1
    digest = "sha256:" + hashlib.sha256(str(n).encode()).hexdigest()
    cache.put_layer(digest, "packages/test", hashlib.sha256(digest.encode()).digest() * 2000)
    cache.put_json("tags", digest, {"n": n})
    if n % 10 == 0:
        print("saved", flush=True)
"""


def _kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()
    if process.stdout is not None:
        process.stdout.close()


def _kill_mid_write(script: str, args: list[str], check: Callable[[], None], rng: random.Random) -> None:
    """Start a writer, let it write for a random moment, SIGKILL it, then ``check`` what is on disk."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(ROUNDS):
        writer = subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE, env=env)
        try:
            assert writer.stdout is not None
            assert writer.stdout.readline() == b"saved\n"
            time.sleep(rng.uniform(0, 0.15))
        finally:
            _kill(writer)
        check()


def test_catalog_saves_are_atomic_under_sigkill(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG)
    catalog.chmod(0o640)
    seen: set[str] = set()

    def check() -> None:
        text = catalog.read_text()
        loaded = load_catalog(catalog)  # parseable and valid: never a torn file
        tag = loaded.images[0].tag
        assert tag.startswith("2024-06-")
        seen.add(tag)
        assert "# Our notebook images (comment kept by every save)" in text
        assert "# the default image" in text
        assert catalog.stat().st_mode & 0o777 == 0o640

    _kill_mid_write(CATALOG_WRITER, [str(catalog)], check, random.Random(8))
    assert len(seen) > 1  # the writer really was killed at different points
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "catalog.yaml"]
    assert all(name.startswith(".catalog.yaml.") and name.endswith(".tmp") for name in leftovers), leftovers


def test_profile_exports_are_atomic_under_sigkill(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    catalogs = []
    for tag in ("2024-05-27", "2024-06-10"):
        path = tmp_path / f"catalog-{tag}.yaml"
        path.write_text(CATALOG.replace('"2024-05-27"', f'"{tag}"'))
        catalogs.append(str(path))
    expected = set()
    for catalog in catalogs:
        out = tmp_path / f"expected-{Path(catalog).stem}.yaml"
        assert run_cli(capsys, "export", "--format", "jupyterhub", "--catalog", catalog, "-o", str(out)).code == 0
        expected.add(out.read_text())
    assert len(expected) == 2
    values = tmp_path / "profiles" / "values.yaml"
    seen: set[str] = set()

    def check() -> None:
        text = values.read_text()
        assert text in expected
        yaml.safe_load(text)
        seen.add(text)

    _kill_mid_write(EXPORT_WRITER, [str(values), *catalogs], check, random.Random(9))
    assert seen


def test_hand_edited_profile_is_kept_without_force(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG)
    values = tmp_path / "values.yaml"
    args = ("export", "--format", "jupyterhub", "--catalog", str(catalog), "-o", str(values))
    assert run_cli(capsys, *args).code == 0
    edited = values.read_text().replace("SciPy", "SciPy (edited by an admin)")
    values.write_text(edited)
    refused = run_cli(capsys, *args)
    assert refused.code == 1 and "--force" in refused.err and str(values) in refused.err
    assert values.read_text() == edited
    checked = run_cli(capsys, *args, "--check")
    assert checked.code != 0 and values.read_text() == edited
    assert run_cli(capsys, *args, "--force").code == 0
    assert "edited by an admin" not in values.read_text()


def test_a_refused_format_leaves_every_profile_as_it_was(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG)
    assert run_cli(capsys, "export", "--catalog", str(catalog)).code == 0
    profiles = sorted((tmp_path / "profiles").rglob("*.*"))
    values = tmp_path / "profiles" / "jupyterhub" / "values.yaml"
    values.write_text(values.read_text() + "# tuned by hand\n")
    before = {path: path.read_text() for path in profiles}
    catalog.write_text(CATALOG.replace("2024-05-27", "2024-06-03"))  # every format would change
    refused = run_cli(capsys, "export", "--catalog", str(catalog))
    assert refused.code == 1 and str(values) in refused.err and refused.out == ""
    assert {path: path.read_text() for path in profiles} == before  # kubeflow (planned first) not written either


def test_cache_survives_sigkill_and_concurrent_writers(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # two writers at once, both killed mid-transaction, again and again
    for round_ in range(6):
        writers = [
            subprocess.Popen(
                [sys.executable, "-c", CACHE_WRITER, str(directory), str(1_000_000 * (2 * round_ + k))],
                stdout=subprocess.PIPE,
                env=env,
            )
            for k in range(2)
        ]
        try:
            for writer in writers:
                assert writer.stdout is not None
                assert writer.stdout.readline() == b"saved\n"
            time.sleep(random.Random(round_).uniform(0, 0.1))
        finally:
            for writer in writers:
                _kill(writer)
    with sqlite3.connect(directory / "cache.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = 0
        for digest, payload in db.execute("SELECT digest, payload FROM layers"):  # every stored row is whole
            assert bytes(payload) == hashlib.sha256(digest.encode()).digest() * 2000
            rows += 1
    assert rows >= 6 * 2 * 10
    with Cache(directory) as cache:  # and the cache still takes writes
        cache.put_layer("sha256:" + "a" * 64, "packages/test", b"after")
        assert cache.get_layers(["sha256:" + "a" * 64], "packages/test") == {"sha256:" + "a" * 64: b"after"}


def test_saving_a_symlinked_catalog_writes_through_the_link(tmp_path: Path) -> None:
    from nbcatalog.catalog import CatalogDocument

    real = tmp_path / "checkout" / "catalog.yaml"
    real.parent.mkdir()
    real.write_text(CATALOG)
    link = tmp_path / "catalog.yaml"
    link.symlink_to(real)
    document = CatalogDocument.load(link)
    document.set_tag("scipy", "2024-07-01")
    document.save()
    assert link.is_symlink() and link.resolve() == real
    assert load_catalog(real).images[0].tag == "2024-07-01"
    assert "# Our notebook images" in real.read_text()


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_cache_never_breaks_a_command(
    capsys: pytest.CaptureFixture[str], test_images: StandardImages, tmp_path: Path, damage: str
) -> None:
    cache = tmp_path / "cache"
    ref = test_images.layered_ref
    expected = run_cli(capsys, "packages", ref, "--json", "--cache-dir", str(cache))
    assert expected.code == 0, expected.err
    database = cache / "cache.sqlite3"
    with Cache(cache):  # fold the WAL in, so the damage below hits the only copy
        pass
    for sidecar in cache.glob("cache.sqlite3-*"):
        sidecar.unlink()
    raw = database.read_bytes()
    database.write_bytes(b"this is not a database" * 100 if damage == "garbage" else raw[: len(raw) // 2])
    result = run_cli(capsys, "packages", ref, "--json", "--cache-dir", str(cache))
    assert result.code == 0, result.err
    assert result.json() == expected.json()
    assert result.err.count("\n") == 1 and "cache disabled" in result.err and str(database) in result.err


def test_concurrent_commands_share_one_cache(test_images: StandardImages, tmp_path: Path) -> None:
    """Three `packages` processes fill one cold cache at once: same answers, a sound database."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    refs = [test_images.layered_ref, test_images.layered.ref.replace("v1.0.0", "v2.0.0"), test_images.zstd_ref]
    command = [sys.executable, "-m", "nbcatalog.cli.main", "packages", "--json", "--cache-dir", str(tmp_path)]
    runs = [
        subprocess.Popen([*command, ref], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) for ref in refs * 2
    ]
    outputs = [run.communicate(timeout=60) for run in runs]
    assert [run.returncode for run in runs] == [0] * len(runs), [err for _, err in outputs]
    assert outputs[:3] == outputs[3:]  # the same image read twice at once gives the same answer
    with sqlite3.connect(tmp_path / "cache.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    warm = [subprocess.run([*command, ref], capture_output=True, env=env, check=True) for ref in refs]
    assert [(w.stdout, w.stderr) for w in warm] == outputs[:3]
