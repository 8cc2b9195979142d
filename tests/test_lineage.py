"""The pure lineage core over constructed layer chains (the registry-backed run is in test_lineage_registry)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nbcatalog import ocibuild as b
from nbcatalog.catalog import CatalogImage
from nbcatalog.lineage import (
    BaseMatch,
    Chain,
    LineageImage,
    LineageRun,
    catalog_lineage,
    common_prefix,
    declared_root,
    find_base,
    is_ancestor,
    judge,
    own_ancestors,
    repositories_to_search,
    scan_order,
    tree_roots,
    with_ancestors,
)
from nbcatalog.oci import Platform
from nbcatalog.refs import parse_reference
from nbcatalog.session import Session, SessionOptions
from tests.support.images import base_image
from tests.support.registry import Pusher, RegistryServer

U = ("sha256:u1", "sha256:u2")  # an OS base outside the catalog
BASE_OLD = (*U, "sha256:base-1.9.0")
BASE = (*U, "sha256:base-1.9.1")
JUPYTER = (*BASE, "sha256:jupyter")
PYTORCH = (*JUPYTER, "sha256:pytorch")
PYTORCH_FULL = (*PYTORCH, "sha256:pytorch-full")
CODESERVER = (*BASE_OLD, "sha256:codeserver")


def chain(layers: tuple[str, ...], name: str = "") -> Chain:
    return Chain("sha256:manifest-" + (name or layers[-1]), layers, "linux/amd64")


def image(name: str, layers: tuple[str, ...] | None, parent: str | None = None, tag: str = "v1.9.1") -> LineageImage:
    return LineageImage(name, f"reg/{name}", tag, parent, chain(layers, name) if layers else None, "boom")


CATALOG = [
    image("base", BASE),
    image("jupyter", JUPYTER, "base"),
    image("pytorch", PYTORCH, "jupyter"),
    image("pytorch-full", PYTORCH_FULL, "base"),  # declared too far up
    image("codeserver", CODESERVER, "base"),  # built on base:v1.9.0
    image("unrelated", (*U, "sha256:other"), None),  # shares the OS layers only
]


def test_strict_prefix_rule() -> None:
    assert is_ancestor(BASE, JUPYTER)
    assert not is_ancestor(JUPYTER, JUPYTER)  # strict
    assert not is_ancestor(JUPYTER, BASE)
    assert not is_ancestor((), JUPYTER)  # an empty image is nobody's parent
    assert not is_ancestor(BASE_OLD, JUPYTER)
    assert common_prefix(BASE_OLD, JUPYTER) == 2


def test_scan_order_puts_versions_newest_first_and_moving_tags_last() -> None:
    tags = ["latest", "v1.8.0", "v1.10.0", "master-1831e436", "v1.9.2", "2024-05-27", "2024-06-03"]
    order = scan_order(tags)
    assert order[-1] == "latest"
    assert order.index("v1.10.0") < order.index("v1.9.2") < order.index("v1.8.0")
    assert order.index("2024-06-03") < order.index("2024-05-27")
    assert order.index("v1.8.0") < order.index("master-1831e436")


def test_own_ancestors_closest_first() -> None:
    full = CATALOG[3]
    assert [a.name for a in own_ancestors(full, CATALOG)] == ["pytorch", "jupyter", "base"]
    assert own_ancestors(CATALOG[4], CATALOG) == []  # base moved on: only its old tag is an ancestor


def test_siblings_are_not_searched_once_the_common_ancestor_is_known() -> None:
    cuda = image("cuda", (*JUPYTER, "sha256:cuda"), "jupyter")
    images = [*CATALOG, cuda]
    # pytorch shares 4 layers with cuda, exactly what jupyter (a known ancestor) explains
    assert repositories_to_search(cuda, images, known_depth=len(JUPYTER)) == []
    # with nothing known, every entry of its declared family sharing layers is a candidate
    found = repositories_to_search(cuda, images, known_depth=0)
    assert found == [("reg/pytorch", 4), ("reg/pytorch-full", 4), ("reg/codeserver", 2)]
    # "unrelated" shares the OS layers but is outside the family; an undeclared image scans nothing
    assert repositories_to_search(CATALOG[5], images, known_depth=0) == []


def test_declared_root_follows_parents_and_stops_at_cycles() -> None:
    assert declared_root("pytorch", CATALOG) == "base"
    assert declared_root("unrelated", CATALOG) == "unrelated"
    loop = [image("a", None, "b"), image("b", None, "a")]
    assert declared_root("a", loop) == "b"


def test_declared_parent_too_far_up_is_flagged_closer_ancestor() -> None:
    full = CATALOG[3]
    matches = {
        "reg/pytorch": BaseMatch("reg/pytorch", "v1.9.1", chain(PYTORCH, "pytorch")),
        "reg/base": BaseMatch("reg/base", "v1.9.1", chain(BASE, "base")),
    }
    entry = judge(full, matches, CATALOG)
    assert entry.inferred_parent == "pytorch"
    assert entry.base is not None and entry.base.reference == "reg/pytorch:v1.9.1"
    assert [i.kind for i in entry.issues] == ["closer-ancestor"]


def test_stale_base_found_through_an_older_tag() -> None:
    codeserver = CATALOG[4]
    matches = {"reg/base": BaseMatch("reg/base", "v1.9.0", chain(BASE_OLD, "base-old"))}
    entry = judge(codeserver, matches, CATALOG)
    assert entry.inferred_parent == "base"
    assert entry.base is not None and entry.base.reference == "reg/base:v1.9.0"
    assert [i.kind for i in entry.issues] == ["stale-base"]
    doc = entry.to_json()
    assert doc["declared_parent"] == doc["inferred_parent"] == "base"
    assert doc["base_reference"] == "reg/base:v1.9.0" and doc["shared_layers"] == 3


def test_wrong_declared_parent_only_after_its_repository_was_searched() -> None:
    wrong = image("pytorch", PYTORCH, "codeserver")
    images = [*CATALOG[:2], wrong, *CATALOG[3:]]
    jupyter_match = {"reg/jupyter": BaseMatch("reg/jupyter", "v1.9.1", chain(JUPYTER, "jupyter"))}
    entry = judge(wrong, jupyter_match, images, searched=["reg/codeserver"])
    assert entry.inferred_parent == "jupyter"
    assert [(i.kind, i.severity) for i in entry.issues] == [("declared-not-ancestor", "error")]
    alone = judge(wrong, {}, images, searched=["reg/codeserver"])
    assert alone.inferred_parent is None
    assert [i.kind for i in alone.issues] == ["declared-not-ancestor"]
    assert judge(wrong, {}, images).issues == ()  # not searched: no verdict


def test_undeclared_parent_unresolved_and_unrelated() -> None:
    jupyter = image("jupyter", JUPYTER, None)
    entry = judge(jupyter, {"reg/base": BaseMatch("reg/base", "v1.9.1", chain(BASE, "base"))}, CATALOG)
    assert [(i.kind, i.severity) for i in entry.issues] == [("undeclared-parent", "info")]
    broken = judge(image("broken", None, "base"), {}, CATALOG)
    assert broken.inferred_parent is None and broken.issues[0].kind == "unresolved"
    assert broken.to_json()["error"] == "boom"
    unrelated = judge(CATALOG[5], {}, CATALOG)
    assert unrelated.inferred_parent is None and unrelated.issues == ()
    assert unrelated.to_json()["parent_agrees"] is True


def test_entry_sharing_the_parent_repository_prefers_the_declared_one() -> None:
    base_pinned = LineageImage("base-pinned", "reg/base", "v1.9.0", None, chain(BASE_OLD, "bo"))
    images = [*CATALOG, base_pinned]
    matches = {"reg/base": BaseMatch("reg/base", "v1.9.0", chain(BASE_OLD, "bo"))}
    assert judge(CATALOG[4], matches, images).inferred_parent == "base"
    undeclared = LineageImage("cs2", "reg/cs2", "v1", None, chain((*BASE_OLD, "x"), "cs2"))
    entry = judge(undeclared, matches, [*images, undeclared])
    assert entry.inferred_parent == "base-pinned"  # the entry whose own chain is the match
    assert not any(i.kind == "stale-base" for i in entry.issues)


def test_tree_uses_inferred_then_declared_parents_and_breaks_cycles() -> None:
    matches = {
        "jupyter": {"reg/base": BaseMatch("reg/base", "v1.9.1", chain(BASE, "base"))},
        "pytorch": {"reg/jupyter": BaseMatch("reg/jupyter", "v1.9.1", chain(JUPYTER, "jupyter"))},
    }
    entries = with_ancestors([judge(i, matches.get(i.name, {}), CATALOG) for i in CATALOG])
    assert [e.ancestors for e in entries[:3]] == [(), ("base",), ("jupyter", "base")]
    roots, children = tree_roots(entries)
    assert roots == ["base", "unrelated"]
    assert children["base"] == ["jupyter", "pytorch-full", "codeserver"]
    assert children["jupyter"] == ["pytorch"]
    loop = [image("a", None, "b"), image("b", None, "a")]
    roots, _ = tree_roots([judge(i, {}, loop) for i in loop])
    assert roots  # a declared cycle still has somewhere to start


# -- against the real registry ------------------------------------------------------------------------

REQUIRE_CUDA = "cuda>=12.1 brand=tesla,driver>=470,driver<471 brand=nvidia,driver>=525,driver<526"
NVIDIA_PAIR = {"NVIDIA_VISIBLE_DEVICES": "all", "NVIDIA_DRIVER_CAPABILITIES": "compute,utility"}


@dataclass(frozen=True)
class LineageImages:
    """A Kubeflow-like tree pushed under ``host/prefix/``; ``catalog`` lists (name, repo, tag, parent)."""

    host: str
    prefix: str
    tag_count: int

    def repo(self, name: str) -> str:
        return f"{self.host}/{self.prefix}/{name}"

    def entries(self, **overrides: str) -> list[CatalogImage]:
        tags = {name: tag for name, (tag, _) in LINEAGE_CATALOG.items()} | overrides
        return [
            CatalogImage(name=name, image=self.repo(repo_of(name)), tag=tags[name], parent=parent)
            for name, (_, parent) in LINEAGE_CATALOG.items()
        ]

    def catalog_yaml(self, **overrides: str) -> str:
        lines = ["images:"]
        for entry in self.entries(**overrides):
            lines += [f"  - name: {entry.name}", f"    image: {entry.image}", f'    tag: "{entry.tag}"']
            if entry.parent:
                lines.append(f"    parent: {entry.parent}")
        return "\n".join(lines) + "\n"


#: name -> (catalog tag, declared parent). pytorch-cuda-full declares a too-distant parent,
#: tensorflow a wrong one; base is pinned to the moving ``latest`` tag.
LINEAGE_CATALOG: dict[str, tuple[str, str | None]] = {
    "base": ("latest", None),
    "jupyter": ("v1.9.1", "base"),
    "pytorch": ("v1.9.1", "jupyter"),
    "pytorch-full": ("v1.9.1", "pytorch"),
    "pytorch-cuda": ("v1.9.1", "jupyter"),
    "pytorch-cuda-full": ("v1.9.1", "jupyter"),
    "scipy": ("v1.9.0", "jupyter"),
    "codeserver": ("v1.9.1", "base"),
    "tensorflow": ("v1.9.1", "codeserver"),
    "tools": ("v1", None),
    "ds-pytorch": ("cuda12-2024-05-27", None),
}


def repo_of(name: str) -> str:
    return name


def _layer(name: str) -> b.Layer:
    return b.build_layer([b.file(f"opt/{name}/INSTALLED", name + "\n")], created_by=f"RUN install {name}")


def push_lineage_images(pusher: Pusher, host: str, prefix: str = "lineage", filler: int = 10) -> LineageImages:
    """Build and push the tree; ``filler`` older base tags make a lazy scan measurably cheaper."""

    def multiarch(make: Callable[[str], b.BuiltImage]) -> tuple[b.BuiltIndex, dict[str, b.BuiltImage]]:
        images = {platform: make(platform) for platform in ("linux/amd64", "linux/arm64")}
        return b.build_index(list(images.values()), attestation=True), images

    os_images = {p: base_image(p) for p in ("linux/amd64", "linux/arm64")}
    base_190, base_190_img = multiarch(lambda p: b.build_image([_layer(f"base-1.9.0-{p}")], base=os_images[p]))
    base_191, base_191_img = multiarch(
        lambda p: b.build_image([_layer(f"base-1.9.1-{p}")], base=os_images[p], user="1000", exposed_ports=["8888"])
    )
    jup_190, jup_190_img = multiarch(lambda p: b.build_image([_layer(f"jupyter-{p}")], base=base_190_img[p]))
    jup_191, jup_191_img = multiarch(lambda p: b.build_image([_layer(f"jupyter-{p}")], base=base_191_img[p]))
    amd = "linux/amd64"
    pytorch = b.build_image([_layer("pytorch")], base=jup_191_img[amd])
    cuda_env = {"NVIDIA_REQUIRE_CUDA": REQUIRE_CUDA, **NVIDIA_PAIR}
    pytorch_cuda = b.build_image([_layer("pytorch-cuda")], base=jup_191_img[amd], env=cuda_env)
    ds_pytorch = b.build_image([_layer("docker-stacks")], base=os_images[amd], env=NVIDIA_PAIR)
    pushes: list[tuple[str, b.Artifact, list[str]]] = [
        ("base", base_190, ["v1.9.0"]),
        ("base", base_191, ["v1.9.1", "latest"]),
        ("jupyter", jup_190, ["v1.9.0"]),
        ("jupyter", jup_191, ["v1.9.1"]),
        ("pytorch", pytorch, ["v1.9.1"]),
        ("pytorch-full", b.build_image([_layer("pytorch-full")], base=pytorch), ["v1.9.1"]),
        ("pytorch-cuda", pytorch_cuda, ["v1.9.1"]),
        ("pytorch-cuda-full", b.build_image([_layer("pytorch-cuda-full")], base=pytorch_cuda), ["v1.9.1"]),
        ("scipy", b.build_image([_layer("scipy")], base=jup_190_img[amd]), ["v1.9.0"]),
        ("scipy", b.build_image([_layer("scipy")], base=jup_191_img[amd]), ["v1.9.1"]),
        ("codeserver", b.build_image([_layer("codeserver")], base=base_190_img[amd]), ["v1.9.1"]),
        ("tensorflow", b.build_image([_layer("tensorflow")], base=jup_191_img[amd]), ["v1.9.1"]),
        ("tools", b.build_image([_layer("tools")], base=os_images[amd]), ["v1"]),
        ("ds-pytorch", ds_pytorch, ["cuda12-2024-05-27"]),
    ]
    for n in range(filler):
        pushes.append(("base", b.build_image([_layer(f"base-1.0.{n}")], base=os_images[amd]), [f"v1.0.{n}"]))
    for repository, artifact, tags in pushes:
        pusher.push(f"{prefix}/{repository}", artifact, tags)
    return LineageImages(host, prefix, sum(len(tags) for _, _, tags in pushes))


@pytest.fixture(scope="module")
def lineage_images(registry: RegistryServer, pusher: Pusher) -> LineageImages:
    return push_lineage_images(pusher, registry.host)


async def run_lineage(
    entries: list[CatalogImage], platform: str = "linux/amd64", exhaustive: bool = False
) -> LineageRun:
    options = SessionOptions(platform=Platform.parse(platform), cache_dir=None)
    async with Session(options) as session:
        return await catalog_lineage(session, entries, exhaustive=exhaustive)


def by_name(run: LineageRun) -> dict[str, dict[str, Any]]:
    return {entry.name: entry.to_json() for entry in run.entries}


def kinds(doc: dict[str, Any]) -> list[str]:
    return [issue["kind"] for issue in doc["issues"]]


@pytest.mark.parametrize(
    ("image", "parent", "platform", "expected"),
    [
        ("codeserver:v1.9.1", "base", "linux/amd64", "base:v1.9.0"),  # an older tag than the newest
        ("jupyter:v1.9.1", "base", "linux/amd64", "base:v1.9.1"),  # the version tag, not `latest`
        ("jupyter:v1.9.1", "base", "linux/arm64", "base:v1.9.1"),  # multi-arch: per platform
        ("pytorch-cuda-full:v1.9.1", "jupyter", "linux/amd64", "jupyter:v1.9.1"),  # a grandparent repository
        ("tools:v1", "base", "linux/amd64", None),  # shares the OS layers, built on no base tag
        ("base:v1.9.1", "base", "linux/amd64", None),  # an image is not its own base
    ],
)
async def test_find_base_of_any_image(
    lineage_images: LineageImages, image: str, parent: str, platform: str, expected: str | None
) -> None:
    options = SessionOptions(platform=Platform.parse(platform), cache_dir=None)
    prefix = f"{lineage_images.host}/{lineage_images.prefix}/"
    async with Session(options) as session:
        found = await find_base(session, parse_reference(prefix + image), parse_reference(prefix + parent))
    assert (found.reference if found else None) == (prefix + expected if expected else None)


async def test_registry_lineage_tree(lineage_images: LineageImages) -> None:
    run = await run_lineage(lineage_images.entries())
    docs = by_name(run)
    repo = lineage_images.repo
    expected = {  # name: (inferred parent, base_reference, issue kinds)
        "base": (None, None, []),
        "jupyter": ("base", repo("base") + ":v1.9.1", []),  # a version tag, not the catalog's `latest`
        "pytorch": ("jupyter", repo("jupyter") + ":v1.9.1", []),
        "pytorch-full": ("pytorch", repo("pytorch") + ":v1.9.1", []),
        "pytorch-cuda": ("jupyter", repo("jupyter") + ":v1.9.1", []),
        "pytorch-cuda-full": ("pytorch-cuda", repo("pytorch-cuda") + ":v1.9.1", ["closer-ancestor"]),
        "scipy": ("jupyter", repo("jupyter") + ":v1.9.0", ["stale-base"]),
        "codeserver": ("base", repo("base") + ":v1.9.0", ["stale-base"]),
        "tensorflow": ("jupyter", repo("jupyter") + ":v1.9.1", ["declared-not-ancestor"]),
        "tools": (None, None, []),
        "ds-pytorch": (None, None, []),
    }
    actual = {name: (d["inferred_parent"], d["base_reference"], kinds(d)) for name, d in docs.items()}
    assert actual == expected
    assert run.platforms["jupyter"] == ["linux/amd64", "linux/arm64"]
    assert docs["pytorch-full"]["ancestors"] == ["pytorch", "jupyter", "base"]


async def test_registry_cuda_branch(lineage_images: LineageImages) -> None:
    docs = by_name(await run_lineage(lineage_images.entries()))
    cuda = {name: doc["cuda"] for name, doc in docs.items() if doc["cuda"]}
    assert set(cuda) == {"pytorch-cuda", "pytorch-cuda-full", "ds-pytorch"}
    assert cuda["pytorch-cuda"]["version"] == "12.1" and cuda["pytorch-cuda"]["min_driver"] == "470"
    assert cuda["ds-pytorch"]["version"] == "12"  # docker-stacks: the NVIDIA_* pair and the tag prefix
    assert {e["source"] for e in cuda["ds-pytorch"]["evidence"]} == {"env", "tag"}


async def test_registry_rebuilt_on_newer_parent_tag(lineage_images: LineageImages) -> None:
    docs = by_name(await run_lineage(lineage_images.entries(scipy="v1.9.1")))
    assert docs["scipy"]["base_reference"] == lineage_images.repo("jupyter") + ":v1.9.1"
    assert kinds(docs["scipy"]) == []


async def test_registry_multiarch_parents_per_platform(lineage_images: LineageImages) -> None:
    entries = [e for e in lineage_images.entries() if e.name in ("base", "jupyter", "pytorch")]
    amd = by_name(await run_lineage(entries))
    arm = by_name(await run_lineage(entries, "linux/arm64"))
    assert arm["jupyter"]["platform"] == "linux/arm64"
    assert arm["jupyter"]["base_reference"] == lineage_images.repo("base") + ":v1.9.1"
    assert arm["jupyter"]["base_digest"] != amd["jupyter"]["base_digest"]
    assert arm["pytorch"]["error"] == "the image is linux/amd64 only"  # single-arch: not on arm64
    assert amd["pytorch"]["error"] is None


async def test_registry_lazy_scan_agrees_with_exhaustive_and_costs_less(lineage_images: LineageImages) -> None:
    lazy = await run_lineage(lineage_images.entries())
    full = await run_lineage(lineage_images.entries(), exhaustive=True)
    assert by_name(lazy) == by_name(full)
    assert lazy.chains_fetched < full.chains_fetched <= lineage_images.tag_count
    assert lazy.requests["GET manifests"] < full.requests["GET manifests"]


@given(
    parents=st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=25),
    extra_layers=st.lists(st.integers(min_value=1, max_value=3), min_size=25, max_size=25),
)
def test_property_true_parents_are_inferred_from_own_tags(parents: list[int], extra_layers: list[int]) -> None:
    """A random forest: node i > 0 is built on node parents[i-1] % i, or is a root when that is 0 and
    even; every node adds 1-3 layers. With every entry's own tag as the only candidates, the closest
    ancestor is always the true parent, and a correct declaration raises no issue."""
    true_parent: dict[int, int | None] = {0: None}
    chains: dict[int, tuple[str, ...]] = {0: ("sha256:os", "sha256:n0")}
    for node, pick in enumerate(parents, start=1):
        parent = pick % node
        root = pick % 2 == 0 and parent == 0
        true_parent[node] = None if root else parent
        start = ("sha256:os",) if root else chains[parent]
        chains[node] = start + tuple(f"sha256:n{node}-{k}" for k in range(extra_layers[node - 1]))
    images = [
        LineageImage(f"n{n}", f"reg/n{n}", "v1", None if p is None else f"n{p}", chain(chains[n], f"n{n}"))
        for n, p in true_parent.items()
    ]
    for entry_image in images:
        matches = {
            a.repository: BaseMatch(a.repository, a.tag, a.chain)
            for a in own_ancestors(entry_image, images)
            if a.chain is not None
        }
        entry = judge(entry_image, matches, images)
        assert entry.inferred_parent == entry_image.declared_parent
        assert entry.issues == ()
