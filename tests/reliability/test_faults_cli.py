"""Flaky registries end to end through the CLI: retried where right, one clear line where not, never a
wrong answer on stdout, nothing partial in the cache, a non-zero exit code."""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nbcatalog.cli import common
from nbcatalog.registry.retry import RetryPolicy
from nbcatalog.session import SessionOptions
from tests.cli.run import Result, run_cli
from tests.support.images import StandardImages
from tests.support.proxy import PaginatingProxy
from tests.support.registry import Pusher, RegistryServer
from tests.test_lineage import LineageImages, push_lineage_images

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's own session, with quick backoff and a short timeout so faults cost milliseconds."""
    original = common.session_options

    def quick(args: argparse.Namespace) -> SessionOptions:
        return dataclasses.replace(original(args), retry=FAST, timeout=1.0)

    monkeypatch.setattr(common, "session_options", quick)


@pytest.fixture
def proxy(paginating_proxy: PaginatingProxy, monkeypatch: pytest.MonkeyPatch) -> Iterator[PaginatingProxy]:
    # The proxy is a thread of this process: http.server would report a client hanging up early
    # (nbcatalog stopping at the first failure) on the very stderr these tests read.
    monkeypatch.setattr(paginating_proxy._server, "handle_error", lambda request, address: None)
    yield paginating_proxy


def _via(proxy: PaginatingProxy, images: StandardImages, name: str = "layered") -> str:
    return str(getattr(images, name).ref).replace(images.host, proxy.host)


def _cached_layers(cache: Path) -> set[str]:
    path = cache / "cache.sqlite3"
    if not path.exists():
        return set()
    with sqlite3.connect(path) as db:
        return {digest for (digest,) in db.execute("SELECT digest FROM layers")}


def _failed(result: Result) -> str:
    """A failure: non-zero, nothing on stdout (no partial answer), one plain line on stderr."""
    err = result.err
    assert result.code == 1, (result.code, result.out, err)
    assert result.out == ""
    assert err.count("\n") == 1 and err.startswith("nbcatalog: error: "), err
    return err.strip()


def _packages(capsys: pytest.CaptureFixture[str], ref: str, *args: str) -> Result:
    return run_cli(capsys, "packages", ref, "--json", *args)


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("status", {"status": 503, "times": 2}),
        ("status", {"status": 429, "times": 1, "headers": {"Retry-After": "1"}}),
        ("reset", {"times": 2}),
        ("reset-mid", {"times": 2}),
        ("truncate", {"times": 1}),
        ("redirect", {"times": -1}),
    ],
)
def test_transient_blob_faults_give_the_same_answer(
    capsys: pytest.CaptureFixture[str],
    proxy: PaginatingProxy,
    test_images: StandardImages,
    tmp_path: Path,
    kind: str,
    options: dict[str, object],
) -> None:
    ref = _via(proxy, test_images)
    expected = _packages(capsys, ref, "--no-cache")
    assert expected.code == 0, expected.err
    fault = proxy.add_fault(kind, r"/blobs/sha256:", method="GET", **options)  # type: ignore[arg-type]
    result = _packages(capsys, ref, "--cache-dir", str(tmp_path))
    assert result.code == 0, result.err
    assert result.json() == expected.json()
    assert fault.hits >= 1
    assert _cached_layers(tmp_path) == {layer.digest for layer in test_images.layered.image.layers}


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        ("corrupt", {}, "hashes to"),
        ("truncate", {}, r"ends after|kept failing|RemoteProtocolError"),
        ("status", {"status": 503}, "HTTP 503"),
        ("reset", {}, "kept failing|ReadError"),
        ("reset-mid", {}, "kept failing|ReadError"),
        ("stall", {"delay": 5.0}, "kept failing|ReadTimeout"),
    ],
)
def test_persistent_layer_fault_fails_and_caches_nothing_of_it(
    capsys: pytest.CaptureFixture[str],
    proxy: PaginatingProxy,
    test_images: StandardImages,
    tmp_path: Path,
    kind: str,
    options: dict[str, object],
    message: str,
) -> None:
    ref = _via(proxy, test_images)
    broken = test_images.layered.image.layers[-1].digest
    proxy.add_fault(kind, rf"/blobs/{broken}", method="GET", times=-1, **options)  # type: ignore[arg-type]
    line = _failed(_packages(capsys, ref, "--cache-dir", str(tmp_path)))
    assert re.search(message, line) and proxy.host in line
    assert broken not in _cached_layers(tmp_path)
    # once the registry heals, the same cache gives the right answer
    proxy.reset()
    healed = _packages(capsys, ref, "--cache-dir", str(tmp_path))
    assert healed.code == 0, healed.err
    assert healed.json() == _packages(capsys, ref, "--no-cache").json()


@pytest.mark.parametrize("kind", ["corrupt", "digest-header"])
@pytest.mark.parametrize("command", ["inspect", "diff", "packages"])
def test_manifest_that_lies_is_never_believed(
    capsys: pytest.CaptureFixture[str], proxy: PaginatingProxy, test_images: StandardImages, command: str, kind: str
) -> None:
    ref = _via(proxy, test_images)
    other = _via(proxy, test_images, "layered_v2")
    proxy.add_fault(kind, r"/manifests/", times=-1)
    args = (command, ref, other) if command == "diff" else (command, ref)
    result = run_cli(capsys, *args, "--json", "--no-cache")
    if result.code == 0:  # a wrong Docker-Content-Digest may be ignored, but then the answer is right
        assert kind == "digest-header"
        digests = [result.json()["digest"]] if command != "diff" else [result.json()["a"]["digest"]]
        assert digests == [test_images.layered.digest]
        return
    assert "hashes to" in _failed(result) or "digest" in result.err


def test_rate_limit_asking_too_long_is_an_error_not_a_hang(
    capsys: pytest.CaptureFixture[str], proxy: PaginatingProxy, test_images: StandardImages
) -> None:
    proxy.add_fault("status", r"/manifests/", status=429, headers={"Retry-After": "3600"}, times=-1)
    started = time.monotonic()
    line = _failed(run_cli(capsys, "inspect", _via(proxy, test_images), "--no-cache"))
    assert time.monotonic() - started < 5
    assert "429" in line


def test_diff_prints_nothing_when_one_side_fails(
    capsys: pytest.CaptureFixture[str], proxy: PaginatingProxy, test_images: StandardImages
) -> None:
    broken = test_images.layered_v2.image.layers[-1].digest
    proxy.add_fault("corrupt", rf"/blobs/{broken}", method="GET", times=-1)
    line = _failed(
        run_cli(capsys, "diff", _via(proxy, test_images), _via(proxy, test_images, "layered_v2"), "--no-cache")
    )
    assert "hashes to" in line


def test_tags_on_a_failing_registry(
    capsys: pytest.CaptureFixture[str], proxy: PaginatingProxy, test_images: StandardImages
) -> None:
    proxy.add_fault("status", r"/tags/list", status=502, times=-1)
    line = _failed(run_cli(capsys, "tags", _via(proxy, test_images).rsplit(":", 1)[0], "--json", "--no-cache"))
    assert "502" in line


def test_audit_reports_registry_errors_not_wrong_findings(
    capsys: pytest.CaptureFixture[str], proxy: PaginatingProxy, test_images: StandardImages, tmp_path: Path
) -> None:
    repo = _via(proxy, test_images).rsplit(":", 1)[0]
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(f"images:\n  - name: app\n    image: {repo}\n    tag: v1.0.0\n")
    healthy = run_cli(capsys, "audit", str(catalog), "--json", "--no-cache")
    kinds = {f["kind"] for f in healthy.json()["findings"]}
    assert "stale-tag" in kinds  # v2.0.0 exists
    proxy.add_fault("status", r"/(tags/list|manifests/)", status=503, times=-1)
    broken = run_cli(capsys, "audit", str(catalog), "--json", "--no-cache")
    assert broken.code == 1
    findings = broken.json()["findings"]
    assert findings and {f["kind"] for f in findings} == {"registry-error"}
    assert all("503" in f["message"] for f in findings)


@pytest.fixture(scope="module")
def lineage_images(pusher: Pusher, registry: RegistryServer) -> LineageImages:
    return push_lineage_images(pusher, registry.host, prefix="reliability-lineage", filler=2)


def test_lineage_under_faults(
    capsys: pytest.CaptureFixture[str],
    proxy: PaginatingProxy,
    lineage_images: LineageImages,
    registry: RegistryServer,
    tmp_path: Path,
) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(lineage_images.catalog_yaml().replace(registry.host, proxy.host))
    args = ("lineage", "--json", "--catalog", str(catalog))
    expected = run_cli(capsys, *args, "--no-cache").json()["images"]
    # transient resets and 503s: retried, same answer, and a cache that is then correct when warm
    proxy.add_fault("reset", r"/manifests/", times=2)  # fewer than the 3 attempts of FAST
    proxy.add_fault("status", r"/(tags/list|blobs/)", status=503, times=2)
    flaky = run_cli(capsys, *args, "--cache-dir", str(tmp_path / "cache"))
    assert flaky.code == 0, flaky.err
    assert flaky.json()["images"] == expected
    # one repository fails for good: no verdict for the images that need it, the rest unchanged
    proxy.reset()
    proxy.add_fault("status", r"/reliability-lineage/base/", status=503, times=-1)
    partial = run_cli(capsys, *args, "--no-cache")
    assert partial.code == 1 and "nbcatalog: error: base: " in partial.err  # a partial answer is no success
    by_name = {image["name"]: image for image in partial.json()["images"]}
    for image in expected:
        got = by_name[image["name"]]
        assert got["inferred_parent"] in (image["inferred_parent"], None)
        if image["name"] != "base":
            assert got["inferred_parent"] != "base" or image["inferred_parent"] == "base"
    assert by_name["base"]["inferred_parent"] is None
    proxy.reset()  # healed: the cache filled under faults gives the fault-free answer
    warm = run_cli(capsys, *args, "--cache-dir", str(tmp_path / "cache"))
    assert warm.json()["images"] == expected


@pytest.mark.parametrize("target", ["manifest", "config"])
def test_small_bodies_cut_off_are_asked_again(
    capsys: pytest.CaptureFixture[str], proxy: PaginatingProxy, test_images: StandardImages, target: str
) -> None:
    """A manifest or config whose body breaks off used to escape as an internal error."""
    ref = _via(proxy, test_images)
    path = r"/manifests/" if target == "manifest" else rf"/blobs/{test_images.layered.image.config_digest}"
    for kind in ("truncate", "stall"):
        proxy.reset()
        fault = proxy.add_fault(kind, path, method="GET", times=1, delay=5.0)  # type: ignore[arg-type]
        result = run_cli(capsys, "inspect", ref, "--json", "--no-cache")
        assert result.code == 0, result.err
        assert result.json()["digest"] == test_images.layered.digest and fault.hits == 1
    proxy.reset()
    proxy.add_fault("truncate", path, method="GET", times=-1)
    line = _failed(run_cli(capsys, "inspect", ref, "--json", "--no-cache"))
    assert "kept failing" in line and proxy.host in line


def test_tag_details_never_show_a_digest_the_registry_lied_about(
    capsys: pytest.CaptureFixture[str], proxy: PaginatingProxy, test_images: StandardImages
) -> None:
    proxy.add_fault("digest-header", r"/manifests/", times=-1)
    repo = test_images.layered.repo_ref.replace(test_images.host, proxy.host)
    result = run_cli(capsys, "tags", repo, "--details", "--json", "--no-cache")
    assert result.code == 1
    details = result.json()["tags"]
    assert [t["tag"] for t in details] == ["v1.0.0", "v2.0.0"]
    assert all(t["digest"] is None and "hashes to" in t["error"] for t in details)


def test_interrupted_download_exits_130_and_caches_nothing_partial(
    proxy: PaginatingProxy, test_images: StandardImages, tmp_path: Path
) -> None:
    """Ctrl-C in the middle of a layer: exit 130, one line, and that layer is not in the cache."""
    ref = _via(proxy, test_images)
    slow = test_images.layered.image.layers[-1].digest
    fault = proxy.add_fault("stall", rf"/blobs/{slow}", method="GET", times=-1, delay=30.0)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    command = [sys.executable, "-m", "nbcatalog.cli.main", "packages", ref, "--cache-dir", str(tmp_path)]
    # A shell without job control (`cmd &` in a CI script) starts children with SIGINT ignored, and
    # Python then installs no KeyboardInterrupt handler: give the child the default disposition an
    # admin's terminal gives it, so the test is about nbcatalog and not about how it was launched.
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while fault.hits == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fault.hits == 1
        time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, err
    assert out == b"" and err.decode().strip() == "nbcatalog: interrupted"
    assert slow not in _cached_layers(tmp_path)
