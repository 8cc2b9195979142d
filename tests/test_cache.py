"""The SQLite cache: layer entries, JSON values with a TTL, two processes at once."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nbcatalog.cache import DB_NAME, Cache
from nbcatalog.errors import NbcatalogError


def test_layers_round_trip_per_parser(tmp_path: Path) -> None:
    # parser keys of no known encoding: payloads are opaque bytes (packages/ and files/ are checked)
    with Cache(tmp_path) as cache:
        cache.put_layer("sha256:aa", "opaque/1", b"payload-1")
        cache.put_layer("sha256:aa", "other/x", b"other")
        cache.put_layer("sha256:aa", "opaque/1", b"payload-2")
        assert cache.get_layers(["sha256:aa", "sha256:bb", "sha256:aa"], "opaque/1") == {"sha256:aa": b"payload-2"}
        assert cache.get_layers(["sha256:aa"], "opaque/2") == {}
        assert cache.get_layers([], "opaque/1") == {}
        assert cache.layer_count() == 2
    with Cache(tmp_path) as reopened:
        assert reopened.get_layers(["sha256:aa"], "other/x") == {"sha256:aa": b"other"}


def test_json_values_expire(tmp_path: Path) -> None:
    with Cache(tmp_path) as cache:
        cache.put_json("tags", "quay.io/jupyter/base-notebook", ["a", "b"], ttl=0.2)
        cache.put_json("forever", "k", {"x": 1})
        assert cache.get_json("tags", "quay.io/jupyter/base-notebook") == ["a", "b"]
        assert cache.get_json("tags", "other") is None
        time.sleep(0.3)
        assert cache.get_json("tags", "quay.io/jupyter/base-notebook") is None
        assert cache.get_json("forever", "k") == {"x": 1}
        assert cache.purge_expired() == 1


def test_no_cache_dir_means_no_cache(tmp_path: Path) -> None:
    assert Cache.open(None) is None
    cache = Cache.open(tmp_path / "deep" / "dir")
    assert cache is not None and (tmp_path / "deep" / "dir" / DB_NAME).is_file()
    cache.close()


def test_an_unusable_cache_dir_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(NbcatalogError, match="cannot open the cache"):
        Cache(blocker)


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from nbcatalog.cache import Cache
    cache = Cache(Path(sys.argv[1]))
    for i in range(200):
        cache.put_layer(f"sha256:{sys.argv[2]}{i}", "p", b"x" * 5000)
        cache.put_json("ns", f"{sys.argv[2]}{i}", i, ttl=60)
        assert cache.get_layers([f"sha256:{sys.argv[2]}{i}"], "p")
    cache.close()
    """
)


def test_two_processes_write_at_once(tmp_path: Path) -> None:
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), name], stderr=subprocess.PIPE)
        for name in ("a", "b", "c")
    ]
    for writer in writers:
        _, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err.decode()
    with Cache(tmp_path) as cache:
        assert cache.layer_count() == 600
        assert cache.get_json("ns", "b199") == 199


# --- rows of the wrong shape: a warning and a miss, never a crash or a wrong answer ---------------

FILES_PARSER = "files/0123456789abcdef"


@pytest.fixture
def warnings_logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The "nbcatalog" logger's warnings, also after a CLI run in this process stopped its propagation."""
    logger = logging.getLogger("nbcatalog")
    logger.addHandler(caplog.handler)
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield caplog
    logger.removeHandler(caplog.handler)
    logger.setLevel(level)


MALFORMED_LAYERS = [
    b"not json",
    b"[1, 2, 3]",
    b'{"files": [], "removed": [], "opaque": [], "warnings": []}',  # .items() of a list: AttributeError
    b'{"files": {"/x": "not a parsed file"}, "removed": [], "opaque": [], "warnings": []}',
    b'{"files": {"/x": {"p": [["deb", "a"]], "w": []}}, "removed": [], "opaque": [], "warnings": []}',
    b'{"files": {}, "removed": 3, "opaque": [], "warnings": []}',
    b'{"files": {}, "opaque": [], "warnings": []}',
    b'{"files": {}, "removed": [], "opaque": [], "warnings": [], "size": "big"}',
]


@pytest.mark.parametrize("payload", MALFORMED_LAYERS)
def test_a_malformed_layer_row_is_a_warned_miss_and_is_overwritten(
    tmp_path: Path, warnings_logged: pytest.LogCaptureFixture, payload: bytes
) -> None:
    from nbcatalog.packages.layer import LayerResult, decode_packages, encode_packages
    from nbcatalog.packages.model import Package, ParsedFile

    good = LayerResult({"var/lib/dpkg/status": ParsedFile([Package("deb", "bash", "5.2", "/", {})], [])})
    with Cache(tmp_path) as cache:
        cache.put_layer("sha256:aa", "packages/9", encode_packages(good))
        assert decode_packages(cache.get_layers(["sha256:aa"], "packages/9")["sha256:aa"]) == good
        cache.put_layer("sha256:aa", "packages/9", payload)
        assert cache.get_layers(["sha256:aa"], "packages/9") == {}
        assert "malformed entry for layer sha256:aa" in warnings_logged.text
        cache.put_layer("sha256:aa", "packages/9", encode_packages(good))  # what the re-read stores
        assert cache.get_layers(["sha256:aa"], "packages/9") == {"sha256:aa": encode_packages(good)}


def test_file_layers_are_checked_too(tmp_path: Path, warnings_logged: pytest.LogCaptureFixture) -> None:
    from nbcatalog.packages.layer import LayerResult, encode_files

    good = encode_files(LayerResult({"etc/passwd": b"root:x:0:0\n"}))
    with Cache(tmp_path) as cache:
        cache.put_layer("sha256:aa", FILES_PARSER, good)
        cache.put_layer(
            "sha256:bb", FILES_PARSER, b'{"files": {"etc/passwd": 7}, "removed": [], "opaque": [], "warnings": []}'
        )
        assert cache.get_layers(["sha256:aa", "sha256:bb"], FILES_PARSER) == {"sha256:aa": good}
        assert "sha256:bb" in warnings_logged.text


@pytest.mark.parametrize(
    ("namespace", "key", "stored"),
    [
        ("audit-tags", "quay.io/x/y", '{"not": "a list"}'),
        ("audit-tags", "quay.io/x/y", "[1, 2]"),
        ("lineage-chain", "k", '{"digest": "sha256:aa"}'),
        ("lineage-chain", "k", '{"digest": "sha256:aa", "diff_ids": 5, "platform": "linux/amd64"}'),
        ("lineage-chain", "k", "[]"),
        ("anything", "k", "{broken json"),
    ],
)
def test_a_malformed_value_is_a_warned_miss(
    tmp_path: Path, warnings_logged: pytest.LogCaptureFixture, namespace: str, key: str, stored: str
) -> None:
    import sqlite3

    with Cache(tmp_path):
        pass
    with sqlite3.connect(tmp_path / DB_NAME) as db:
        db.execute(
            "INSERT INTO kv (namespace, key, value, expires_at) VALUES (?, ?, ?, NULL)", (namespace, key, stored)
        )
    with Cache(tmp_path) as cache:
        assert cache.get_json(namespace, key) is None
    assert f"malformed {namespace} entry" in warnings_logged.text


def test_well_formed_values_of_the_known_namespaces_come_back(tmp_path: Path) -> None:
    chain = {"digest": "sha256:aa", "diff_ids": ["sha256:bb"], "platform": "linux/amd64"}
    with Cache(tmp_path) as cache:
        cache.put_json("audit-tags", "quay.io/x/y", ["v1", "v2"])
        cache.put_json("lineage-chain", "k", chain)
        cache.put_json("lineage-chain", "", True)
        assert cache.get_json("audit-tags", "quay.io/x/y") == ["v1", "v2"]
        assert cache.get_json("lineage-chain", "k") == chain
        assert cache.get_json("lineage-chain", "") is True
