"""A registry host whose name does not resolve: asked once, never retried, reported once per host.

No DNS query is made: ``socket.getaddrinfo`` (which asyncio calls for every connection) is replaced
for the made-up ``*.example`` names by one that counts the lookups and answers as a resolver does
for a name that does not exist; every other name goes to the loopback-only guard underneath.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from nbcatalog.errors import UnreachableHostError
from nbcatalog.refs import parse_reference
from nbcatalog.registry.retry import RetryPolicy
from nbcatalog.registry.wire import UnresolvedHost
from nbcatalog.session import Session, SessionOptions
from tests.cli.run import run_cli
from tests.support.images import StandardImages
from tests.support.registry import free_port

DEAD = "nohost.example"
#: Fast backoff, so a retry that should not happen costs little, but attempts enough to be seen.
FAST = RetryPolicy(attempts=5, base_delay=0.01, max_delay=0.05)


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Names looked up for ``*.example``, counted; each fails as ``EAI_NONAME`` without a DNS query."""
    counted: Counter[str] = Counter()
    underneath = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if isinstance(name, str) and name.endswith(".example"):
            counted[name] += 1
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return underneath(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return counted


def _session(**options: Any) -> Session:
    return Session(SessionOptions(cache_dir=None, retry=FAST, **options))


def test_the_policy_retries_transport_failures_but_not_name_failures() -> None:
    assert RetryPolicy.retries(httpx.ConnectError("[Errno 111] Connection refused"))
    assert RetryPolicy.retries(httpx.ConnectTimeout("timed out"))
    assert not RetryPolicy.retries(UnresolvedHost("Name or service not known"))
    assert isinstance(UnresolvedHost("x"), httpx.ConnectError)  # still a connect error to everyone else


async def test_a_name_failure_is_looked_up_once_and_not_retried(lookups: Counter[str]) -> None:
    started = time.monotonic()
    async with _session() as session:
        with pytest.raises(UnreachableHostError) as caught:
            await session.list_tags(parse_reference(f"{DEAD}/team/a"))
    assert lookups == {DEAD: 1}
    error = caught.value
    assert (error.host, error.name_resolved) == (DEAD, False)
    assert str(error) == f"{DEAD}/team/a: cannot resolve the name {DEAD}: Name or service not known"
    assert error.reason == "name not resolved: Name or service not known"
    assert time.monotonic() - started < 1.0


async def test_an_insecure_host_is_not_tried_again_over_http(lookups: Counter[str]) -> None:
    """HTTPS failing to connect falls back to HTTP for ``--insecure-registry``, but not for a name:
    HTTP needs the same name."""
    async with _session(insecure_registries=frozenset({DEAD})) as session:
        with pytest.raises(UnreachableHostError):
            await session.list_tags(parse_reference(f"{DEAD}/team/a"))
    assert lookups == {DEAD: 1}


async def test_requests_waiting_for_a_dead_host_share_its_one_lookup(lookups: Counter[str]) -> None:
    """More requests than the limiter lets through at once, all asked before the lookup failed."""
    repos = [parse_reference(f"{DEAD}/team/r{i}") for i in range(20)]
    async with _session(concurrency=4) as session:
        results = await asyncio.gather(*(session.list_tags(repo) for repo in repos), return_exceptions=True)
        assert all(isinstance(r, UnreachableHostError) for r in results)
        assert [str(r) for r in results[:2]] == [
            f"{DEAD}/team/r{i}: cannot resolve the name {DEAD}: Name or service not known" for i in range(2)
        ]
        assert lookups == {DEAD: 1}
        with pytest.raises(UnreachableHostError):  # asked after the failure: asked again (the TUI lives on)
            await session.list_tags(repos[0])
    assert lookups == {DEAD: 2}


async def test_a_proxy_whose_name_does_not_resolve_is_not_retried_and_keeps_its_secret(
    lookups: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://agent:s3cret-pw@noproxy.example:3128")
    async with _session() as session:
        with pytest.raises(UnreachableHostError) as caught:
            await session.list_tags(parse_reference(f"{DEAD}/team/a"))
    assert lookups == {"noproxy.example": 1}  # the registry's own name is the proxy's to resolve
    text = f"{caught.value} {caught.value.reason}"
    assert "noproxy.example:3128" in text and "s3cret" not in text and "agent" not in text
    assert "\n" not in text


async def test_a_refused_connection_is_still_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    """A refused ``/v2/`` ping keeps its two attempts, and leaves the whole host unreachable."""
    port = free_port()  # nothing listens there
    connects: list[str] = []
    real_open = asyncio.open_connection

    async def open_connection(host: str, port: int, **kwargs: Any) -> Any:
        connects.append(f"{host}:{port}")
        return await real_open(host, port, **kwargs)

    monkeypatch.setattr(asyncio, "open_connection", open_connection)
    async with _session() as session:
        with pytest.raises(UnreachableHostError) as caught:
            await session.list_tags(parse_reference(f"127.0.0.1:{port}/team/a"))
    assert connects == [f"127.0.0.1:{port}"] * 2
    assert caught.value.name_resolved and caught.value.reason.startswith("cannot connect: ConnectError: ")


def test_audit_reports_a_dead_host_once_and_still_judges_what_needs_no_registry(
    capsys: pytest.CaptureFixture[str], lookups: Counter[str], test_images: StandardImages, tmp_path: Path
) -> None:
    live = test_images.layered.ref.rsplit(":", 1)[0]  # tags v1.0.0 and v2.0.0
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        "images:\n"
        f"  - {{name: a-latest, image: {DEAD}/team/a, tag: latest}}\n"
        f"  - {{name: a-old, image: {DEAD}/team/a, tag: v1.0.0}}\n"
        f"  - {{name: b, image: {DEAD}/team/b, tag: v2.0.0}}\n"
        f"  - {{name: c-latest, image: {DEAD}/team/c, tag: latest}}\n"
        f"  - {{name: live, image: {live}, tag: v1.0.0}}\n"
    )
    started = time.monotonic()
    result = run_cli(capsys, "audit", str(catalog), "--json", "--no-cache", "--fail-on", "none")
    elapsed = time.monotonic() - started
    assert result.code == 0, result.err
    findings = result.json()["findings"]
    errors = [f for f in findings if f["kind"] == "registry-error"]
    assert [(f["line"], f["message"]) for f in errors] == [
        (2, f"registry {DEAD} unreachable (name not resolved: Name or service not known): 4 references not checked")
    ]
    mutable = sorted(f["line"] for f in findings if f["kind"] == "mutable-tag")
    assert mutable == [2, 5]  # the two :latest references on the dead host, judged without it
    assert [(f["line"], f["suggested"]) for f in findings if f["kind"] == "stale-tag"] == [(6, "v2.0.0")]
    assert lookups == {DEAD: 1}  # three repositories, one lookup
    assert "Traceback" not in result.err
    assert elapsed < 5.0
