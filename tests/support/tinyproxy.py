"""A real forward proxy process (Debian's ``tinyproxy``) on loopback, with its own config and log.

``run_tinyproxy(root, connect_ports=[registry.port])`` starts it in the foreground; ``proxy.url``
is what ``HTTPS_PROXY`` takes, and ``proxy.requests()`` reads the request lines it logged
(``CONNECT 127.0.0.1:5000 HTTP/1.1``, ``GET http://... HTTP/1.1``), which is how tests see that
traffic went through it. The system daemon is never used (scripts/setup stops it on CI).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.registry import free_port, stop_process

TINYPROXY_BINARY = "tinyproxy"
_REQUEST_LINE = re.compile(r"\]: Request \(file descriptor \d+\): (.+)$")


@dataclass
class Tinyproxy:
    """A running tinyproxy; ``host`` is ``127.0.0.1:PORT``."""

    host: str
    log_path: Path
    process: subprocess.Popen[bytes]

    @property
    def port(self) -> int:
        return int(self.host.rpartition(":")[2])

    def url(self, userinfo: str | None = None) -> str:
        return f"http://{userinfo}@{self.host}" if userinfo else f"http://{self.host}"

    def requests(self) -> list[str]:
        """The request lines logged so far, oldest first."""
        if not self.log_path.exists():
            return []
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [match.group(1) for line in lines if (match := _REQUEST_LINE.search(line))]

    def stop(self) -> None:
        """Our own process, by its PID."""
        stop_process(self.process)


def _config(port: int, log_path: Path, connect_ports: Iterable[int], basic_auth: tuple[str, str] | None) -> str:
    lines = [
        f"Port {port}",
        "Listen 127.0.0.1",
        "Timeout 30",
        "MaxClients 50",
        "Allow 127.0.0.1",
        f'LogFile "{log_path}"',
        "LogLevel Connect",  # one "Request" line per request: what the tests read
        # Without any ConnectPort line tinyproxy would tunnel to every port; list only the ones asked for.
        *(f"ConnectPort {connect_port}" for connect_port in connect_ports),
    ]
    if basic_auth:
        lines.append(f"BasicAuth {basic_auth[0]} {basic_auth[1]}")
    return "\n".join(lines) + "\n"


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def run_tinyproxy(
    root: Path, *, connect_ports: Iterable[int] = (), basic_auth: tuple[str, str] | None = None
) -> Iterator[Tinyproxy]:
    """tinyproxy on a free loopback port, CONNECT allowed to ``connect_ports`` only; skips if absent."""
    binary = shutil.which(TINYPROXY_BINARY) or ("/usr/bin/tinyproxy" if Path("/usr/bin/tinyproxy").exists() else None)
    if binary is None:
        pytest.skip("tinyproxy is not installed (scripts/setup installs it: apt-get install tinyproxy)")
    root.mkdir(parents=True, exist_ok=True)
    ports = list(connect_ports)
    for attempt in range(5):
        port = free_port()
        log_path = root / f"tinyproxy-{attempt}.log"
        config_path = root / f"tinyproxy-{attempt}.conf"
        config_path.write_text(_config(port, log_path, ports, basic_auth))
        output_path = root / f"tinyproxy-{attempt}.out"
        with output_path.open("wb") as output:
            process = subprocess.Popen(
                [binary, "-d", "-c", str(config_path)],
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        proxy = Tinyproxy(f"127.0.0.1:{port}", log_path, process)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process.poll() is None and not _accepts(port):
            time.sleep(0.02)
        if process.poll() is None and _accepts(port):
            try:
                yield proxy
            finally:
                proxy.stop()
            return
        proxy.stop()  # the port was taken in the meantime, or it failed to start: try another
    raise RuntimeError(f"tinyproxy did not start: {output_path.read_text(errors='replace')}")
