"""Any text an admin (or a broken tool) may hand nbcatalog ends in a result or one NbcatalogError,
never an internal error: catalogs, profile files of every kind, jupyterhub_config.py, references."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nbcatalog.catalog.validate import catalog_from_data
from nbcatalog.errors import NbcatalogError
from nbcatalog.profilefiles import read_profile_text
from nbcatalog.refs import parse_reference
from nbcatalog.yamlio import load_yaml

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KEYS = [
    "images", "name", "image", "tag", "digest", "parent", "kind", "gpu", "tag_policy", "default", "hidden",
    "exports", "registries", "insecure", "resource", "count", "node_selector", "tolerations", "display_name",
    "singleuser", "profileList", "kubespawner_override", "profile_options", "choices", "spawnerFormDefaults",
    "options", "value", "readOnly", "spec", "podTemplate", "imageConfig", "values", "apiVersion", "metadata",
    "data", "x-mine", "description", "key", "operator", "effect",
]  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["v1.0.0", "2024-05-27", "auto", "semver", "regex:(", "jupyter", "kubeflow", "nvidia.com/gpu"]),
    st.sampled_from(["quay.io/jupyter/scipy-notebook", "x/y:1", "Bad Ref!", "sha256:abc", "a" * 300, ""]),
    st.text(max_size=12),
)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), inner, max_size=5),
    ),
    max_leaves=25,
)


IMAGE_KEYS = ["name", "image", "tag", "digest", "parent", "kind", "gpu", "tag_policy", "default", "hidden", "exports"]
NAMES = st.sampled_from(["a", "b", "c", "jupyter", "Bad Name", ""])
IMAGE_VALUES = st.one_of(SCALARS, NAMES, st.lists(st.sampled_from(["kubeflow", "jupyterhub", "nope"]), max_size=3))
IMAGES = st.fixed_dictionaries(
    {
        "name": NAMES,
        "image": st.sampled_from(["quay.io/jupyter/scipy-notebook", "kubeflownotebookswg/jupyter", "x/y:1", "Bad!"]),
        "tag": st.sampled_from(["v1.10.0", "2024-05-27", "latest", "bad tag", 3]),
    },
    optional={key: IMAGE_VALUES for key in IMAGE_KEYS[3:]},
)
CATALOGS = st.fixed_dictionaries(
    {"images": st.lists(IMAGES, max_size=4)},
    optional={
        "gpu": st.dictionaries(
            st.sampled_from(["resource", "count", "node_selector", "tolerations", "vendor"]), DOCUMENTS
        ),
        "registries": st.dictionaries(st.sampled_from(["127.0.0.1:5000", "bad host", "x"]), DOCUMENTS, max_size=2),
    },
)


def _dump(document: Any) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


@FUZZ
@given(st.one_of(DOCUMENTS, CATALOGS))
def test_any_catalog_document_validates_or_says_where(document: Any) -> None:
    text = _dump(document)
    try:
        catalog_from_data(load_yaml(text, "catalog.yaml"), "catalog.yaml")
    except NbcatalogError as exc:
        assert exc.exit_code == 2 and "\n" not in exc.message.strip()


@FUZZ
@given(st.one_of(DOCUMENTS.map(_dump), st.text(max_size=200)), st.booleans())
def test_any_profile_text_reads_or_is_bad_input(text: str, python: bool) -> None:
    try:
        records = read_profile_text(text, "profile", python=python)
    except NbcatalogError as exc:
        assert exc.exit_code == 2
        return
    assert all(record.path == "profile" and record.line >= 1 for record in records)


PYTHON_LINES = st.lists(
    st.sampled_from(
        [
            "c = get_config()",
            "c.KubeSpawner.image = 'quay.io/jupyter/base-notebook:2024-05-27'",
            "c.KubeSpawner.profile_list = [{'display_name': 'A', 'kubespawner_override': {'image': 'x/y:1'}}]",
            "c.KubeSpawner.profile_list = [{'profile_options': {'image': {'choices': {'a': {'kubespawner_override': "
            "{'image': 'x/z:2'}}}}}}]",
            "c.KubeSpawner.profile_list = profiles",
            "c.KubeSpawner.image = os.environ['IMAGE']",
            "c.KubeSpawner.image = f'x/y:{tag}'",
            "c.KubeSpawner.node_selector = {'gpu': 'true'}",
            "def f(spawner):\n    spawner.image = 'x/y:3'",
            "c.KubeSpawner.profile_list = [",
            "import os",
            "c.KubeSpawner.extra_resource_limits = {'nvidia.com/gpu': '1'}",
        ]
    ),
    max_size=6,
)


@FUZZ
@given(PYTHON_LINES)
def test_any_jupyterhub_config_reads_or_is_bad_input(lines: list[str]) -> None:
    try:
        read_profile_text("\n".join(lines) + "\n", "jupyterhub_config.py", python=True)
    except NbcatalogError as exc:
        assert exc.exit_code == 2


@FUZZ
@given(st.text(max_size=80))
def test_any_reference_text_parses_or_is_invalid(text: str) -> None:
    try:
        ref = parse_reference(text)
    except NbcatalogError as exc:
        assert exc.exit_code == 2
        return
    assert str(ref)
