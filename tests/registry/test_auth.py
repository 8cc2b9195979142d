"""Token and basic auth against the real registry, credentials from the places users keep them."""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.run import run_cli
from tests.support import skopeo
from tests.support.tokenserver import READER, READER_PASSWORD, AuthRegistry


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty, private credential environment: no file of the developer's machine is read."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "runtime"))
    (tmp_path / "docker").mkdir()
    yield tmp_path / "docker" / "config.json"


def _write_auths(path: Path, host: str, user: str, password: str) -> None:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    path.write_text(json.dumps({"auths": {host: {"auth": token}}}))


def _assert_secret_free(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text


@pytest.mark.parametrize("kind", ["token_registry", "basic_registry"])
def test_login_from_docker_config_agrees_with_skopeo(
    capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest, docker_config: Path, kind: str
) -> None:
    server: AuthRegistry = request.getfixturevalue(kind)
    _write_auths(docker_config, server.host, server.username, server.password)
    result = run_cli(capsys, "inspect", server.image_ref, "--json", "--no-cache", "--debug")
    assert result.code == 0, result.err
    theirs = skopeo.inspect(server.image_ref, "--authfile", str(docker_config))
    assert result.json()["digest"] == theirs["Digest"] == server.digest
    tags = run_cli(capsys, "tags", f"{server.host}/{server.repository}", "--json")
    assert [t["tag"] for t in tags.json()["tags"]] == [server.tag]
    _assert_secret_free(result.out + result.err + tags.out + tags.err, server.password)


@pytest.mark.parametrize("kind", ["token_registry", "basic_registry"])
def test_wrong_password_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest, docker_config: Path, kind: str
) -> None:
    server: AuthRegistry = request.getfixturevalue(kind)
    _write_auths(docker_config, server.host, server.username, "not-the-password")
    result = run_cli(capsys, "inspect", server.image_ref)
    assert result.code == 1
    line = result.err.strip()
    assert line.count("\n") == 0 and server.host in line
    assert "refused" in line or "rejected" in line
    assert "not-the-password" not in result.err


@pytest.mark.parametrize("kind", ["token_registry", "basic_registry"])
def test_no_credentials_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest, docker_config: Path, kind: str
) -> None:
    server: AuthRegistry = request.getfixturevalue(kind)
    result = run_cli(capsys, "tags", f"{server.host}/{server.repository}")
    assert result.code == 1
    assert server.host in result.err and "Traceback" not in result.err


def test_anonymous_pull_of_a_public_repository(
    capsys: pytest.CaptureFixture[str], token_registry: AuthRegistry, docker_config: Path
) -> None:
    assert token_registry.public_ref
    result = run_cli(capsys, "inspect", token_registry.public_ref, "--json")
    assert result.code == 0, result.err
    assert result.json()["digest"] == skopeo.inspect(token_registry.public_ref)["Digest"]


def test_tokens_are_reused_per_scope(
    capsys: pytest.CaptureFixture[str], token_registry: AuthRegistry, docker_config: Path
) -> None:
    _write_auths(docker_config, token_registry.host, READER, READER_PASSWORD)
    server = token_registry.token_server
    assert server is not None
    before = len(server.requests)
    result = run_cli(capsys, "tags", f"{token_registry.host}/{token_registry.repository}", "--details", "--json")
    assert result.code == 0, result.err
    asked = server.requests[before:]
    # one token for the repository's pull scope serves the tag list, the manifest and the config reads
    assert len(asked) == 1
    assert "repository:private/notebook:pull" in json.dumps(asked[0], default=str)


def test_credential_helper_and_auth_json(
    capsys: pytest.CaptureFixture[str],
    token_registry: AuthRegistry,
    docker_config: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-nbtest"
    helper.write_text(
        "#!/bin/sh\nread server\n"
        f'[ "$1" = get ] && [ "$server" = "{token_registry.host}" ] && '
        f'printf \'{{"ServerURL":"%s","Username":"{READER}","Secret":"{READER_PASSWORD}"}}\' "$server" && exit 0\n'
        'echo "credentials not found in native keychain"; exit 1\n'
    )
    helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    docker_config.write_text(json.dumps({"credHelpers": {token_registry.host: "nbtest"}}))
    via_helper = run_cli(capsys, "inspect", token_registry.image_ref, "--json")
    assert via_helper.code == 0, via_helper.err
    docker_config.write_text(json.dumps({"credsStore": "nbtest"}))
    via_store = run_cli(capsys, "inspect", token_registry.image_ref, "--json")
    assert via_store.code == 0, via_store.err
    docker_config.unlink()
    auth_file = tmp_path / "auth.json"
    _write_auths(auth_file, token_registry.host, READER, READER_PASSWORD)
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(auth_file))
    via_auth_json = run_cli(capsys, "inspect", token_registry.image_ref, "--json")
    assert via_auth_json.code == 0, via_auth_json.err
    assert via_helper.json() == via_store.json() == via_auth_json.json()
    _assert_secret_free(via_helper.err + via_store.err + via_auth_json.err, READER_PASSWORD)
