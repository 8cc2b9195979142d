"""The entry points: files, directories and text in, :class:`ProfileImage` records out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from nbcatalog.errors import BadInputError
from nbcatalog.profilefiles.catalogfile import read_catalog
from nbcatalog.profilefiles.detect import detect
from nbcatalog.profilefiles.jupyterhub import ProfileWalker, find_singleuser
from nbcatalog.profilefiles.kubeflow import read_configmap, read_kubeflow, read_kustomization
from nbcatalog.profilefiles.model import ProfileImage
from nbcatalog.profilefiles.pyconfig import PythonReader
from nbcatalog.profilefiles.workspacekind import read_workspacekind
from nbcatalog.profilefiles.yamlpos import load_yaml_all


def read_profile_paths(paths: Sequence[str | Path]) -> list[ProfileImage]:
    """Every file given, directories expanded to their ``*.yaml``/``*.yml``/``*.py`` files, in order."""
    records: list[ProfileImage] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml", ".py") and p.is_file())
            for file in files:
                records.extend(read_profile_file(file))
        else:
            records.extend(read_profile_file(path))
    return records


def read_profile_file(path: str | Path) -> list[ProfileImage]:
    """The image references in one file; a file of no known kind is a BadInputError naming it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"cannot read profile file: {exc}", where=str(path)) from None
    return read_profile_text(text, str(path), python=path.suffix == ".py")


def read_profile_text(text: str, source: str, *, python: bool = False, kind: str | None = None) -> list[ProfileImage]:
    """Like :func:`read_profile_file` for text from elsewhere (``nbcatalog.clusteraudit``'s sources).

    ``kind`` ``pod``/``statefulset`` means one image reference per line (running workloads);
    records from a ``cluster:`` source are never rewritable.
    """
    if python:
        return PythonReader(source, text).read()
    if kind in ("pod", "statefulset"):
        images = [line.strip() for line in text.splitlines()]
        return [ProfileImage(source, n, 1, image, "cluster", kind) for n, image in enumerate(images, 1) if image]
    records: list[ProfileImage] = []
    documents = load_yaml_all(text, source)
    for document in documents:
        records.extend(_read_document(document, source, text))
    if not records and not any(detect(doc) is not None for doc in documents):
        raise BadInputError(
            "not a profile file nbcatalog knows (spawner_ui_config.yaml, WorkspaceKind, z2jh values, "
            "jupyterhub_config.py, catalog.yaml, or a ConfigMap/kustomization holding one)",
            where=source,
        )
    if source.startswith("cluster:"):
        records = [replace(record, tag_position=None) for record in records]
    return records


def _read_document(document: Any, path: str, text: str) -> list[ProfileImage]:
    lines = text.splitlines()
    kind = detect(document)
    if kind == "kubeflow":
        return read_kubeflow(document["spawnerFormDefaults"], path, lines, "spawnerFormDefaults")
    if kind == "workspacekind":
        return read_workspacekind(document, path, lines)
    if kind == "configmap":
        return read_configmap(document, path, lines)
    if kind == "list":
        return [record for item in document["items"] for record in _read_document(item, path, text)]
    if kind == "kustomization":
        return read_kustomization(document, path)
    if kind == "catalog":
        return read_catalog(document, path, lines)
    if kind == "z2jh":
        found = find_singleuser(document)
        assert found is not None
        return ProfileWalker(path, lines, "z2jh").singleuser(*found)
    return []
