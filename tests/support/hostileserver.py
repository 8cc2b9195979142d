"""A loopback "registry" that misbehaves on purpose: endless, huge, deep, slow or looping answers.

The real Docker Distribution registry only ever sends what the spec allows, so the hostile cases of
issue 14 (an endless token answer, a tag list that pages forever, a manifest dripped a byte a
second, a blob redirect loop, a 200k-deep JSON) need a server of their own. Each route is a regex
over the path and a function that writes the whole raw answer to the socket, so a test states the
hostility plainly; the server counts what was asked. Answers close the connection
(``Connection: close``) so a half-read body never confuses the next request.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from nbcatalog.oci import sha256_digest

Handler = Callable[["Request"], None]


@dataclass
class Request:
    """One request as a route sees it, with ways to answer it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    match: re.Match[str]
    server: HostileServer
    _handler: BaseHTTPRequestHandler = field(repr=False)
    _pending: bytes = field(default=b"", repr=False)

    def send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        """A complete answer with a Content-Length (no body on HEAD)."""
        head = {"Content-Length": str(len(body)), **(headers or {})}
        self.head(status, head, flush=False)
        if self.method != "HEAD":
            self.write(body)
        else:
            self.write(b"")

    def json(self, status: int, document: Any, headers: dict[str, str] | None = None) -> None:
        self.send(status, json.dumps(document).encode(), {"Content-Type": "application/json", **(headers or {})})

    def head(self, status: int, headers: dict[str, str], *, flush: bool = True) -> None:
        """The status line and headers; unless ``flush``, they go out with the body's first write."""
        handler = self._handler
        handler.send_response_only(status)
        for name, value in {"Connection": "close", **headers}.items():
            handler.send_header(name, value)
        handler._headers_buffer.append(b"\r\n")  # end_headers() without its flush
        self._pending = b"".join(handler._headers_buffer)
        handler._headers_buffer = []
        if flush:
            self.write(b"")

    def write(self, data: bytes) -> bool:
        """False once the client has gone (the test's cue to stop an endless body)."""
        try:
            self._handler.wfile.write(self._pending + data)
            self._pending = b""
            self._handler.wfile.flush()
            return True
        except OSError:
            return False

    def stream(self, status: int, chunks: Iterable[bytes], headers: dict[str, str] | None = None) -> None:
        """A body with no length, ended by closing the connection: it may never end."""
        self.head(status, headers or {})
        for chunk in chunks:
            if not self.write(chunk) or self.server.stopping.is_set():
                return

    def drip(self, status: int, body: bytes, every: float, headers: dict[str, str] | None = None) -> None:
        """The body one byte every ``every`` seconds, with an honest Content-Length."""
        self.head(status, {"Content-Length": str(len(body)), **(headers or {})})
        for index in range(len(body)):
            if not self.write(body[index : index + 1]) or self.server.stopping.wait(every):
                return


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # a head and body written apart would wait on delayed ACKs (~40 ms an answer) under Nagle
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._dispatch()

    def _dispatch(self) -> None:
        self.close_connection = True
        owner = self.server.owner
        path, _, query = self.path.partition("?")
        owner.asked[f"{self.command} {path}"] += 1
        owner.total += 1
        for method, pattern, handler in owner.routes:
            if method not in (None, self.command) and not (method == "GET" and self.command == "HEAD"):
                continue
            match = pattern.search(path)
            if match:
                headers = {k.lower(): v for k, v in self.headers.items()}
                handler(Request(self.command, path, query, headers, match, owner, self))
                return
        body = json.dumps({"errors": [{"code": "NAME_UNKNOWN", "message": "no route"}]}).encode()
        Request(self.command, path, query, {}, re.match("", ""), owner, self).send(404, body)  # type: ignore[arg-type]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's backlog of 5 drops the SYNs of a client's 16 parallel connects: each then
    # waits a second for its retransmit
    request_queue_size = 128
    allow_reuse_address = True
    owner: HostileServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up mid-answer is the point of most tests


class HostileServer:
    """Routes are tried in order; ``add(None, ...)`` matches any method. ``/v2/`` answers 200."""

    def __init__(self) -> None:
        self.routes: list[tuple[str | None, re.Pattern[str], Handler]] = []
        self.asked: Counter[str] = Counter()
        self.total = 0
        self.stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def add(self, method: str | None, pattern: str, handler: Handler) -> HostileServer:
        self.routes.append((method, re.compile(pattern), handler))
        return self

    def blob_store(self, blobs: dict[str, bytes]) -> HostileServer:
        """Honest blobs by digest (configs and layers of images built with nbcatalog.ocibuild)."""

        def serve(request: Request) -> None:
            data = blobs.get(request.match.group("digest"))
            if data is None:
                request.json(404, {"errors": [{"code": "BLOB_UNKNOWN", "message": "blob unknown"}]})
            else:
                request.send(200, data, {"Docker-Content-Digest": request.match.group("digest")})

        return self.add("GET", r"^/v2/.+/blobs/(?P<digest>sha256:[0-9a-f]{64})$", serve)

    def start(self) -> HostileServer:
        self.add("GET", r"^/v2/$", lambda request: request.json(200, {}))
        # the ping route goes first: tests add theirs before start()
        self.routes.insert(0, self.routes.pop())
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextlib.contextmanager
def hostile_server(*setup: Callable[[HostileServer], object]) -> Iterator[HostileServer]:
    server = HostileServer()
    for step in setup:
        step(server)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def manifest_answer(raw: bytes, media_type: str) -> Handler:
    """An honest manifest (by any tag), with its digest header."""

    def serve(request: Request) -> None:
        request.send(200, raw, {"Content-Type": media_type, "Docker-Content-Digest": sha256_digest(raw)})

    return serve


def endless(chunk: bytes = b"x" * 65536) -> Iterator[bytes]:
    while True:
        yield chunk
