"""A small Docker token server (signed JWTs the real registry verifies) and the auth-enabled registries.

The registry trusts a throw-away self-signed certificate (``rootcertbundle``); tokens carry it in the
``x5c`` header. Grants follow the registry's token spec: ``aud`` = service, ``iss`` = issuer, and an
``access`` list cut down to what the credentials allow. Wrong credentials get 401 from the realm.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import fnmatch
import json
import secrets
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.registry import RegistryServer, ServedImage, start_registry

SERVICE = "nbcatalog-test-registry"
ISSUER = "nbcatalog-test-issuer"


@dataclass
class Grant:
    """``actions`` on repositories matching ``pattern`` (fnmatch), e.g. ``("private/*", {"pull"})``."""

    pattern: str
    actions: frozenset[str]


@dataclass
class TokenPolicy:
    users: dict[str, tuple[str, list[Grant]]] = field(default_factory=dict)
    anonymous: list[Grant] = field(default_factory=list)

    def allowed(self, grants: list[Grant], kind: str, name: str, wanted: list[str]) -> list[str]:
        if kind == "registry" and name == "catalog":
            resource = "registry:catalog"
        elif kind == "repository":
            resource = name
        else:
            return []
        granted: set[str] = set()
        for grant in grants:
            if fnmatch.fnmatchcase(resource, grant.pattern):
                granted |= grant.actions
        return list(wanted) if "*" in granted else [action for action in wanted if action in granted]


def self_signed_cert(directory: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "nbcatalog test token signer")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .sign(key, hashes.SHA256())
    )
    bundle = directory / "token-signer.pem"
    bundle.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert, bundle


class TokenServer:
    """``realm`` answers ``GET ?service=&scope=...`` with a JWT; ``requests`` records each ask."""

    def __init__(self, directory: Path, policy: TokenPolicy, *, lifetime: int = 300) -> None:
        self.policy = policy
        self.lifetime = lifetime
        self.key, self.cert, self.bundle = self_signed_cert(directory)
        self.requests: list[dict[str, Any]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/token"

    def start(self) -> TokenServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def issue(self, subject: str, access: list[dict[str, Any]], service: str) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": service,
            "exp": now + self.lifetime,
            "nbf": now - 5,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        x5c = base64.b64encode(self.cert.public_bytes(serialization.Encoding.DER)).decode()
        return jwt.encode(claims, self.key, algorithm="ES256", headers={"x5c": [x5c]})

    def answer(self, query: dict[str, list[str]], authorization: str | None) -> tuple[int, dict[str, Any]]:
        subject, grants = "", self.policy.anonymous
        if authorization:
            scheme, _, encoded = authorization.partition(" ")
            username, _, password = base64.b64decode(encoded).decode().partition(":")
            known = self.policy.users.get(username)
            if scheme.lower() != "basic" or known is None or known[0] != password:
                return 401, {"details": "incorrect username or password"}
            subject, grants = username, known[1]
        access = []
        for scope in query.get("scope", []):
            for part in scope.split(" "):
                kind, name, actions = _split_scope(part)
                allowed = self.policy.allowed(grants, kind, name, actions)
                if allowed:
                    access.append({"type": kind, "name": name, "actions": allowed})
        self.requests.append({"subject": subject, "scope": query.get("scope", []), "access": access})
        token = self.issue(subject, access, query.get("service", [SERVICE])[0])
        return 200, {"token": token, "access_token": token, "expires_in": self.lifetime}


def _split_scope(scope: str) -> tuple[str, str, list[str]]:
    """``repository:a/b:pull,push`` (names may hold a ``:port``-free path; actions come last)."""
    kind, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    return kind, name, [action for action in actions.split(",") if action]


def _make_handler(owner: TokenServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = 1 << 16

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            status, doc = owner.answer(query, self.headers.get("Authorization"))
            body = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if status == 401:
                self.send_header("WWW-Authenticate", 'Basic realm="token"')
            self.end_headers()
            self.wfile.write(body)

    return Handler


@dataclass
class AuthRegistry(ServedImage):
    """A registry behind auth, with a known user and an image already pushed (``image_ref``)."""

    server: RegistryServer
    username: str
    password: str
    repository: str
    tag: str
    digest: str
    public_repository: str | None = None
    token_server: TokenServer | None = None

    @property
    def public_ref(self) -> str | None:
        return f"{self.host}/{self.public_repository}:{self.tag}" if self.public_repository else None


USERNAME = "nbadmin"
PASSWORD = "s3cret-Pa55"
READER = "nbreader"
READER_PASSWORD = "read-only-Pa55"


@contextlib.contextmanager
def run_token_registry(root: Path) -> Iterator[tuple[RegistryServer, TokenServer]]:
    """Registry with ``auth: token``: ``nbadmin`` may push/pull all; ``nbreader`` pulls ``private/*``;
    anonymous pulls ``public/*``."""
    root.mkdir(parents=True, exist_ok=True)
    policy = TokenPolicy(
        users={
            USERNAME: (PASSWORD, [Grant("*", frozenset({"pull", "push", "delete", "*"}))]),
            READER: (
                READER_PASSWORD,
                [Grant("private/*", frozenset({"pull"})), Grant("public/*", frozenset({"pull"}))],
            ),
        },
        anonymous=[Grant("public/*", frozenset({"pull"}))],
    )
    tokens = TokenServer(root, policy).start()
    auth = {
        "token": {"realm": tokens.realm, "service": SERVICE, "issuer": ISSUER, "rootcertbundle": str(tokens.bundle)}
    }
    try:
        server = start_registry(root / "registry", auth=auth)
        try:
            yield server, tokens
        finally:
            server.stop()
    finally:
        tokens.stop()


def htpasswd_line(username: str, password: str) -> str:
    """A bcrypt htpasswd line from apache2-utils' ``htpasswd -Bbn`` (the registry takes only bcrypt)."""
    out = subprocess.run(["htpasswd", "-Bbn", username, password], check=True, capture_output=True, text=True)
    return out.stdout.strip() + "\n"


@contextlib.contextmanager
def run_basic_registry(root: Path) -> Iterator[RegistryServer]:
    """Registry with htpasswd basic auth (plain HTTP on loopback): ``nbadmin`` / ``PASSWORD``."""
    root.mkdir(parents=True, exist_ok=True)
    htpasswd = root / "htpasswd"
    htpasswd.write_text(htpasswd_line(USERNAME, PASSWORD))
    server = start_registry(root / "registry", auth={"htpasswd": {"realm": "nbcatalog-basic", "path": str(htpasswd)}})
    try:
        yield server
    finally:
        server.stop()
