"""Media types and typed views of OCI / Docker descriptors, manifests, indexes and image configs.

Everything here is pure: it parses bytes the registry layer already verified against their digest.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from nbcatalog.errors import RegistryError

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"

OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_LAYER_FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

INDEX_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST)
IMAGE_MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
#: A manifest GET must offer all four, or the registry hides OCI content and down-converts Docker's.
MANIFEST_ACCEPT = ", ".join((OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST))

ATTESTATION_ANNOTATION = "vnd.docker.reference.type"
REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name"

#: Caps that keep a hostile registry from exhausting memory.
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_CONFIG_BYTES = 16 * 1024 * 1024


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_compression(media_type: str) -> str:
    """``gzip``, ``zstd`` or ``none`` for a layer media type (unknown ``+suffix``: by suffix)."""
    if media_type.endswith(("+zstd", ".zstd")):
        return "zstd"
    if media_type.endswith(("+gzip", ".gzip", "tar.gzip")) or media_type in (DOCKER_LAYER_GZIP,):
        return "gzip"
    return "none"


@dataclass(frozen=True, slots=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None

    @classmethod
    def parse(cls, text: str) -> Platform:
        parts = text.split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise ValueError(f"invalid platform {text!r} (expected OS/ARCH[/VARIANT])")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Platform:
        return cls(str(data.get("os", "")), str(data.get("architecture", "")), data.get("variant") or None)

    @property
    def is_unknown(self) -> bool:
        return self.os == "unknown" or self.architecture == "unknown"

    def matches(self, wanted: Platform) -> bool:
        """Variant only narrows when asked for (``linux/arm64`` matches ``linux/arm64/v8``)."""
        if (self.os, self.architecture) != (wanted.os, wanted.architecture):
            return False
        return wanted.variant is None or self.variant in (wanted.variant, None)

    def __str__(self) -> str:
        return f"{self.os}/{self.architecture}" + (f"/{self.variant}" if self.variant else "")


@dataclass(frozen=True, slots=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    platform: Platform | None = None
    annotations: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Descriptor:
        try:
            platform = data.get("platform")
            return cls(
                media_type=str(data.get("mediaType", "")),
                digest=str(data["digest"]),
                size=int(data.get("size", 0)),
                platform=Platform.from_json(platform) if isinstance(platform, dict) else None,
                annotations={str(k): str(v) for k, v in (data.get("annotations") or {}).items()},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise RegistryError(f"malformed descriptor: {exc}") from exc

    @property
    def is_attestation(self) -> bool:
        """BuildKit attestations (``unknown/unknown``) are not runnable images."""
        return self.annotations.get(ATTESTATION_ANNOTATION) == "attestation-manifest" or bool(
            self.platform and self.platform.is_unknown
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.platform:
            plat: dict[str, str] = {"architecture": self.platform.architecture, "os": self.platform.os}
            if self.platform.variant:
                plat["variant"] = self.platform.variant
            out["platform"] = plat
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out


@dataclass(frozen=True, slots=True)
class ManifestBlob:
    """Raw manifest bytes exactly as served, with the digest they were verified against."""

    media_type: str
    digest: str
    raw: bytes

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.raw)
        except (ValueError, RecursionError) as exc:  # RecursionError: nesting like [[[[...
            raise RegistryError(f"manifest {self.digest} is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise RegistryError(f"manifest {self.digest} is not a JSON object")
        return data

    @property
    def effective_media_type(self) -> str:
        """The declared type, else the body's ``mediaType``, else guessed from its shape."""
        if self.media_type in INDEX_TYPES + IMAGE_MANIFEST_TYPES:
            return self.media_type
        data = self.json()
        declared = data.get("mediaType")
        if isinstance(declared, str) and declared:
            return declared
        return OCI_INDEX if "manifests" in data else OCI_MANIFEST

    @property
    def is_index(self) -> bool:
        return self.effective_media_type in INDEX_TYPES


@dataclass(frozen=True, slots=True)
class ImageIndex:
    media_type: str
    manifests: tuple[Descriptor, ...]

    @classmethod
    def parse(cls, blob: ManifestBlob) -> ImageIndex:
        data = blob.json()
        entries = data.get("manifests")
        if not isinstance(entries, list):
            raise RegistryError(f"index {blob.digest} has no manifests list")
        return cls(blob.effective_media_type, tuple(Descriptor.from_json(e) for e in entries))

    def runnable(self) -> list[Descriptor]:
        return [d for d in self.manifests if not d.is_attestation]

    def platforms(self) -> list[str]:
        return [str(d.platform) for d in self.runnable() if d.platform]

    def select(self, wanted: Platform) -> Descriptor | None:
        matches = [d for d in self.runnable() if d.platform and d.platform.matches(wanted)]
        exact = [d for d in matches if d.platform and d.platform.variant == wanted.variant]
        return (exact or matches)[0] if matches else None


@dataclass(frozen=True, slots=True)
class ImageManifest:
    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]
    annotations: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, blob: ManifestBlob) -> ImageManifest:
        data = blob.json()
        if data.get("schemaVersion") == 1:
            raise RegistryError(f"manifest {blob.digest} is Docker schema 1, which is not supported")
        config = data.get("config")
        layers = data.get("layers")
        if not isinstance(config, dict) or not isinstance(layers, list):
            raise RegistryError(f"manifest {blob.digest} lacks config or layers")
        return cls(
            blob.effective_media_type,
            Descriptor.from_json(config),
            tuple(Descriptor.from_json(layer) for layer in layers),
            {str(k): str(v) for k, v in (data.get("annotations") or {}).items()},
        )

    @property
    def total_size(self) -> int:
        return sum(layer.size for layer in self.layers)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    created: str | None
    created_by: str
    empty_layer: bool
    comment: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"created": self.created, "created_by": self.created_by}
        if self.empty_layer:
            out["empty_layer"] = True
        if self.comment:
            out["comment"] = self.comment
        return out


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """The facts of an image config that nbcatalog uses; ``raw`` keeps the rest."""

    created: str | None
    platform: Platform
    env: dict[str, str]
    labels: dict[str, str]
    user: str
    exposed_ports: tuple[str, ...]
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    working_dir: str
    diff_ids: tuple[str, ...]
    history: tuple[HistoryEntry, ...]
    raw: dict[str, Any]

    @classmethod
    def parse(cls, raw_bytes: bytes, *, digest: str) -> ImageConfig:
        try:
            data = json.loads(raw_bytes)
        except (ValueError, RecursionError) as exc:  # RecursionError: nesting like [[[[...
            raise RegistryError(f"config {digest} is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise RegistryError(f"config {digest} is not a JSON object")
        container = data.get("config") or {}
        if not isinstance(container, dict):
            container = {}
        env: dict[str, str] = {}
        for item in container.get("Env") or []:
            key, _, value = str(item).partition("=")
            env[key] = value
        rootfs = data.get("rootfs") or {}
        history = tuple(
            HistoryEntry(
                created=h.get("created"),
                created_by=str(h.get("created_by", "")),
                empty_layer=bool(h.get("empty_layer", False)),
                comment=h.get("comment"),
            )
            for h in (data.get("history") or [])
            if isinstance(h, dict)
        )
        return cls(
            created=data.get("created"),
            platform=Platform(str(data.get("os", "")), str(data.get("architecture", "")), data.get("variant") or None),
            env=env,
            labels={str(k): str(v) for k, v in (container.get("Labels") or {}).items()},
            user=str(container.get("User") or ""),
            exposed_ports=tuple(sorted((container.get("ExposedPorts") or {}).keys())),
            entrypoint=tuple(str(x) for x in (container.get("Entrypoint") or [])),
            cmd=tuple(str(x) for x in (container.get("Cmd") or [])),
            working_dir=str(container.get("WorkingDir") or ""),
            diff_ids=tuple(str(d) for d in (rootfs.get("diff_ids") or [])),
            history=history,
            raw=data,
        )
