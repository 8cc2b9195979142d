"""A loopback fake of the Kubernetes API server, for the paths nbcatalog's cluster code uses.

It serves real API paths and object JSON over HTTPS (a throw-away CA written into a real kubeconfig),
checks the bearer token, keeps objects in memory with resourceVersions (409 on a stale one), answers
errors as real ``Status`` objects and logs every request for assertions.

Covered: core ``configmaps``/``secrets``/``pods``, ``apps/v1`` ``deployments``/``statefulsets``
(namespaced and all-namespace lists, ``labelSelector`` with ``key``, ``key=value``, ``key!=value``,
``!key``), the cluster-scoped custom resource ``kubeflow.org/v1beta1`` ``workspacekinds``; GET, POST,
PUT, DELETE and PATCH with merge-patch, strategic-merge-patch (as a merge patch: lists are replaced, no
patch directives) and server-side apply (create or merge; no managedFields conflict tracking);
``dryRun=All``; ``/version``, ``/api``; forbidden rules and real RBAC from Role/ClusterRole +
binding manifests (403), and one-shot hooks after a request (to play a concurrent writer).
Not covered: watches, JSON patch (415), protobuf, field selectors, admission webhooks, CRD schema
validation, subresources, discovery of API groups (``/apis``).
"""

from __future__ import annotations

import base64
import contextlib
import copy
import datetime
import json
import socket
import ssl
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

#: (group, plural) -> (version, kind, namespaced)
RESOURCES: dict[tuple[str, str], tuple[str, str, bool]] = {
    ("", "configmaps"): ("v1", "ConfigMap", True),
    ("", "secrets"): ("v1", "Secret", True),
    ("", "pods"): ("v1", "Pod", True),
    ("", "namespaces"): ("v1", "Namespace", False),
    ("apps", "deployments"): ("v1", "Deployment", True),
    ("apps", "statefulsets"): ("v1", "StatefulSet", True),
    ("kubeflow.org", "workspacekinds"): ("v1beta1", "WorkspaceKind", False),
}
VERB_BY_METHOD = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
JsonObject = dict[str, Any]


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    content_type: str | None
    authorization: str | None
    body: bytes
    status: int


@dataclass(frozen=True)
class Target:
    group: str
    plural: str
    namespace: str | None
    name: str | None

    @property
    def api_version(self) -> str:
        version = RESOURCES[(self.group, self.plural)][0]
        return f"{self.group}/{version}" if self.group else version


class ApiStatus(Exception):
    """An error answer: becomes a ``Status`` object with this code."""

    def __init__(self, code: int, reason: str, message: str, target: Target | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.target = code, reason, message, target

    def body(self) -> JsonObject:
        details: JsonObject = {}
        if self.target is not None:
            details = {"kind": self.target.plural}
            if self.target.name:
                details["name"] = self.target.name
            if self.target.group:
                details["group"] = self.target.group
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "details": details,
            "code": self.code,
        }


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: maps merge recursively, ``null`` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def parse_path(path: str) -> Target:
    parts = [part for part in path.split("/") if part]
    if parts[:2] == ["api", "v1"]:
        group, rest = "", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, rest = parts[1], parts[3:]
    else:
        raise ApiStatus(404, "NotFound", "the server could not find the requested resource")
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 2 or (group, rest[0]) not in RESOURCES:
        raise ApiStatus(404, "NotFound", "the server could not find the requested resource")
    return Target(group, rest[0], namespace, rest[1] if len(rest) == 2 else None)


def parse_selector(selector: str) -> Callable[[dict[str, str]], bool]:
    """``labelSelector``: comma-separated ``key``, ``!key``, ``key=value``, ``key!=value``."""
    tests: list[Callable[[dict[str, str]], bool]] = []
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            tests.append(lambda labels, k=key, v=value: labels.get(k) != v)
        elif "=" in term:
            key, value = term.split("==", 1) if "==" in term else term.split("=", 1)
            tests.append(lambda labels, k=key, v=value: labels.get(k) == v)
        elif term.startswith("!"):
            tests.append(lambda labels, k=term[1:]: k not in labels)
        else:
            tests.append(lambda labels, k=term: k in labels)
    return lambda labels: all(test(labels) for test in tests)


@dataclass(frozen=True)
class RbacRule:
    """One PolicyRule with the namespace its binding grants it in (None: cluster-wide)."""

    verbs: frozenset[str]
    api_groups: frozenset[str]
    resources: frozenset[str]
    resource_names: frozenset[str]
    namespace: str | None

    def allows(self, verb: str, target: Target) -> bool:
        if self.namespace is not None and target.namespace != self.namespace:
            return False  # a RoleBinding never grants cluster-scoped or all-namespace requests
        if self.resource_names and target.name not in self.resource_names:
            return False  # nor, with resourceNames, lists
        return (
            bool({verb, "*"} & self.verbs)
            and bool({target.group, "*"} & self.api_groups)
            and bool({target.plural, "*"} & self.resources)
        )


@dataclass
class FakeKubeAPI:
    """The in-memory API server state; the HTTP layer calls :meth:`handle`."""

    token: str = field(default_factory=lambda: f"fake-token-{uuid.uuid4().hex}")
    user: str = "system:serviceaccount:nbcatalog:tester"
    requests: list[LoggedRequest] = field(default_factory=list)
    objects: dict[tuple[str, str, str, str], JsonObject] = field(default_factory=dict)
    forbidden: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)
    rbac: list[RbacRule] | None = None  # None: everything not forbidden is allowed
    hooks: list[tuple[str, str, Callable[[FakeKubeAPI], None]]] = field(default_factory=list)
    url: str = ""
    ca_pem: bytes = b""
    _version: int = 1000
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # -- seeding and inspection (tests call these directly) --
    def add(self, obj: JsonObject) -> JsonObject:
        """Store ``obj`` as if created (apiVersion/kind pick the resource)."""
        group = obj["apiVersion"].rpartition("/")[0]
        plural = next(p for (g, p), (_, kind, _) in RESOURCES.items() if g == group and kind == obj["kind"])
        namespaced = RESOURCES[(group, plural)][2]
        namespace = obj["metadata"].get("namespace", "default") if namespaced else None
        target = Target(group, plural, namespace, obj["metadata"]["name"])
        with self._lock:
            return self._write(target, copy.deepcopy(obj), create=True)

    def get(self, plural: str, name: str, namespace: str | None = None) -> JsonObject | None:
        with self._lock:
            for (_group, p, ns, n), obj in self.objects.items():
                if p == plural and n == name and ns == (namespace or ""):
                    return copy.deepcopy(obj)
        return None

    def forbid(self, verb: str, plural: str, namespace: str | None = None, name: str | None = None) -> None:
        """Answer 403 to ``verb`` (get/list/create/update/patch/delete) on matching objects."""
        self.forbidden.append((verb, plural, namespace, name))

    def after(self, method: str, path: str, hook: Callable[[FakeKubeAPI], None]) -> None:
        """Run ``hook`` once, right after the first ``method path`` request has been answered."""
        self.hooks.append((method, path, hook))

    def touch(self, plural: str, name: str, namespace: str | None = None) -> None:
        """Play a concurrent writer: bump the object's resourceVersion."""
        with self._lock:
            key = next(k for k in self.objects if k[1] == plural and k[3] == name and k[2] == (namespace or ""))
            self._version += 1
            self.objects[key]["metadata"]["resourceVersion"] = str(self._version)

    def writes(self) -> list[LoggedRequest]:
        return [r for r in self.requests if r.method in VERB_BY_METHOD]

    def write_kubeconfig(self, path: Path, *, token: str | None = None, namespace: str = "default") -> Path:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "fake",
                    "cluster": {
                        "server": self.url,
                        "certificate-authority-data": base64.b64encode(self.ca_pem).decode(),
                    },
                }
            ],
            "users": [{"name": "tester", "user": {"token": token or self.token}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "tester", "namespace": namespace}}],
            "current-context": "fake",
        }
        path.write_text(yaml.safe_dump(config))
        return path

    # -- the API --
    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> tuple[int, JsonObject]:
        split = urlsplit(raw_path)
        query = parse_qs(split.query)
        try:
            scheme, _, token = (headers.get("authorization") or "").partition(" ")
            if scheme.lower() != "bearer" or token != self.token:  # the scheme is case-insensitive
                raise ApiStatus(401, "Unauthorized", "Unauthorized")
            status, answer = self._dispatch(method, split.path, query, headers.get("content-type"), body)
        except ApiStatus as exc:
            status, answer = exc.code, exc.body()
        self.requests.append(
            LoggedRequest(
                method,
                split.path,
                query,
                headers.get("content-type"),
                headers.get("authorization"),
                body,
                status,
            )
        )
        for hook in [h for h in self.hooks if h[0] == method and h[1] == split.path]:
            self.hooks.remove(hook)
            hook[2](self)
        return status, answer

    def _dispatch(
        self, method: str, path: str, query: dict[str, list[str]], content_type: str | None, body: bytes
    ) -> tuple[int, JsonObject]:
        if path == "/version":
            return 200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-fake", "platform": "linux/amd64"}
        if path == "/api":
            return 200, {"kind": "APIVersions", "versions": ["v1"]}
        target = parse_path(path)
        verb = VERB_BY_METHOD.get(method, "get" if target.name else "list")
        self._check_allowed(verb, target)
        dry_run = query.get("dryRun") == ["All"]
        with self._lock:
            if method == "GET":
                return 200, self._read(target, query)
            payload = json.loads(body) if body and content_type != "application/apply-patch+yaml" else None
            if method == "POST":
                return 201, self._write(target, self._named(target, payload, post=True), create=True, dry=dry_run)
            if method == "PUT":
                return 200, self._write(target, self._named(target, payload), dry=dry_run)
            if method == "DELETE":
                return 200, self._delete(target, dry_run)
            if method == "PATCH":
                return self._patch(target, query, content_type, body, dry_run)
        raise ApiStatus(405, "MethodNotAllowed", f"method {method} not allowed")

    def _check_allowed(self, verb: str, target: Target) -> None:
        denied = any(
            (rule_verb, plural) == (verb, target.plural)
            and namespace in (None, target.namespace)
            and name in (None, target.name)
            for rule_verb, plural, namespace, name in self.forbidden
        )
        if denied or (self.rbac is not None and not any(rule.allows(verb, target) for rule in self.rbac)):
            what = f'{target.plural} "{target.name}"' if target.name else target.plural
            scope = f' in the namespace "{target.namespace}"' if target.namespace else " at the cluster scope"
            raise ApiStatus(
                403,
                "Forbidden",
                f'{what} is forbidden: User "{self.user}" cannot {verb} resource "{target.plural}" '
                f'in API group "{target.group}"{scope}',
                target,
            )

    def grant(self, manifests: list[JsonObject], namespace: str, service_account: str) -> None:
        """Enforce RBAC: from now on the caller may do only what the (Cluster)Roles bound to this
        service account allow (ClusterRoleBinding: everywhere; RoleBinding: in its namespace)."""
        self.user = f"system:serviceaccount:{namespace}:{service_account}"
        by_name = {(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]): d for d in manifests}
        self.rbac = []
        for binding in manifests:
            if binding["kind"] not in ("RoleBinding", "ClusterRoleBinding"):
                continue
            subject = {"kind": "ServiceAccount", "name": service_account, "namespace": namespace}
            if not any({k: s.get(k) for k in subject} == subject for s in binding.get("subjects", [])):
                continue
            scope = binding["metadata"].get("namespace") if binding["kind"] == "RoleBinding" else None
            ref = binding["roleRef"]
            role_ns = scope if ref["kind"] == "Role" else None
            role = by_name[(ref["kind"], role_ns, ref["name"])]
            for rule in role.get("rules", []):
                self.rbac.append(
                    RbacRule(
                        frozenset(rule.get("verbs", [])),
                        frozenset(rule.get("apiGroups", [])),
                        frozenset(rule.get("resources", [])),
                        frozenset(rule.get("resourceNames", [])),
                        scope,
                    )
                )

    def _key(self, target: Target, name: str | None = None) -> tuple[str, str, str, str]:
        return (target.group, target.plural, target.namespace or "", name or target.name or "")

    def _read(self, target: Target, query: dict[str, list[str]]) -> JsonObject:
        if target.name:
            obj = self.objects.get(self._key(target))
            if obj is None:
                raise ApiStatus(404, "NotFound", f'{target.plural} "{target.name}" not found', target)
            return copy.deepcopy(obj)
        matches = parse_selector(query.get("labelSelector", [""])[0])
        items = [
            copy.deepcopy(obj)
            for (group, plural, namespace, _), obj in sorted(self.objects.items())
            if (group, plural) == (target.group, target.plural)
            and target.namespace in (None, namespace)
            and matches(obj["metadata"].get("labels") or {})
        ]
        kind = RESOURCES[(target.group, target.plural)][1]
        return {
            "kind": f"{kind}List",
            "apiVersion": target.api_version,
            "metadata": {"resourceVersion": str(self._version)},
            "items": items,
        }

    def _named(self, target: Target, payload: Any, *, post: bool = False) -> JsonObject:
        if not isinstance(payload, dict) or not isinstance(payload.get("metadata"), dict):
            raise ApiStatus(400, "BadRequest", "the body must be an object with metadata")
        name = payload["metadata"].get("name")
        if post and target.name is None and name:
            return payload
        if not name or name != target.name:
            raise ApiStatus(400, "BadRequest", "the name of the object does not match the name on the URL")
        return payload

    def _write(self, target: Target, obj: JsonObject, *, create: bool = False, dry: bool = False) -> JsonObject:
        name = obj["metadata"]["name"]
        key = self._key(target, name)
        existing = self.objects.get(key)
        named = Target(target.group, target.plural, target.namespace, name)
        if create and existing is not None:
            raise ApiStatus(409, "AlreadyExists", f'{target.plural} "{name}" already exists', named)
        if not create and existing is None:
            raise ApiStatus(404, "NotFound", f'{target.plural} "{name}" not found', named)
        sent_version = obj["metadata"].get("resourceVersion")
        if existing is not None and sent_version and sent_version != existing["metadata"]["resourceVersion"]:
            raise ApiStatus(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {target.plural} "{name}": the object has been modified; '
                "please apply your changes to the latest version and try again",
                named,
            )
        kind = RESOURCES[(target.group, target.plural)][1]
        obj = copy.deepcopy(obj)
        obj["apiVersion"], obj["kind"] = target.api_version, kind
        meta = obj["metadata"]
        if target.namespace:
            meta["namespace"] = target.namespace
        previous = existing["metadata"] if existing else {}
        meta["uid"] = previous.get("uid", str(uuid.uuid4()))
        meta["creationTimestamp"] = previous.get(
            "creationTimestamp", datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        )
        generation = previous.get("generation", 0)
        changed = existing is None or existing.get("spec") != obj.get("spec")
        meta["generation"] = generation + 1 if changed else generation
        if dry:
            meta["resourceVersion"] = previous.get("resourceVersion", "0")
            return obj
        self._version += 1
        meta["resourceVersion"] = str(self._version)
        self.objects[key] = obj
        return copy.deepcopy(obj)

    def _delete(self, target: Target, dry: bool) -> JsonObject:
        obj = self.objects.get(self._key(target))
        if obj is None:
            raise ApiStatus(404, "NotFound", f'{target.plural} "{target.name}" not found', target)
        if not dry:
            del self.objects[self._key(target)]
        return copy.deepcopy(obj)

    def _patch(
        self, target: Target, query: dict[str, list[str]], content_type: str | None, body: bytes, dry: bool
    ) -> tuple[int, JsonObject]:
        if target.name is None:
            raise ApiStatus(405, "MethodNotAllowed", "PATCH needs an object name")
        existing = self.objects.get(self._key(target))
        if content_type == "application/apply-patch+yaml":
            if not query.get("fieldManager"):
                raise ApiStatus(422, "Invalid", "PatchOptions.meta.k8s.io is invalid: fieldManager: Required value")
            applied = yaml.safe_load(body)
            if existing is None:
                return 201, self._write(target, self._named(target, applied), create=True, dry=dry)
            return 200, self._write(target, merge_patch(existing, applied), dry=dry)
        if content_type not in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
            raise ApiStatus(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format: {content_type}",
            )
        if existing is None:
            raise ApiStatus(404, "NotFound", f'{target.plural} "{target.name}" not found', target)
        patched = merge_patch(existing, json.loads(body))
        sent = (json.loads(body).get("metadata") or {}).get("resourceVersion")
        patched["metadata"]["resourceVersion"] = sent or existing["metadata"]["resourceVersion"]
        return 200, self._write(target, patched, dry=dry)


# -- TLS and the HTTP layer --


def make_tls(tmp: Path) -> tuple[bytes, ssl.SSLContext]:
    """A throw-away CA and a server certificate for 127.0.0.1: (CA PEM, server SSL context)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def cert(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name, signer: Any, ca: bool) -> Any:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
            builder = builder.add_extension(san, critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-kube-ca")])
    ca_cert = cert("fake-kube-ca", ca_key, ca_name, ca_key, True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = cert("127.0.0.1", server_key, ca_name, ca_key, False)
    pem = serialization.Encoding.PEM
    (tmp / "server.crt").write_bytes(server_cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    (tmp / "server.key").write_bytes(
        server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp / "server.crt", tmp / "server.key")
    return ca_cert.public_bytes(pem), context


def _handler_for(api: FakeKubeAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = 1 << 16
        timeout = 10

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, answer = api.handle(self.command, self.path, headers, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the handler threads: nothing is left running

    def __init__(self, handler: type[BaseHTTPRequestHandler], context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.context = context
        self.connections: set[Any] = set()

    def get_request(self) -> tuple[Any, Any]:
        sock, address = self.socket.accept()
        conn = self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        self.connections.add(conn)
        return conn, address

    def shutdown_request(self, request: Any) -> None:
        self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up mid-handshake is not a test failure


def serve(tmp: Path) -> Iterator[FakeKubeAPI]:
    """Run the fake on 127.0.0.1 (free port, HTTPS) for the duration of the ``with``/fixture."""
    ca_pem, context = make_tls(tmp)
    api = FakeKubeAPI(ca_pem=ca_pem)
    server = _Server(_handler_for(api), context)
    api.url = f"https://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="fake-kube-api", daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        for conn in list(server.connections):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)  # wakes handlers idling on a keep-alive read
        server.server_close()
        thread.join(timeout=5)
