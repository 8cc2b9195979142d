"""A pytest plugin that refuses, in the test process, any connection outside 127.0.0.0/8 and ::1.

Loaded for every run from pyproject's ``addopts``. A test that tries to reach the internet fails
loudly here instead of quietly depending on (or probing) the network. Unix sockets are unaffected.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


class BlockedNetworkError(OSError):
    """Raised instead of touching a non-loopback address."""


def _is_loopback(host: object) -> bool:
    if not isinstance(host, str):
        return False
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _check(sock: socket.socket, address: Any) -> None:
    inet = sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple)
    if inet and not _is_loopback(address[0]):
        raise BlockedNetworkError(f"tests may not connect to {address[0]!r} (loopback only)")


def _connect(self: socket.socket, address: Any) -> None:
    _check(self, address)
    _real_connect(self, address)


def _connect_ex(self: socket.socket, address: Any) -> int:
    _check(self, address)
    return _real_connect_ex(self, address)


def _getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else host
    if name is not None and not _is_loopback(name):
        raise socket.gaierror(socket.EAI_NONAME, f"tests may not resolve {name!r} (loopback only)")
    return _real_getaddrinfo(host, *args, **kwargs)


def pytest_configure(config: Any) -> None:
    socket.socket.connect = _connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _getaddrinfo
