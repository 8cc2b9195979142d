"""Bad input through the CLI: one plain line naming the file:line or reference at fault, never a traceback."""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from nbcatalog import ocibuild as b
from nbcatalog.oci import MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, OCI_CONFIG, OCI_MANIFEST, sha256_digest
from tests.cli.run import Result, run_cli
from tests.support.registry import Pusher, RegistryServer

IMAGE = "    image: quay.io/jupyter/scipy-notebook\n"
#: (file name, catalog text, the "file:line:col" the error must name, a word of the message)
CATALOGS = [
    ("syntax", "images:\n  - name: a\n" + IMAGE + "    tag: [1\n", ":5:1", "YAML"),
    ("schema", "images: 3\n", ":1:9", "must be a list"),
    ("unknown-key", "images:\n  - name: a\n" + IMAGE + "    tag: v1\n    colour: red\n", ":5:5", "colour"),
    (
        "duplicate",
        "images:\n  - name: a\n" + IMAGE + "    tag: v1\n  - name: a\n" + IMAGE + "    tag: v2\n",
        ":5:5",
        "duplicate",
    ),
    (
        "cycle",
        "images:\n  - name: a\n" + IMAGE + "    tag: v1\n    parent: b\n  - name: b\n" + IMAGE + "    tag: v2\n"
        "    parent: a\n",
        ":5:13",
        "cycle",
    ),
    ("dangling-parent", "images:\n  - name: a\n" + IMAGE + "    tag: v1\n    parent: zz\n", ":5:13", "unknown parent"),
    ("bad-repository", "images:\n  - name: a\n    image: Not A/Ref!\n    tag: v1\n", ":3:12", "invalid"),
    ("bad-tag", "images:\n  - name: a\n" + IMAGE + "    tag: 'bad tag!'\n", ":4:10", "invalid tag"),
    ("tag-in-image", "images:\n  - name: a\n    image: x/y:v1\n    tag: v1\n", ":3:12", "without tag"),
    ("bad-digest", "images:\n  - name: a\n" + IMAGE + "    tag: v1\n    digest: sha256:abc\n", ":5:13", "digest"),
    ("bad-gpu", "images:\n  - name: a\n" + IMAGE + "    tag: v1\n    gpu: maybe\n", ":5:10", "gpu"),
    ("bad-regex", "images:\n  - name: a\n" + IMAGE + "    tag: v1\n    tag_policy: 'regex:(['\n", ":5:17", "regex"),
]
COMMANDS = [
    ("export", "--format", "kubeflow", "-o", "out.yaml"),
    ("lineage", "--json"),
    ("audit", "--json", "--tags-only"),
    ("diff", "a", "a"),
]


def _one_line_error(result: Result, code: int = 2) -> str:
    assert result.code == code, (result.code, result.out, result.err)
    assert result.out == ""
    assert result.err.count("\n") == 1 and result.err.startswith("nbcatalog: error: "), result.err
    assert "Traceback" not in result.err
    return result.err.strip()


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    """Like run_cli, with argparse's own exit 2 turned into a Result."""
    try:
        return run_cli(capsys, *args)
    except SystemExit as exc:
        captured = capsys.readouterr()
        return Result(int(exc.code or 0), captured.out, captured.err)


@pytest.mark.parametrize("command", COMMANDS, ids=[c[0] for c in COMMANDS])
@pytest.mark.parametrize(("name", "text", "position", "word"), CATALOGS, ids=[c[0] for c in CATALOGS])
def test_bad_catalog_is_one_line_naming_file_line_column(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: tuple[str, ...],
    name: str,
    text: str,
    position: str,
    word: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    catalog = tmp_path / f"{name}.yaml"
    catalog.write_text(text)
    line = _one_line_error(run_cli(capsys, "--catalog", str(catalog), *command, "--no-cache"))
    if command[0] == "audit" and name == "schema":
        position, word = ": not a profile file", "catalog.yaml"  # no images list: not recognisably a catalog
    assert f"{catalog}{position}" in line
    assert word.lower() in line.lower()
    assert not (tmp_path / "out.yaml").exists()


@pytest.mark.parametrize(
    ("content", "word"),
    [
        ("just: a mapping\nof: things\n", "not a profile file"),
        ("\xff\xfe", "cannot read"),
        ("key: [unclosed\n", ":2:1"),
        ("- a\n- list\n", "not a profile file"),
    ],
)
def test_profile_file_of_no_known_kind(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, word: str
) -> None:
    path = tmp_path / "mystery.yaml"
    path.write_bytes(content.encode("latin-1"))
    line = _one_line_error(run_cli(capsys, "audit", str(path), "--catalog", str(tmp_path / "none.yaml")))
    assert str(path) in line and word in line


def test_missing_profile_path(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    line = _one_line_error(run_cli(capsys, "audit", str(tmp_path / "nope.yaml")))
    assert "nope.yaml" in line


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("export", "--format", "spawner-of-doom"), "--format"),
        (("lineage", "--format", "svg"), "--format"),
        (("audit", "--format", "xml"), "--format"),
        (("packages", "x/y:1", "--ecosystem", "npm"), "--ecosystem"),
        (("audit", "--fail-on", "catastrophic"), "--fail-on"),
        (("tags", "x/y", "--frobnicate"), "--frobnicate"),
        (("diff", "x/y:1"), "REF_B"),
        (("--backend", "docker", "tags", "x/y"), "--backend"),
        (("no-such-command",), "no-such-command"),
    ],
)
def test_bad_usage_is_one_line_naming_the_option(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], named: str, tmp_path: Path
) -> None:
    line = _one_line_error(_run(capsys, *args, "--catalog", str(tmp_path / "none.yaml")))
    assert named in line and "--help" in line


@pytest.mark.parametrize(
    "reference",
    [
        "UPPER/Case:v1",
        "repo@sha256:abc",
        "repo:tag with space",
        ":v1",
        "a" * 300,
        "repo:" + "t" * 200,
        "oci:",
        "x/y:v1\nNEWLINE",
        "../../etc/passwd",
    ],
)
@pytest.mark.parametrize("command", ["inspect", "packages", "tags"])
def test_invalid_reference_names_it(capsys: pytest.CaptureFixture[str], reference: str, command: str) -> None:
    result = run_cli(capsys, command, reference, "--no-cache", "--catalog", "/nonexistent/catalog.yaml")
    line = _one_line_error(result)
    assert reference.split("\n")[0][:40] in line or repr(reference)[1:40] in line


def test_invalid_platform(capsys: pytest.CaptureFixture[str]) -> None:
    line = _one_line_error(run_cli(capsys, "--platform", "linux", "inspect", "x/y:v1", "--no-cache"))
    assert "--platform" in line


# --- OCI layouts on disk: caps, links to devices, content that is not what it claims ----------------------


def _blob(layout: Path, data: bytes) -> str:
    digest = sha256_digest(data)
    path = layout / "blobs" / "sha256" / digest[7:]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return digest


def _tag(layout: Path, tag: str, manifest: bytes, media_type: str = OCI_MANIFEST) -> None:
    index_path = layout / "index.json"
    index = json.loads(index_path.read_text())
    descriptor = {"mediaType": media_type, "digest": _blob(layout, manifest), "size": len(manifest)}
    index["manifests"].append({**descriptor, "annotations": {"org.opencontainers.image.ref.name": tag}})
    index_path.write_text(json.dumps(index))


def _manifest(config_digest: str, config_size: int, layers: list[dict[str, object]] | None = None) -> bytes:
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config_size},
        "layers": layers or [],
    }
    return json.dumps(doc).encode()


@pytest.fixture(scope="module")
def hostile_layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    layout = tmp_path_factory.mktemp("layout") / "oci"
    good = b.build_image([b.build_layer([b.file("etc/os-release", "ID=debian\n")])])
    b.write_layout(layout, {"good": good})
    # a manifest just past the cap (an annotation of junk)
    huge = json.loads(good.manifest)
    huge["annotations"] = {"junk": "x" * MAX_MANIFEST_BYTES}
    _tag(layout, "huge-manifest", json.dumps(huge).encode())
    # a config past its cap
    config = json.dumps({"architecture": "amd64", "os": "linux", "junk": "x" * MAX_CONFIG_BYTES}).encode()
    _tag(layout, "huge-config", _manifest(_blob(layout, config), len(config)))
    # blobs that are links to an endless device
    zero_config = sha256_digest(b"config behind /dev/zero")
    os.symlink("/dev/zero", layout / "blobs" / "sha256" / zero_config[7:])
    _tag(layout, "zero-config", _manifest(zero_config, 100))
    zero_layer = sha256_digest(b"layer behind /dev/zero")
    os.symlink("/dev/zero", layout / "blobs" / "sha256" / zero_layer[7:])
    layers = [{"mediaType": b.layer_media_type("gzip"), "digest": zero_layer, "size": 4096}]
    _tag(layout, "zero-layer", _manifest(good.config_digest, len(good.config), layers))
    # content that is not JSON, or JSON of the wrong shape
    _tag(layout, "not-json", b"\x00\x01 definitely not a manifest")
    _tag(layout, "wrong-shape", b'{"schemaVersion": 2, "layers": "no"}')
    _tag(layout, "list", b"[1, 2, 3]")
    not_json_config = b"not json at all"
    _tag(layout, "config-not-json", _manifest(_blob(layout, not_json_config), len(not_json_config)))
    # a blob whose bytes changed after it was written (bit rot, tampering)
    tampered = _manifest(good.config_digest, len(good.config))
    _tag(layout, "tampered", tampered)
    (layout / "blobs" / "sha256" / sha256_digest(tampered)[7:]).write_bytes(tampered.replace(b"2", b"3", 1))
    return layout


@pytest.mark.parametrize(
    ("tag", "word"),
    [
        ("huge-manifest", "--limit manifest-bytes=N"),
        ("huge-config", "--limit config-bytes=N"),
        ("zero-config", "--limit config-bytes=N"),
        ("not-json", "JSON"),
        ("wrong-shape", "manifest"),
        ("list", "JSON object"),
        ("config-not-json", "JSON"),
        ("tampered", "hashes to"),
        ("absent", "no image tagged"),
    ],
)
@pytest.mark.parametrize("command", ["inspect", "packages"])
def test_hostile_layout_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], hostile_layout: Path, command: str, tag: str, word: str
) -> None:
    ref = f"oci:{hostile_layout}:{tag}"
    result = run_cli(capsys, command, ref, "--no-cache", "--catalog", str(hostile_layout / "none.yaml"))
    line = _one_line_error(result, result.code)
    assert result.code in (1, 2)
    assert word in line
    assert str(hostile_layout) in line


def test_layer_linked_to_dev_zero_stops_at_its_declared_size(
    capsys: pytest.CaptureFixture[str], hostile_layout: Path
) -> None:
    result = run_cli(capsys, "packages", f"oci:{hostile_layout}:zero-layer", "--no-cache")
    line = _one_line_error(result, 1)
    assert "longer than its declared 4096 bytes" in line


@pytest.mark.parametrize(
    ("setup", "word"),
    [
        (lambda p: None, "not an OCI image layout"),
        (lambda p: (p / "oci-layout").write_text("{}"), "index.json"),
        (lambda p: [(p / "oci-layout").write_text("{}"), (p / "index.json").write_text("{")], "index.json"),
        (lambda p: [(p / "oci-layout").write_text("{}"), (p / "index.json").write_text("[]")], "manifests"),
    ],
)
def test_broken_layout_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path, setup: object, word: str) -> None:
    layout = tmp_path / "layout"
    layout.mkdir()
    setup(layout)  # type: ignore[operator]
    line = _one_line_error(run_cli(capsys, "inspect", f"oci:{layout}:v1", "--no-cache"))
    assert word in line and str(layout) in line


class _Endless(BaseHTTPRequestHandler):
    """A hostile registry: its manifests never end (no Content-Length, chunked forever)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/v2/":
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")
            return
        self.send_response(200)
        self.send_header("Content-Type", OCI_MANIFEST)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b"x" * 65536
        try:
            for _ in range(4096):  # 256 MiB at most, should anyone read that far
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            pass


def test_oversized_registry_responses_are_cut_at_the_cap(
    capsys: pytest.CaptureFixture[str], pusher: Pusher, registry: RegistryServer
) -> None:
    """What a registry serves is capped: read no further than the cap, then one line naming the image."""
    layer = b.build_layer([b.file("etc/os-release", "ID=debian\n")])
    pusher.push("reliability/oversized", b.build_image([layer], labels={"junk": "x" * MAX_CONFIG_BYTES}), ["config"])
    line = _one_line_error(run_cli(capsys, "inspect", f"{registry.host}/reliability/oversized:config", "--no-cache"), 1)
    assert "over the limit" in line and "config-bytes" in line and "reliability/oversized" in line
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endless)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        ref = f"127.0.0.1:{server.server_address[1]}/hostile/endless:v1"
        line = _one_line_error(run_cli(capsys, "inspect", ref, "--no-cache"), 1)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert "over the limit" in line and "hostile/endless" in line


DEEP = "[" * 1200 + "]" * 1200


def test_deeply_nested_catalog_is_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``[[[[...]]]]`` used to escape as an internal RecursionError (one command: ~2 s in ruamel)."""
    command = ("lineage", "--json")
    monkeypatch.chdir(tmp_path)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(f"images: {DEEP}\n")
    line = _one_line_error(run_cli(capsys, "--catalog", str(catalog), *command, "--no-cache"))
    assert str(catalog) in line and "nested too deeply" in line


def test_deeply_nested_manifest_and_config_are_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    layout = tmp_path / "oci"
    b.write_layout(layout, {"good": b.build_image([b.build_layer([b.file("etc/hostname", "x\n")])])})
    _tag(layout, "deep-manifest", DEEP.encode())
    deep_config = DEEP.encode()
    _tag(layout, "deep-config", _manifest(_blob(layout, deep_config), len(deep_config)))
    for tag in ("deep-manifest", "deep-config"):
        line = _one_line_error(run_cli(capsys, "inspect", f"oci:{layout}:{tag}", "--no-cache"), 1)
        assert "not JSON" in line and str(layout) in line


@pytest.mark.parametrize(
    "text",
    [f"singleuser:\n  profileList: {DEEP}\n", f"spawnerFormDefaults:\n  image:\n    options: {DEEP}\n"],
    ids=["z2jh", "kubeflow"],
)
def test_deeply_nested_profile_file_is_bad_input(capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str) -> None:
    path = tmp_path / "values.yaml"
    path.write_text(text)
    line = _one_line_error(run_cli(capsys, "audit", str(path), "--catalog", str(tmp_path / "none.yaml")))
    assert str(path) in line and "nested too deeply" in line


@pytest.mark.parametrize("export_format", ["kubeflow", "jupyterhub", "workspacekind"])
def test_deeply_nested_base_file_for_export_is_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, export_format: str
) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text("images:\n  - name: a\n" + IMAGE + "    tag: v1\n")
    base = tmp_path / "base.yaml"
    base.write_text(f"spawnerFormDefaults:\n  image:\n    options: {DEEP}\n")
    out = tmp_path / "out.yaml"
    args = ("export", "--format", export_format, "--catalog", str(catalog), "--base", str(base), "-o", str(out))
    line = _one_line_error(run_cli(capsys, *args))
    assert str(base) in line and "nested too deeply" in line
    assert not out.exists()


def test_deeply_nested_file_to_apply_is_bad_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "spawner_ui_config.yaml"
    path.write_text(f"spawnerFormDefaults:\n  image:\n    options: {DEEP}\n")
    line = _one_line_error(run_cli(capsys, "apply", "--format", "kubeflow", "--file", str(path), "--dry-run"))
    assert str(path) in line and "nested too deeply" in line


def test_layout_entries_without_media_type(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """An index.json entry without mediaType/size used to parse the manifest blindly (internal error)."""
    layout = tmp_path / "oci"
    b.write_layout(layout, {"good": b.build_image([b.build_layer([b.file("etc/hostname", "x\n")])])})
    index = json.loads((layout / "index.json").read_text())
    for name, manifest in (("garbage", b"\xff not json"), ("deep", DEEP.encode()), ("list", b"[]")):
        entry = {"digest": _blob(layout, manifest), "annotations": {"org.opencontainers.image.ref.name": name}}
        index["manifests"].append(entry)
    (layout / "index.json").write_text(json.dumps(index))
    for name in ("garbage", "deep", "list"):
        line = _one_line_error(run_cli(capsys, "inspect", f"oci:{layout}:{name}", "--no-cache"), 1)
        assert "JSON" in line and str(layout) in line
    (layout / "index.json").write_text(DEEP)
    line = _one_line_error(run_cli(capsys, "inspect", f"oci:{layout}:good", "--no-cache"))
    assert "index.json" in line and str(layout) in line
