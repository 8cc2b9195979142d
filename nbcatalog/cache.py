"""An embedded SQLite cache under the cache dir: per-layer results and short-lived JSON values.

Layer results are keyed by (layer digest, parser key) and written only after a layer was read to
its end and its digest verified, in one transaction: a process killed mid-layer leaves nothing
behind. WAL mode and a busy timeout let two processes read and write at once.

What comes back is checked against the shape its writer gives it (:data:`_LAYER_SHAPES`,
:data:`_VALUE_SHAPES`): a row of another shape (an older nbcatalog's, a hand edit, a damaged page)
is logged as a warning and treated as a miss, so the caller reads the content again and the new
result replaces the row. A cache never turns into a wrong answer or a crash.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from nbcatalog.errors import NbcatalogError

log = logging.getLogger("nbcatalog")

DB_NAME = "cache.sqlite3"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 10_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS layers (
    digest TEXT NOT NULL,
    parser TEXT NOT NULL,
    payload BLOB NOT NULL,
    stored_at REAL NOT NULL,
    PRIMARY KEY (digest, parser)
);
CREATE TABLE IF NOT EXISTS kv (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    expires_at REAL,
    PRIMARY KEY (namespace, key)
);
"""


def _retry_locked(step: Callable[[], None]) -> None:
    """Run ``step``, retrying while another process holds a lock SQLite's busy handler does not wait for."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


# -- the shapes stored rows must have ------------------------------------------------------------


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _package_row(row: Any) -> bool:
    """``Package.to_row``: ecosystem, name, version, location, extra.

    Spelt out rather than ``all(...)`` over a generator: it runs once per cached package, thousands
    of times in a warm ``packages``, and this is several times faster.
    """
    return (
        isinstance(row, list)
        and len(row) == 5
        and isinstance(row[0], str)
        and isinstance(row[1], str)
        and isinstance(row[2], str)
        and isinstance(row[3], str)
        and (row[4] is None or isinstance(row[4], dict))
    )


def _parsed_file(entry: Any) -> bool:
    """``nbcatalog.packages.layer``'s encoding of one parsed file: packages, warnings, content."""
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("p"), list)
        and all(_package_row(row) for row in entry["p"])
        and _strings(entry.get("w"))
        and isinstance(entry.get("c", ""), str)
    )


def _layer_result(payload: bytes, file_ok: Callable[[Any], bool]) -> bool:
    """A ``LayerResult`` as ``nbcatalog.packages.layer`` encodes it (``encode_packages``/``encode_files``)."""
    try:
        doc = json.loads(payload)
    except (ValueError, RecursionError):
        return False
    return (
        isinstance(doc, dict)
        and isinstance(doc.get("files"), dict)
        and all(isinstance(path, str) and file_ok(entry) for path, entry in doc["files"].items())
        and all(_strings(doc.get(key)) for key in ("removed", "opaque", "warnings"))
        and isinstance(doc.get("size", 0), int)
    )


#: Parser keys as ``nbcatalog.packages.image`` spells them (``packages/<PARSER_VERSION>``,
#: ``files/<16 hex>``) -> whether a stored payload has the shape that parser's decoder reads.
#: Other parser keys are opaque bytes, handed back as stored.
_LAYER_SHAPES: dict[re.Pattern[str], Callable[[bytes], bool]] = {
    re.compile(r"packages/\d+"): lambda payload: _layer_result(payload, _parsed_file),
    re.compile(r"files/[0-9a-f]{16}"): lambda payload: _layer_result(payload, lambda entry: isinstance(entry, str)),
}


def _chain(value: Any) -> bool:
    """``nbcatalog.lineage.scan.ChainStore``'s entries (and its ``""`` marker, any value)."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("digest"), str)
        and _strings(value.get("diff_ids"))
        and isinstance(value.get("platform"), str)
    )


#: Namespace -> whether a stored value (its key given) has the shape its reader expects. Values of
#: other namespaces are any JSON.
_VALUE_SHAPES: dict[str, Callable[[str, Any], bool]] = {
    "audit-tags": lambda key, value: _strings(value),  # nbcatalog.audit.fetch: a repository's tags
    "lineage-chain": lambda key, value: key == "" or _chain(value),
}


def _layer_ok(parser: str, payload: bytes) -> bool:
    check = next((check for key, check in _LAYER_SHAPES.items() if key.fullmatch(parser)), None)
    return check is None or check(payload)


class Cache:
    """One connection to the cache database; use one per thread (SQLite's rule)."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / DB_NAME
        try:
            directory.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            _retry_locked(self._enable_wal)
            self._db.execute("PRAGMA synchronous = NORMAL")
            if self._db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                _retry_locked(self._create_schema)
        except (OSError, sqlite3.Error) as exc:
            raise NbcatalogError(f"cannot open the cache: {exc}", where=str(self.path)) from exc

    def _enable_wal(self) -> None:
        """Only the first open switches to WAL (it needs the database to itself); later ones just read it."""
        if self._db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            self._db.execute("PRAGMA journal_mode = WAL")

    def _create_schema(self) -> None:
        with self._transaction():
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version == SCHEMA_VERSION:
                return  # another process got there first
            if version != 0:
                self._db.execute("DROP TABLE IF EXISTS layers")
                self._db.execute("DROP TABLE IF EXISTS kv")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @classmethod
    def open(cls, directory: Path | None) -> Cache | None:
        """The cache in ``directory``, or None when caching is off (``--no-cache``)."""
        return None if directory is None else cls(directory)

    @classmethod
    def open_or_warn(cls, directory: Path | None, what: str) -> Cache | None:
        """Like :meth:`open`, but an unusable cache only warns: ``what`` then runs uncached."""
        try:
            return cls.open(directory)
        except NbcatalogError as exc:
            logging.getLogger("nbcatalog").warning("%s cache disabled: %s", what, exc)
            return None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Cache:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- layers -----------------------------------------------------------------------------------

    def get_layers(self, digests: Iterable[str], parser: str) -> dict[str, bytes]:
        """The stored payloads among ``digests`` for ``parser`` (one query: ask what is missing first)."""
        wanted = list(dict.fromkeys(digests))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = self._db.execute(
            f"SELECT digest, payload FROM layers WHERE parser = ? AND digest IN ({marks})",
            [parser, *wanted],
        ).fetchall()
        found: dict[str, bytes] = {}
        for digest, stored in rows:
            payload = stored.encode("utf-8") if isinstance(stored, str) else stored  # a TEXT row: same bytes
            if isinstance(payload, bytes) and _layer_ok(parser, payload):
                found[str(digest)] = payload
            else:
                log.warning("cache: ignoring a malformed entry for layer %s (%s): reading it again", digest, parser)
        return found

    def put_layer(self, digest: str, parser: str, payload: bytes) -> None:
        """Store one fully read, verified layer's result (atomically; a concurrent writer's copy wins)."""
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO layers (digest, parser, payload, stored_at) VALUES (?, ?, ?, ?)",
                (digest, parser, payload, time.time()),
            )

    def layer_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM layers").fetchone()[0])

    # -- generic JSON values with a time to live ----------------------------------------------------

    def get_json(self, namespace: str, key: str) -> Any | None:
        row = self._db.execute(
            "SELECT value, expires_at FROM kv WHERE namespace = ? AND key = ?", (namespace, key)
        ).fetchone()
        if row is None:
            return None
        text, expires_at = row
        if expires_at is not None and not isinstance(expires_at, (int, float)):
            return self._malformed(namespace, key)
        if expires_at is not None and expires_at <= time.time():
            return None
        try:
            value = json.loads(text)
        except (TypeError, ValueError, RecursionError):
            return self._malformed(namespace, key)
        check = _VALUE_SHAPES.get(namespace)
        if check is not None and not check(key, value):
            return self._malformed(namespace, key)
        return value

    @staticmethod
    def _malformed(namespace: str, key: str) -> None:
        """A row that is not what its writer stores: a miss, so it is read afresh and replaced."""
        log.warning("cache: ignoring a malformed %s entry for %r: reading it again", namespace, key)
        return None

    def put_json(self, namespace: str, key: str, value: Any, ttl: float | None = None) -> None:
        """Store ``value`` (JSON-serialisable) for ``ttl`` seconds (None: until replaced)."""
        expires = None if ttl is None else time.time() + ttl
        with self._transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO kv (namespace, key, value, expires_at) VALUES (?, ?, ?, ?)",
                (namespace, key, json.dumps(value), expires),
            )

    def purge_expired(self) -> int:
        with self._transaction():
            cursor = self._db.execute("DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ?", (time.time(),))
        return cursor.rowcount

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")
