"""A command after the first pings no host and asks no token service while the last one's answers last:
the ping records and tokens kept on disk (0600), their expiry, and stale records found out."""

from __future__ import annotations

import base64
import json
import re
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nbcatalog.registry.hoststate import HOSTS_FILE, TOKENS_FILE
from tests.cli.run import Result, run_cli
from tests.support.images import StandardImages
from tests.support.registry import RegistryServer
from tests.support.tls import TlsRegistry
from tests.support.tokenserver import READER, READER_PASSWORD, AuthRegistry


@pytest.fixture
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private cache and runtime directory (0700, as a login session makes it); no user credentials."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    (tmp_path / "docker").mkdir()
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    runtime.chmod(0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    yield tmp_path


def _login(home: Path, host: str) -> None:
    token = base64.b64encode(f"{READER}:{READER_PASSWORD}".encode()).decode()
    (home / "docker" / "config.json").write_text(json.dumps({"auths": {host: {"auth": token}}}))


def _pings(result: Result, host: str) -> int:
    return len(re.findall(rf"GET https?://{re.escape(host)}/v2/ -> ", result.err))


def _token_file(home: Path) -> Path:
    return home / "runtime" / "nbcatalog" / TOKENS_FILE


def _hosts_file(home: Path) -> Path:
    return home / "cache" / "nbcatalog" / HOSTS_FILE


def test_a_second_command_reuses_the_ping_and_the_token(
    capsys: pytest.CaptureFixture[str], token_registry: AuthRegistry, state_home: Path
) -> None:
    _login(state_home, token_registry.host)
    server = token_registry.token_server
    assert server is not None
    repo = f"{token_registry.host}/{token_registry.repository}"
    before = len(server.requests)
    first = run_cli(capsys, "tags", repo, "--details", "--json", "--debug")
    assert first.code == 0, first.err
    assert len(server.requests) - before == 1 and _pings(first, token_registry.host) == 1
    tokens = _token_file(state_home)
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o600
    assert stat.S_IMODE(tokens.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(_hosts_file(state_home).stat().st_mode) == 0o600
    (kept,) = json.loads(tokens.read_text())["tokens"]
    assert kept["scope"] == f"repository:{token_registry.repository}:pull" and kept["user"] == READER
    assert kept["expires"] <= time.time() + server.lifetime - 10  # expires_in less the margin
    second = run_cli(capsys, "inspect", token_registry.image_ref, "--json", "--debug")
    assert second.code == 0, second.err
    assert len(server.requests) - before == 1, "the second command asked the token service again"
    assert _pings(second, token_registry.host) == 0
    assert second.json()["digest"] == token_registry.digest
    assert kept["token"] not in first.out + first.err + second.out + second.err


def test_an_expired_token_is_not_reused(
    capsys: pytest.CaptureFixture[str], token_registry: AuthRegistry, state_home: Path
) -> None:
    _login(state_home, token_registry.host)
    server = token_registry.token_server
    assert server is not None
    assert run_cli(capsys, "inspect", token_registry.image_ref, "--json").code == 0
    tokens = _token_file(state_home)
    doc = json.loads(tokens.read_text())
    for token in doc["tokens"]:
        token["expires"] = time.time() - 1
    tokens.write_text(json.dumps(doc))
    before = len(server.requests)
    again = run_cli(capsys, "inspect", token_registry.image_ref, "--json")
    assert again.code == 0, again.err
    assert len(server.requests) - before == 1


def test_another_users_token_is_not_reused(
    capsys: pytest.CaptureFixture[str], token_registry: AuthRegistry, state_home: Path
) -> None:
    _login(state_home, token_registry.host)
    server = token_registry.token_server
    assert server is not None and token_registry.public_ref
    assert run_cli(capsys, "inspect", token_registry.public_ref, "--json").code == 0
    (state_home / "docker" / "config.json").unlink()  # logged out: anonymous from here on
    before = len(server.requests)
    assert run_cli(capsys, "inspect", token_registry.public_ref, "--json").code == 0
    assert len(server.requests) - before == 1
    assert server.requests[-1]["subject"] == ""


def test_no_cache_keeps_nothing(
    capsys: pytest.CaptureFixture[str], token_registry: AuthRegistry, state_home: Path
) -> None:
    _login(state_home, token_registry.host)
    assert run_cli(capsys, "inspect", token_registry.image_ref, "--json", "--no-cache").code == 0
    assert not _token_file(state_home).exists() and not _hosts_file(state_home).exists()


def test_an_unusable_runtime_dir_keeps_no_token(
    capsys: pytest.CaptureFixture[str], token_registry: AuthRegistry, state_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _login(state_home, token_registry.host)
    (state_home / "runtime").chmod(0o755)  # open to others: no place for credentials
    assert run_cli(capsys, "inspect", token_registry.image_ref, "--json").code == 0
    assert not _token_file(state_home).exists()
    assert not list((state_home / "cache").rglob(TOKENS_FILE))
    assert _hosts_file(state_home).exists()


def test_a_host_that_changed_scheme_is_pinged_again(
    capsys: pytest.CaptureFixture[str],
    registry: RegistryServer,
    test_images: StandardImages,
    tls_registry: TlsRegistry,
    state_home: Path,
) -> None:
    """A record saying HTTPS for a plain-HTTP host, and HTTP for a TLS-only one: each is found out by
    its first request, pinged, and rewritten."""
    hosts = _hosts_file(state_home)
    hosts.parent.mkdir(parents=True)
    now = time.time()
    hosts.write_text(
        json.dumps(
            {
                registry.host: {"base": f"https://{registry.host}", "saved": now},
                tls_registry.host: {"base": f"http://{tls_registry.host}", "saved": now},
            }
        )
    )
    plain = run_cli(capsys, "inspect", test_images.layered_ref, "--json", "--debug")
    assert plain.code == 0 and _pings(plain, registry.host) == 1
    tls = run_cli(capsys, "inspect", tls_registry.image_ref, "--json", "--ca-cert", str(tls_registry.files.ca_cert))
    assert tls.code == 0, tls.err
    records = json.loads(hosts.read_text())
    assert records[registry.host]["base"] == f"http://{registry.host}"
    assert records[tls_registry.host]["base"] == f"https://{tls_registry.host}"
    again = run_cli(capsys, "inspect", test_images.layered_ref, "--json", "--debug")
    assert again.code == 0 and _pings(again, registry.host) == 0


def test_a_host_with_another_challenge_now_is_followed(
    capsys: pytest.CaptureFixture[str], token_registry: AuthRegistry, state_home: Path
) -> None:
    """A record naming a token service the host no longer uses: the host's 401 names the real one,
    the command gets its token there, and the record now says so."""
    _login(state_home, token_registry.host)
    server = token_registry.token_server
    assert server is not None
    hosts = _hosts_file(state_home)
    hosts.parent.mkdir(parents=True)
    stale = {
        "base": f"http://{token_registry.host}",
        "challenge_scheme": "bearer",
        "challenge_realm": "http://127.0.0.1:9/token",
        "challenge_service": "moved-away",
        "saved": time.time(),
    }
    hosts.write_text(json.dumps({token_registry.host: stale}))
    result = run_cli(capsys, "inspect", token_registry.image_ref, "--json", "--debug")
    assert result.code == 0, result.err
    assert _pings(result, token_registry.host) == 0
    assert json.loads(hosts.read_text())[token_registry.host]["challenge_realm"] == server.realm
