"""Shared fixtures: a real registry on loopback and the standard images pushed to it, once per session."""

from __future__ import annotations

import os
import re
import ssl
import tempfile
from collections.abc import Iterator

import pytest
from hypothesis import settings

from nbcatalog.cli.main import GLOBAL_OPTIONS
from tests.support.images import (
    ManyTags,
    StandardImages,
    base_image,
    layered_image,
    push_many_tags,
    push_standard_images,
)
from tests.support.proxy import PaginatingProxy, run_proxy
from tests.support.registry import ChallengeAuth, Pusher, RegistryServer, run_registry
from tests.support.tls import TlsRegistry, run_tls_registry
from tests.support.tokenserver import (
    PASSWORD,
    USERNAME,
    AuthRegistry,
    run_basic_registry,
    run_token_registry,
)

# Tests talk only to loopback servers they started; a machine's own proxy (a corporate CI runner's
# HTTPS_PROXY) must not route them elsewhere. Cleared at import, before any session fixture pushes.
# Tests of proxy support set these variables themselves.
for _name in ("https_proxy", "http_proxy", "all_proxy", "no_proxy"):
    os.environ.pop(_name, None)
    os.environ.pop(_name.upper(), None)
# Likewise the user's own settings of the global options must not change what the CLI tests see.
for _name in [option.env for option in GLOBAL_OPTIONS] + ["NBCATALOG_DEMO_DIR"]:
    os.environ.pop(_name, None)
for _name in [name for name in os.environ if name.startswith("NBCATALOG_LIMIT_")]:
    os.environ.pop(_name)
# Nor may the user's cache, stored registry pings or tokens leak in, or the tests' leak out: the
# default cache directory and the token directory are the test run's own.
_ISOLATED = tempfile.mkdtemp(prefix="nbcatalog-tests-")
os.environ["XDG_CACHE_HOME"] = os.path.join(_ISOLATED, "cache")
os.environ["XDG_RUNTIME_DIR"] = os.path.join(_ISOLATED, "runtime")
os.mkdir(os.environ["XDG_RUNTIME_DIR"], 0o700)

# CI must not fail on a new random draw: the "replay" profile draws the same examples every run.
# `HYPOTHESIS_PROFILE=explore` draws fresh ones (and remembers failures), for hunting bugs locally.
settings.register_profile("replay", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "replay"))


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """A plain-HTTP ``docker-registry`` on 127.0.0.1 with no auth; ``registry.host`` is ``127.0.0.1:PORT``."""
    with run_registry(tmp_path_factory.mktemp("registry")) as server:
        yield server


@pytest.fixture(scope="session")
def pusher(registry: RegistryServer) -> Iterator[Pusher]:
    """Pushes ``nbcatalog.ocibuild`` artifacts to ``registry``: ``pusher.push(repo, built, [tag])``."""
    with Pusher(registry.url) as client:
        yield client


@pytest.fixture(scope="session")
def test_images(registry: RegistryServer, pusher: Pusher) -> StandardImages:
    """The standard images, pushed once: ``test_images.layered_ref``, ``.zstd_ref``, ``.multiarch_ref`` ..."""
    return push_standard_images(pusher, registry.host)


@pytest.fixture(scope="session")
def many_tags(registry: RegistryServer, pusher: Pusher) -> ManyTags:
    """``test/manytags`` with 1,100 tags (built once per session: ~10 s of manifest PUTs)."""
    return push_many_tags(pusher, registry.host)


@pytest.fixture
def scratch_repo(request: pytest.FixtureRequest) -> str:
    """A repository name unique to the calling test, for tests that push or delete."""
    return "scratch/" + re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:60]


@pytest.fixture
def paginating_proxy(registry: RegistryServer) -> Iterator[PaginatingProxy]:
    """A fresh loopback front for ``registry`` (Docker-style ``last=`` pages of 100, no faults).

    Configure per test: ``proxy.pager.style = "quay"``, ``.absolute_links``, ``.page_size``, ``.order``;
    ``proxy.add_fault("status", r"/manifests/", status=429, headers={"Retry-After": "1"})``.
    """
    with run_proxy(registry.host) as proxy:
        yield proxy


def _push_auth_image(server: RegistryServer, repositories: list[str], verify: ssl.SSLContext | bool = True) -> str:
    image = layered_image(base_image(), "1.0.0")
    with Pusher(server.url, auth=ChallengeAuth(USERNAME, PASSWORD, verify=verify), verify=verify) as client:
        for repository in repositories:
            client.push(repository, image, ["v1.0.0"])
    return image.digest


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthRegistry]:
    """Registry with ``auth: token`` and a JWT token server; ``private/notebook:v1.0.0`` needs
    ``username``/``password`` (``nbreader``/``READER_PASSWORD`` may only pull); ``public/notebook``
    is pullable anonymously. ``token_registry.token_server.requests`` records each token asked for."""
    with run_token_registry(tmp_path_factory.mktemp("token-registry")) as (server, tokens):
        digest = _push_auth_image(server, ["private/notebook", "public/notebook"])
        yield AuthRegistry(server, USERNAME, PASSWORD, "private/notebook", "v1.0.0", digest, "public/notebook", tokens)


@pytest.fixture(scope="session")
def basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthRegistry]:
    """Registry with htpasswd (bcrypt) basic auth over plain HTTP; ``private/notebook:v1.0.0`` pushed."""
    with run_basic_registry(tmp_path_factory.mktemp("basic-registry")) as server:
        digest = _push_auth_image(server, ["private/notebook"])
        yield AuthRegistry(server, USERNAME, PASSWORD, "private/notebook", "v1.0.0", digest)


@pytest.fixture(scope="session")
def tls_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsRegistry]:
    """HTTPS registry (no auth) with a certificate from a throw-away CA: ``tls_registry.files.ca_cert``
    for ``--ca-cert``, ``.files.cert_dir`` for skopeo's ``--cert-dir``; ``private/notebook:v1.0.0`` pushed."""
    with run_tls_registry(tmp_path_factory.mktemp("tls-registry")) as (server, files):
        digest = _push_auth_image(server, ["private/notebook"], files.ssl_context())
        yield TlsRegistry(server, files, "private/notebook", "v1.0.0", digest)


@pytest.fixture(scope="session")
def tls_basic_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsRegistry]:
    """Like ``tls_registry`` plus htpasswd basic auth (``username``/``password``)."""
    with run_tls_registry(tmp_path_factory.mktemp("tls-basic-registry"), basic_auth=True) as (server, files):
        digest = _push_auth_image(server, ["private/notebook"], files.ssl_context())
        yield TlsRegistry(server, files, "private/notebook", "v1.0.0", digest, USERNAME, PASSWORD)
