"""Reference parsing against Docker's normalisation rules (distribution/reference's own cases)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nbcatalog.errors import InvalidReferenceError
from nbcatalog.refs import (
    ImageRef,
    OciLayoutRef,
    is_loopback_host,
    parse_image_reference,
    parse_reference,
    parse_repository,
)

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("ubuntu", "docker.io", "library/ubuntu", None, None),
        ("ubuntu:22.04", "docker.io", "library/ubuntu", "22.04", None),
        ("kubeflownotebookswg/jupyter:v1.8.0", "docker.io", "kubeflownotebookswg/jupyter", "v1.8.0", None),
        ("docker.io/kubeflownotebookswg/jupyter:v1.8.0", "docker.io", "kubeflownotebookswg/jupyter", "v1.8.0", None),
        ("index.docker.io/library/ubuntu", "docker.io", "library/ubuntu", None, None),
        ("quay.io/jupyter/scipy-notebook:2024-05-27", "quay.io", "jupyter/scipy-notebook", "2024-05-27", None),
        ("localhost/foo", "localhost", "foo", None, None),
        ("localhost:5000/a/b:c", "localhost:5000", "a/b", "c", None),
        ("127.0.0.1:5000/a/b@" + DIGEST, "127.0.0.1:5000", "a/b", None, DIGEST),
        ("host:5000/a/b:v1@" + DIGEST, "host:5000", "a/b", "v1", DIGEST),
        ("[::1]:5000/img:1", "[::1]:5000", "img", "1", None),
        ("Foo.example/img", "Foo.example", "img", None, None),
        (
            "ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-pytorch-cuda-full:v1.10.0",
            "ghcr.io",
            "kubeflow/kubeflow/notebook-servers/jupyter-pytorch-cuda-full",
            "v1.10.0",
            None,
        ),
        ("a__b/c--d.e_f", "docker.io", "a__b/c--d.e_f", None, None),
    ],
)
def test_parse_normalises_like_docker(
    text: str, registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    ref = parse_image_reference(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        (" ubuntu", "whitespace"),
        ("Ubuntu", "lowercase"),
        ("ubuntu:", "invalid tag"),
        ("ubuntu:-bad", "invalid tag"),
        ("ubuntu:" + "x" * 129, "invalid tag"),
        ("ubuntu@sha256:abc", "invalid"),
        ("a//b", "invalid repository path"),
        ("a/b/", "invalid repository path"),
        ("-a/b", "invalid repository path"),
        ("a..b/c", "invalid registry host"),
        ("a/b..c", "invalid repository path"),
        ("bad_host:5000:x/y", "invalid registry host"),
        ("docker.io/" + "a" * 300, "longer than"),
    ],
)
def test_invalid_references_name_the_reference(text: str, fragment: str) -> None:
    with pytest.raises(InvalidReferenceError) as info:
        parse_image_reference(text)
    assert fragment in str(info.value)
    assert info.value.exit_code == 2
    assert "\n" not in str(info.value)


def test_str_round_trips_and_familiar_form() -> None:
    ref = parse_image_reference("kubeflownotebookswg/jupyter:v1.8.0")
    assert str(ref) == "docker.io/kubeflownotebookswg/jupyter:v1.8.0"
    assert ref.familiar() == "kubeflownotebookswg/jupyter:v1.8.0"
    assert parse_image_reference("ubuntu").familiar() == "ubuntu"
    assert parse_image_reference(str(ref)) == ref
    assert ref.api_host == "registry-1.docker.io"
    assert ref.pull_scope() == "repository:kubeflownotebookswg/jupyter:pull"


def test_oci_references_split_at_the_first_colon() -> None:
    assert parse_reference("oci:/tmp/layout:v1") == OciLayoutRef("/tmp/layout", "v1")
    assert parse_reference("oci:/tmp/layout") == OciLayoutRef("/tmp/layout", None)
    assert parse_reference(f"oci:/tmp/l@{DIGEST}") == OciLayoutRef("/tmp/l", None, DIGEST)
    assert str(OciLayoutRef("/tmp/layout", "v1")) == "oci:/tmp/layout:v1"
    with pytest.raises(InvalidReferenceError):
        parse_reference("oci:")


def test_repository_drops_tag_and_digest() -> None:
    assert parse_repository(f"quay.io/a/b:1@{DIGEST}") == ImageRef("quay.io", "a/b")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("localhost:5000", True),
        ("127.0.0.1:5000", True),
        ("127.5.6.7", True),
        ("[::1]:5000", True),
        ("10.0.0.1:5000", False),
        ("example.com", False),
        ("ghcr.io", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


_component = st.from_regex(r"\A[a-z0-9]{1,8}(?:[._-][a-z0-9]{1,8}){0,2}\Z")
_tag = st.from_regex(r"\A[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}\Z")


@given(
    registry=st.sampled_from(["docker.io", "quay.io", "ghcr.io", "127.0.0.1:5000", "localhost", "[::1]:443"]),
    path=st.lists(_component, min_size=1, max_size=4),
    tag=st.none() | _tag,
    digest=st.none() | st.from_regex(r"\A[a-f0-9]{64}\Z").map(lambda h: "sha256:" + h),
)
def test_parse_of_str_is_identity(registry: str, path: list[str], tag: str | None, digest: str | None) -> None:
    repository = "/".join(path)
    if registry == "docker.io" and "/" not in repository:
        repository = "library/" + repository
    ref = ImageRef(registry, repository, tag, digest)
    assert parse_image_reference(str(ref)) == ref
    assert parse_image_reference(ref.familiar()) == ref


@given(st.text(max_size=60))
def test_parser_never_crashes(text: str) -> None:
    with contextlib.suppress(InvalidReferenceError):
        parse_reference(text)
