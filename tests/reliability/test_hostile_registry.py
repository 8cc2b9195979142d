"""Issue 14: a registry is someone else's server. Endless, huge, deep, slow and looping answers each
end in one line and exit code 1, inside a memory cap and a time limit, never a hang or a traceback.

Each case runs the real CLI in a child capped at 768 MiB of address space (``capped.run``), against a
loopback server that misbehaves in exactly one way (``tests/support/hostileserver.py``). Where the
default limit would take minutes to reach (a 60 s request deadline), the test lowers it with
``--limit``, which is also what it proves works.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from nbcatalog import ocibuild as b
from nbcatalog.oci import OCI_INDEX, OCI_MANIFEST, sha256_digest
from tests.reliability.capped import run
from tests.support.hostileserver import HostileServer, Request, endless, hostile_server, manifest_answer

IMAGE = b.build_image([b.build_layer([b.file("etc/os-release", "ID=debian\n")])])


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """A user with no Docker login and no cache of earlier runs."""
    return {"HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache"), "DOCKER_CONFIG": str(tmp_path / "d")}


# -- 2. unbounded bodies -----------------------------------------------------------------------------


def _needs_token(server: HostileServer) -> object:
    def serve(request: Request) -> None:
        realm = f"http://{server.host}/token"
        request.json(
            401,
            {"errors": [{"code": "UNAUTHORIZED"}]},
            {"WWW-Authenticate": f'Bearer realm="{realm}",service="hostile",scope="repository:hostile/app:pull"'},
        )

    return serve


@pytest.mark.parametrize(
    ("case", "answer", "expected"),
    [
        ("endless", lambda r: r.stream(200, endless(), {"Content-Type": "application/json"}), "token answer"),
        ("huge", lambda r: r.send(200, b'{"token": "' + b"a" * (3 << 20) + b'"}'), "token answer"),
        ("deep", lambda r: r.send(200, b"[" * 200_000 + b"]" * 200_000), "not a token"),
    ],
)
def test_a_token_service_that_answers_without_end_is_cut_at_its_limit(
    home: dict[str, str], case: str, answer: object, expected: str
) -> None:
    """The probe: an endless token answer reached 1.5 GiB in 2.4 s (MemoryError); a 200k-deep one
    was a RecursionError. Both are now one line naming the token service."""

    def setup(server: HostileServer) -> None:
        server.add("GET", r"^/token$", answer)  # type: ignore[arg-type]
        server.add(None, r"^/v2/.+", _needs_token(server))  # type: ignore[arg-type]

    with hostile_server(setup) as server:
        result = run("tags", f"{server.host}/hostile/app", env=home)
    result.assert_clean_failure(1)
    assert expected in result.error and "/token" in result.error
    if case != "deep":
        assert "token-bytes" in result.error  # and how to raise it
    assert result.seconds < 20


def test_a_manifest_past_its_limit_is_refused_declared_or_not(home: dict[str, str]) -> None:
    big = json.dumps({"schemaVersion": 2, "junk": "x" * (50 << 20)}).encode()

    def setup(server: HostileServer) -> None:
        server.add("GET", r"/manifests/declared$", lambda r: r.send(200, big, {"Content-Type": OCI_MANIFEST}))
        server.add("GET", r"/manifests/endless$", lambda r: r.stream(200, endless(), {"Content-Type": OCI_MANIFEST}))

    with hostile_server(setup) as server:
        for tag in ("declared", "endless"):
            result = run("inspect", f"{server.host}/hostile/app:{tag}", "--no-cache", env=home)
            result.assert_clean_failure(1)
            assert "manifest" in result.error and "manifest-bytes" in result.error
        raised = run("inspect", f"{server.host}/hostile/app:declared", "--limit", "manifest-bytes=64MiB", env=home)
    # raised past the body, the manifest is read and judged as what it is: no config, not an image
    raised.assert_clean_failure(1)
    assert "lacks config or layers" in raised.error


def test_an_endless_error_body_is_read_no_further_than_its_limit(home: dict[str, str]) -> None:
    def setup(server: HostileServer) -> None:
        server.add("GET", r"/manifests/", lambda r: r.stream(404, endless(b'{"errors": [' * 4096)))

    with hostile_server(setup) as server:
        result = run("inspect", f"{server.host}/hostile/app:v1", "--no-cache", env=home)
    result.assert_clean_failure(1)
    assert "not found" in result.error


# -- 3. unbounded counts -----------------------------------------------------------------------------


def _endless_pages(request: Request) -> None:
    """Every page links to a page never seen before, with a new tag on each: it never ends."""
    page = int(request.query.partition("last=")[2].partition("&")[0] or 0)
    link = f'</v2/hostile/app/tags/list?n=1000&last={page + 1}>; rel="next"'
    request.json(200, {"name": "hostile/app", "tags": [f"t{page}"]}, {"Link": link})


def test_a_tag_list_that_pages_forever_stops_at_the_page_limit(home: dict[str, str]) -> None:
    """The probe: 12,813 requests and 1.5 GiB, then an asyncio traceback."""
    with hostile_server(lambda s: s.add("GET", r"/tags/list$", _endless_pages)) as server:
        result = run("tags", f"{server.host}/hostile/app", env=home)
        asked = server.asked["GET /v2/hostile/app/tags/list"]
    result.assert_clean_failure(1)
    assert "1000 pages" in result.error and "--limit tag-pages=N" in result.error
    assert asked == 1000


def test_the_page_limit_and_the_request_limit_can_be_lowered(home: dict[str, str]) -> None:
    with hostile_server(lambda s: s.add("GET", r"/tags/list$", _endless_pages)) as server:
        pages = run("tags", f"{server.host}/hostile/app", "--limit", "tag-pages=20", env=home)
        requests = run("tags", f"{server.host}/hostile/app", env={**home, "NBCATALOG_LIMIT_REQUESTS": "30"})
    pages.assert_clean_failure(1)
    assert "20 pages" in pages.error
    requests.assert_clean_failure(1)
    assert "stopped after 30 registry requests" in requests.error and "NBCATALOG_LIMIT_REQUESTS" in requests.error


def test_a_tag_list_with_too_many_tags_is_refused(home: dict[str, str]) -> None:
    tags = [f"v{i}" for i in range(5000)]
    with hostile_server(lambda s: s.add("GET", r"/tags/list$", lambda r: r.json(200, {"tags": tags}))) as server:
        result = run("tags", f"{server.host}/hostile/app", "--limit", "tags=1000", env=home)
        fine = run("tags", f"{server.host}/hostile/app", "--json", env=home)
    result.assert_clean_failure(1)
    assert "more than 1000 tags" in result.error
    assert fine.code == 0 and len(json.loads(fine.out)["tags"]) == 5000


PARENT = b.build_image([b.build_layer([b.file("etc/parent", "the declared parent\n")])])
CHILD = b.build_image([b.build_layer([b.file("etc/child", "built on something else\n")])])


def test_lineage_scan_of_a_huge_parent_with_no_match_is_cut_short_with_a_finding(
    home: dict[str, str], tmp_path: Path
) -> None:
    """The probe: 20,005 requests on a 20,000-tag parent without a match, without --exhaustive."""
    tags = [f"2024.{i}" for i in range(20_000)]

    def setup(server: HostileServer) -> None:
        server.add("GET", r"^/v2/big/parent/tags/list$", lambda r: r.json(200, {"tags": tags}))
        server.add("GET", r"^/v2/big/parent/manifests/", manifest_answer(PARENT.manifest, OCI_MANIFEST))
        server.add("GET", r"^/v2/big/child/manifests/", manifest_answer(CHILD.manifest, OCI_MANIFEST))
        server.blob_store({PARENT.config_digest: PARENT.config, CHILD.config_digest: CHILD.config})

    with hostile_server(setup) as server:
        catalog = tmp_path / "catalog.yaml"
        catalog.write_text(
            f"images:\n"
            f"  - {{name: parent, image: {server.host}/big/parent, tag: '2024.0'}}\n"
            f"  - {{name: child, image: {server.host}/big/child, tag: v1, parent: parent}}\n"
        )
        result = run("lineage", "--json", "--catalog", str(catalog), "--no-cache", env=home, timeout=90)
        asked = server.total
    assert result.code in (0, 1), result.err
    child = next(entry for entry in json.loads(result.out)["images"] if entry["name"] == "child")
    kinds = {issue["kind"]: issue["message"] for issue in child["issues"]}
    assert "scan-cut-short" in kinds, child["issues"]
    assert "tried 1000 of the 20000 tags" in kinds["scan-cut-short"] and "--exhaustive" in kinds["scan-cut-short"]
    # no verdict on a repository not searched to its end
    assert "declared-not-ancestor" not in kinds
    assert asked < 2500, f"{asked} requests"


# -- 4. no total deadline ----------------------------------------------------------------------------


def test_a_manifest_dripped_a_byte_a_second_ends_at_the_request_deadline(home: dict[str, str]) -> None:
    """The probe: still reading after 150 s, because the 30 s timeout is per read."""

    def setup(server: HostileServer) -> None:
        server.add("GET", r"/manifests/", lambda r: r.drip(200, IMAGE.manifest, 0.5, {"Content-Type": OCI_MANIFEST}))

    with hostile_server(setup) as server:
        result = run("inspect", f"{server.host}/hostile/app:v1", "--limit", "request-seconds=3", env=home)
    result.assert_clean_failure(1)
    assert "not complete after 3s" in result.error and "request-seconds" in result.error
    assert result.seconds < 15


def test_a_head_that_never_comes_ends_at_the_request_deadline(home: dict[str, str]) -> None:
    def setup(server: HostileServer) -> None:
        server.add("GET", r"/manifests/", lambda r: server.stopping.wait(60))

    with hostile_server(setup) as server:
        env = {**home, "NBCATALOG_LIMIT_REQUEST_SECONDS": "2"}
        result = run("inspect", f"{server.host}/hostile/app:v1", env=env)
    result.assert_clean_failure(1)
    assert "request-seconds" in result.error
    assert result.seconds < 15


def test_a_registry_answering_each_request_just_in_time_ends_at_the_command_deadline(home: dict[str, str]) -> None:
    def slow_pages(request: Request) -> None:
        server.stopping.wait(0.3)
        _endless_pages(request)

    with hostile_server(lambda s: s.add("GET", r"/tags/list$", slow_pages)) as server:
        result = run("tags", f"{server.host}/hostile/app", "--limit", "command-seconds=2", env=home)
    result.assert_clean_failure(1)
    assert "gave up after 2s" in result.error and "command-seconds" in result.error
    assert result.seconds < 12


# -- 7. internal errors instead of messages ---------------------------------------------------------


def test_a_blob_redirect_loop_is_one_line(home: dict[str, str]) -> None:
    def setup(server: HostileServer) -> None:
        server.add("GET", r"^/v2/hostile/app/manifests/", manifest_answer(IMAGE.manifest, OCI_MANIFEST))
        server.add("GET", r"/blobs/", lambda r: r.send(307, b"", {"Location": r.path}))

    with hostile_server(setup) as server:
        result = run("inspect", f"{server.host}/hostile/app:v1", "--no-cache", env=home)
    result.assert_clean_failure(1)
    assert "redirected too many times" in result.error and "--limit redirects=N" in result.error


@pytest.mark.parametrize(
    "manifests",
    [["not an object", 1], [{"digest": 5, "size": "big"}], [{"mediaType": OCI_MANIFEST, "size": 10}]],
    ids=["strings", "wrong-types", "no-digest"],
)
def test_an_index_whose_manifests_are_not_descriptors_is_one_line(home: dict[str, str], manifests: object) -> None:
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}).encode()
    with hostile_server(lambda s: s.add("GET", r"/manifests/", manifest_answer(index, OCI_INDEX))) as server:
        result = run("inspect", f"{server.host}/hostile/app:v1", "--no-cache", env=home)
    result.assert_clean_failure(1)
    assert "malformed descriptor" in result.error


def test_a_config_of_the_wrong_shapes_is_read_as_far_as_it_makes_sense(home: dict[str, str]) -> None:
    """Labels as a list, ports as a string, rootfs as a number: fields are absent, nothing crashes."""
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "variant": 7,
            "created": 12,
            "config": {"Labels": ["a", "b"], "ExposedPorts": "8888", "Entrypoint": "tini", "Env": "PATH=/x"},
            "rootfs": 3,
            "history": ["not", {"created": [], "empty_layer": "yes"}],
        }
    ).encode()
    digest = sha256_digest(config)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest, "size": len(config)},
            "layers": [],
            "annotations": ["not", "a", "map"],
        }
    ).encode()

    def setup(server: HostileServer) -> None:
        server.add("GET", r"/manifests/", manifest_answer(manifest, OCI_MANIFEST))
        server.blob_store({digest: config})

    with hostile_server(setup) as server:
        result = run("inspect", f"{server.host}/hostile/app:v1", "--json", "--no-cache", env=home)
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert doc["labels"] == {} and doc["entrypoint"] == ["tini"] and doc["exposed_ports"] == []
    assert doc["created"] is None and doc["diff_ids"] == []


@pytest.fixture
def skopeo_available() -> Iterator[None]:
    import shutil

    if shutil.which("skopeo") is None:
        pytest.skip("skopeo is not installed")
    yield


def test_skopeo_backend_output_is_bounded_too(home: dict[str, str], skopeo_available: None) -> None:
    with hostile_server(lambda s: s.add("GET", r"/tags/list$", _endless_pages)) as server:
        result = run(
            "tags",
            f"{server.host}/hostile/app",
            "--backend",
            "skopeo",
            "--limit",
            "request-seconds=3",
            env=home,
        )
    result.assert_clean_failure(1)
    assert "skopeo" in result.error
    assert result.seconds < 15


def test_credentials_never_go_in_the_clear_to_a_token_realm_on_another_host(home: dict[str, str]) -> None:
    """A registry may name any token realm (Docker sends the password there); over plain HTTP to a
    host the user never named, nbcatalog refuses before any byte is sent."""
    import base64

    def setup(server: HostileServer) -> None:
        realm = 'Bearer realm="http://tokens.example.com/token",service="hostile"'
        server.add(None, r"^/v2/.+", lambda r: r.json(401, {"errors": []}, {"WWW-Authenticate": realm}))

    with hostile_server(setup) as server:
        docker = Path(home["DOCKER_CONFIG"])
        docker.mkdir()
        secret = base64.b64encode(b"admin:s3cret-password").decode()
        (docker / "config.json").write_text(json.dumps({"auths": {server.host: {"auth": secret}}}))
        result = run("tags", f"{server.host}/hostile/app", env=home)
    result.assert_clean_failure(1)
    assert "not sent in the clear" in result.error and "http://tokens.example.com" in result.error
    assert "s3cret" not in result.err + result.out


def test_each_read_of_the_app_counts_its_own_requests() -> None:
    """The CLI counts requests per command; the app, per read (a worker and the tasks it starts):
    a long session is not one command's budget, and reads at once do not reset each other."""
    import asyncio

    from nbcatalog import limits
    from nbcatalog.errors import RegistryError
    from nbcatalog.refs import parse_reference
    from nbcatalog.session import Session, SessionOptions

    async def main(host: str) -> list[str]:
        repo = parse_reference(f"{host}/hostile/app")
        async with Session(SessionOptions(cache_dir=None)) as session:

            async def read() -> str:
                limits.fresh_request_budget()
                try:
                    await session.list_tags(repo)
                except RegistryError as exc:
                    return exc.message
                return "ended"

            first = await read()
            together = await asyncio.gather(asyncio.create_task(read()), asyncio.create_task(read()))
            return [first, *together]

    limits.configure(limits.Limits().replace(requests=30))
    try:
        with hostile_server(lambda s: s.add("GET", r"/tags/list$", _endless_pages)) as server:
            outcomes = asyncio.run(main(server.host))
            pages = server.asked["GET /v2/hostile/app/tags/list"]
    finally:
        limits.configure(None)
    assert all(outcome.startswith("stopped after 30 registry requests") for outcome in outcomes), outcomes
    assert pages == 3 * 30 - 1  # the /v2/ ping is the first read's 30th


# -- 1. terminal injection, from a registry's own answers ----------------------------------------------


def test_tag_names_a_registry_sends_are_printed_escaped(home: dict[str, str]) -> None:
    """The probe's example: a tag named ESC ] 0 ; PWNED BEL retitled the admin's terminal. Real
    registries refuse such names; a hostile one sends them anyway, in the tag list and in errors."""
    evil = ["\x1b]0;PWNED\x07", "ok\x1b[2K\rfaked: 0 errors", "\x9b31mred", "v1\u202e0.1", "[red]x[/red]"]
    with hostile_server(lambda s: s.add("GET", r"/tags/list$", lambda r: r.json(200, {"tags": evil}))) as server:
        plain = run("tags", f"{server.host}/hostile/app", env=home)
        as_json = run("tags", f"{server.host}/hostile/app", "--json", env=home)
    assert plain.code == 0, plain.err
    for text in (plain.out, plain.err, as_json.out):
        assert not any(ch in text for ch in "\x1b\x07\x9b\r\u202e"), repr(text)
    assert "\\x1b]0;PWNED\\x07" in plain.out and "\\u202e" in plain.out
    assert [t["tag"] for t in json.loads(as_json.out)["tags"]] == evil  # exactly what was sent
