"""The wire's shared figures and failure mapping, for the transport and the proxy tunnel.

Both speak h11 over asyncio streams and must bound reads and report failures the same way, so the
retry policy (which keys on httpx's exception types) treats a proxy hop like the registry itself.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Iterator

import h11
import httpx

READ_SIZE = 64 * 1024
#: The StreamReader's limit, and the largest read of a Content-Length body (a read returns what has
#: arrived, up to this).
READ_LIMIT = 1 << 20
#: Largest response head accepted (httpcore's figure).
MAX_HEAD_BYTES = 100 * 1024
CLOSE_TIMEOUT_S = 2.0

#: (scheme, host, port) as httpx gives them.
Origin = tuple[bytes, bytes, int]


class NameResolutionFailure(httpx.TransportError):
    """A host name that ``getaddrinfo`` could not turn into an address (``socket.gaierror``).

    Its own type so the retry policy can tell it from a refused or timed-out connection: the system
    resolver has already retried (``resolv.conf``'s attempts and timeout) before it answers, and an
    offline machine or a mistyped host answers the same way a second later, so asking again only
    multiplies the wait. The message is the resolver's own words (``Name or service not known``,
    ``Temporary failure in name resolution``), without the ``[Errno -2]``.
    """


class UnresolvedHost(NameResolutionFailure, httpx.ConnectError):
    """The registry's (or a redirect target's) name did not resolve."""


class UnresolvedProxy(NameResolutionFailure, httpx.ProxyError):
    """The proxy's own name did not resolve (the proxy's answer to CONNECT is a ``ProxyError``)."""


@contextlib.contextmanager
def mapped(timeout_error: type[httpx.TimeoutException], os_error: type[httpx.TransportError]) -> Iterator[None]:
    """Socket and protocol failures as the httpx exceptions callers (and the retry policy) expect.

    A name that did not resolve is an :class:`UnresolvedHost` where ``os_error`` is a connect error
    (an :class:`UnresolvedProxy` where it is a proxy's), so it is not retried like other failures.
    """
    try:
        yield
    except socket.gaierror as exc:
        text = exc.strerror or str(exc) or "name not resolved"
        raise (UnresolvedProxy if issubclass(os_error, httpx.ProxyError) else UnresolvedHost)(text) from exc
    except TimeoutError as exc:
        raise timeout_error(str(exc) or "timed out") from exc
    except h11.RemoteProtocolError as exc:
        raise httpx.RemoteProtocolError(str(exc)) from exc
    except h11.LocalProtocolError as exc:
        raise httpx.LocalProtocolError(str(exc)) from exc
    except (OSError, ssl.SSLError) as exc:
        raise os_error(str(exc) or type(exc).__name__) from exc
