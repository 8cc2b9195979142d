"""Known secrets (a registry password, the bearer tokens it buys, skopeo's auth file) appear nowhere
nbcatalog writes: stdout, stderr, --debug logs, tracebacks, the SQLite cache, exported profiles."""

from __future__ import annotations

import ast
import base64
import json
import os
import re
import stat
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import nbcatalog
from nbcatalog.errors import NbcatalogError
from tests.cli.run import Result, run_cli
from tests.support.tls import TlsRegistry
from tests.support.tokenserver import AuthRegistry

PACKAGE = Path(nbcatalog.__file__).parent


@pytest.fixture
def secret_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Credentials live outside ``tmp_path/work``, which holds everything nbcatalog may write."""
    creds = tmp_path / "creds"
    creds.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(creds))
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(creds / "config.json"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "runtime"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(work / "xdg-cache"))
    monkeypatch.chdir(work)
    yield creds / "config.json"


def _write_auths(path: Path, host: str, user: str, password: str) -> str:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    path.write_text(json.dumps({"auths": {host: {"auth": token}}}))
    return token


def _leaks(secrets: list[str], texts: list[str], root: Path) -> list[str]:
    """Every (secret, place) where a secret shows up, in text or in any file under ``root``."""
    found = [f"{secret[:4]}… in output {i}" for i, text in enumerate(texts) for secret in secrets if secret in text]
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{secret[:4]}… in {path}" for secret in secrets if secret.encode() in data]
    return found


def _commands(ref: str, repo: str, catalog: Path, extra: list[str]) -> list[list[str]]:
    return [
        ["inspect", ref, "--json", *extra],
        ["tags", repo, "--details", "--json", *extra],
        ["packages", ref, "--json", "--cache-dir", "cache", *extra],
        ["diff", ref, ref, "--json", "--cache-dir", "cache", *extra],
        ["lineage", "--json", "--catalog", str(catalog), "--cache-dir", "cache", *extra],
        ["audit", str(catalog), "--json", "--fail-on", "none", "--cache-dir", "cache", *extra],
        ["export", "--format", "jupyterhub", "--detect-cuda", "--catalog", str(catalog), *extra],
    ]


def _run_all(capsys: pytest.CaptureFixture[str], commands: list[list[str]]) -> list[str]:
    outputs = []
    for args in commands:
        result = run_cli(capsys, *args, "--debug")
        assert result.code == 0, (args, result.err)
        outputs.append(result.out + result.err)
    return outputs


def _http_logged(outputs: list[str], host: str) -> bool:
    """The searched output holds the --debug HTTP log of authenticated requests (a leak test on a
    silent log would prove nothing)."""
    pattern = re.compile(rf"GET https?://{re.escape(host)}/v2/\S+ -> 200")
    return sum(len(pattern.findall(output)) for output in outputs) >= len(outputs)


def _failing_debug_run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """With --debug an error is a traceback: render it (chained causes too) the way Python would."""
    try:
        result: Result = run_cli(capsys, *args, "--debug")
    except NbcatalogError as exc:
        return "".join(traceback.format_exception(exc)) + capsys.readouterr().err
    return result.out + result.err


@pytest.fixture
def issued_tokens(token_registry: AuthRegistry, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every JWT the token server hands out during the test."""
    server = token_registry.token_server
    assert server is not None
    tokens: list[str] = []
    original = server.issue

    def recording(subject: str, access: list[dict[str, Any]], service: str) -> str:
        token = original(subject, access, service)
        tokens.append(token)
        return token

    monkeypatch.setattr(server, "issue", recording)
    return tokens


def _catalog(path: Path, repository: str, tag: str) -> Path:
    path.write_text(f"images:\n  - name: private\n    image: {repository}\n    tag: {tag}\n    gpu: auto\n")
    return path


def test_token_registry_password_and_tokens_never_leak(
    capsys: pytest.CaptureFixture[str], token_registry: AuthRegistry, secret_home: Path, issued_tokens: list[str]
) -> None:
    server = token_registry
    basic = _write_auths(secret_home, server.host, server.username, server.password)
    catalog = _catalog(Path("catalog.yaml"), f"{server.host}/{server.repository}", server.tag)
    assert server.token_server is not None
    asked_before = len(server.token_server.requests)
    outputs = _run_all(capsys, _commands(server.image_ref, f"{server.host}/{server.repository}", catalog, []))
    assert _http_logged(outputs, server.host), "no --debug HTTP log to search"
    assert issued_tokens, "the token flow was not exercised"
    # tokens are asked for reading only, whatever the account may do (nbadmin may push and delete)
    scopes = [scope for request in server.token_server.requests[asked_before:] for scope in request["scope"]]
    assert scopes and all(scope.endswith(":pull") and scope.startswith("repository:") for scope in scopes), scopes
    wrong = _write_auths(secret_home, server.host, server.username, "wrong-" + server.password)
    outputs.append(_failing_debug_run(capsys, "inspect", server.image_ref, "--no-cache"))
    assert "AuthError" in outputs[-1] and "Traceback" in outputs[-1]
    secrets = [server.password, basic, "wrong-" + server.password, wrong, *issued_tokens]
    assert _leaks(secrets, outputs, Path.cwd()) == []
    assert _leaks([wrong], [], secret_home.parent)  # the search does find a secret where one is
    assert list(Path("cache").glob("cache.sqlite3*")), "the cache was not written"
    assert Path("profiles/jupyterhub/values.yaml").is_file()


def test_basic_auth_over_tls_never_leaks(
    capsys: pytest.CaptureFixture[str], tls_basic_registry: TlsRegistry, secret_home: Path
) -> None:
    server = tls_basic_registry
    assert server.username and server.password
    basic = _write_auths(secret_home, server.host, server.username, server.password)
    catalog = _catalog(Path("catalog.yaml"), f"{server.host}/{server.repository}", server.tag)
    ref = f"{server.host}/{server.repository}:{server.tag}"
    extra = ["--ca-cert", str(server.files.ca_cert)]
    outputs = _run_all(capsys, _commands(ref, f"{server.host}/{server.repository}", catalog, extra))
    assert _http_logged(outputs, server.host), "no --debug HTTP log to search"
    _write_auths(secret_home, server.host, server.username, "wrong-" + server.password)
    outputs.append(_failing_debug_run(capsys, "inspect", ref, "--no-cache", *extra))
    assert "AuthError" in outputs[-1]
    assert _leaks([server.password, basic, "wrong-" + server.password], outputs, Path.cwd()) == []


def test_skopeo_gets_no_secret_on_its_command_line(
    capsys: pytest.CaptureFixture[str],
    basic_registry: AuthRegistry,
    secret_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Other local users can read any process's argv: skopeo must find credentials in the auth file."""
    server = basic_registry
    basic = _write_auths(secret_home, server.host, server.username, server.password)
    real = next(Path(d) / "skopeo" for d in os.environ["PATH"].split(os.pathsep) if (Path(d) / "skopeo").is_file())
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    argv_log = tmp_path / "skopeo-argv.log"
    wrapper = bin_dir / "skopeo"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >> {argv_log}\necho ---- >> {argv_log}\nexec {real} "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    result = run_cli(capsys, "--backend", "skopeo", "inspect", server.image_ref, "--json", "--no-cache", "--debug")
    assert result.code == 0, result.err
    assert result.json()["digest"] == server.digest
    calls = argv_log.read_text()
    assert "inspect" in calls and server.image_ref in calls
    assert _leaks([server.password, basic], [calls, result.out + result.err], Path.cwd()) == []


def _subprocess_calls(tree: ast.AST) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in {"run", "Popen", "call", "check_call", "check_output", "create_subprocess_exec"}:
                yield node


def test_no_shell_anywhere_in_the_package() -> None:
    """No shell=True, os.system, os.popen or create_subprocess_shell; subprocess calls take a list."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "shell":
                offenders.append(f"{path}:{node.value.lineno}: shell=")
            if isinstance(node, ast.Attribute) and node.attr in {"system", "popen", "create_subprocess_shell"}:
                offenders.append(f"{path}:{node.lineno}: {node.attr}")
        for call in _subprocess_calls(tree):
            first = call.args[0] if call.args else None
            if isinstance(first, (ast.Constant, ast.JoinedStr, ast.BinOp)):
                offenders.append(f"{path}:{call.lineno}: a command string")
    assert offenders == []


def test_jupyterhub_config_is_parsed_never_executed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "executed"
    config = tmp_path / "jupyterhub_config.py"
    config.write_text(
        "import os, pathlib\n"
        f"pathlib.Path({str(marker)!r}).write_text('ran')\n"
        "os.environ['NBCATALOG_PWNED'] = '1'\n"
        "c = get_config()  # noqa\n"
        "c.KubeSpawner.image = 'quay.io/jupyter/scipy-notebook:latest'\n"
        "c.KubeSpawner.profile_list = [{'display_name': 'Old', 'kubespawner_override': "
        "{'image': 'jupyter/datascience-notebook:2023-10-20'}}]\n"
        "raise SystemExit('a config that runs would stop here')\n"
    )
    monkeypatch.delenv("NBCATALOG_PWNED", raising=False)
    result = run_cli(capsys, "audit", str(config), "--json", "--tags-only", "--fail-on", "none")
    assert result.code == 0, result.err
    images = {finding["image"] for finding in result.json()["findings"]}
    assert "quay.io/jupyter/scipy-notebook:latest" in images
    assert any("jupyter/datascience-notebook" in image for image in images)
    assert not marker.exists() and "NBCATALOG_PWNED" not in os.environ


@pytest.mark.parametrize(
    ("helper_output", "config", "word"),
    [
        ("[]", None, "no JSON object"),
        ("[" * 1200 + "]" * 1200, None, "no JSON"),
        (None, "[" * 1200 + "]" * 1200, "cannot read credentials file"),
        (None, '{"auths": {"h": {"auth": "c2VjcmV0LXVzZXI6c2VjcmV0LXBhc3M="}}, broken', "cannot read credentials"),
    ],
)
def test_broken_credential_sources_are_one_line_and_quote_nothing(
    capsys: pytest.CaptureFixture[str],
    basic_registry: AuthRegistry,
    secret_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    helper_output: str | None,
    config: str | None,
    word: str,
) -> None:
    if helper_output is not None:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        helper = bin_dir / "docker-credential-broken"
        helper.write_text(f"#!/bin/sh\ncat > /dev/null\nprintf '%s' '{helper_output}'\n")
        helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
        monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
        config = json.dumps({"credHelpers": {basic_registry.host: "broken"}})
    assert config is not None
    secret_home.write_text(config)
    result = run_cli(capsys, "inspect", basic_registry.image_ref, "--no-cache")
    assert result.code == 1 and result.out == ""
    assert result.err.count("\n") == 1 and word in result.err, result.err
    assert "c2VjcmV0" not in result.err and "secret-pass" not in result.err


def test_kept_tokens_live_only_in_the_private_runtime_dir(
    capsys: pytest.CaptureFixture[str],
    token_registry: AuthRegistry,
    secret_home: Path,
    issued_tokens: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tokens kept for the next command go to ``$XDG_RUNTIME_DIR/nbcatalog`` (0700), in a 0600 file,
    never to the cache or anywhere else nbcatalog writes; the second command asks for none."""
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    runtime.chmod(0o700)
    server = token_registry
    assert server.token_server is not None
    _write_auths(secret_home, server.host, server.username, server.password)
    repo = f"{server.host}/{server.repository}"
    outputs = _run_all(capsys, [["tags", repo, "--details", "--json"], ["inspect", server.image_ref, "--json"]])
    assert len(issued_tokens) == 1, "the second command did not reuse the kept token"
    kept = runtime / "nbcatalog" / "registry-tokens.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    assert issued_tokens[0] in kept.read_text()
    assert _leaks([server.password, *issued_tokens], outputs, Path.cwd()) == []
    assert list(Path.cwd().rglob("registry-hosts.json")), "the ping record was not kept in the cache"
