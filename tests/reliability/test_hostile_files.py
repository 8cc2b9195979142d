"""Hostile local files through the real CLI, in a child capped at 768 MiB and a timeout.

Devices, FIFOs, files far over the size cap, YAML alias bombs and Python nested past ast's reach,
wherever nbcatalog reads a file: the catalog, profile files and the files a kustomization packs,
``export``'s base and target, an ``oci:`` layout's index and blobs, Docker's config.json and the
SQLite cache. Each must end in one line naming the file, promptly, or (the cache) in the right answer.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from nbcatalog import ocibuild as b
from tests.reliability.capped import Capped, run
from tests.support.tokenserver import AuthRegistry

CATALOG = "images:\n  - {name: base, image: quay.io/jupyter/base-notebook, tag: '2024-05-27'}\n"
STATUS = (
    "Package: bash\nStatus: install ok installed\nPriority: required\nSection: shells\nMaintainer: x\n"
    "Architecture: amd64\nVersion: 5.2.15-2\nDescription: shell\n\n"
)
#: A refusal reads nothing: well under a second of work, plus the interpreter's start-up.
PROMPT_SECONDS = 10


def billion_laughs(key: str = "x-bomb", indent: str = "") -> str:
    """Nine levels of ten aliases each: 10**9 nodes once expanded, 600 bytes on disk."""
    lines = [f"{indent}{key}:", f"{indent}  a0: &a0 [{', '.join(['lol'] * 10)}]"]
    lines += [f"{indent}  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    return "\n".join(lines) + "\n"


def bomb_alias(key_line: int, indent: str = "") -> str:
    """``line:column`` of the alias that passes the 100,000-node budget, for a bomb whose key is on
    ``key_line``: a0..a3 add 12,330 nodes, and the 8th alias of a4 (5 lines down) passes it."""
    return f"{key_line + 5}:{47 + len(indent)}"


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A working directory with a valid catalog.yaml; the cache under it."""
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    return tmp_path


def cli(work: Path, *args: str, env: dict[str, str] | None = None) -> Capped:
    return run(*args, cwd=work, env={"XDG_CACHE_HOME": str(work / "xdg-cache"), **(env or {})})


def refused(result: Capped, path: Path | str, *words: str, code: int = 2) -> str:
    result.assert_clean_failure(code)
    assert result.seconds < PROMPT_SECONDS, f"took {result.seconds:.1f}s"
    assert str(path) in result.error, result.error
    for word in words:
        assert word in result.error, result.error
    return result.error


# --- the catalog -------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [("lineage", "--json"), ("export", "--format", "kubeflow", "-o", "out.yaml")])
def test_catalog_that_is_dev_zero(work: Path, command: tuple[str, ...]) -> None:
    """Was a MemoryError: the whole endless device read into memory."""
    refused(cli(work, "--catalog", "/dev/zero", *command, "--no-cache"), "/dev/zero", "is a character device")
    assert not (work / "out.yaml").exists()


def test_catalog_that_is_a_fifo_returns_at_once(work: Path) -> None:
    """Was a hang: opening a FIFO waits for a writer that never comes."""
    fifo = work / "fifo.yaml"
    os.mkfifo(fifo)
    refused(cli(work, "--catalog", str(fifo), "lineage", "--json", "--no-cache"), fifo, "is a FIFO, not a regular file")


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_audit_of_a_catalog_that_is_no_regular_file_is_refused_not_ignored(work: Path, kind: str) -> None:
    """audit once skipped a catalog path that was no regular file, silently auditing nothing of it."""
    path: Path | str = "/dev/zero"
    if kind == "fifo":
        path = work / "fifo.yaml"
        os.mkfifo(path)
    refused(cli(work, "--catalog", str(path), "audit", "--offline"), path, "not a regular file")


def test_a_kubeconfig_that_is_a_device_or_an_alias_bomb_is_refused_before_the_client_reads_it(work: Path) -> None:
    """The kubernetes client reads a kubeconfig whole and expands its aliases: nbcatalog checks it first."""
    device = cli(work, "audit", "--cluster", "--kubeconfig", "/dev/zero")
    refused(device, "/dev/zero", "is a character device")
    bomb = work / "kubeconfig"
    bomb.write_text("apiVersion: v1\nkind: Config\n" + billion_laughs("x-bomb"))
    refused(cli(work, "audit", "--cluster", env={"KUBECONFIG": str(bomb)}), bomb, "aliases")


def test_catalog_over_the_size_cap_is_refused_unread(work: Path) -> None:
    """Was accepted: 43 s and 426 MiB for a 100 MB catalog.yaml the docs promise to refuse."""
    big = work / "big.yaml"
    with big.open("wb") as handle:
        handle.truncate(100 * 1000 * 1000)  # sparse: no disk used, st_size says 100 MB
    error = refused(cli(work, "--catalog", str(big), "lineage", "--json", "--no-cache"), big, "95.4 MiB")
    assert "over the 16MiB limit for files (raise with --limit file-bytes=N or NBCATALOG_LIMIT_FILE_BYTES)" in error
    raised = cli(work, "--catalog", str(big), "--limit", "file-bytes=200MiB", "lineage", "--json", "--no-cache")
    assert "over the" not in raised.err  # the limit is the user's to raise (a file of NULs is then bad YAML)


def test_catalog_alias_bomb_names_the_alias(work: Path) -> None:
    """Was 24.5 s and 1.2 GiB until MemoryError: anchors under an ``x-`` key, expanded by every walk."""
    catalog = work / "catalog.yaml"
    catalog.write_text(CATALOG + billion_laughs())
    for command in (("lineage", "--json"), ("export", "--format", "jupyterhub", "-o", "out.yaml")):
        result = cli(work, "--catalog", str(catalog), *command, "--no-cache")
        error = refused(result, f"{catalog}:{bomb_alias(3)}", "YAML aliases expand")
        assert "raise with --limit yaml-alias-nodes=N" in error


# --- profile files, kustomizations, export's base and target -------------------------------------


def test_z2jh_values_alias_bomb_for_audit_and_export_base(work: Path) -> None:
    values = work / "values.yaml"
    values.write_text(
        "singleuser:\n  image: {name: quay.io/jupyter/base-notebook, tag: '2024-05-27'}\n" + billion_laughs("hub")
    )
    where = f"{values}:{bomb_alias(3)}"
    refused(cli(work, "audit", str(values), "--offline"), where, "YAML aliases expand")
    export = cli(work, "export", "--format", "jupyterhub", "--base", str(values), "-o", "out.yaml", "--no-cache")
    refused(export, where, "YAML aliases expand")
    assert not (work / "out.yaml").exists()


def test_kustomization_resource_alias_bomb_stops_the_directory_audit(work: Path) -> None:
    """A file over a limit is no stranger to skip in a walk: its images would go unaudited."""
    tree = work / "kubeflow"
    (tree / "configs").mkdir(parents=True)
    (tree / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nconfigMapGenerator:\n"
        "  - name: jupyter-web-app-config\n    files:\n      - spawner_ui_config.yaml=configs/spawner_ui_config.yaml\n"
    )
    spawner = tree / "configs" / "spawner_ui_config.yaml"
    spawner.write_text(
        "spawnerFormDefaults:\n  image:\n    value: quay.io/jupyter/base-notebook:2024-05-27\n"
        + billion_laughs("extra", indent="  ")
    )
    refused(cli(work, "audit", str(tree), "--offline"), f"{spawner}:{bomb_alias(4, '  ')}", "YAML aliases expand")


def test_kustomization_resource_that_is_a_fifo_is_refused_not_waited_on(work: Path) -> None:
    (work / "configs").mkdir()
    os.mkfifo(work / "configs" / "spawner_ui_config.yaml")
    kustomization = work / "kustomization.yaml"
    kustomization.write_text(
        "kind: Kustomization\nconfigMapGenerator:\n  - name: c\n    files:\n      - configs/spawner_ui_config.yaml\n"
    )
    fifo = work / "configs" / "spawner_ui_config.yaml"
    refused(cli(work, "audit", str(kustomization), "--offline"), fifo, "is a FIFO, not a regular file")


def test_fifo_and_device_in_an_audited_directory_are_skipped_unopened(work: Path) -> None:
    profiles = work / "profiles"
    profiles.mkdir()
    (profiles / "values.yaml").write_text("singleuser:\n  image: {name: quay.io/jupyter/base-notebook, tag: latest}\n")
    os.mkfifo(profiles / "pipe.yaml")
    (profiles / "zero.yaml").symlink_to("/dev/zero")
    result = cli(work, "audit", str(profiles), "--offline", "--json", "--fail-on", "none")
    assert result.code == 0 and result.seconds < PROMPT_SECONDS, result.err
    skipped = {Path(entry["path"]).name: entry["reason"] for entry in json.loads(result.out)["skipped"]}
    assert skipped == {
        "pipe.yaml": "cannot read profile file: is a FIFO, not a regular file",
        "zero.yaml": "cannot read profile file: is a character device, not a regular file",
    }
    assert f"nbcatalog: skipped {profiles / 'pipe.yaml'}: cannot read profile file: is a FIFO" in result.err


def test_jupyterhub_config_nested_past_ast_is_one_line(work: Path) -> None:
    """Was a RecursionError (an internal error): ``x = 1+1+...`` of 200,000 terms."""
    config = work / "jupyterhub_config.py"
    config.write_text(
        "c.KubeSpawner.image = 'quay.io/jupyter/base-notebook:2024-05-27'\nx = " + "+".join(["1"] * 200_000) + "\n"
    )
    refused(cli(work, "audit", str(config), "--offline"), config, "too deeply nested to read")


def test_export_onto_a_character_device_is_refused_before_any_write(work: Path) -> None:
    """Was a MemoryError (-o /dev/zero: the existing target is read to merge into). /dev/null comes
    last: the FIFO and /dev/zero take the same path first, so a regression fails before it."""
    fifo = work / "pipe.yaml"
    os.mkfifo(fifo)
    before = os.stat("/dev/null")
    for target, kind in (
        (str(fifo), "a FIFO"),
        ("/dev/zero", "a character device"),
        ("/dev/null", "a character device"),
    ):
        result = cli(work, "export", "--format", "jupyterhub", "-o", target, "--no-cache")
        refused(result, target, f"is {kind}, not a regular file")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev and after.st_ino == before.st_ino
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert not list(Path("/dev").glob(".null.*.tmp")) and not list(work.glob(".pipe.yaml.*"))


def test_export_through_a_symlink_to_a_regular_file_still_writes(work: Path) -> None:
    real = work / "real-values.yaml"
    real.write_text("hub:\n  config: {}\n")
    (work / "link.yaml").symlink_to(real)
    result = cli(work, "export", "--format", "jupyterhub", "-o", str(work / "link.yaml"), "--no-cache")
    assert result.code == 0, result.err
    assert (work / "link.yaml").is_symlink() and "profileList" in real.read_text()


# --- an oci: layout --------------------------------------------------------------------------------


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, b.BuiltImage]:
    image = b.build_image([b.build_layer([b.file("etc/os-release", "ID=debian\n")])])
    path = tmp_path / "layout"
    b.write_layout(path, {"v1": image})
    return path, image


def _blob(layout_dir: Path, digest: str) -> Path:
    return layout_dir / "blobs" / "sha256" / digest[7:]


@pytest.mark.parametrize("command", ["tags", "inspect", "packages"])
def test_layout_index_linked_to_dev_zero_or_oversized(
    work: Path, layout: tuple[Path, b.BuiltImage], command: str
) -> None:
    path, _ = layout
    index = path / "index.json"
    ref = f"oci:{path}" + ("" if command == "tags" else ":v1")
    index.unlink()
    index.symlink_to("/dev/zero")
    refused(cli(work, command, ref, "--no-cache"), index, "is a character device, not a regular file")
    index.unlink()
    with index.open("wb") as handle:
        handle.truncate(200 * 1000 * 1000)
    refused(cli(work, command, ref, "--no-cache"), index, "is 190.7 MiB, over the 16MiB limit for files")


@pytest.mark.parametrize("command", ["tags", "inspect"])
def test_layout_index_whose_manifests_are_not_descriptors(
    work: Path, layout: tuple[Path, b.BuiltImage], command: str
) -> None:
    """Was an AttributeError ("internal error"): entries that are strings, or objects of the wrong shape."""
    path, _ = layout
    index = path / "index.json"
    document = json.loads(index.read_text())
    document["manifests"] = [*document["manifests"], "not an object", {"annotations": ["x"], "size": 1}]
    index.write_text(json.dumps(document))
    ref = f"oci:{path}" + ("" if command == "tags" else ":v1")
    refused(cli(work, command, ref, "--no-cache"), index, "manifests[1]: malformed descriptor")


@pytest.mark.parametrize("which", ["manifest", "config", "layer"])
@pytest.mark.parametrize("make", ["dev-zero", "fifo"])
def test_layout_blob_that_is_no_regular_file_is_refused_unread(
    work: Path, layout: tuple[Path, b.BuiltImage], which: str, make: str
) -> None:
    """A blob of the image's own content failing the operation is exit 1 (``errors.SizeLimitError``)."""
    path, image = layout
    digest = {
        "manifest": image.manifest_digest,
        "config": image.config_digest,
        "layer": json.loads(image.manifest)["layers"][0]["digest"],
    }[which]
    blob = _blob(path, digest)
    blob.unlink()
    if make == "fifo":
        os.mkfifo(blob)
    else:
        blob.symlink_to("/dev/zero")
    kind = "a FIFO" if make == "fifo" else "a character device"
    assert cli(work, "tags", f"oci:{path}", "--no-cache").code == 0  # tags read index.json alone
    for command in ("inspect", "packages") if which != "layer" else ("packages",):
        result = cli(work, command, f"oci:{path}:v1", "--no-cache")
        refused(result, f"oci:{path}:v1", f"blob {digest} is {kind}, not a regular file: refused unread", code=1)


def test_layout_blob_longer_than_its_descriptor_is_refused_before_reading(
    work: Path, layout: tuple[Path, b.BuiltImage]
) -> None:
    path, image = layout
    blob = _blob(path, image.config_digest)
    blob.write_bytes(blob.read_bytes() + b" " * 100)
    error = refused(cli(work, "inspect", f"oci:{path}:v1", "--no-cache"), f"oci:{path}", code=1)
    assert f"blob {image.config_digest} is {len(image.config) + 100} bytes, longer than its declared" in error


# --- Docker's config.json --------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["/dev/zero", "fifo", "big"])
def test_docker_config_that_is_no_regular_file(work: Path, basic_registry: AuthRegistry, target: str) -> None:
    """Read when the registry asks for a login: was a MemoryError for a link to /dev/zero."""
    docker = work / "docker"
    docker.mkdir()
    config = docker / "config.json"
    if target == "fifo":
        os.mkfifo(config)
    elif target == "big":
        with config.open("wb") as handle:
            handle.truncate(100 * 1000 * 1000)
    else:
        config.symlink_to(target)
    env = {"DOCKER_CONFIG": str(docker), "REGISTRY_AUTH_FILE": "", "XDG_RUNTIME_DIR": str(work / "runtime")}
    result = cli(work, "tags", f"{basic_registry.host}/{basic_registry.repository}", "--no-cache", env=env)
    word = {"/dev/zero": "is a character device", "fifo": "is a FIFO", "big": "over the 16MiB limit"}[target]
    refused(result, config, "cannot read credentials file", word)


# --- the SQLite cache --------------------------------------------------------------------------------


def test_a_cache_row_of_the_wrong_shape_is_a_warning_and_the_right_answer(work: Path) -> None:
    """Was an AttributeError (an internal error) on every later run until the cache was deleted."""
    image = b.build_image(
        [b.build_layer([b.file("etc/os-release", "ID=debian\n"), b.file("var/lib/dpkg/status", STATUS)])]
    )
    b.write_layout(work / "pk", {"v1": image})
    cache_dir = work / "cache"
    args = ("--cache-dir", str(cache_dir), "packages", f"oci:{work / 'pk'}:v1", "--json")
    first = cli(work, *args)
    assert first.code == 0, first.err
    database = cache_dir / "cache.sqlite3"
    with sqlite3.connect(database) as db:
        (good,) = db.execute("SELECT payload FROM layers").fetchone()
        db.execute("UPDATE layers SET payload = ?", (b'{"files": [], "removed": [], "opaque": [], "warnings": []}',))
    second = cli(work, *args)
    assert second.code == 0, second.err
    assert "cache: ignoring a malformed entry for layer" in second.err and "Traceback" not in second.err
    assert json.loads(second.out)["packages"] == json.loads(first.out)["packages"]
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT payload FROM layers").fetchone()[0] == good  # read again and replaced
    third = cli(work, *args)
    assert third.code == 0 and "malformed" not in third.err


@pytest.mark.parametrize("make", ["dev-zero", "fifo", "huge"])
def test_a_ca_certificate_that_is_no_regular_file_or_too_big_is_one_line(tmp_path: Path, make: str) -> None:
    """--ca-cert is read at once (a bad one is reported before any request): as a user file."""
    from nbcatalog.errors import BadInputError
    from nbcatalog.session import Session, SessionOptions

    path = tmp_path / "ca.pem"
    if make == "dev-zero":
        path.symlink_to("/dev/zero")
    elif make == "fifo":
        os.mkfifo(path)
    else:
        with path.open("wb") as handle:
            handle.truncate(64 << 20)
    session = Session(SessionOptions(ca_cert=str(path), cache_dir=None))
    with pytest.raises(BadInputError) as caught:
        session.client("verified")
    assert str(path) in str(caught.value)
