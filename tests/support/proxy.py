"""A loopback front for the real registry that pages tag lists the ways real registries do, and breaks on cue.

The Debian registry returns every tag in one page; real ones cap pages and link to the next with
``last=`` (Docker distribution, relative or absolute ``Link``) or an opaque token (Quay), some listing
oldest first. Everything else is forwarded unchanged (bodies streamed). ``Fault`` rules inject what
flaky registries do: status codes (429 with/without ``Retry-After``, 5xx), connection resets,
truncated or corrupted bodies, slow or stalled bodies, a wrong ``Docker-Content-Digest`` and redirects.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import re
import socket
import struct
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

TAGS_PATH = re.compile(r"^/v2/(?P<name>.+)/tags/list$")
REDIRECT_MARK = "_nbproxy_redirected"
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}

FaultKind = Literal["status", "reset", "reset-mid", "truncate", "slow", "stall", "corrupt", "digest-header", "redirect"]
PageStyle = Literal["docker", "quay", "none"]


@dataclass
class Fault:
    """Applies to requests whose path matches ``path`` (regex search), ``times`` times (-1: always)."""

    kind: FaultKind
    path: str = ""
    method: str | None = None
    times: int = 1
    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.05
    location: str | None = None
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times != -1 and self.hits >= self.times:
            return False
        if self.method and self.method.upper() != method:
            return False
        return re.search(self.path, path) is not None


class TagPager:
    """Pages a full tag list: ``page_size`` caps ``n``; ``order`` sorts (default: lexical).

    Misbehaviours seen in the wild: ``link_origin`` sends absolute links to another origin (a client
    must not follow them off the registry host), ``loop`` links back to the first page forever,
    ``inject`` adds entries such as ``None`` (Nexus), digest-like strings (Artifactory) or cosign
    ``sha256-<hex>.sig`` tags to the first page.
    """

    def __init__(self) -> None:
        self.style: PageStyle = "docker"
        self.absolute_links = False
        self.page_size = 100
        self.order: Callable[[list[str]], list[str]] | None = None
        self.link_origin: str | None = None
        self.loop = False
        self.inject: list[str | None] = []

    def page(
        self, name: str, tags: list[str], query: dict[str, str], origin: str
    ) -> tuple[list[str | None], str | None]:
        ordered: list[str | None] = [*self.inject, *(self.order(list(tags)) if self.order else sorted(tags))]
        if self.style == "none":
            return ordered, None
        size = min(int(query.get("n", self.page_size) or self.page_size), self.page_size)
        start = 0
        if self.style == "quay" and "next_page" in query:
            start = _decode_token(query["next_page"])
        elif "last" in query:
            last = query["last"]
            start = ordered.index(last) + 1 if last in ordered else sum(1 for t in ordered if t and t <= last)
        chunk = ordered[start : start + size]
        if start + size >= len(ordered):
            return chunk, None
        if self.loop:
            params = {"n": str(size)}
        elif self.style == "quay":
            params = {"n": str(size), "next_page": _encode_token(start + size)}
        else:
            params = {"n": str(size), "last": str(chunk[-1])}
        target = f"/v2/{name}/tags/list?{urllib.parse.urlencode(params)}"
        if self.absolute_links or self.link_origin:
            target = (self.link_origin or origin) + target
        return chunk, f'<{target}>; rel="next"'


def _encode_token(offset: int) -> str:
    """Opaque like Quay's: not a tag, not a number a client could guess its way around."""
    return base64.urlsafe_b64encode(b"nbproxy" + struct.pack(">I", offset)).decode().rstrip("=")


def _decode_token(token: str) -> int:
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    return int(struct.unpack(">I", raw[7:11])[0])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # unbuffered writes stall each response ~40 ms (Nagle + delayed ACK)
    timeout = 10
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def end_headers(self) -> None:
        for key, value in self.server.proxy.response_headers.items():
            self.send_header(key, value)
        super().end_headers()

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        proxy = self.server.proxy
        parsed = urllib.parse.urlsplit(self.path)
        query = [(k, v) for k, v in urllib.parse.parse_qsl(parsed.query, keep_blank_values=True)]
        redirected = any(k == REDIRECT_MARK for k, _ in query)
        query = [(k, v) for k, v in query if k != REDIRECT_MARK]
        upstream_path = parsed.path + ("?" + urllib.parse.urlencode(query) if query else "")
        body = self._read_body()
        proxy.log.append((self.command, self.path))
        fault = proxy.take_fault(self.command, parsed.path, redirected)
        if fault is not None and fault.kind in ("status", "reset", "redirect"):
            self._pre_fault(fault, parsed.path, query)
            return
        match = TAGS_PATH.match(parsed.path)
        if match and self.command == "GET":
            self._tags(match.group("name"), dict(query), fault)
            return
        self._forward(upstream_path, body, fault)

    def _pre_fault(self, fault: Fault, path: str, query: list[tuple[str, str]]) -> None:
        if fault.kind == "reset":
            self._reset()
            return
        if fault.kind == "redirect":
            target = fault.location or path + "?" + urllib.parse.urlencode([*query, (REDIRECT_MARK, "1")])
            self._reply(fault.status if fault.status in (301, 302, 303, 307, 308) else 307, b"", {"Location": target})
            return
        errors = {
            "errors": [{"code": "TOOMANYREQUESTS" if fault.status == 429 else "UNAVAILABLE", "message": "injected"}]
        }
        self._reply(fault.status, json.dumps(errors).encode(), {"Content-Type": "application/json", **fault.headers})

    def _reset(self) -> None:
        """Abort the connection with a TCP RST (linger 0), as a dying registry or load balancer does."""
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    @contextlib.contextmanager
    def _upstream(self, method: str, path: str, body: bytes) -> Iterator[http.client.HTTPResponse]:
        connection = http.client.HTTPConnection(self.server.proxy.upstream_host, timeout=30)
        try:
            yield self._request(connection, method, path, body)
        finally:
            connection.close()

    def _request(
        self, connection: http.client.HTTPConnection, method: str, path: str, body: bytes
    ) -> http.client.HTTPResponse:
        # Repeated headers (skopeo sends one Accept line per media type) must all go through.
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for key, value in self.headers.items():
            if key.lower() not in HOP_BY_HOP | {"content-length"}:
                connection.putheader(key, value)
        if body or method in ("PUT", "POST", "PATCH"):
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        return connection.getresponse()

    def _tags(self, name: str, query: dict[str, str], fault: Fault | None) -> None:
        with self._upstream("GET", f"/v2/{name}/tags/list", b"") as response:
            raw = response.read()
        headers = {k: v for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP | {"content-length"}}
        if response.status != 200:
            self._reply(response.status, raw, headers)
            return
        tags = json.loads(raw).get("tags") or []
        origin = f"http://{self.headers.get('Host', self.server.proxy.host)}"
        try:
            page, link = self.server.proxy.pager.page(name, tags, query, origin)
        except (ValueError, struct.error):
            error = {"errors": [{"code": "PAGINATION_NUMBER_INVALID", "message": "bad page token"}]}
            self._reply(400, json.dumps(error).encode(), {"Content-Type": "application/json"})
            return
        if link:
            headers["Link"] = link
        body = json.dumps({"name": name, "tags": page}).encode()
        self._send_body(response.status, headers, body, fault)

    def _forward(self, path: str, body: bytes, fault: Fault | None) -> None:
        with self._upstream(self.command, path, body) as response:
            self._relay(response, fault)

    def _relay(self, response: http.client.HTTPResponse, fault: Fault | None) -> None:
        headers = {k: v for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP}
        length = headers.pop("Content-Length", None) or headers.pop("content-length", None)
        if fault is None and length is not None:
            self.send_response(response.status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", length)
            self.end_headers()
            if self.command != "HEAD":
                while chunk := response.read(1 << 16):
                    self.wfile.write(chunk)
            return
        payload = response.read() if self.command != "HEAD" else b""
        self._send_body(response.status, headers, payload, fault)

    def _send_body(self, status: int, headers: dict[str, str], body: bytes, fault: Fault | None) -> None:
        if fault and fault.kind == "corrupt" and body:
            body = body[:-1] + bytes([body[-1] ^ 0x01])
        if fault and fault.kind == "digest-header":
            for key in [k for k in headers if k.lower() == "docker-content-digest"]:
                headers[key] = "sha256:" + "0" * 64
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if fault and fault.kind == "truncate":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if fault and fault.kind == "reset-mid":
            # Headers and half the body, then a reset: unlike "truncate", no clean end of stream.
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self._reset()
            return
        if fault and fault.kind == "stall":
            # Headers and half the body, then nothing until ``delay`` passes (or the proxy stops).
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.server.proxy.stopping.wait(fault.delay)
            self.close_connection = True
            return
        if fault and fault.kind == "slow":
            for start in range(0, len(body), 4096):
                self.wfile.write(body[start : start + 4096])
                self.wfile.flush()
                time.sleep(fault.delay)
            return
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops parallel connects' SYNs: a second's wait each
    proxy: PaginatingProxy

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up mid-answer is what fault tests do: no traceback on stderr for it."""
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class PaginatingProxy:
    """``proxy.host`` stands in for the registry; set ``proxy.pager.*`` and ``proxy.faults`` per test."""

    def __init__(self, upstream_host: str) -> None:
        self.upstream_host = upstream_host
        self.pager = TagPager()
        self.faults: list[Fault] = []
        #: Added to every response, e.g. Docker Hub's ``RateLimit-Limit: 100;w=21600``.
        self.response_headers: dict[str, str] = {}
        self.log: list[tuple[str, str]] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.proxy = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="nbproxy", daemon=True
        )

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def add_fault(self, kind: FaultKind, path: str = "", **options: Any) -> Fault:
        fault = Fault(kind, path, **options)
        with self._lock:
            self.faults.append(fault)
        return fault

    def take_fault(self, method: str, path: str, redirected: bool) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.kind == "redirect" and redirected:
                    continue
                if fault.matches(method, path):
                    fault.hits += 1
                    return fault
        return None

    def reset(self) -> None:
        """Back to plain Docker-style paging with no faults (between tests sharing one proxy)."""
        with self._lock:
            self.faults.clear()
            self.log.clear()
            self.response_headers.clear()
        self.pager = TagPager()

    def start(self) -> PaginatingProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextlib.contextmanager
def run_proxy(upstream_host: str) -> Iterator[PaginatingProxy]:
    proxy = PaginatingProxy(upstream_host).start()
    try:
        yield proxy
    finally:
        proxy.stop()
