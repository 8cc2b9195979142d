"""TLS is verified by default; a private CA is trusted only when the user says so."""

from __future__ import annotations

import base64
import json
import socket
import ssl
from pathlib import Path

import pytest

from nbcatalog.registry.tls import verified_context
from tests.cli.run import run_cli
from tests.support import skopeo
from tests.support.tls import TlsRegistry, make_tls_files


@pytest.fixture(autouse=True)
def _no_inherited_trust(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("NBCATALOG_INSECURE_REGISTRIES", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))


def test_untrusted_certificate_is_refused_clearly(
    capsys: pytest.CaptureFixture[str], tls_registry: TlsRegistry
) -> None:
    result = run_cli(capsys, "inspect", tls_registry.image_ref)
    assert result.code == 1
    assert "TLS certificate verification failed" in result.err
    assert "--ca-cert" in result.err and result.err.count("\n") == 1


def test_ca_cert_option_and_ssl_cert_file(
    capsys: pytest.CaptureFixture[str], tls_registry: TlsRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    theirs = skopeo.inspect(tls_registry.image_ref)["Digest"]
    ca = str(tls_registry.files.ca_cert)
    with_option = run_cli(capsys, "inspect", tls_registry.image_ref, "--json", "--ca-cert", ca)
    assert with_option.code == 0, with_option.err
    assert with_option.json()["digest"] == theirs == tls_registry.digest
    monkeypatch.setenv("SSL_CERT_FILE", ca)
    with_env = run_cli(capsys, "inspect", tls_registry.image_ref, "--json")
    assert with_env.code == 0, with_env.err
    assert with_env.json()["digest"] == theirs


def test_insecure_registry_skips_verification_only_for_that_host(
    capsys: pytest.CaptureFixture[str], tls_registry: TlsRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = tls_registry.host
    allowed = run_cli(capsys, "inspect", tls_registry.image_ref, "--json", "--insecure-registry", host)
    assert allowed.code == 0, allowed.err
    other = run_cli(capsys, "inspect", tls_registry.image_ref, "--insecure-registry", "127.0.0.1:1")
    assert other.code == 1
    monkeypatch.setenv("NBCATALOG_INSECURE_REGISTRIES", f"example.invalid,{host}")
    via_env = run_cli(capsys, "inspect", tls_registry.image_ref, "--json")
    assert via_env.code == 0, via_env.err


def test_basic_auth_over_tls(
    capsys: pytest.CaptureFixture[str], tls_basic_registry: TlsRegistry, tmp_path: Path
) -> None:
    assert tls_basic_registry.username and tls_basic_registry.password
    token = base64.b64encode(f"{tls_basic_registry.username}:{tls_basic_registry.password}".encode()).decode()
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "config.json").write_text(json.dumps({"auths": {tls_basic_registry.host: {"auth": token}}}))
    ca = str(tls_basic_registry.files.ca_cert)
    result = run_cli(
        capsys,
        "tags",
        f"{tls_basic_registry.host}/{tls_basic_registry.repository}",
        "--json",
        "--ca-cert",
        ca,
        "--details",
    )
    assert result.code == 0, result.err
    assert [t["digest"] for t in result.json()["tags"]] == [tls_basic_registry.digest]
    assert tls_basic_registry.password not in result.out + result.err


def test_unreadable_ca_cert_is_bad_input(
    capsys: pytest.CaptureFixture[str], tls_registry: TlsRegistry, tmp_path: Path
) -> None:
    bogus = tmp_path / "not-a-cert.pem"
    bogus.write_text("this is not PEM\n")
    result = run_cli(capsys, "inspect", tls_registry.image_ref, "--ca-cert", str(bogus))
    assert result.code == 2
    assert str(bogus) in result.err and result.err.count("\n") == 1


def test_catalog_registries_section_marks_a_host_insecure(
    capsys: pytest.CaptureFixture[str], tls_registry: TlsRegistry, tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        f'registries:\n  "{tls_registry.host}": {{insecure: true}}\n'
        f"images:\n  - name: nb\n    image: {tls_registry.host}/{tls_registry.repository}\n"
        f"    tag: {tls_registry.tag}\n"
    )
    result = run_cli(capsys, "--catalog", str(catalog), "inspect", "nb", "--json")
    assert result.code == 0, result.err
    assert result.json()["digest"] == tls_registry.digest
    catalog.write_text(catalog.read_text().replace("insecure: true", "insecure: false"))
    refused = run_cli(capsys, "--catalog", str(catalog), "inspect", "nb")
    assert refused.code == 1 and "TLS certificate verification failed" in refused.err


def _handshake(context: ssl.SSLContext, registry: TlsRegistry) -> None:
    with (
        socket.create_connection(("127.0.0.1", registry.server.port), timeout=10) as sock,
        context.wrap_socket(sock, server_hostname="127.0.0.1") as tls,
    ):
        assert tls.version()


def test_trust_roots_are_read_at_the_first_handshake_and_still_checked(
    tls_registry: TlsRegistry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_registry.files.ca_cert))
    trusting = verified_context(None)
    assert trusting.cert_store_stats()["x509_ca"] == 0, "a plain-HTTP run must not pay for the CA bundle"
    _handshake(trusting, tls_registry)
    assert trusting.cert_store_stats()["x509_ca"] == 1
    monkeypatch.setenv("SSL_CERT_FILE", str(make_tls_files(tmp_path / "other-ca").ca_cert))
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(verified_context(None), tls_registry)
