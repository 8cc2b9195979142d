"""Registry credentials from the places Docker, podman and skopeo keep them.

Order: containers' ``auth.json`` (``$REGISTRY_AUTH_FILE``, ``$XDG_RUNTIME_DIR/containers/auth.json``),
then Docker's ``config.json`` (``$DOCKER_CONFIG`` or ``~/.docker``): ``credHelpers`` for the host, then
``auths``, then ``credsStore``. A :class:`Credentials` never shows its secret in ``repr`` or ``str``.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbcatalog.errors import AuthError, BadInputError

_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str = field(repr=False)
    #: An OAuth2 refresh token (Docker's ``identitytoken``) instead of a password.
    identity_token: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return f"Credentials(username={self.username!r}, secret=<redacted>)"


def _auth_files() -> list[Path]:
    files: list[Path] = []
    if os.environ.get("REGISTRY_AUTH_FILE"):
        files.append(Path(os.environ["REGISTRY_AUTH_FILE"]))
    if os.environ.get("XDG_RUNTIME_DIR"):
        files.append(Path(os.environ["XDG_RUNTIME_DIR"]) / "containers" / "auth.json")
    docker_dir = Path(os.environ["DOCKER_CONFIG"]) if os.environ.get("DOCKER_CONFIG") else Path.home() / ".docker"
    files.append(docker_dir / "config.json")
    return files


def _host_keys(registry: str) -> list[str]:
    """Keys a config may file ``registry`` under (with or without scheme, Hub's legacy names)."""
    if registry in ("docker.io", "registry-1.docker.io", "index.docker.io"):
        return list(_HUB_KEYS)
    return [
        registry,
        f"https://{registry}",
        f"http://{registry}",
        f"https://{registry}/v1/",
        f"https://{registry}/v2/",
    ]


def _read_config(path: Path) -> dict[str, Any] | None:
    """One credentials file, or None when there is none.

    Read through :mod:`nbcatalog.localfiles`: a file that is there but is no regular file (a link to
    ``/dev/zero``, a FIFO, a directory) or is over the ``file-bytes`` limit stops the command with one
    line naming it (exit 2), as a malformed one does (exit 1), rather than being skipped: skipping it
    would send requests without the credentials the user meant to use and fail later, further from
    the cause. Nothing of its content is ever quoted.
    """
    from nbcatalog import localfiles

    try:
        raw = localfiles.read_bytes(path, what="the credentials file")
    except localfiles.MissingFileError:
        return None
    except BadInputError as exc:
        raise BadInputError(f"cannot read credentials file: {exc.message}", where=exc.where) from None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise AuthError(f"cannot read credentials file: {exc}", where=str(path)) from exc
    return data if isinstance(data, dict) else None


def _decode_auth(entry: dict[str, Any], where: str) -> Credentials | None:
    identity = entry.get("identitytoken") or None
    if entry.get("auth"):
        try:
            decoded = base64.b64decode(str(entry["auth"])).decode("utf-8")
        except (ValueError, UnicodeDecodeError) as exc:
            raise AuthError("malformed 'auth' entry (not base64 user:password)", where=where) from exc
        user, sep, password = decoded.partition(":")
        if not sep:
            raise AuthError("malformed 'auth' entry (no ':' between user and password)", where=where)
        return Credentials(user, password, identity)
    if entry.get("username") and entry.get("password"):
        return Credentials(str(entry["username"]), str(entry["password"]), identity)
    if identity:
        return Credentials("<token>", "", str(identity))
    return None


def _from_helper(helper: str, registry: str) -> Credentials | None:
    """Run ``docker-credential-HELPER get`` with the server URL on stdin (argument list, no shell)."""
    program = f"docker-credential-{helper}"
    server = "https://index.docker.io/v1/" if registry in _HUB_KEYS else registry
    try:
        result = subprocess.run([program, "get"], input=server, capture_output=True, text=True, timeout=30, check=False)
    except FileNotFoundError as exc:
        raise AuthError(f"credential helper {program} is not installed", where=registry) from exc
    except subprocess.TimeoutExpired as exc:
        raise AuthError(f"credential helper {program} timed out", where=registry) from exc
    if result.returncode != 0:
        if "credentials not found" in (result.stdout + result.stderr).lower():
            return None
        raise AuthError(f"credential helper {program} failed (exit {result.returncode})", where=registry)
    try:
        data = json.loads(result.stdout)
    except (ValueError, RecursionError) as exc:
        raise AuthError(f"credential helper {program} printed no JSON", where=registry) from exc
    if not isinstance(data, dict):
        raise AuthError(f"credential helper {program} printed no JSON object", where=registry)
    user, secret = str(data.get("Username", "")), str(data.get("Secret", ""))
    if user == "<token>":
        return Credentials(user, "", secret)
    return Credentials(user, secret) if user or secret else None


def find_credentials(registry: str) -> Credentials | None:
    """Credentials for ``registry`` (host[:port]) from the first file that has some, else None."""
    for path in _auth_files():
        config = _read_config(path)
        if not config:
            continue
        keys = _host_keys(registry)
        helpers = config.get("credHelpers") or {}
        for key in keys:
            if key in helpers:
                return _from_helper(str(helpers[key]), registry)
        auths = config.get("auths") or {}
        for key in keys:
            entry = auths.get(key)
            if isinstance(entry, dict):
                creds = _decode_auth(entry, f"{path} (auths.{key})")
                if creds:
                    return creds
        if config.get("credsStore"):
            creds = _from_helper(str(config["credsStore"]), registry)
            if creds:
                return creds
    return None
