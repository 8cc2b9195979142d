"""Where the cache lives when ``--cache-dir`` names no other place: the one locator every command,
the app and the session share.

A module of its own, with nothing heavy imported, so that a command can find the cache without
importing SQLite (``tags`` and ``inspect`` never open it) or the session.
"""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/nbcatalog``, else ``~/.cache/nbcatalog``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nbcatalog"
