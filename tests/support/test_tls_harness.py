"""The HTTPS registries: trusted through the throw-away CA only, with and without basic auth."""

from __future__ import annotations

import json
import subprocess

import httpx
import pytest

from nbcatalog.oci import MANIFEST_ACCEPT
from tests.support.tls import TlsRegistry


def manifest_url(registry: TlsRegistry) -> str:
    return f"{registry.url}/v2/{registry.repository}/manifests/{registry.tag}"


def test_tls_registry_needs_the_ca(tls_registry: TlsRegistry) -> None:
    assert tls_registry.url.startswith("https://127.0.0.1:")
    with pytest.raises(httpx.ConnectError):
        httpx.get(manifest_url(tls_registry))  # the system trust store does not know our CA
    trusted = httpx.get(
        manifest_url(tls_registry), headers={"Accept": MANIFEST_ACCEPT}, verify=tls_registry.files.ssl_context()
    )
    assert trusted.status_code == 200 and trusted.headers["docker-content-digest"] == tls_registry.digest
    out = subprocess.run(
        ["skopeo", "inspect", "--cert-dir", str(tls_registry.files.cert_dir), f"docker://{tls_registry.image_ref}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert json.loads(out)["Digest"] == tls_registry.digest


def test_tls_basic_registry(tls_basic_registry: TlsRegistry) -> None:
    context = tls_basic_registry.files.ssl_context()
    assert httpx.get(manifest_url(tls_basic_registry), verify=context).status_code == 401
    assert tls_basic_registry.username and tls_basic_registry.password
    good = httpx.get(
        manifest_url(tls_basic_registry),
        headers={"Accept": MANIFEST_ACCEPT},
        verify=context,
        auth=(tls_basic_registry.username, tls_basic_registry.password),
    )
    assert good.status_code == 200 and good.headers["docker-content-digest"] == tls_basic_registry.digest
