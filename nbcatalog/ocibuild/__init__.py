"""Build real OCI artifacts in memory: tar layers, image configs, manifests, indexes, image layouts.

Pure and deterministic (fixed mtimes, sorted JSON), so the same inputs give the same digests. The
tests push what it builds to a real registry, and the offline demo writes it to image layouts.
"""

from __future__ import annotations

from nbcatalog.ocibuild.images import (
    ATTESTATION_TYPE,
    FIXED_CREATED,
    IN_TOTO,
    REFERENCE_DIGEST_ANNOTATION,
    REFERENCE_TYPE_ANNOTATION,
    Artifact,
    BuiltImage,
    BuiltIndex,
    EmptyStep,
    build_attestation,
    build_image,
    build_index,
)
from nbcatalog.ocibuild.layers import (
    DOCKER_LAYER_TAR,
    FIXED_MTIME,
    Compression,
    EntryKind,
    FileEntry,
    Layer,
    build_layer,
    build_tar,
    canonical_json,
    compress,
    directory,
    file,
    hardlink,
    host_file,
    layer_from_tar,
    layer_media_type,
    opaque,
    symlink,
    tar_directory,
    whiteout,
)
from nbcatalog.ocibuild.layout import OciLayout, write_layout

__all__ = [
    "ATTESTATION_TYPE",
    "DOCKER_LAYER_TAR",
    "FIXED_CREATED",
    "FIXED_MTIME",
    "IN_TOTO",
    "REFERENCE_DIGEST_ANNOTATION",
    "REFERENCE_TYPE_ANNOTATION",
    "Artifact",
    "BuiltImage",
    "BuiltIndex",
    "Compression",
    "EmptyStep",
    "EntryKind",
    "FileEntry",
    "Layer",
    "OciLayout",
    "build_attestation",
    "build_image",
    "build_index",
    "build_layer",
    "build_tar",
    "canonical_json",
    "compress",
    "directory",
    "file",
    "hardlink",
    "host_file",
    "layer_from_tar",
    "layer_media_type",
    "opaque",
    "symlink",
    "tar_directory",
    "whiteout",
    "write_layout",
]
