"""A real registry process (Debian's ``docker-registry``) on loopback, and a pusher for built artifacts.

Shared by the tests (through ``tests/conftest.py``) and the ``bench/`` scripts: start it with
``run_registry(root)``, push with ``Pusher(server.url).push(repo, artifact, tags)``.
"""

from __future__ import annotations

import base64
import contextlib
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from nbcatalog.ocibuild import Artifact

REGISTRY_BINARY = "docker-registry"


def free_port() -> int:
    """A port free right now on 127.0.0.1 (the registry binds it a few ms later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RegistryServer:
    """A running registry; ``host`` is ``127.0.0.1:PORT`` as image references spell it."""

    host: str
    root: Path
    process: subprocess.Popen[bytes]
    scheme: str = "http"
    config_path: Path | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"

    @property
    def port(self) -> int:
        return int(self.host.rpartition(":")[2])

    def stop(self) -> None:
        """Stop our own process by its PID (never by name: other registries may be running)."""
        stop_process(self.process)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate a server the test started, by its PID; kill it if it does not go within 5 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


class ServedImage:
    """``host``, ``url`` and ``image_ref`` of a fixture holding a server and one pushed ``repository:tag``."""

    server: RegistryServer
    repository: str
    tag: str

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def image_ref(self) -> str:
        return f"{self.host}/{self.repository}:{self.tag}"


def registry_config(
    root: Path, port: int, *, auth: dict[str, Any] | None = None, tls: tuple[Path, Path] | None = None
) -> dict[str, Any]:
    """Our own minimal config: loopback only, temp storage, deletes allowed, quiet logs."""
    http: dict[str, Any] = {"addr": f"127.0.0.1:{port}", "secret": "nbcatalog-tests"}
    if tls:
        http["tls"] = {"certificate": str(tls[0]), "key": str(tls[1])}
    config: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "error", "accesslog": {"disabled": True}},
        "storage": {
            "filesystem": {"rootdirectory": str(root / "storage")},
            "delete": {"enabled": True},
            "maintenance": {"uploadpurging": {"enabled": False}},
        },
        "http": http,
        "health": {"storagedriver": {"enabled": False}},
    }
    if auth:
        config["auth"] = auth
    return config


def _wait_ready(url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float = 10.0) -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"docker-registry exited ({process.returncode}): {log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/v2/", timeout=1, context=context):
                return
        except urllib.error.HTTPError:
            return  # 401 from an auth-enabled registry: it is serving
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"docker-registry did not answer at {url} within {timeout}s")


def start_registry(
    root: Path, *, auth: dict[str, Any] | None = None, tls: tuple[Path, Path] | None = None
) -> RegistryServer:
    """Start ``docker-registry serve`` with storage under ``root``; retries if the port was taken."""
    if shutil.which(REGISTRY_BINARY) is None:
        raise RuntimeError("docker-registry is not installed (apt-get install docker-registry)")
    root.mkdir(parents=True, exist_ok=True)
    last_error: Exception | None = None
    for attempt in range(5):
        port = free_port()
        config_path = root / f"config-{attempt}.yml"
        config_path.write_text(yaml.safe_dump(registry_config(root, port, auth=auth, tls=tls)))
        log_path = root / f"registry-{attempt}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [REGISTRY_BINARY, "serve", str(config_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        server = RegistryServer(f"127.0.0.1:{port}", root, process, "https" if tls else "http", config_path, log_path)
        try:
            _wait_ready(server.url, process, log_path)
            return server
        except RuntimeError as exc:
            server.stop()
            last_error = exc
    raise RuntimeError(f"could not start docker-registry: {last_error}")


@contextlib.contextmanager
def run_registry(
    root: Path, *, auth: dict[str, Any] | None = None, tls: tuple[Path, Path] | None = None
) -> Iterator[RegistryServer]:
    server = start_registry(root, auth=auth, tls=tls)
    try:
        yield server
    finally:
        server.stop()


def _parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.partition(" ")
    params: dict[str, str] = {}
    for part in httpx_split_params(rest):
        key, _, value = part.partition("=")
        params[key.strip().lower()] = value.strip().strip('"')
    return scheme.lower(), params


def httpx_split_params(text: str) -> list[str]:
    """Split ``a="x,y",b=z`` on commas outside quotes (scopes contain commas)."""
    parts, current, quoted = [], "", False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current)
    return parts


@dataclass
class ChallengeAuth(httpx.Auth):
    """Answers the registry's 401 challenge: Basic directly, Bearer via the token realm (cached)."""

    username: str | None = None
    password: str | None = None
    verify: ssl.SSLContext | bool = True
    tokens: dict[str, str] = field(default_factory=dict)

    def _basic(self) -> str:
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        response = yield request
        if response.status_code != 401 or "www-authenticate" not in response.headers:
            return
        scheme, params = _parse_challenge(response.headers["www-authenticate"])
        if scheme == "basic":
            request.headers["Authorization"] = self._basic()
            yield request
            return
        scope = params.get("scope", "")
        token = self.tokens.get(scope)
        if token is None:
            query = {"service": params.get("service", "")}
            if scope:
                query["scope"] = scope
            headers = {"Authorization": self._basic()} if self.username else {}
            answer = httpx.get(params["realm"], params=query, headers=headers, verify=self.verify)
            answer.raise_for_status()
            body = answer.json()
            token = str(body.get("token") or body.get("access_token"))
            self.tokens[scope] = token
        request.headers["Authorization"] = f"Bearer {token}"
        yield request


class PushError(RuntimeError):
    pass


class Pusher:
    """Uploads artifacts over the registry HTTP API: blobs, child manifests, then the top manifest."""

    def __init__(self, base_url: str, *, auth: httpx.Auth | None = None, verify: ssl.SSLContext | bool = True) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = httpx.Client(auth=auth, verify=verify, timeout=30.0)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Pusher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check(self, response: httpx.Response, what: str) -> None:
        if response.status_code >= 300:
            raise PushError(f"{what}: HTTP {response.status_code}: {response.text[:500]}")

    def has_blob(self, repo: str, digest: str) -> bool:
        return self.client.head(f"{self.base_url}/v2/{repo}/blobs/{digest}").status_code == 200

    def push_blob(self, repo: str, digest: str, data: bytes) -> None:
        if self.has_blob(repo, digest):
            return
        started = self.client.post(f"{self.base_url}/v2/{repo}/blobs/uploads/")
        self._check(started, f"start upload to {repo}")
        location = httpx.URL(self.base_url).join(started.headers["location"])
        # The Location carries _state in its query: merge ?digest= into it, never replace it.
        finish = location.copy_merge_params({"digest": digest})
        done = self.client.put(finish, content=data, headers={"Content-Type": "application/octet-stream"})
        self._check(done, f"upload {digest} to {repo}")

    def put_manifest(self, repo: str, reference: str, media_type: str, data: bytes) -> str:
        response = self.client.put(
            f"{self.base_url}/v2/{repo}/manifests/{reference}",
            content=data,
            headers={"Content-Type": media_type},
        )
        self._check(response, f"put manifest {repo}:{reference}")
        return str(response.headers.get("docker-content-digest", ""))

    def push(self, repo: str, artifact: Artifact, tags: Sequence[str] | str | None = None) -> str:
        """Push ``artifact`` and point each tag at it; returns its digest."""
        for digest, data in artifact.blobs.items():
            self.push_blob(repo, digest, data)
        for media_type, digest, data in artifact.manifests:
            self.put_manifest(repo, digest, media_type, data)
        names = [tags] if isinstance(tags, str) else list(tags or [])
        for reference in names or [artifact.manifest_digest]:
            self.put_manifest(repo, reference, artifact.media_type, artifact.manifest)
        return artifact.manifest_digest

    def push_image(self, repo: str, tag: str, built: Artifact) -> str:
        return self.push(repo, built, [tag])

    def tag_many(self, repo: str, artifact: Artifact, tags: Sequence[str], workers: int = 4) -> None:
        """Point many tags at an already pushed artifact (manifest PUTs are the slow part: ~75/s)."""
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda tag: self.put_manifest(repo, tag, artifact.media_type, artifact.manifest), tags))

    def delete_manifest(self, repo: str, digest: str) -> None:
        response = self.client.delete(f"{self.base_url}/v2/{repo}/manifests/{digest}")
        self._check(response, f"delete {repo}@{digest}")
