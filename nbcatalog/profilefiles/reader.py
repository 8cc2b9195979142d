"""The entry points: files, directories and text in, :class:`ProfileImage` records out.

:func:`read_profiles` is the full answer (records, what could not be read, what a directory held that
is no profile source); the ``read_profile_*`` functions return the records alone for callers that
only need those. A file named explicitly that is not a profile source is bad input (exit 2); the
same file met while walking a directory is skipped with its reason, the way linters treat a tree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from nbcatalog import localfiles
from nbcatalog.errors import BadInputError
from nbcatalog.localfiles import FileTooLargeError
from nbcatalog.profilefiles.catalogfile import read_catalog
from nbcatalog.profilefiles.detect import detect
from nbcatalog.profilefiles.jupyterhub import ProfileWalker
from nbcatalog.profilefiles.kubeflow import read_configmap, read_kubeflow, read_kustomization, shift_embedded
from nbcatalog.profilefiles.model import ProfileImage, ProfileRead, Skipped, Unread
from nbcatalog.profilefiles.prepuller import read_prepuller
from nbcatalog.profilefiles.pyconfig import PythonReader
from nbcatalog.profilefiles.workspacekind import read_workspacekind
from nbcatalog.profilefiles.yamlpos import key_pos, load_yaml_all, node_pos, value_pos
from nbcatalog.profilefiles.z2jhvalues import dotted, values_paths
from nbcatalog.yamlio import YamlLimitError

#: What a directory walk looks at; anything else there is not even opened.
PROFILE_SUFFIXES = (".yaml", ".yml", ".py")
_NOT_A_PROFILE = (
    "not a profile file nbcatalog knows (spawner_ui_config.yaml, WorkspaceKind, z2jh values, "
    "jupyterhub_config.py, catalog.yaml, or a ConfigMap/kustomization holding one)"
)


def read_profiles(paths: Sequence[str | Path]) -> ProfileRead:
    """Every file given, directories expanded to their profile files; strangers in a directory skipped.

    Skipped too: what is there under a profile's name but is no regular file (a FIFO, a device), never
    opened. A file over a limit (size, YAML nesting, alias expansion) stops the walk as bad input.
    """
    result = ProfileRead()
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            result.extend(read_profile_source(path))
            continue
        # Not only regular files: a FIFO or a device named like a profile is listed as skipped (why),
        # never opened (reading one could block, or never end).
        for file in sorted(p for p in path.rglob("*") if p.suffix in PROFILE_SUFFIXES and not p.is_dir()):
            try:
                result.extend(read_profile_source(file))
            except (YamlLimitError, FileTooLargeError):
                raise  # a file past a limit is no stranger to skip: its images would go unaudited
            except BadInputError as exc:
                result.skipped.append(Skipped(str(file), exc.message if exc.where == str(file) else str(exc)))
    return result


def read_profile_paths(paths: Sequence[str | Path]) -> list[ProfileImage]:
    """The records of :func:`read_profiles`."""
    return read_profiles(paths).records


def read_profile_source(path: str | Path) -> ProfileRead:
    """One file: its records and what in it could not be read; a file of no known kind is bad input."""
    path = Path(path)
    try:
        text = localfiles.read_text(path, what="the profile file")
    except FileTooLargeError:
        raise
    except BadInputError as exc:
        message = exc.message if exc.message.startswith("cannot read") else f"cannot read profile file: {exc.message}"
        raise BadInputError(message, where=exc.where) from None
    result = read_text(text, str(path), python=path.suffix == ".py")
    result.files.insert(0, str(path))
    return result


def read_profile_file(path: str | Path) -> list[ProfileImage]:
    """The image references in one file; a file of no known kind is a BadInputError naming it."""
    return read_profile_source(path).records


def read_profile_text(text: str, source: str, *, python: bool = False, kind: str | None = None) -> list[ProfileImage]:
    """The records of :func:`read_text`."""
    return read_text(text, source, python=python, kind=kind).records


def read_text(text: str, source: str, *, python: bool = False, kind: str | None = None) -> ProfileRead:
    """Like :func:`read_profile_source` for text from elsewhere (``nbcatalog.clusteraudit``'s sources).

    ``kind`` ``pod``/``statefulset`` means one image reference per line (running workloads);
    records from a ``cluster:`` source are never rewritable.
    """
    result = ProfileRead()
    if python:
        reader = PythonReader(source, text)
        result.records = reader.read()
        result.unread = reader.unread
        return _templates_unread(result)
    if kind in ("pod", "statefulset"):
        images = [line.strip() for line in text.splitlines()]
        result.records = [
            ProfileImage(source, n, 1, image, "cluster", kind) for n, image in enumerate(images, 1) if image
        ]
        return result
    try:
        documents = load_yaml_all(text, source)
    except YamlLimitError:  # refused for its shape, whatever helm would make of it
        raise
    except BadInputError as exc:
        if "{{" in text and "nested too deeply" not in exc.message:
            raise BadInputError(
                "a helm template ({{ }} is not YAML until helm renders it): audit `helm template`'s output",
                where=exc.where,
            ) from None
        raise
    kinds = [detect(doc) for doc in documents]
    for document, found in zip(documents, kinds, strict=True):
        _read_document(document, found, source, text, result)
    if not result.records and not result.unread and not any(found is not None for found in kinds):
        raise BadInputError(_NOT_A_PROFILE, where=source)
    if source.startswith("cluster:"):
        result.records = [replace(record, tag_position=None) for record in result.records]
    return _templates_unread(result)


def _templates_unread(result: ProfileRead) -> ProfileRead:
    """An image spelled with a helm or Jinja expression is no reference until rendered: say so."""
    kept = []
    for record in result.records:
        if "{{" in record.image or "{%" in record.image:
            message = f"{record.context}: {record.image!r} is a template expression, known only once rendered"
            result.unread.append(Unread(record.path, record.line, record.col, "unreadable-profiles", message))
        else:
            kept.append(record)
    result.records = kept
    return result


def _read_document(document: Any, kind: str | None, path: str, text: str, result: ProfileRead) -> None:
    lines = text.splitlines()
    records: list[ProfileImage] = []
    if kind == "kubeflow":
        records = read_kubeflow(document["spawnerFormDefaults"], path, lines, "spawnerFormDefaults")
        _none_read(
            records, document, path, "spawnerFormDefaults holds no image in image/imageGroupOne/imageGroupTwo", result
        )
    elif kind == "workspacekind":
        records = read_workspacekind(document, path, lines)
        name = (document.get("metadata") or {}).get("name", "?")
        what = f"WorkspaceKind {name}: no spec.podTemplate.options.imageConfig.values[].spec.image read"
        _none_read(records, document, path, what, result)
    elif kind == "prepuller":
        records = read_prepuller(document, path, lines)
    elif kind == "configmap":
        records = read_configmap(document, path, lines)
    elif kind == "list":
        for item in document["items"]:
            _read_document(item, detect(item), path, text, result)
    elif kind == "kustomization":
        records = read_kustomization(document, path)
    elif kind == "catalog":
        records = read_catalog(document, path, lines)
    elif kind == "z2jh":
        _read_z2jh(document, path, lines, result)
    result.records.extend(records)


def _none_read(records: list[ProfileImage], document: Any, path: str, what: str, result: ProfileRead) -> None:
    if not records:
        line, col = getattr(document, "position", (1, 1))
        result.unread.append(Unread(path, line, col, "unreadable-profiles", f"{what}: nbcatalog read no image here"))


def _read_z2jh(document: Mapping[str, Any], path: str, lines: list[str], result: ProfileRead) -> None:
    """Each z2jh values mapping in the file (the chart, or a sub-chart), its images and its extraConfig."""
    for where in values_paths(document):
        values: Any = document
        for key in where:
            values = values[key]
        prefix = ".".join(where)
        singleuser = values.get("singleuser")
        found: list[ProfileImage] = []
        if isinstance(singleuser, Mapping):
            found = ProfileWalker(path, lines, "z2jh").singleuser(singleuser, f"{prefix}.singleuser".lstrip("."))
        found += _extra_config(values.get("hub"), path, lines, prefix, result)
        if not found and not any(u.path == path and u.kind == "unreadable-profiles" for u in result.unread):
            # At the `singleuser:` key (where an admin would add an image), else the values mapping.
            line, col = key_pos(values, "singleuser") if "singleuser" in values else node_pos(values) or (1, 1)
            result.unread.append(
                Unread(
                    path, line, col, "no-images",
                    f"z2jh values at {dotted(where)} set no image and no profileList: the chart's default "
                    "image (or another values file) applies",
                )
            )  # fmt: skip
        result.records.extend(found)


def _extra_config(hub: Any, path: str, lines: list[str], prefix: str, result: ProfileRead) -> list[ProfileImage]:
    """``hub.extraConfig`` snippets that set spawner images, read as ``jupyterhub_config.py`` is."""
    extra = hub.get("extraConfig") if isinstance(hub, Mapping) else None
    if not isinstance(extra, Mapping):
        return []
    records: list[ProfileImage] = []
    for name, code in extra.items():
        if not isinstance(code, str) or not any(word in code for word in ("profile_list", ".image", "image_spec")):
            continue
        block = value_pos(extra, name)
        where = f"{prefix}.hub.extraConfig.{name}".lstrip(".")
        reader = PythonReader(f"{path} ({where})", code)
        try:
            found = reader.read(required=False)
        except BadInputError as exc:
            line, col = block or (1, 1)
            result.unread.append(Unread(path, line, col, "unreadable-profiles", f"{where}: {exc.message}"))
            continue
        records.extend(
            replace(shift_embedded(replace(r, path=path), block, lines), context=f"{where} {r.context}") for r in found
        )
        for unread in reader.unread:
            line, col = _shift_position((unread.line, unread.col), block, lines)
            result.unread.append(replace(unread, path=path, line=line, col=col, message=f"{where}: {unread.message}"))
    return records


def _shift_position(position: tuple[int, int], block: tuple[int, int] | None, lines: list[str]) -> tuple[int, int]:
    """A position inside a ``|`` block scalar, as a position in the file (else the key's)."""
    if block is None:
        return 1, 1
    literal = lines[block[0] - 1].rstrip().endswith(("|", "|-", "|+")) if block[0] <= len(lines) else False
    if not literal:
        return block
    first = block[0] + 1
    line = first + position[0] - 1
    if line > len(lines):
        return block
    indent = len(lines[first - 1]) - len(lines[first - 1].lstrip())
    return line, position[1] + indent
