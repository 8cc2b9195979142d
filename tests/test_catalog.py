"""catalog.yaml: the model, the file:line:column errors, and edits that keep the admins' comments."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbcatalog.catalog import CatalogDocument, load_catalog
from nbcatalog.errors import CatalogError
from nbcatalog.refs import ImageRef, OciLayoutRef

REPO_ROOT = Path(__file__).resolve().parents[1]

GOOD = """\
# The admins' catalog: this comment must survive edits.
registries:
  "127.0.0.1:5000": {insecure: true}
gpu:
  resource: nvidia.com/gpu
  count: 2
  node_selector: {nvidia.com/gpu.present: "true"}
  tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
  classes:
    - name: t4
      display_name: NVIDIA T4
      node_selector: {nvidia.com/gpu.product: Tesla-T4}
images:
  - name: base        # the root of the tree
    image: ghcr.io/kubeflow/kubeflow/notebook-servers/base
    tag: v1.10.0
  - name: jupyter-pytorch-cuda   # trailing comment
    image: ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-pytorch-cuda
    tag: v1.10.0
    parent: base
    display_name: PyTorch (CUDA)
    gpu: true
    default: true
  - name: scipy
    image: quay.io/jupyter/scipy-notebook
    tag: 2024-05-27
    tag_policy: date
    kind: jupyter
  - name: local
    image: 127.0.0.1:5000/team/rstudio
    tag: "1.0"
    kind: rstudio
    digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
    tag_policy: regex:^\\d+\\.\\d+$
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_loads_the_model(tmp_path: Path) -> None:
    catalog = load_catalog(write(tmp_path, GOOD))
    assert [image.name for image in catalog.images] == ["base", "jupyter-pytorch-cuda", "scipy", "local"]
    cuda = catalog.get("jupyter-pytorch-cuda")
    assert cuda.line == 17
    assert cuda.parent == "base" and cuda.gpu is True and cuda.display_name == "PyTorch (CUDA)"
    assert catalog.default_image is cuda
    assert cuda.ref == ImageRef("ghcr.io", "kubeflow/kubeflow/notebook-servers/jupyter-pytorch-cuda", "v1.10.0")
    scipy = catalog.get("scipy")
    assert scipy.tag == "2024-05-27" and scipy.tag_policy == "date" and scipy.gpu == "auto"
    local = catalog.get("local")
    assert local.ref.digest is not None and local.ref.digest.startswith("sha256:0123")
    assert local.kind == "rstudio"
    assert catalog.insecure_registries() == {"127.0.0.1:5000"}
    assert catalog.gpu.limits == {"nvidia.com/gpu": "2"}
    assert catalog.gpu.classes[0].node_selector == {"nvidia.com/gpu.product": "Tesla-T4"}
    assert catalog.gpu.tolerations == ({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},)


def test_default_image_falls_back_to_the_first(tmp_path: Path) -> None:
    catalog = load_catalog(write(tmp_path, GOOD.replace("    default: true\n", "")))
    assert catalog.default_image is not None and catalog.default_image.name == "base"


def test_relative_oci_layout_resolves_against_the_catalog(tmp_path: Path) -> None:
    text = "images:\n  - name: demo\n    image: oci:layout\n    tag: v1\n"
    ref = load_catalog(write(tmp_path, text)).get("demo").ref
    assert isinstance(ref, OciLayoutRef)
    assert ref.path == str(tmp_path / "layout") and ref.tag == "v1"


BAD = [
    ("images:\n  - name: a\n    image: x/y\n    tag: [1\n", ":5:1", "YAML syntax error"),
    (
        "images:\n  - name: a\n    image: x/y\n    tag: v1\n    dispaly_name: A\n",
        ":5:5",
        "did you mean 'display_name'",
    ),
    ("imagez: []\n", ":1:1", "unknown key 'imagez'"),
    (
        "images:\n  - name: a\n    image: x/y\n    tag: v1\n  - name: a\n    image: x/z\n    tag: v1\n",
        ":5:5",
        "duplicate image name 'a' (first at line 2)",
    ),
    (
        "images:\n  - name: a\n    image: x/y\n    tag: v1\n    parent: nope\n",
        ":5:13",
        "unknown parent 'nope'",
    ),
    (
        "images:\n  - name: a\n    image: x/y\n    tag: v1\n    parent: b\n"
        "  - name: b\n    image: x/z\n    tag: v1\n    parent: a\n",
        ":5:13",
        "parent cycle: a -> b -> a",
    ),
    ("images:\n  - name: a\n    image: x/Y\n    tag: v1\n", ":3:12", "must be lowercase"),
    ("images:\n  - name: a\n    image: x/y:v1\n    tag: v1\n", ":3:12", "without tag or digest"),
    ("images:\n  - name: a\n    image: x/y\n    tag: -bad\n", ":4:10", "invalid tag"),
    ("images:\n  - name: a\n    image: x/y\n    tag: 1.10\n", ":4:10", "quote it"),
    ("images:\n  - name: a\n    image: x/y\n    tag: v1\n    kind: vscode\n", ":5:11", "kind must be one of"),
    (
        "images:\n  - name: a\n    image: x/y\n    tag: v1\n    gpu: maybe\n",
        ":5:10",
        "gpu must be auto, true or false",
    ),
    (
        "images:\n  - name: a\n    image: x/y\n    tag: v1\n    tag_policy: newest\n",
        ":5:17",
        "tag_policy must be",
    ),
    ("images:\n  - name: a\n    image: x/y\n    tag: v1\n    tag_policy: 'regex:(['\n", ":5:17", "bad regex"),
    (
        "images:\n  - name: a\n    image: x/y\n    tag: v1\n    default: true\n  - name: b\n    image: x/z\n"
        "    tag: v1\n    default: true\n",
        ":9:14",
        "more than one image has default: true (lines 2, 6) for the same export",
    ),
    ("images:\n  - name: A b\n    image: x/y\n    tag: v1\n", ":2:11", "becomes a profile slug"),
    ("images:\n  - name: a\n    image: x/y\n", ":2:5", "needs 'tag'"),
    ("images: {a: 1}\n", ":1:9", "images must be a list"),
    ("gpu:\n  count: 0\n", ":2:10", "gpu.count must be a positive integer"),
    (
        "images:\n  - name: a\n    image: x/y\n    tag: v1\n    digest: sha256:abc\n",
        ":5:13",
        "invalid digest",
    ),
]


@pytest.mark.parametrize(("text", "where", "message"), BAD)
def test_bad_catalogs_name_file_line_and_column(tmp_path: Path, text: str, where: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert caught.value.exit_code == 2
    assert caught.value.where == f"{path}{where}", str(caught.value)
    assert message in caught.value.message


def test_x_keys_are_left_for_the_admins(tmp_path: Path) -> None:
    catalog = load_catalog(
        write(tmp_path, "x-owner: data-team\nimages:\n  - {name: a, image: x/y, tag: v1, x-note: hi}\n")
    )
    assert catalog.get("a").tag == "v1"


def test_missing_file_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="file not found"):
        load_catalog(tmp_path / "nope.yaml")


def test_edits_keep_comments_order_and_quoting(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    document = CatalogDocument.load(path)
    document.set_tag("base", "v1.11.0")
    document.set_default("scipy")
    document.set_kind("local", "codeserver")
    document.set_gpu("scipy", False)
    document.add_image(
        {
            "name": "extra",
            "image": "quay.io/jupyter/r-notebook",
            "tag": "2024-05-27",
            "parent": "scipy",
            "kind": "rstudio",
        },
        after="scipy",
    )
    document.remove_image("local")
    document.save()
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# The admins' catalog: this comment must survive edits.\n")
    assert "  - name: base        # the root of the tree\n" in text
    assert "  - name: jupyter-pytorch-cuda   # trailing comment\n" in text
    assert '  "127.0.0.1:5000": {insecure: true}\n' in text
    assert "    default: false\n" in text  # the old default is switched off in place
    catalog = load_catalog(path)
    assert [image.name for image in catalog.images] == ["base", "jupyter-pytorch-cuda", "scipy", "extra"]
    assert catalog.get("base").tag == "v1.11.0"
    assert catalog.default_image is not None and catalog.default_image.name == "scipy"
    assert catalog.get("scipy").gpu is False
    assert catalog.get("extra").parent == "scipy"
    # Untouched lines are byte-for-byte what the admin wrote.
    original = GOOD.splitlines()
    for line in original[:12]:
        assert line in text.splitlines()


def test_invalid_edits_are_refused_and_rolled_back(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    document = CatalogDocument.load(path)
    with pytest.raises(CatalogError, match="unknown parent"):
        document.set_parent("base", "nope")
    with pytest.raises(CatalogError, match="parent cycle"):
        document.set_parent("base", "jupyter-pytorch-cuda")
    with pytest.raises(CatalogError, match="it is the parent of jupyter-pytorch-cuda"):
        document.remove_image("base")
    with pytest.raises(CatalogError, match="duplicate image name"):
        document.add_image({"name": "base", "image": "x/y", "tag": "v1"})
    with pytest.raises(CatalogError, match="no image named"):
        document.set_tag("ghost", "v1")
    assert document.catalog.get("base").parent is None
    document.save()
    assert path.read_text(encoding="utf-8") == GOOD


def test_save_refuses_when_the_file_changed_underneath(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    document = CatalogDocument.load(path)
    document.set_tag("base", "v1.11.0")
    path.write_text(GOOD + "# someone else\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="changed on disk"):
        document.save()
    document.save(force=True)
    assert load_catalog(path).get("base").tag == "v1.11.0"


SECTIONED = """\
images:
  - name: a
    image: x/a
    tag: v1  # pinned until the fix
    digest: sha256:%s
  # --- CUDA images ---
  - name: b
    image: x/b
    tag: v2
    parent: a  # built FROM a
  # --- R ---
  - name: c
    image: x/c
    tag: v3
# end of the catalog
""" % ("a" * 64)


def test_edits_at_the_end_of_an_entry_keep_the_comments_below_it(tmp_path: Path) -> None:
    """ruamel keeps the comment lines after an entry on its last key: adding or removing that key
    must neither swallow them nor move a new key below a heading of the next entry."""
    path = write(tmp_path, SECTIONED)
    document = CatalogDocument.load(path)
    document.set_tag("a", "v2")  # drops the digest, the last key
    document.set_parent("b", None)  # drops the last key
    document.set_default("c")  # adds a key after the last one
    document.set_gpu("a", True)  # adds a key where the digest was
    document.save()
    assert path.read_text(encoding="utf-8") == (
        "images:\n"
        "  - name: a\n    image: x/a\n    tag: v2  # pinned until the fix\n    gpu: true\n"
        "  # --- CUDA images ---\n"
        "  - name: b\n    image: x/b\n    tag: v2\n"
        "  # --- R ---\n"
        "  - name: c\n    image: x/c\n    tag: v3\n    default: true\n"
        "# end of the catalog\n"
    )


@pytest.mark.parametrize("removed", ["a", "b", "c"])
def test_removing_an_entry_keeps_every_comment_line_around_it(tmp_path: Path, removed: str) -> None:
    path = write(tmp_path, SECTIONED.replace("    parent: a  # built FROM a\n", ""))
    document = CatalogDocument.load(path)
    document.remove_image(removed)
    document.save()
    text = path.read_text(encoding="utf-8")
    for comment in ("# pinned until the fix", "# --- CUDA images ---", "# --- R ---", "# end of the catalog"):
        assert comment in text or (removed == "a" and comment == "# pinned until the fix"), (comment, text)
    assert text.endswith("# end of the catalog\n")
    assert [image.name for image in load_catalog(path).images] == [n for n in "abc" if n != removed]


@pytest.mark.parametrize(("after", "position"), [(None, 3), ("a", 1)])
def test_an_added_entry_goes_above_the_comments_that_followed_its_predecessor(
    tmp_path: Path, after: str | None, position: int
) -> None:
    path = write(tmp_path, SECTIONED)
    document = CatalogDocument.load(path)
    document.add_image({"name": "new", "image": "x/new", "tag": "v9"}, after=after)
    document.save()
    text = path.read_text(encoding="utf-8")
    last_tag = "v3" if after else "v9"  # the file's closing comment stays last
    assert text.endswith(f"    tag: {last_tag}\n# end of the catalog\n")
    if after:  # between a and the heading of b
        assert "    tag: v9\n  # --- CUDA images ---\n  - name: b\n" in text
    assert [image.name for image in load_catalog(path).images].index("new") == position


def test_the_shipped_catalog_declares_upstream_parents() -> None:
    catalog = load_catalog(REPO_ROOT / "catalog.yaml")
    parents = {image.name: image.parent for image in catalog.images}
    assert parents["jupyter"] == "base" and parents["codeserver"] == "base" and parents["rstudio"] == "base"
    assert parents["jupyter-pytorch-cuda"] == "jupyter"  # a sibling of the CPU image
    assert parents["jupyter-pytorch-cuda-full"] == "jupyter-pytorch-cuda"
    assert parents["jupyter-tensorflow-full"] == "jupyter-tensorflow"
    assert parents["codeserver-python"] == "codeserver" and parents["rstudio-tidyverse"] == "rstudio"
    assert parents["r-notebook"] == "minimal-notebook" and parents["datascience-notebook"] == "scipy-notebook"
    assert parents["base-notebook"] == "docker-stacks-foundation"
    assert {image.kind for image in catalog.images} == {"jupyter", "codeserver", "rstudio"}
    assert all(image.tag == "v1.10.0" for image in catalog.images if "kubeflow" in image.image)
    kubeflow_default = catalog.default_for("kubeflow")
    hub_default = catalog.default_for("jupyterhub")
    assert kubeflow_default is not None and kubeflow_default.name == "jupyter-scipy"
    assert hub_default is not None and hub_default.name == "pytorch-notebook"
    assert "base" not in [image.name for image in catalog.offered("kubeflow")]
    assert len(catalog.gpu.classes) >= 2


def test_two_defaults_for_different_exports_are_fine(tmp_path: Path) -> None:
    text = (
        "images:\n  - {name: a, image: x/a, tag: v1, default: true, exports: [kubeflow]}\n"
        "  - {name: b, image: x/b, tag: v1, default: true, exports: [jupyterhub]}\n"
        "  - {name: c, image: x/c, tag: v1, hidden: true}\n"
    )
    catalog = load_catalog(write(tmp_path, text))
    assert [image.name for image in catalog.offered("kubeflow")] == ["a"]
    assert [image.name for image in catalog.offered("kubespawner")] == []
    with pytest.raises(CatalogError, match="exports must be a list"):
        load_catalog(write(tmp_path, "images:\n  - {name: a, image: x/a, tag: v1, exports: [helm]}\n"))


def test_a_new_catalog_can_be_built_by_edits(tmp_path: Path) -> None:
    path = write(tmp_path, "# started empty\n")
    document = CatalogDocument.load(path)
    document.add_image({"name": "scipy", "image": "quay.io/jupyter/scipy-notebook", "tag": "2024-05-27"})
    document.add_image({"name": "r", "image": "quay.io/jupyter/r-notebook", "tag": "2024-05-27", "parent": "scipy"})
    document.set_default("r")
    document.save()
    catalog = load_catalog(path)
    assert [image.tag for image in catalog.images] == ["2024-05-27", "2024-05-27"]
    assert catalog.default_image is not None and catalog.default_image.name == "r"
    assert path.read_text(encoding="utf-8").startswith("# started empty\n")
    with pytest.raises(CatalogError, match="unknown image keys: colour"):
        document.add_image({"name": "x", "image": "x/y", "tag": "v1", "colour": "red"})


def test_renovate_style_regex_policy_is_accepted(tmp_path: Path) -> None:
    """The catalog accepts what the audit applies: Renovate's ``(?<major>...)`` groups."""
    path = tmp_path / "catalog.yaml"
    path.write_text(
        'images:\n  - name: a\n    image: quay.io/x/y\n    tag: v1\n    tag_policy: "regex:^v(?<major>\\\\d+)$"\n'
    )
    assert load_catalog(path).images[0].tag_policy.startswith("regex:")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("base", True),
        ("base:v1.9.0", True),
        ("127.0.0.1:5000/bench/notebook:a", False),
        ("ghcr.io/kubeflow/kubeflow/notebook-servers/base:v1.9.0", False),
        ("localhost:5000/app", False),
        ("oci:layout:tag", False),
        ("Base", False),
    ],
)
def test_only_name_or_name_tag_may_name_an_entry(text: str, expected: bool) -> None:
    from nbcatalog.catalog.lookup import may_name_an_entry

    assert may_name_an_entry(text) is expected


def test_a_registry_reference_does_not_read_the_catalog(tmp_path: Path) -> None:
    from nbcatalog.cli.packages import resolve_argument

    broken = tmp_path / "catalog.yaml"
    broken.write_text("images: [unclosed\n")
    ref = resolve_argument("127.0.0.1:5000/bench/notebook:a", str(broken))  # would raise CatalogError if read
    assert str(ref) == "127.0.0.1:5000/bench/notebook:a"
    with pytest.raises(CatalogError):
        resolve_argument("base:v1", str(broken))
