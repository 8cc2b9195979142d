"""Hand edits in merged export files: the guard covers only what nbcatalog generates (issue 12, point 6).

``export --base ADMIN_FILE`` merges the catalog's profiles into an admin's own values file or spawner
config. The rest of that file is the admin's: editing it must not make the next ``export`` (or
``export --check`` in CI) refuse the file. An edit inside the part nbcatalog writes is still refused,
naming its line in the file on disk.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nbcatalog.catalog import Catalog, load_catalog
from nbcatalog.exporters.common import (
    HASH_MARKER,
    MANAGED_MARKER,
    body_hash,
    edited_by_hand,
    managed_hash,
    read_stamp,
    restamp,
    split_header,
)
from nbcatalog.exporters.files import ExportOptions, HandEditedError, plan_export
from nbcatalog.exporters.kubeflow import configmap
from nbcatalog.profilefiles.rewrite import rewrite_tags
from tests.cli.run import run_cli
from tests.exporters.conftest import SMALL, reference

Z2JH_FILES = [
    "2i2c-cloudbank-gpu-demo.values.yaml",  # jupyterhub.singleuser, the admin's own profiles in profileList
    "2i2c-nasa-cryo-common.values.yaml",  # basehub.jupyterhub.singleuser
]
KUBEFLOW_FILES = [
    "kubeflow-v1.10.0-spawner_ui_config.yaml",
    "wild/kfm-v1.0.2-jwa-config-map.yaml",  # the config embedded in a ConfigMap, as a `|` block
]
SCIPY = "quay.io/jupyter/scipy-notebook:2024-05-27"


def _merged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], export_format: str, name: str
) -> tuple[Path, list[str]]:
    """``export --base`` of a real admin file into ``out.yaml``, through the CLI; returns the CLI args."""
    (tmp_path / "catalog.yaml").write_text(SMALL, encoding="utf-8")
    base = tmp_path / "admin.yaml"
    shutil.copy(reference(name), base)
    out = tmp_path / "out.yaml"
    args = ["export", "--catalog", str(tmp_path / "catalog.yaml"), "-f", export_format, "-o", str(out)]
    first = run_cli(capsys, *args, "--base", str(base))
    assert first.code == 0, first.err
    assert "# nbcatalog-mode: merged" in out.read_text(encoding="utf-8")
    return out, args


def _plan(tmp_path: Path, export_format: str, out: Path) -> str:
    catalog = load_catalog(tmp_path / "catalog.yaml")
    plan = plan_export(catalog, export_format, ExportOptions(output=out))
    return plan.files[0].text


def _line_of(text: str, needle: str, after: int = 0) -> int:
    """1-based number of the first line holding ``needle`` past line ``after``."""
    lines = text.splitlines()
    return next(i + 1 for i, line in enumerate(lines) if i >= after and needle in line)


def _edit_line(path: Path, number: int, old: str, new: str) -> str:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert old in lines[number - 1]
    lines[number - 1] = lines[number - 1].replace(old, new, 1)
    path.write_text("".join(lines), encoding="utf-8")
    return "".join(lines)


def _managed_profile_line(text: str) -> int:
    """The line of nbcatalog's own scipy profile (not the admin's choice that mentions a scipy slug)."""
    return _line_of(text, f"description: {SCIPY}")


@pytest.mark.parametrize("name", Z2JH_FILES)
def test_the_header_hashes_only_nbcatalogs_profiles(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _ = _merged(tmp_path, capsys, "jupyterhub", name)
    stamp = read_stamp(out.read_text(encoding="utf-8"))
    assert stamp.managed is not None and stamp.managed.path[-2:] == ("singleuser", "profileList")
    assert stamp.managed.entries == ("scipy", "torch-cuda", "forced", "cudaish-but-cpu", "code", "rs")
    header = out.read_text(encoding="utf-8").splitlines()[:6]
    assert any(line.startswith(f"# {MANAGED_MARKER} ") for line in header)
    assert not any(HASH_MARKER in line and MANAGED_MARKER not in line for line in header)


@pytest.mark.parametrize("name", Z2JH_FILES)
def test_edits_to_the_admins_keys_survive_export_and_check(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, args = _merged(tmp_path, capsys, "jupyterhub", name)
    text = out.read_text(encoding="utf-8")
    # A chart setting outside profileList, and a value inside the admin's own profile in profileList.
    edited = _edit_line(out, _line_of(text, "defaultUrl: /lab"), "/lab", "/tree")
    first_admin_profile = _line_of(edited, "profileList:")
    limit = _line_of(edited, "mem_limit:", after=first_admin_profile)
    assert limit < _managed_profile_line(edited)
    edited = _edit_line(out, limit, "mem_limit:", "mem_limit: 64G  # was")
    assert not edited_by_hand(edited)
    assert _plan(tmp_path, "jupyterhub", out) == edited  # the merge keeps the edits byte for byte
    check = run_cli(capsys, *args, "--check")
    assert check.code == 0, check.err
    again = run_cli(capsys, *args)
    assert again.code == 0 and again.out.startswith("unchanged"), again.err
    assert out.read_text(encoding="utf-8") == edited


@pytest.mark.parametrize("name", Z2JH_FILES)
def test_an_edit_inside_nbcatalogs_profiles_names_its_line(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, args = _merged(tmp_path, capsys, "jupyterhub", name)
    text = out.read_text(encoding="utf-8")
    _edit_line(out, _line_of(text, "defaultUrl: /lab"), "/lab", "/tree")  # an admin edit too: not named
    number = _managed_profile_line(text)
    edited = _edit_line(out, number, "2024-05-27", "2024-06-03")
    with pytest.raises(HandEditedError) as raised:
        _plan(tmp_path, "jupyterhub", out)
    message = str(raised.value)
    assert raised.value.where == f"{out}:{number}"
    assert f"line {number} differs inside " in message and "singleuser.profileList (profile scipy)" in message
    assert "generates from the catalog" in message and "move that change into the catalog" in message
    assert "--force" in message
    for result in (run_cli(capsys, *args, "--check"), run_cli(capsys, *args)):
        assert result.code == 1 and f"line {number} differs" in result.err
    assert out.read_text(encoding="utf-8") == edited
    forced = run_cli(capsys, *args, "--force")
    assert forced.code == 0, forced.err
    rewritten = out.read_text(encoding="utf-8")
    assert SCIPY in rewritten and "defaultUrl: /tree" in rewritten  # --force keeps the admin's edit


@pytest.mark.parametrize("name", KUBEFLOW_FILES)
def test_kubeflow_edits_outside_the_image_sections_are_the_admins(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, args = _merged(tmp_path, capsys, "kubeflow", name)
    text = out.read_text(encoding="utf-8")
    stamp = read_stamp(text)
    assert stamp.managed is not None and "image.options" in stamp.managed.entries
    # readOnly sits inside the image section, beside the value and options nbcatalog writes.
    edited = _edit_line(out, _line_of(text, "readOnly: false"), "false", "true")
    cpu = _line_of(edited, "cpu:")
    edited = _edit_line(out, _line_of(edited, "value:", after=cpu), "0.5", "2")
    assert not edited_by_hand(edited)
    check = run_cli(capsys, *args, "--check")
    assert check.code == 0, check.err
    assert run_cli(capsys, *args).code == 0
    assert out.read_text(encoding="utf-8") == edited


@pytest.mark.parametrize("name", KUBEFLOW_FILES)
def test_kubeflow_an_edited_image_option_names_its_line(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, args = _merged(tmp_path, capsys, "kubeflow", name)
    text = out.read_text(encoding="utf-8")
    number = _line_of(text, f"- {SCIPY}")
    edited = _edit_line(out, number, "2024-05-27", "2024-06-03")
    with pytest.raises(HandEditedError) as raised:
        _plan(tmp_path, "kubeflow", out)
    assert raised.value.where == f"{out}:{number}"
    assert f"line {number} differs inside spawnerFormDefaults.image.options" in str(raised.value)
    result = run_cli(capsys, *args, "--check")
    assert result.code == 1 and f"{out}:{number}: line {number} differs" in result.err
    assert out.read_text(encoding="utf-8") == edited


def test_kubeflow_a_flipped_boolean_is_a_hand_edit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The merge sets hideTag from the catalog: a hand edit there would be overwritten, so it is refused."""
    out, _ = _merged(tmp_path, capsys, "kubeflow", KUBEFLOW_FILES[0])
    number = _line_of(out.read_text(encoding="utf-8"), "hideTag: false")
    _edit_line(out, number, "false", "true")
    with pytest.raises(HandEditedError, match=rf"line {number} differs inside spawnerFormDefaults\.hideTag"):
        _plan(tmp_path, "kubeflow", out)


def test_reindenting_the_managed_part_is_not_a_hand_edit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same config bare and inside a ConfigMap (indented by four) hashes alike; trailing blanks do not count."""
    out, _ = _merged(tmp_path, capsys, "kubeflow", KUBEFLOW_FILES[0])
    text = out.read_text(encoding="utf-8")
    stamp = read_stamp(text)
    assert stamp.managed is not None
    assert managed_hash(configmap(text), stamp.managed) == managed_hash(text, stamp.managed) == stamp.recorded
    number = _line_of(text, f"- {SCIPY}")
    trailing = _edit_line(out, number, SCIPY, SCIPY + "   ")
    assert not edited_by_hand(trailing)


@pytest.mark.parametrize(("export_format", "name"), [("jupyterhub", Z2JH_FILES[0]), ("kubeflow", KUBEFLOW_FILES[1])])
def test_audit_fix_inside_the_managed_part_is_not_a_hand_edit(
    export_format: str, name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``audit --fix`` rewrites tags in the file (and in the catalog): the next export takes it as current."""
    out, args = _merged(tmp_path, capsys, export_format, name)
    text = out.read_text(encoding="utf-8")
    admin_key, old, new = (
        ("readOnly: false", "false", "true") if export_format == "kubeflow" else ("defaultUrl", "lab", "tree")
    )
    text = _edit_line(out, _line_of(text, admin_key), old, new)  # an admin edit first: it does not stop the renewal
    lines = text.splitlines()
    edits = {}
    for index, line in enumerate(lines):
        if SCIPY in line:
            column = line.index(SCIPY) + len(SCIPY) - len("2024-05-27") + 1
            edits[(index + 1, column)] = ("2024-05-27", "2024-06-03")
    assert edits
    rewrite_tags(out, edits)
    fixed = out.read_text(encoding="utf-8")
    assert not edited_by_hand(fixed) and "2024-06-03" in fixed
    catalog = tmp_path / "catalog.yaml"
    fixed_catalog = SMALL.replace('scipy-notebook, tag: "2024-05-27"', 'scipy-notebook, tag: "2024-06-03"')
    assert fixed_catalog != SMALL
    catalog.write_text(fixed_catalog, encoding="utf-8")
    check = run_cli(capsys, *args, "--check")
    assert check.code == 0, check.err


def test_restamp_renews_a_merged_file_edited_only_outside_its_managed_part(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _ = _merged(tmp_path, capsys, "jupyterhub", Z2JH_FILES[0])
    text = out.read_text(encoding="utf-8").replace("defaultUrl: /lab", "defaultUrl: /tree")
    inside = text.replace(f"description: {SCIPY}", "description: mine")
    assert not edited_by_hand(restamp(text, text.replace(SCIPY, SCIPY.replace("05-27", "06-03"))))
    assert edited_by_hand(inside)
    assert restamp(inside, inside.replace("2024-05-27", "2024-06-03")) == inside.replace("2024-05-27", "2024-06-03")
    assert edited_by_hand(restamp(inside, inside.replace("2024-05-27", "2024-06-03")))


def _as_older_version(text: str) -> str:
    """``text`` with the header an earlier nbcatalog wrote for merged files: a whole-body sha256."""
    recorded, body = split_header(text)
    assert recorded is not None
    return (
        "# Generated by nbcatalog from catalog.yaml (format: jupyterhub).\n"
        "# Change the catalog and run `nbcatalog export`; a file edited by hand is not overwritten\n"
        "# without --force.\n"
        "# nbcatalog-mode: merged\n"
        f"# {HASH_MARKER} {body_hash(body)}\n"
    ) + body


def test_a_merged_file_from_an_earlier_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Untouched: kept as it is (no churn for --check). Admin edits: taken as the admin's, header upgraded.
    An edit inside nbcatalog's profiles: refused, naming the line."""
    out, args = _merged(tmp_path, capsys, "jupyterhub", Z2JH_FILES[0])
    older = _as_older_version(out.read_text(encoding="utf-8"))
    out.write_text(older, encoding="utf-8")
    assert not edited_by_hand(older)
    check = run_cli(capsys, *args, "--check")
    assert check.code == 0, check.err
    assert _plan(tmp_path, "jupyterhub", out) == older

    number = _managed_profile_line(older)
    inside = _edit_line(out, number, "2024-05-27", "2024-06-03")
    assert edited_by_hand(inside)
    with pytest.raises(HandEditedError, match=rf"line {number} differs inside .*earlier nbcatalog"):
        _plan(tmp_path, "jupyterhub", out)

    admin = older.replace("defaultUrl: /lab", "defaultUrl: /tree")
    out.write_text(admin, encoding="utf-8")
    written = run_cli(capsys, *args)
    assert written.code == 0, written.err
    upgraded = out.read_text(encoding="utf-8")
    assert split_header(upgraded)[1] == split_header(admin)[1]  # the admin's edit, byte for byte
    assert read_stamp(upgraded).managed is not None and not edited_by_hand(upgraded)
    assert run_cli(capsys, *args, "--check").code == 0


def test_generated_files_keep_the_whole_body_hash(small_catalog: Catalog, tmp_path: Path) -> None:
    out = tmp_path / "values.yaml"
    text = plan_export(small_catalog, "jupyterhub", ExportOptions(output=out)).files[0].text
    stamp = read_stamp(text)
    assert stamp.managed is None and stamp.recorded == body_hash(stamp.body)
    assert "# nbcatalog-mode: generated" in text
