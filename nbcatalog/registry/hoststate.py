"""What one command learnt about registry hosts, kept for the next: the ``/v2/`` ping's answer and tokens.

Without it every command pings each host once and asks the token service once per repository
before its first real request. Two files, both written whole to a temporary file created 0600 and
renamed over the old one:

- ``registry-hosts.json`` in the cache directory: per host, the base URL the ping settled on and
  the auth challenge (scheme, realm, service). No secret: a stale record only costs a ping, since
  the first request through it that fails to connect (or gets a 400) forgets it and pings again.
- ``registry-tokens.json``: bearer tokens per (host, realm, service, scope, user), each with its
  wall-clock expiry (``expires_in`` less a margin); never read past it. Tokens are credentials, so
  they live where a login session keeps its secrets, ``$XDG_RUNTIME_DIR/nbcatalog`` (per user,
  0700, memory-backed, gone at logout: podman keeps its ``auth.json`` there). Without
  ``XDG_RUNTIME_DIR`` they go to ``private/`` in the cache directory, made 0700; with one set but
  unusable (missing, someone else's, open to others), tokens are not kept at all.

``--no-cache`` (no cache directory) keeps nothing. A file that cannot be read or parsed is ignored
and rewritten; one that cannot be written is skipped: this is a shortcut, never a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HOSTS_FILE = "registry-hosts.json"
TOKENS_FILE = "registry-tokens.json"
#: A ping record older than this is pinged afresh anyway.
HOST_RECORD_SECONDS = 24 * 3600.0
#: Past this size a state file is not read (it is ours; a huge one is not).
_MAX_FILE_BYTES = 1024 * 1024
#: Tokens kept per file: the most recently obtained win.
_MAX_TOKENS = 500


@dataclass(frozen=True, slots=True)
class HostRecord:
    """The ping's findings for one host: ``base`` is ``http://host`` or ``https://host``."""

    base: str
    challenge_scheme: str | None = None
    challenge_realm: str | None = None
    challenge_service: str | None = None
    saved: float = 0.0


@dataclass(frozen=True, slots=True)
class StoredToken:
    host: str
    realm: str
    service: str | None
    scope: str | None
    user: str
    token: str
    #: Wall-clock seconds (``time.time()``) after which the token is not used.
    expires: float
    obtained: float

    @property
    def key(self) -> tuple[str, str, str | None, str | None, str]:
        return (self.host, self.realm, self.service, self.scope, self.user)

    def fresh(self, now: float) -> bool:
        """Before its expiry, and not from the future (a clock set back could stretch a lifetime)."""
        return self.obtained - 60.0 <= now < self.expires


def token_dir(cache_dir: Path) -> Path | None:
    """Where tokens may be kept: the runtime directory when it is set and private, else the cache's."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if not runtime:
        return cache_dir / "private"
    try:
        info = os.stat(runtime)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None
    return Path(runtime) / "nbcatalog"


class HostStore:
    """The two files of one cache directory; load once, :meth:`save` what the session learnt."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self.token_dir = token_dir(cache_dir)
        self._hosts: dict[str, HostRecord] | None = None
        self._tokens: list[StoredToken] | None = None

    def hosts(self) -> dict[str, HostRecord]:
        if self._hosts is None:
            now = time.time()
            self._hosts = {}
            for host, raw in _read_json(self.cache_dir / HOSTS_FILE).items():
                record = _record(raw)
                if record is not None and 0 <= now - record.saved < HOST_RECORD_SECONDS:
                    self._hosts[host] = record
        return self._hosts

    def tokens(self) -> list[StoredToken]:
        if self._tokens is None:
            self._tokens = []
            if self.token_dir is not None:
                now = time.time()
                for raw in _read_json(self.token_dir / TOKENS_FILE).get("tokens", []):
                    token = _token(raw)
                    if token is not None and token.fresh(now):
                        self._tokens.append(token)
        return self._tokens

    def save(self, hosts: dict[str, HostRecord], forget: set[str], tokens: list[StoredToken]) -> None:
        """Merge with what is on disk now (another command may have written since), drop the
        expired and the forgotten, write back. Failures are ignored (the next command pings)."""
        if hosts or forget:
            self._hosts = None
            merged = {host: asdict(record) for host, record in self.hosts().items() if host not in forget}
            merged.update({host: asdict(record) for host, record in hosts.items()})
            _write_private(self.cache_dir, HOSTS_FILE, merged, dir_mode=None)
        if tokens and self.token_dir is not None:
            self._tokens = None
            now = time.time()
            kept = {token.key: token for token in self.tokens() if token.fresh(now)}
            kept.update({token.key: token for token in tokens if token.fresh(now)})
            newest = sorted(kept.values(), key=lambda token: token.obtained)[-_MAX_TOKENS:]
            _write_private(self.token_dir, TOKENS_FILE, {"tokens": [asdict(t) for t in newest]}, dir_mode=0o700)


def _record(raw: Any) -> HostRecord | None:
    try:
        record = HostRecord(**raw)
    except TypeError:
        return None
    if not isinstance(record.base, str) or not record.base.startswith(("http://", "https://")):
        return None
    if record.challenge_scheme not in (None, "bearer", "basic") or not isinstance(record.saved, (int, float)):
        return None
    return record


def _token(raw: Any) -> StoredToken | None:
    try:
        token = StoredToken(**raw)
    except TypeError:
        return None
    texts = (token.host, token.realm, token.user, token.token)
    if not all(isinstance(text, str) for text in texts) or not token.token:
        return None
    if not isinstance(token.expires, (int, float)) or not isinstance(token.obtained, (int, float)):
        return None
    return token


def _read_json(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_FILE_BYTES + 1)
        doc = json.loads(data) if len(data) <= _MAX_FILE_BYTES else None
    except (OSError, ValueError, RecursionError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _write_private(directory: Path, name: str, doc: dict[str, Any], *, dir_mode: int | None) -> None:
    """``doc`` to ``directory/name``: a new file of mode 0600 from the start, renamed into place.

    With ``dir_mode`` the directory is made (or narrowed to) that mode first: a token file's
    directory is never open to other users.
    """
    tmp = directory / f".{name}.{os.getpid()}.tmp"
    try:
        directory.mkdir(mode=dir_mode or 0o700, parents=True, exist_ok=True)
        if dir_mode is not None and stat.S_IMODE(directory.stat().st_mode) != dir_mode:
            directory.chmod(dir_mode)
        tmp.unlink(missing_ok=True)  # a crashed run's leftover (O_EXCL below refuses to reuse it)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(doc, handle)
        os.replace(tmp, directory / name)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
