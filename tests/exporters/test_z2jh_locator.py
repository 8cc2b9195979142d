"""Issue 12, point 1: one locator for z2jh's values, shared by audit and export; export never guesses."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nbcatalog.catalog import Catalog
from nbcatalog.errors import CatalogError
from nbcatalog.exporters.gpu import plan_gpu
from nbcatalog.exporters.jupyterhub import export_values
from nbcatalog.profilefiles import read_profile_text
from nbcatalog.profilefiles.z2jhvalues import export_path, singleuser_paths, values_paths
from tests.support.reference import REFERENCE

WILD = REFERENCE / "wild"

#: Pangeo-style: the daskhub chart (z2jh + dask-gateway) as a sub-chart of the deployment's own chart.
DASKHUB = """\
daskhub:
  jupyterhub:
    hub:
      config:
        Authenticator: {admin_users: [alice]}
    singleuser:
      # per-hub resources; the profiles come from nbcatalog
      cpu: {limit: 2}
      profileList:
        - display_name: Pangeo
          slug: pangeo
          kubespawner_override:
            image: pangeo/pangeo-notebook:2024.05.21
  dask-gateway:
    gateway:
      backend: {image: {name: ghcr.io/dask/dask-gateway, tag: "2024.1.0"}}
"""


def test_daskhub_nesting_is_found_by_audit_and_export_alike() -> None:
    document = yaml.safe_load(DASKHUB)
    assert values_paths(document) == [("daskhub", "jupyterhub")]
    assert singleuser_paths(document) == [("daskhub", "jupyterhub", "singleuser")]
    assert export_path(document, "values.yaml") == ("daskhub", "jupyterhub", "singleuser")
    [record] = read_profile_text(DASKHUB, "values.yaml")
    assert (record.image, record.line) == ("pangeo/pangeo-notebook:2024.05.21", 13)
    assert record.context.startswith("daskhub.jupyterhub.singleuser.profileList[0]")


def test_export_into_daskhub_writes_where_the_chart_reads(small_catalog: Catalog) -> None:
    """Before: a new top-level ``singleuser:`` the chart ignores, exit 0, no warning."""
    merged = export_values(small_catalog, plan_gpu(small_catalog), existing=DASKHUB, source="values.yaml").body
    document = yaml.safe_load(merged)
    assert "singleuser" not in document
    slugs = [p["slug"] for p in document["daskhub"]["jupyterhub"]["singleuser"]["profileList"]]
    assert slugs[0] == "pangeo" and {image.name for image in small_catalog.offered("jupyterhub")} <= set(slugs)
    assert merged.startswith(DASKHUB.split("  dask-gateway:")[0].split("      profileList:")[0])
    assert merged.endswith(DASKHUB[DASKHUB.index("  dask-gateway:") :])


def test_values_in_two_places_are_refused_naming_both(small_catalog: Catalog) -> None:
    text = "singleuser:\n  image: {name: a/b, tag: '1'}\n" + DASKHUB
    with pytest.raises(CatalogError) as caught:
        export_values(small_catalog, plan_gpu(small_catalog), existing=text, source="values.yaml")
    assert "singleuser" in str(caught.value) or "(top level)" in str(caught.value)
    assert "daskhub.jupyterhub:" in str(caught.value) and str(caught.value).startswith("values.yaml:")
    assert len(read_profile_text(text, "values.yaml")) == 2  # audit reads both places


def test_a_jupyterhub_subchart_without_values_is_refused(small_catalog: Catalog) -> None:
    text = "binderhub:\n  jupyterhub:\n    enabled: true\nother: {}\n"
    with pytest.raises(CatalogError, match=r"binderhub\.jupyterhub: looks like the jupyterhub sub-chart"):
        export_values(small_catalog, plan_gpu(small_catalog), existing=text, source="values.yaml")


def test_a_file_without_z2jh_gets_a_top_level_singleuser(small_catalog: Catalog) -> None:
    merged = export_values(small_catalog, plan_gpu(small_catalog), existing="# mine\nfoo: 1\n", source="v.yaml").body
    assert merged.startswith("# mine\nfoo: 1\nsingleuser:\n  profileList:\n")


def test_z2jh_free_form_custom_is_not_a_subchart() -> None:
    """2i2c's basehub keeps a ``custom.singleuser`` of its own that the chart never reads."""
    document = yaml.safe_load((WILD / "2i2c-basehub-chart-values.yaml").read_text())
    assert values_paths(document) == [("jupyterhub",)]
    assert export_path(document, "values.yaml") == ("jupyterhub", "singleuser")


@pytest.mark.parametrize("path", sorted(WILD.glob("2i2c-*.values.yaml")), ids=lambda p: p.name)
def test_every_wild_hub_has_exactly_one_place(path: Path) -> None:
    document = yaml.safe_load(path.read_text())
    [where] = values_paths(document)
    assert where in (("jupyterhub",), ("basehub", "jupyterhub"))


def test_the_locator_works_on_composed_nodes_as_on_plain_data() -> None:
    for text in (DASKHUB, (WILD / "2i2c-basehub-chart-values.yaml").read_text()):
        assert values_paths(yaml.compose(text)) == values_paths(yaml.safe_load(text))
        assert export_path(yaml.compose(text), "v") == export_path(yaml.safe_load(text), "v")
