"""The SQLite cache: layer entries, JSON values with a TTL, two processes at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from nbcatalog.cache import DB_NAME, Cache
from nbcatalog.errors import NbcatalogError


def test_layers_round_trip_per_parser(tmp_path: Path) -> None:
    with Cache(tmp_path) as cache:
        cache.put_layer("sha256:aa", "packages/1", b"payload-1")
        cache.put_layer("sha256:aa", "files/x", b"other")
        cache.put_layer("sha256:aa", "packages/1", b"payload-2")
        assert cache.get_layers(["sha256:aa", "sha256:bb", "sha256:aa"], "packages/1") == {"sha256:aa": b"payload-2"}
        assert cache.get_layers(["sha256:aa"], "packages/2") == {}
        assert cache.get_layers([], "packages/1") == {}
        assert cache.layer_count() == 2
    with Cache(tmp_path) as reopened:
        assert reopened.get_layers(["sha256:aa"], "files/x") == {"sha256:aa": b"other"}


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
