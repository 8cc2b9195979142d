"""A throw-away CA and a registry serving HTTPS with a certificate it signed (for 127.0.0.1 and localhost).

Tests of ``--ca-cert``, ``--insecure-registry`` and basic auth over TLS use it; skopeo trusts the CA
through ``cert_dir`` (``--cert-dir``), which holds ``ca.crt``.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.registry import RegistryServer, ServedImage, start_registry
from tests.support.tokenserver import PASSWORD, USERNAME, htpasswd_line


@dataclass(frozen=True)
class TlsFiles:
    """PEM files of the CA and the server; ``cert_dir`` is a skopeo ``--cert-dir`` holding ``ca.crt``."""

    __test__ = False  # imported into test modules under the alias TestCA: not a test class

    ca_cert: Path
    server_cert: Path
    server_key: Path
    cert_dir: Path

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_cert))


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_tls_files(directory: Path) -> TlsFiles:
    """A CA and a server certificate for ``127.0.0.1``, ``::1`` and ``localhost`` (valid two days)."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("nbcatalog test CA"))
        .issuer_name(_name("nbcatalog test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    names = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca_cert.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    files = TlsFiles(
        ca_cert=directory / "ca.pem",
        server_cert=directory / "server.pem",
        server_key=directory / "server-key.pem",
        cert_dir=directory / "certs.d",
    )
    files.ca_cert.write_bytes(ca_cert.public_bytes(pem))
    files.server_cert.write_bytes(server_cert.public_bytes(pem))
    files.server_key.write_bytes(
        server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    files.cert_dir.mkdir(exist_ok=True)
    (files.cert_dir / "ca.crt").write_bytes(ca_cert.public_bytes(pem))
    return files


#: Aliases some tests import.
TestCA = TlsFiles
make_ca = make_tls_files


@contextlib.contextmanager
def run_tls_registry(root: Path, *, basic_auth: bool = False) -> Iterator[tuple[RegistryServer, TlsFiles]]:
    """HTTPS registry signed by a fresh CA; with ``basic_auth`` also htpasswd (``USERNAME``/``PASSWORD``)."""
    files = make_tls_files(root / "tls")
    auth = None
    if basic_auth:
        htpasswd = root / "htpasswd"
        htpasswd.write_text(htpasswd_line(USERNAME, PASSWORD))
        auth = {"htpasswd": {"realm": "nbcatalog-basic-tls", "path": str(htpasswd)}}
    server = start_registry(root / "registry", auth=auth, tls=(files.server_cert, files.server_key))
    try:
        yield server, files
    finally:
        server.stop()


@dataclass(frozen=True)
class TlsRegistry(ServedImage):
    """An HTTPS registry with ``repository:tag`` pushed; ``username`` is None when it has no auth."""

    server: RegistryServer
    files: TlsFiles
    repository: str
    tag: str
    digest: str
    username: str | None = None
    password: str | None = None
