"""Verified TLS whose trust roots are read at the first handshake, not when a client is built.

Loading a CA bundle parses ~150 certificates: on a plain-HTTP loopback registry that was a quarter
of a ``tags`` run's CPU for a context never used. Verification itself is unchanged: no handshake
happens before the roots are in place, whichever stack (ours, anyio's, httpcore's sync one) does it.
"""

from __future__ import annotations

import os
import ssl
import threading
from typing import Any


class LazyTrustContext(ssl.SSLContext):
    """``create_default_context()`` settings; the roots load on the first ``wrap_*`` call.

    ``cafile``/``capath`` as ``load_verify_locations`` takes them; no ``cafile`` means certifi's bundle.
    """

    _cafile: str | None
    _capath: str | None
    _trust_loaded: bool
    _trust_lock: threading.Lock

    def __new__(cls, *, cafile: str | None = None, capath: str | None = None) -> LazyTrustContext:
        context = super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)
        context._cafile, context._capath = cafile, capath
        context._trust_loaded, context._trust_lock = False, threading.Lock()
        return context

    def load_trust(self) -> None:
        """Read the roots once (the same ones ``ssl.create_default_context`` would)."""
        with self._trust_lock:
            if self._trust_loaded:
                return
            cafile = self._cafile or _certifi_bundle()
            if cafile or self._capath:
                self.load_verify_locations(cafile=cafile, capath=self._capath)
            else:
                self.load_default_certs(ssl.Purpose.SERVER_AUTH)
            self._trust_loaded = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self.load_trust()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        self.load_trust()
        return super().wrap_bio(*args, **kwargs)


def _certifi_bundle() -> str | None:
    try:
        import certifi
    except ImportError:  # pragma: no cover - httpx depends on certifi
        return None
    return certifi.where()


def verified_context(ca_cert: str | None) -> LazyTrustContext:
    """``SSL_CERT_FILE`` (else certifi's bundle) and ``SSL_CERT_DIR`` later, ``--ca-cert`` now.

    ``--ca-cert`` is read at once, so a bad file is reported before any request; ``OSError`` or
    ``ssl.SSLError`` from it is the caller's to turn into a message.
    """
    context = LazyTrustContext(cafile=os.environ.get("SSL_CERT_FILE"), capath=os.environ.get("SSL_CERT_DIR"))
    keylog = os.environ.get("SSLKEYLOGFILE")
    if keylog:
        context.keylog_filename = keylog
    if ca_cert:  # read as any user file is: a regular file within file-bytes, never /dev/zero whole
        from nbcatalog.localfiles import read_bytes

        pem = read_bytes(ca_cert, what="the CA certificate")
        try:
            context.load_verify_locations(cadata=pem.decode("ascii"))
        except UnicodeDecodeError:  # DER
            context.load_verify_locations(cadata=pem)
    return context
