"""Media types and typed views of OCI / Docker descriptors, manifests, indexes and image configs.

Everything here is pure: it parses bytes the registry layer already verified against their digest.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from nbcatalog.errors import RegistryError
from nbcatalog.limits import Limits

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
#: The defaults of ``limits.manifest_bytes`` and ``limits.config_bytes`` (the figures tests build around).
MAX_MANIFEST_BYTES = Limits().manifest_bytes
MAX_CONFIG_BYTES = Limits().config_bytes


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
        variant = data.get("variant")
        return cls(str(data.get("os", "")), str(data.get("architecture", "")), str(variant) if variant else None)

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
    def from_json(cls, data: object) -> Descriptor:
        """A descriptor from a registry's JSON, whatever its shape: a wrong one is a RegistryError."""
        if not isinstance(data, dict):
            raise RegistryError(f"malformed descriptor: a {_json_type(data)}, not an object")
        try:
            platform = data.get("platform")
            size = data.get("size", 0)
            if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                raise ValueError(f"size {size!r} is not a byte count")
            digest = data["digest"]
            if not isinstance(digest, str):
                raise ValueError(f"digest {digest!r} is not a string")
            return cls(
                media_type=str(data.get("mediaType", "")),
                digest=digest,
                size=size,
                platform=Platform.from_json(platform) if isinstance(platform, dict) else None,
                annotations=_string_map(data.get("annotations")),
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
            _string_map(data.get("annotations")),
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
        container = _object(data.get("config"))
        env: dict[str, str] = {}
        for item in _list(container.get("Env")):
            key, _, value = str(item).partition("=")
            env[key] = value
        rootfs = _object(data.get("rootfs"))
        history = tuple(
            HistoryEntry(
                created=_text_or_none(h.get("created")),
                created_by=str(h.get("created_by", "")),
                empty_layer=h.get("empty_layer") is True,
                comment=_text_or_none(h.get("comment")),
            )
            for h in _list(data.get("history"))
            if isinstance(h, dict)
        )
        return cls(
            created=_text_or_none(data.get("created")),
            platform=Platform(
                str(data.get("os", "")), str(data.get("architecture", "")), _text_or_none(data.get("variant")) or None
            ),
            env=env,
            labels=_string_map(container.get("Labels")),
            user=str(container.get("User") or ""),
            exposed_ports=tuple(sorted(str(port) for port in _object(container.get("ExposedPorts")))),
            entrypoint=_words(container.get("Entrypoint")),
            cmd=_words(container.get("Cmd")),
            working_dir=str(container.get("WorkingDir") or ""),
            diff_ids=tuple(str(d) for d in _list(rootfs.get("diff_ids"))),
            history=history,
            raw=data,
        )


# -- a registry's JSON taken as it comes: a field of the wrong type is read as absent, never a crash --


def _json_type(value: object) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _string_map(value: object) -> dict[str, str]:
    """Labels and annotations: an object of strings; anything else (a list, a number) is none."""
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _words(value: object) -> tuple[str, ...]:
    """Entrypoint and Cmd: a list of words; a lone string (seen in hand-made configs) is one word."""
    if isinstance(value, str):
        return (value,)
    return tuple(str(x) for x in _list(value))
