"""OCI image layouts on disk: ``oci-layout``, ``index.json`` with ref.name tags, ``blobs/sha256/...``."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nbcatalog.oci import OCI_INDEX, REF_NAME_ANNOTATION
from nbcatalog.ocibuild.images import Artifact


def _write_blob(blobs_dir: Path, digest: str, data: bytes) -> None:
    algorithm, _, hexpart = digest.partition(":")
    target = blobs_dir / algorithm / hexpart
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(f".{hexpart}.tmp{os.getpid()}")
    scratch.write_bytes(data)
    scratch.replace(target)


class OciLayout:
    """An OCI image layout directory: ``oci-layout``, ``index.json`` and ``blobs/sha256/...``.

    ``add`` writes an artifact's blobs and (re)points a tag at it; existing layouts are extended.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        layout_file = self.path / "oci-layout"
        if not layout_file.exists():
            layout_file.write_text('{"imageLayoutVersion":"1.0.0"}')
        index_file = self.path / "index.json"
        if index_file.exists():
            self.index: dict[str, Any] = json.loads(index_file.read_text())
        else:
            self.index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}

    @property
    def tags(self) -> list[str]:
        return [
            str(m["annotations"][REF_NAME_ANNOTATION])
            for m in self.index["manifests"]
            if REF_NAME_ANNOTATION in m.get("annotations", {})
        ]

    def add(self, artifact: Artifact, tag: str | None = None) -> None:
        blobs_dir = self.path / "blobs"
        for digest, data in artifact.blobs.items():
            _write_blob(blobs_dir, digest, data)
        for _, digest, data in artifact.manifests:
            _write_blob(blobs_dir, digest, data)
        _write_blob(blobs_dir, artifact.manifest_digest, artifact.manifest)
        descriptor: dict[str, Any] = {
            "mediaType": artifact.media_type,
            "digest": artifact.manifest_digest,
            "size": len(artifact.manifest),
        }
        if tag is not None:
            descriptor["annotations"] = {REF_NAME_ANNOTATION: tag}
        kept = [
            m
            for m in self.index["manifests"]
            if not (tag is not None and m.get("annotations", {}).get(REF_NAME_ANNOTATION) == tag)
            and not (tag is None and m.get("digest") == artifact.manifest_digest and not m.get("annotations"))
        ]
        self.index["manifests"] = [*kept, descriptor]
        self._save()

    def _save(self) -> None:
        index_file = self.path / "index.json"
        scratch = index_file.with_name(f".index.json.tmp{os.getpid()}")
        scratch.write_text(json.dumps(self.index, indent=2, sort_keys=True) + "\n")
        scratch.replace(index_file)


def write_layout(path: str | Path, tagged: Mapping[str, Artifact]) -> OciLayout:
    """Write (or extend) a layout with ``{tag: artifact}``; returns the layout."""
    layout = OciLayout(path)
    for tag, artifact in tagged.items():
        layout.add(artifact, tag)
    return layout
