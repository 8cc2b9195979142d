"""The upgrade plan against a real registry: download per node, package changes, CUDA, risk, caching.

Every expected byte count is computed here from the built artifacts, not from what nbcatalog read.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nbcatalog import ocibuild as b
from nbcatalog.catalog import Catalog, load_catalog
from nbcatalog.errors import CatalogError, InvalidReferenceError
from nbcatalog.oci import Platform
from nbcatalog.plan import CatalogPlan, ImagePlan, plan_catalog, plan_image
from nbcatalog.plannotes import plan_markdown
from nbcatalog.session import Session, SessionOptions
from tests.support.planimages import HOSTILE, PlanImages, push_plan_images, write_catalog
from tests.support.registry import Pusher, RegistryServer


@pytest.fixture(scope="module")
def plan_images(registry: RegistryServer, pusher: Pusher) -> PlanImages:
    return push_plan_images(pusher, registry.host)


def _catalog(tmp_path: Path, images: PlanImages, entries: dict[str, tuple[str, str]], extra: str = "") -> Catalog:
    return load_catalog(write_catalog(tmp_path / "catalog.yaml", images, entries, extra))


def _missing_bytes(current: b.BuiltImage, candidate: b.BuiltImage) -> int:
    have = {layer.digest for layer in current.layers}
    return sum(layer.size for layer in candidate.layers if layer.digest not in have)


async def _plan(
    catalog: Catalog, name: str, cache: Path | None, platform: str = "linux/amd64", **kw: object
) -> ImagePlan:
    options = SessionOptions(platform=Platform.parse(platform), cache_dir=cache)
    async with Session(options) as session:
        return await plan_image(session, catalog, name, **kw)  # type: ignore[arg-type]


async def test_pull_bytes_are_the_candidates_layers_the_current_tag_lacks(
    plan_images: PlanImages, tmp_path: Path
) -> None:
    catalog = _catalog(tmp_path, plan_images, {"app": ("plan/app", "v1.0.0")})
    plan = await _plan(catalog, "app", tmp_path / "cache")
    old, new = plan_images.image("plan/app", "v1.0.0"), plan_images.image("plan/app", "v1.1.0")
    assert plan.candidate == "v1.1.0" and plan.behind == 1 and plan.error is None
    assert plan.pull_bytes == _missing_bytes(old, new) == new.layers[-1].size  # the base is shared
    assert plan.candidate_bytes == sum(layer.size for layer in new.layers)
    assert plan.changes == {"added": 1, "removed": 1, "upgraded": 2, "downgraded": 0, "changed": 0}
    assert [c.name for c in plan.highlights] == ["jupyterlab", "torch"]
    assert plan.cuda_from is None and plan.cuda_to is None
    assert (plan.kubeflow_from, plan.kubeflow_to) == (True, True)
    assert not plan.risky and plan.reasons == ()  # a clean upgrade
    assert plan.days == 90


@pytest.mark.parametrize("platform", ["linux/amd64", "linux/arm64/v8"])
async def test_pull_bytes_of_a_multiarch_index_are_the_platforms(
    plan_images: PlanImages, tmp_path: Path, platform: str
) -> None:
    catalog = _catalog(tmp_path, plan_images, {"multi": ("plan/multi", "v1.0.0")})
    plan = await _plan(catalog, "multi", None, platform)
    old, new = (plan_images.pushed["plan/multi"][tag] for tag in ("v1.0.0", "v1.1.0"))
    assert isinstance(old, b.BuiltIndex) and isinstance(new, b.BuiltIndex)
    pick = {str(image.platform): image for image in old.images}, {str(image.platform): image for image in new.images}
    assert plan.pull_bytes == _missing_bytes(pick[0][platform], pick[1][platform])
    assert plan.candidate_bytes == sum(layer.size for layer in pick[1][platform].layers)
    other = next(p for p in pick[1] if p != platform)
    assert plan.candidate_bytes != sum(layer.size for layer in pick[1][other].layers)  # not the other platform's
    assert plan.to_json()["platform"] == platform


async def test_a_cuda_major_change_and_a_higher_driver_are_risky(plan_images: PlanImages, tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, plan_images, {"cuda": ("plan/cuda", "v1.0.0")})
    plan = await _plan(catalog, "cuda", None)
    assert plan.cuda_from is not None and plan.cuda_to is not None
    assert (plan.cuda_from.version, plan.cuda_to.version) == ("11.8.0", "12.4.1")
    assert (plan.cuda_from.min_driver, plan.cuda_to.min_driver) == ("450", "525")
    assert plan.risky
    assert any("CUDA major" in reason for reason in plan.reasons)
    assert any("driver rises: 450 → 525" in reason for reason in plan.reasons)
    doc = plan.to_json()
    assert doc["cuda"] == {"from": {"version": "11.8.0", "min_driver": "450"},
                           "to": {"version": "12.4.1", "min_driver": "525"}}  # fmt: skip


async def test_to_names_the_candidate_and_a_major_downgrade_of_a_highlight_is_risky(
    plan_images: PlanImages, tmp_path: Path
) -> None:
    catalog = _catalog(tmp_path, plan_images, {"app": ("plan/app", "v1.1.0")})
    newest = await _plan(catalog, "app", None)
    assert newest.candidate is None and newest.pull_bytes == 0 and not newest.risky  # already newest: no cost
    back = await _plan(catalog, "app", None, to="v1.0.0")
    assert back.candidate == "v1.0.0"
    assert back.reasons == ("torch goes down a major version: 2.1.0 → 1.13.1",)
    # only highlighted packages count: with torch not among them, the same move is clean
    quiet = await _plan(catalog, "app", None, to="v1.0.0", highlights=["numpy"])
    assert not quiet.risky and [c.name for c in quiet.highlights] == ["numpy"]


async def test_a_candidate_that_fails_policy_is_risky(plan_images: PlanImages, tmp_path: Path) -> None:
    policy = "policy:\n  registries: [quay.io/jupyter/]\n"
    catalog = _catalog(tmp_path, plan_images, {"app": ("plan/app", "v1.0.0")}, policy)
    plan = await _plan(catalog, "app", None)
    assert [v.kind for v in plan.policy] == ["policy-registry"]
    assert plan.risky and plan.reasons[-1].startswith("fails policy: ")


async def test_a_second_plan_reads_no_layer(plan_images: PlanImages, tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, plan_images, {"app": ("plan/app", "v1.0.0")})
    layers = len({layer.digest for tag in ("v1.0.0", "v1.1.0") for layer in plan_images.image("plan/app", tag).layers})
    stats = []
    for _ in range(2):
        async with Session(SessionOptions(cache_dir=tmp_path / "cache")) as session:
            plan = await plan_image(session, catalog, "app")
            stats.append(session.request_stats.get("GET blobs", 0))
        assert plan.pull_bytes and plan.changes["upgraded"] == 2
    assert stats == [layers + 2, 2]  # each layer once, then none: only the two configs


async def test_the_catalog_plan_keeps_going_past_a_failing_registry(plan_images: PlanImages, tmp_path: Path) -> None:
    entries = {"app": ("plan/app", "v1.0.0"), "cuda": ("plan/cuda", "v1.1.0")}
    path = write_catalog(tmp_path / "catalog.yaml", plan_images, entries)
    text = path.read_text() + "  - name: gone\n    image: 127.0.0.1:9/plan/gone\n    tag: v1.0.0\n"
    path.write_text(text)
    catalog = load_catalog(path)
    async with Session(SessionOptions(cache_dir=None)) as session:
        plan = await plan_catalog(session, catalog)
        named = await plan_catalog(session, catalog, ["cuda"], with_node_disk=False)
    assert isinstance(plan, CatalogPlan) and plan.failed
    by_name = {image.name: image for image in plan.images}
    assert by_name["gone"].error and by_name["gone"].pull_bytes is None
    assert by_name["app"].candidate == "v1.1.0" and by_name["cuda"].candidate is None
    assert plan.node_disk is not None and "gone" in plan.node_disk.errors
    assert [image.name for image in named.images] == ["cuda"] and named.node_disk is None and not named.failed


async def test_bad_input_raises_before_any_registry_is_asked(plan_images: PlanImages, tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, plan_images, {"app": ("plan/app", "v1.0.0")})
    async with Session(SessionOptions(cache_dir=None)) as session:
        with pytest.raises(CatalogError, match="no image named 'nope'"):
            await plan_catalog(session, catalog, ["nope"])
        with pytest.raises(InvalidReferenceError):
            await plan_image(session, catalog, "app", to="not a tag")
        assert session.request_stats == {}
        missing = await plan_image(session, catalog, "app", to="v9.9.9")
    assert missing.error and "v9.9.9" in missing.error


async def test_markdown_notes_escape_hostile_package_names(plan_images: PlanImages, tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, plan_images, {"hostile": ("plan/hostile", "v1.0.0"), "cuda": ("plan/cuda", "v1.0.0")})
    async with Session(SessionOptions(cache_dir=None)) as session:
        plan = await plan_catalog(session, catalog, highlights=[HOSTILE, "torch"])
    text = plan_markdown(plan, [HOSTILE, "torch"])
    assert "\x1b" not in text and "<b>" not in text and "](http" not in text.replace("\\](http", "")
    row = next(line for line in text.splitlines() if line.startswith("| evil"))
    assert row.count(" | ") == 4  # five cells: the name's "|" is escaped
    assert row.startswith(r"| evil\|pkg \[click\](http://e) \<b\>x\</b\> \\x1b\[31m |")
    assert "- **check before rolling out:** CUDA major version changes: 11.8.0 → 12.4.1" in text
    assert "## Node disk" in text


async def test_the_candidate_is_the_tag_audit_suggests(plan_images: PlanImages, tmp_path: Path) -> None:
    from nbcatalog.audit import audit, collect
    from nbcatalog.profilefiles import read_profile_file

    entries = {"app": ("plan/app", "v1.0.0"), "cuda": ("plan/cuda", "v1.0.0"), "multi": ("plan/multi", "v1.1.0")}
    path = write_catalog(tmp_path / "catalog.yaml", plan_images, entries)
    records = read_profile_file(path)
    async with Session(SessionOptions(cache_dir=None)) as session:
        findings = audit(records, await collect(session, records), catalog=records)
        plan = await plan_catalog(session, load_catalog(path), with_node_disk=False)
    suggested = {f.image: f.suggested for f in findings if f.kind == "stale-tag"}
    app, cuda = plan_images.ref("plan/app"), plan_images.ref("plan/cuda")
    assert suggested == {f"{app}:v1.0.0": "v1.1.0", f"{cuda}:v1.0.0": "v1.1.0"}
    assert {image.name: image.candidate for image in plan.images} == {"app": "v1.1.0", "cuda": "v1.1.0", "multi": None}


async def test_date_tags_with_no_tag_policy_move_the_same_in_plan_audit_and_the_app(
    registry: RegistryServer, pusher: Pusher, tmp_path: Path
) -> None:
    """No ``tag_policy`` means the tag's own family everywhere: a date tag is not judged as semver."""
    from nbcatalog.audit import audit, collect
    from nbcatalog.profilefiles import read_profile_file
    from nbcatalog.tui.state import tag_status
    from tests.support.images import base_image, layered_image

    base = base_image()
    for tag, version in (("2024-05-27", "1.0.0"), ("2024-12-02", "1.1.0")):
        pusher.push("plan/dated", layered_image(base, version), [tag])
    path = tmp_path / "catalog.yaml"
    path.write_text(f"images:\n  - name: dated\n    image: {registry.host}/plan/dated\n    tag: 2024-05-27\n")
    catalog = load_catalog(path)
    assert catalog.get("dated").tag_policy == "auto"
    records = read_profile_file(path)
    async with Session(SessionOptions(cache_dir=None)) as session:
        findings = audit(records, await collect(session, records), catalog=records)
        plan = await plan_image(session, catalog, "dated")
        status = await tag_status(session, catalog.get("dated"))
    assert [f.suggested for f in findings if f.kind == "stale-tag"] == ["2024-12-02"]
    assert plan.candidate == "2024-12-02" and status.newest == "2024-12-02"
