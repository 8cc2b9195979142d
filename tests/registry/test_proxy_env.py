"""HTTPS_PROXY, HTTP_PROXY and NO_PROXY are honoured for registries, through a real tinyproxy.

The session's transport opens its own sockets, so httpx's env-proxy support never applied; these
prove requests now go through the proxy (its log shows the CONNECT or the absolute-form GET), that
NO_PROXY sends them direct, and that proxy credentials reach the proxy but never the user's screen.
"""

from __future__ import annotations

import base64
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest

from nbcatalog.errors import RegistryError
from nbcatalog.refs import parse_repository
from nbcatalog.session import Session, SessionOptions
from tests.cli.run import run_cli
from tests.support.images import StandardImages
from tests.support.registry import RegistryServer, free_port
from tests.support.tinyproxy import Tinyproxy, run_tinyproxy
from tests.support.tls import TlsRegistry

PROXY_VARIABLES = ("https_proxy", "http_proxy", "all_proxy", "no_proxy")
PROXY_USER, PROXY_PASSWORD = "proxyuser", "s3cret-Pr0xy"


@pytest.fixture(autouse=True)
def _only_the_tests_proxies(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The machine's own proxy settings, trust and credentials play no part."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    for name in ("SSL_CERT_FILE", "NBCATALOG_INSECURE_REGISTRIES", "NBCATALOG_CA_CERT", "NBCATALOG_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))


@pytest.fixture
def tls_proxy(tmp_path: Path, tls_registry: TlsRegistry) -> Iterator[Tinyproxy]:
    with run_tinyproxy(tmp_path / "proxy", connect_ports=[tls_registry.server.port]) as proxy:
        yield proxy


@pytest.fixture
def auth_proxy(tmp_path: Path, tls_registry: TlsRegistry) -> Iterator[Tinyproxy]:
    with run_tinyproxy(
        tmp_path / "auth-proxy", connect_ports=[tls_registry.server.port], basic_auth=(PROXY_USER, PROXY_PASSWORD)
    ) as proxy:
        yield proxy


def _tags(capsys: pytest.CaptureFixture[str], tls_registry: TlsRegistry, *extra: str) -> tuple[int, str, str]:
    repo = f"{tls_registry.host}/{tls_registry.repository}"
    result = run_cli(capsys, "tags", repo, "--no-cache", "--ca-cert", str(tls_registry.files.ca_cert), *extra)
    return result.code, result.out, result.err


def _connects(proxy: Tinyproxy, host: str) -> int:
    return proxy.requests().count(f"CONNECT {host} HTTP/1.1")


def test_https_proxy_tunnels_to_a_tls_registry_and_no_proxy_goes_direct(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tls_registry: TlsRegistry, tls_proxy: Tinyproxy
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", tls_proxy.url())
    code, out, err = _tags(capsys, tls_registry)
    assert code == 0, err
    assert tls_registry.tag in out.split()
    tunnelled = _connects(tls_proxy, tls_registry.host)
    assert tunnelled >= 1, tls_proxy.requests()

    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    code, out, err = _tags(capsys, tls_registry)
    assert code == 0, err
    assert tls_registry.tag in out.split()
    assert _connects(tls_proxy, tls_registry.host) == tunnelled

    monkeypatch.setenv("no_proxy", f"127.0.0.1:{tls_registry.server.port + 1}")  # lowercase wins; another port
    code, _, err = _tags(capsys, tls_registry)
    assert code == 0, err
    assert _connects(tls_proxy, tls_registry.host) > tunnelled


def test_a_proxy_that_refuses_connections_is_one_line_naming_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tls_registry: TlsRegistry
) -> None:
    closed = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("HTTPS_PROXY", f"http://{PROXY_USER}:{PROXY_PASSWORD}@{closed}")
    code, out, err = _tags(capsys, tls_registry)
    assert code == 1 and out == ""
    assert err.count("\n") == 1, err
    assert f"proxy {closed} (from HTTPS_PROXY)" in err
    assert PROXY_PASSWORD not in err and PROXY_USER not in err


def test_proxy_credentials_are_sent_and_never_shown_even_with_debug(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tls_registry: TlsRegistry,
    auth_proxy: Tinyproxy,
) -> None:
    secrets = (PROXY_PASSWORD, base64.b64encode(f"{PROXY_USER}:{PROXY_PASSWORD}".encode()).decode())
    monkeypatch.setenv("https_proxy", auth_proxy.url(f"{PROXY_USER}:{PROXY_PASSWORD}"))
    code, out, err = _tags(capsys, tls_registry, "--debug")
    assert code == 0, err
    assert tls_registry.tag in out.split()
    assert _connects(auth_proxy, tls_registry.host) >= 1
    assert not [secret for secret in secrets if secret in out + err]

    monkeypatch.setenv("https_proxy", auth_proxy.url(f"{PROXY_USER}:not-the-{PROXY_PASSWORD}"))
    code, out, err = _tags(capsys, tls_registry)
    assert code == 1 and out == ""
    assert err.count("\n") == 1, err
    # tinyproxy answers a CONNECT without valid credentials with 401, a forwarded request with 407.
    assert f"proxy {auth_proxy.host} (from https_proxy) refused CONNECT {tls_registry.host}: HTTP 401" in err
    assert "(the proxy rejected the credentials)" in err
    assert PROXY_PASSWORD not in err and PROXY_USER not in err
    with pytest.raises(RegistryError) as caught:  # --debug: the traceback, with every chained error
        _tags(capsys, tls_registry, "--debug")
    shown = "".join(traceback.format_exception(caught.value)) + "".join(capsys.readouterr())
    assert "HTTP 401" in shown and "ProxyError" in shown
    assert not [secret for secret in secrets if secret in shown]


def test_a_bad_proxy_variable_is_bad_input_naming_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tls_registry: TlsRegistry
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", f"http://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:notaport")
    code, out, err = _tags(capsys, tls_registry)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "HTTPS_PROXY: not a proxy URL" in err, err
    assert PROXY_PASSWORD not in err


def test_http_proxy_forwards_plain_http_in_absolute_form(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    registry: RegistryServer,
    test_images: StandardImages,
) -> None:
    repo = test_images.layered_ref.rpartition(":")[0]
    with run_tinyproxy(tmp_path / "proxy") as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url())
        result = run_cli(capsys, "tags", repo, "--no-cache", "--json")
        assert result.code == 0, result.err
        assert test_images.layered.tag in [entry["tag"] for entry in result.json()["tags"]]
        requests = proxy.requests()
    assert f"GET http://{registry.host}/v2/ HTTP/1.1" in requests
    tags_list = f"GET {registry.url}/v2/{test_images.layered.repository}/tags/list"
    assert any(line.startswith(tags_list) for line in requests), requests
    assert [line for line in requests if line.startswith("CONNECT")] == []


async def test_one_client_routes_each_origin_by_no_proxy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, registry: RegistryServer, test_images: StandardImages
) -> None:
    """The same registry as ``127.0.0.1:P`` (listed in NO_PROXY) and ``localhost:P`` (proxied): the
    pool never hands one origin's direct connection to the other or the other way round."""
    repo = test_images.layered_ref.rpartition(":")[0].removeprefix(registry.host + "/")
    with run_tinyproxy(tmp_path / "proxy") as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url())
        monkeypatch.setenv("NO_PROXY", registry.host)
        async with Session(SessionOptions(cache_dir=None)) as session:
            for _ in range(2):
                direct = await session.list_tags(parse_repository(f"{registry.host}/{repo}"))
                proxied = await session.list_tags(parse_repository(f"localhost:{registry.port}/{repo}"))
        requests = proxy.requests()
    assert direct == proxied and test_images.layered.tag in direct
    assert requests and all(f"http://localhost:{registry.port}/" in line for line in requests), requests
    assert len([line for line in requests if "/tags/list" in line]) == 2


def test_a_forwarding_proxy_gets_its_credentials_and_a_407_is_its_error_not_the_registrys(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    registry: RegistryServer,
    test_images: StandardImages,
) -> None:
    repo = test_images.layered_ref.rpartition(":")[0]
    with run_tinyproxy(tmp_path / "proxy", basic_auth=(PROXY_USER, PROXY_PASSWORD)) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url(f"{PROXY_USER}:{PROXY_PASSWORD}"))
        allowed = run_cli(capsys, "tags", repo, "--no-cache", "--debug")
        monkeypatch.setenv("HTTP_PROXY", proxy.url())
        refused = run_cli(capsys, "tags", repo, "--no-cache")
    assert allowed.code == 0, allowed.err
    assert test_images.layered.tag in allowed.out.split()
    assert PROXY_PASSWORD not in allowed.out + allowed.err
    assert refused.code == 1 and refused.err.count("\n") == 1, refused.err
    assert f"proxy {proxy.host} (from HTTP_PROXY) refused to forward to {registry.host}: HTTP 407" in refused.err
    assert "wants credentials" in refused.err
