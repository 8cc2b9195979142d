"""Kubeflow export and the groups a catalog has no entries for, and the ConfigMap-embedded form.

A catalog without code-server or RStudio images says nothing about those groups: the admin's must
survive a merge byte for byte, and a fresh file must not carry ``value: ""`` (no image reference).
A ConfigMap holding the config is merged into in place and written back as the same ConfigMap.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nbcatalog.catalog import Catalog, load_catalog
from nbcatalog.errors import CatalogError
from nbcatalog.exporters.gpu import plan_gpu
from nbcatalog.exporters.kubeflow import CONFIGMAP_KEY, export_spawner_config
from nbcatalog.profilefiles.reader import read_profile_file
from tests.cli.run import run_cli
from tests.exporters.conftest import SMALL, reference

JUPYTER_ONLY = """\
images:
  - {name: scipy, image: quay.io/jupyter/scipy-notebook, tag: "2024-05-27", default: true}
  - {name: torch, image: quay.io/jupyter/pytorch-notebook, tag: "2024-05-27"}
"""
CODE_ONLY = """\
images:
  - {name: code, image: ghcr.io/kubeflow/kubeflow/notebook-servers/codeserver-python, tag: v1.10.0, kind: codeserver}
"""
MODERN = [
    "kubeflow-v1.4.0-spawner_ui_config.yaml",
    "kubeflow-v1.10.0-spawner_ui_config.yaml",
    "kubeflow-notebooks-v1.11.0-spawner_ui_config.yaml",
    "wild/kfm-26.03-spawner_ui_config.yaml",
    "wild/kf-v1.9.2-backend-spawner_ui_config.yaml",
]
CONFIGMAPS = [
    "wild/kfm-v1.2.0-aws-overlay-config-map.yaml",  # `|-`, image without a value
    "wild/kfm-v0.6.2-jwa-config-map.yaml",  # `|`
    "wild/kfm-v1.0.2-jwa-config-map.yaml",
]


def catalog_from(tmp_path: Path, text: str) -> Catalog:
    path = tmp_path / "catalog.yaml"
    path.write_text(text, encoding="utf-8")
    return load_catalog(path)


def section_text(text: str, section: str) -> str:
    """The lines of ``spawnerFormDefaults.<section>``, from its key to its last value line."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    assert root is not None
    form = next(v for k, v in root.value if k.value == "spawnerFormDefaults")
    key, node = next((k, v) for k, v in form.value if k.value == section)
    lines = text.splitlines(keepends=True)
    return "".join(lines[key.start_mark.line : node.end_mark.line + 1])


@pytest.mark.parametrize("name", MODERN)
def test_groups_without_catalog_entries_stay_byte_for_byte(name: str, tmp_path: Path) -> None:
    catalog = catalog_from(tmp_path, JUPYTER_ONLY)
    original = reference(name).read_text(encoding="utf-8")
    result = export_spawner_config(catalog, plan_gpu(catalog), existing=original, source=name)
    for group in ("imageGroupOne", "imageGroupTwo"):
        assert section_text(result.body, group) == section_text(original, group)
        assert any(f"kept {group} as the file has it" in warning for warning in result.warnings)
    form = yaml.safe_load(result.body)["spawnerFormDefaults"]
    assert form["image"]["options"] == [image.reference for image in catalog.images]
    assert form["imageGroupOne"] == yaml.safe_load(original)["spawnerFormDefaults"]["imageGroupOne"]


def test_removing_the_only_rstudio_image_keeps_the_group_and_never_writes_an_empty_value(tmp_path: Path) -> None:
    with_rstudio = catalog_from(tmp_path, SMALL)
    original = reference("kubeflow-v1.10.0-spawner_ui_config.yaml").read_text(encoding="utf-8")
    merged = export_spawner_config(with_rstudio, plan_gpu(with_rstudio), existing=original).body
    without = catalog_from(tmp_path, "\n".join(line for line in SMALL.splitlines() if "name: rs," not in line) + "\n")
    again = export_spawner_config(without, plan_gpu(without), existing=merged).body
    assert section_text(again, "imageGroupTwo") == section_text(merged, "imageGroupTwo")
    assert 'value: ""' not in section_text(again, "imageGroupTwo")
    assert yaml.safe_load(again)["spawnerFormDefaults"]["imageGroupTwo"]["options"] == [
        "ghcr.io/kubeflow/kubeflow/notebook-servers/rstudio-tidyverse:v1.10.0"
    ]


def test_a_fresh_file_leaves_out_the_groups_the_catalog_has_no_entries_for(tmp_path: Path) -> None:
    catalog = catalog_from(tmp_path, JUPYTER_ONLY)
    body = export_spawner_config(catalog, plan_gpu(catalog)).body
    form = yaml.safe_load(body)["spawnerFormDefaults"]
    assert "imageGroupOne" not in form and "imageGroupTwo" not in form  # the web app disables a missing group
    assert form["image"]["value"] == "quay.io/jupyter/scipy-notebook:2024-05-27"
    path = tmp_path / "spawner_ui_config.yaml"
    path.write_text(body, encoding="utf-8")
    assert sorted({record.image for record in read_profile_file(path)}) == sorted(i.reference for i in catalog.images)


def test_a_fresh_file_without_jupyter_images_keeps_image_without_an_empty_value(tmp_path: Path) -> None:
    catalog = catalog_from(tmp_path, CODE_ONLY)
    body = export_spawner_config(catalog, plan_gpu(catalog)).body
    form = yaml.safe_load(body)["spawnerFormDefaults"]
    assert form["image"] == {"options": []}  # the web app reads config.image unguarded: it must exist
    assert form["imageGroupOne"]["value"] == catalog.images[0].reference
    assert "imageGroupTwo" not in form
    assert 'value: ""' not in body.split("cpu:")[0]
    path = tmp_path / "spawner_ui_config.yaml"
    path.write_text(body, encoding="utf-8")
    assert [record.image for record in read_profile_file(path)] == [catalog.images[0].reference] * 2


@pytest.mark.parametrize("name", CONFIGMAPS)
def test_a_configmap_base_is_merged_in_place_and_stays_a_configmap(name: str, tmp_path: Path) -> None:
    catalog = catalog_from(tmp_path, JUPYTER_ONLY)
    original = reference(name).read_text(encoding="utf-8")
    result = export_spawner_config(catalog, plan_gpu(catalog), existing=original, source=name)
    before, after = yaml.safe_load(original), yaml.safe_load(result.body)
    inner = export_spawner_config(catalog, plan_gpu(catalog), existing=before["data"][CONFIGMAP_KEY]).body
    assert after["data"][CONFIGMAP_KEY] == inner  # the same merge as into the bare file
    assert {k: v for k, v in after.items() if k != "data"} == {k: v for k, v in before.items() if k != "data"}
    # Outside the changed image lines, the ConfigMap is the admin's, byte for byte.
    old_lines, new_lines = original.splitlines(), result.body.splitlines()
    changed_old = {line for line in old_lines if line not in new_lines}
    assert changed_old and all("image" in line or line.strip().startswith("- ") for line in changed_old)
    assert old_lines[:3] == new_lines[:3] and old_lines[-8:] == new_lines[-8:]
    assert export_spawner_config(catalog, plan_gpu(catalog), existing=result.body, source=name).body == result.body
    path = tmp_path / "configmap.yaml"
    path.write_text(result.body, encoding="utf-8")
    assert {record.image for record in read_profile_file(path)} == {image.reference for image in catalog.images}


def test_a_quoted_configmap_value_comes_back_as_a_literal_block(tmp_path: Path) -> None:
    catalog = catalog_from(tmp_path, JUPYTER_ONLY)
    spawner = reference("kubeflow-v1.10.0-spawner_ui_config.yaml").read_text(encoding="utf-8")
    document = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "jwa"}, "data": {CONFIGMAP_KEY: spawner}}
    original = yaml.safe_dump(document, sort_keys=False)
    body = export_spawner_config(catalog, plan_gpu(catalog), existing=original).body
    assert f"  {CONFIGMAP_KEY}: |\n" in body
    assert (
        yaml.safe_load(body)["data"][CONFIGMAP_KEY]
        == export_spawner_config(catalog, plan_gpu(catalog), existing=spawner).body
    )
    head = original.split(f"  {CONFIGMAP_KEY}:", 1)[0]
    assert body.startswith(head + f"  {CONFIGMAP_KEY}: |\n")  # the rest of the ConfigMap as it was


def test_an_error_inside_the_embedded_config_names_the_configmaps_line(tmp_path: Path) -> None:
    catalog = catalog_from(tmp_path, JUPYTER_ONLY)
    original = reference("wild/kfm-v1.2.0-aws-overlay-config-map.yaml").read_text(encoding="utf-8")
    broken = original.replace("      cpu:\n", "      cpu: [\n", 1)
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if "cpu: [" in text)
    with pytest.raises(CatalogError) as caught:
        export_spawner_config(catalog, plan_gpu(catalog), existing=broken, source="cm.yaml")
    where = str(caught.value).split(": YAML syntax error")[0]
    assert where.startswith("cm.yaml:") and line <= int(where.split(":")[1]) <= line + 3
    no_key = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  other.yaml: |\n    a: 1\n"
    with pytest.raises(CatalogError, match=r"^cm.yaml:4: a ConfigMap without a data.spawner_ui_config.yaml"):
        export_spawner_config(catalog, plan_gpu(catalog), existing=no_key, source="cm.yaml")


def test_export_cli_with_a_configmap_base(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog_from(tmp_path, JUPYTER_ONLY)
    base = reference("wild/kfm-v1.2.0-aws-overlay-config-map.yaml")
    out = tmp_path / "jwa-config-map.yaml"
    common = ("export", "--catalog", str(tmp_path / "catalog.yaml"), "-f", "kubeflow", "-o", str(out))
    first = run_cli(capsys, *common, "--base", str(base))
    assert first.code == 0, first.err
    written = out.read_text(encoding="utf-8")
    assert written.startswith("# Generated by nbcatalog") and "# nbcatalog-mode: merged" in written
    assert yaml.safe_load(written)["metadata"]["name"] == "jupyter-web-app-jupyter-web-app-config-aws"
    assert run_cli(capsys, *common, "--check").code == 0
    assert run_cli(capsys, *common).out.startswith("unchanged")
    wrapped = run_cli(capsys, *common, "--configmap")
    assert wrapped.code == 2 and "is a ConfigMap already" in wrapped.err
    assert len(wrapped.err.strip().splitlines()) == 1
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: ConfigMap\ndata:\n  other: x\n", encoding="utf-8")
    refused = run_cli(capsys, *common, "--base", str(bad))
    assert refused.code == 2 and f"{bad}:2: a ConfigMap without" in refused.err and "Traceback" not in refused.err
