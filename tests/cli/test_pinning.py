"""``pin: digest`` end to end, on the real registry: export pins, audit sees a tag move, --fix re-pins.

skopeo is the independent reference for the digests: the sha256 of the manifest it reads raw for
the tag (for a multi-arch tag, the index, which is what a node pulls before choosing its platform).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from nbcatalog import ocibuild as b
from nbcatalog.exporters.files import DEFAULT_PATHS, FORMATS
from nbcatalog.profilefiles import read_profile_file
from tests.cli.run import run_cli
from tests.support import skopeo
from tests.support.images import base_image, layered_image
from tests.support.registry import Pusher, RegistryServer

HEADING = "# the team's notebook images: keep this comment\n"


def _multiarch(version: str) -> b.BuiltIndex:
    return b.build_index(
        [layered_image(base_image("linux/amd64"), version), layered_image(base_image("linux/arm64/v8"), version)]
    )


def _skopeo_digest(ref: str) -> str:
    return "sha256:" + hashlib.sha256(skopeo.raw_manifest(ref)).hexdigest()


def _catalog(path: Path, host: str, repo: str, *, top: str = "pin: digest\n", extra: str = "") -> Path:
    path.write_text(
        HEADING + top + "images:\n"
        "  # a single-platform image\n"
        f"  - name: single\n    image: {host}/{repo}/single   # where CI pushes\n    tag: v1.0.0\n    gpu: false\n"
        "  # multi-arch: the index digest is pinned\n"
        f"  - name: multi\n    image: {host}/{repo}/multi\n    tag: v3.0.0\n    gpu: false\n" + extra,
        encoding="utf-8",
    )
    return path


def _profile_images(path: Path) -> list[str]:
    """Every image reference a profile file holds, read back with the audit's own readers."""
    return [record.image for record in read_profile_file(path) if not record.template]


def _catalog_digests(path: Path) -> dict[str, str | None]:
    return {entry["name"]: entry.get("digest") for entry in yaml.safe_load(path.read_text())["images"]}


def _mutable(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["kind"] == "mutable-tag"]


def _audit(capsys: pytest.CaptureFixture[str], catalog: Path, *more: str) -> Any:
    result = run_cli(
        capsys, "audit", "--catalog", str(catalog), "--tags-only", "--no-cache", "--fail-on", "none", *more
    )
    assert result.code == 0, result.err
    return result


def test_pins_round_trip_through_every_exporter_and_audit_repins(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    registry: RegistryServer,
    pusher: Pusher,
    scratch_repo: str,
) -> None:
    host = registry.host
    pusher.push(f"{scratch_repo}/single", layered_image(base_image(), "1.0.0"), ["v1.0.0"])
    pusher.push(f"{scratch_repo}/multi", _multiarch("3.0.0"), ["v3.0.0"])
    single, multi = f"{host}/{scratch_repo}/single:v1.0.0", f"{host}/{scratch_repo}/multi:v3.0.0"
    catalog = _catalog(tmp_path / "catalog.yaml", host, scratch_repo)

    exported = run_cli(capsys, "export", "--all", "--catalog", str(catalog), "--json")
    assert exported.code == 0, exported.err
    digests = {"single": _skopeo_digest(single), "multi": _skopeo_digest(multi)}
    assert digests["multi"] == _multiarch("3.0.0").manifest_digest  # the index, not a child
    assert {pin["name"]: pin["digest"] for pin in exported.json()["pins"]} == digests
    text = catalog.read_text()
    assert _catalog_digests(catalog) == digests
    assert text.startswith(HEADING) and "# a single-platform image" in text and "# where CI pushes" in text
    pinned = {f"{single}@{digests['single']}", f"{multi}@{digests['multi']}"}
    for export_format in FORMATS:
        images = set(_profile_images(tmp_path / DEFAULT_PATHS[export_format]))
        assert images == pinned, export_format
    assert run_cli(capsys, "export", "--all", "--catalog", str(catalog), "--check").code == 0
    again = run_cli(capsys, "export", "--all", "--catalog", str(catalog), "--json")
    assert again.json()["pins"] == [] and _catalog_digests(catalog) == digests  # a pin is taken once

    assert _mutable(_audit(capsys, catalog, "--json").json()) == []

    # CI pushes new builds over the same tags: every pin now names what the tags were
    pusher.push(f"{scratch_repo}/single", layered_image(base_image(), "1.0.1"), ["v1.0.0"])
    pusher.push(f"{scratch_repo}/multi", _multiarch("3.0.1"), ["v3.0.0"])
    moved = {"single": _skopeo_digest(single), "multi": _skopeo_digest(multi)}
    assert moved["single"] != digests["single"] and moved["multi"] != digests["multi"]
    unchanged = run_cli(capsys, "export", "--all", "--catalog", str(catalog), "--check")
    assert unchanged.code == 0 and _catalog_digests(catalog) == digests  # export never re-pins a moved tag

    findings = _mutable(_audit(capsys, catalog, "--json").json())
    by_path: dict[str, list[dict[str, Any]]] = {}
    for finding in findings:
        by_path.setdefault(Path(finding["path"]).name, []).append(finding)
    expected_files = {"catalog.yaml", *(Path(p).name for p in DEFAULT_PATHS.values())}
    assert set(by_path) == expected_files
    for finding in findings:
        name = "single" if "/single" in finding["image"] else "multi"
        assert (finding["severity"], finding["current"], finding["suggested"]) == ("error", digests[name], moved[name])
        tag = "v1.0.0" if name == "single" else "v3.0.0"
        assert f"not the pinned {digests[name][:19]}… (what {tag} was when pinned)" in finding["message"]
    assert all("adds an imageConfig value" in f["message"] for f in by_path["workspacekind.yaml"])

    before = {path: (tmp_path / path).read_text() for path in ["catalog.yaml", *DEFAULT_PATHS.values()]}
    dry = _audit(capsys, catalog, "--fix", "--dry-run")
    assert f"-    digest: {digests['single']}" in dry.out and f"+    digest: {moved['single']}" in dry.out
    assert {path: (tmp_path / path).read_text() for path in before} == before  # a dry run changes nothing

    fixed = _audit(capsys, catalog, "--fix")
    assert f"catalog.yaml:9:13: {digests['single']} -> {moved['single']}" in fixed.out, fixed.out
    assert _catalog_digests(catalog) == moved and catalog.read_text().startswith(HEADING)
    assert "# where CI pushes" in catalog.read_text()
    repinned = {f"{single}@{moved['single']}", f"{multi}@{moved['multi']}"}
    for export_format in FORMATS:
        if export_format != "workspacekind":  # options are versioned by id: export adds the new one
            assert set(_profile_images(tmp_path / DEFAULT_PATHS[export_format])) == repinned, export_format

    # the fix is what the export now writes (not a hand edit); WorkspaceKind takes new options
    check = run_cli(capsys, "export", "--all", "--catalog", str(catalog), "--check", "--json")
    statuses = {entry["format"]: entry["status"] for entry in check.json()["files"]}
    assert statuses == {**dict.fromkeys(FORMATS, "up-to-date"), "workspacekind": "out-of-date"}
    assert run_cli(capsys, "export", "--all", "--catalog", str(catalog)).code == 0
    kinds = read_profile_file(tmp_path / DEFAULT_PATHS["workspacekind"])
    assert {r.image for r in kinds if not r.hidden} == repinned
    assert {r.image for r in kinds if r.hidden and r.redirect_to} == pinned

    left = _mutable(_audit(capsys, catalog, "--json").json())
    assert left and all(f["severity"] == "info" and "kept for existing workspaces" in f["message"] for f in left)
    assert {f["current"] for f in left} == set(digests.values())


def test_check_reports_a_missing_digest_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], test_images: Any
) -> None:
    repository = test_images.layered.repo_ref
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(f"images:\n  - {{name: app, image: {repository}, tag: v1.0.0, pin: digest}}\n")
    before = catalog.read_text()
    result = run_cli(capsys, "export", "--catalog", str(catalog), "--check", "--json")
    assert result.code == 1
    assert result.json()["pins"] == [
        {"name": "app", "reference": f"{repository}:v1.0.0", "digest": None, "status": "unpinned"}
    ]
    assert "pin: digest but no digest: yet for app: run `nbcatalog export`" in result.err
    assert {entry["status"] for entry in result.json()["files"]} == {"out-of-date"}
    assert catalog.read_text() == before and not (tmp_path / "profiles").exists()


def test_an_entry_pin_overrides_the_top_level_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], test_images: Any
) -> None:
    layered, docker = test_images.layered, test_images.docker
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        "pin: tag\nimages:\n"
        f"  - {{name: pinned, image: {layered.repo_ref}, tag: {layered.tag}, pin: digest}}\n"
        f"  - {{name: by-tag, image: {docker.repo_ref}, tag: {docker.tag}}}\n"
    )
    assert run_cli(capsys, "export", "--catalog", str(catalog), "-f", "jupyterhub").code == 0
    assert _catalog_digests(catalog) == {"pinned": layered.digest, "by-tag": None}
    images = _profile_images(tmp_path / DEFAULT_PATHS["jupyterhub"])
    assert set(images) == {f"{layered.ref}@{layered.digest}", docker.ref}

    catalog.write_text(
        "pin: digest\nimages:\n"
        f"  - {{name: by-tag, image: {docker.repo_ref}, tag: {docker.tag}, pin: tag}}\n"
        f"  - {{name: pinned, image: {layered.repo_ref}, tag: {layered.tag}}}\n"
    )
    assert run_cli(capsys, "export", "--catalog", str(catalog), "-f", "kubeflow").code == 0
    assert _catalog_digests(catalog) == {"by-tag": None, "pinned": layered.digest}
    images = _profile_images(tmp_path / DEFAULT_PATHS["kubeflow"])
    assert set(images) == {f"{layered.ref}@{layered.digest}", docker.ref}


def test_an_unreachable_registry_fails_in_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], test_images: Any
) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        "pin: digest\nimages:\n"
        f"  - {{name: fine, image: {test_images.layered.repo_ref}, tag: v1.0.0}}\n"
        "  - {name: gone, image: 127.0.0.1:9/team/notebook, tag: v1}\n"
    )
    before = catalog.read_text()
    result = run_cli(capsys, "export", "--catalog", str(catalog))
    assert result.code == 1
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "127.0.0.1:9/team/notebook:v1" in lines[0] and "Traceback" not in result.err
    assert catalog.read_text() == before and not (tmp_path / "profiles").exists()


def test_oci_layout_entries_pin_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = _multiarch("1.0.0")
    b.write_layout(tmp_path / "layout", {"v1": index})
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text("images:\n  - {name: local, image: oci:layout, tag: v1, pin: digest}\n")
    assert run_cli(capsys, "export", "--catalog", str(catalog), "-f", "workspacekind").code == 0
    assert _catalog_digests(catalog) == {"local": index.manifest_digest}
    assert index.manifest_digest == _skopeo_digest(f"oci:{tmp_path / 'layout'}:v1")
    text = (tmp_path / DEFAULT_PATHS["workspacekind"]).read_text()
    assert f"image: oci:layout:v1@{index.manifest_digest}" in text
    assert f"id: local:v1@sha256:{index.manifest_digest[7:19]}" in text


def test_a_moved_digest_in_a_reference_is_repinned_in_place(tmp_path: Path) -> None:
    """The rule alone: a profile's own ``@sha256:…`` is judged, and the fix lands on its digest text."""
    from nbcatalog.audit import RegistryView, audit, fixes
    from nbcatalog.profilefiles import rewrite_tags

    old, new = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    path = tmp_path / "values.yaml"
    path.write_text(
        "singleuser:\n  profileList:\n    - display_name: a\n      kubespawner_override:\n"
        f"        image: 'quay.io/jupyter/base-notebook:2024-05-27@{old}'  # pinned\n"
    )
    repository = "quay.io/jupyter/base-notebook"
    view = RegistryView(tags={repository: ["2024-05-27"]}, digests={f"{repository}:2024-05-27": new})
    findings = audit(read_profile_file(path), view)
    assert [(f.kind, f.severity, f.current, f.suggested) for f in findings] == [("mutable-tag", "error", old, new)]
    assert "(what 2024-05-27 was when pinned)" in findings[0].message
    (edits,) = fixes(findings).values()
    before, after = rewrite_tags(path, edits, write=False)
    assert after == before.replace(old, new) and path.read_text() == before
