"""Image configs and manifests (OCI or Docker schema 2), indexes / manifest lists, BuildKit attestations."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nbcatalog.oci import (
    DOCKER_CONFIG,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_CONFIG,
    OCI_INDEX,
    OCI_MANIFEST,
    Platform,
    sha256_digest,
)
from nbcatalog.ocibuild.layers import Layer, canonical_json

FIXED_CREATED = "2024-01-01T00:00:00Z"
IN_TOTO = "application/vnd.in-toto+json"
ATTESTATION_TYPE = "attestation-manifest"
REFERENCE_DIGEST_ANNOTATION = "vnd.docker.reference.digest"
REFERENCE_TYPE_ANNOTATION = "vnd.docker.reference.type"


@dataclass(frozen=True, slots=True)
class EmptyStep:
    """A Dockerfile step that adds no layer (ENV, LABEL, USER ...): an ``empty_layer`` history entry."""

    created_by: str


@dataclass(frozen=True)
class BuiltImage:
    """An image manifest with its config and layers; ``blobs`` maps every digest to its bytes."""

    manifest: bytes
    manifest_digest: str
    media_type: str
    config: bytes
    config_digest: str
    config_media_type: str
    layers: tuple[Layer, ...]
    platform: Platform
    config_doc: dict[str, Any] = field(repr=False)

    @property
    def digest(self) -> str:
        return self.manifest_digest

    @property
    def blobs(self) -> dict[str, bytes]:
        out = {layer.digest: layer.blob for layer in self.layers}
        out[self.config_digest] = self.config
        return out

    @property
    def manifests(self) -> list[tuple[str, str, bytes]]:
        """(media_type, digest, bytes) of the manifests to push before the top one (none here)."""
        return []

    @property
    def diff_ids(self) -> list[str]:
        return [layer.diff_id for layer in self.layers]

    @property
    def env(self) -> dict[str, str]:
        pairs = (item.partition("=") for item in self.config_doc.get("config", {}).get("Env", []))
        return {key: value for key, _, value in pairs}

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.config_doc.get("config", {}).get("Labels") or {})

    @property
    def history(self) -> list[dict[str, Any]]:
        return list(self.config_doc.get("history", []))

    @property
    def created(self) -> str:
        return str(self.config_doc.get("created", ""))

    def descriptor(self, *, with_platform: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": self.manifest_digest,
            "size": len(self.manifest),
        }
        if with_platform:
            out["platform"] = _platform_json(self.platform)
        return out


def _platform_json(platform: Platform) -> dict[str, str]:
    out = {"architecture": platform.architecture, "os": platform.os}
    if platform.variant:
        out["variant"] = platform.variant
    return out


def _env_dict(env: Mapping[str, str] | Sequence[str] | None) -> dict[str, str]:
    if env is None:
        return {}
    if isinstance(env, Mapping):
        return dict(env)
    return {key: value for key, _, value in (item.partition("=") for item in env)}


def build_image(
    steps: Sequence[Layer | EmptyStep] = (),
    *,
    base: BuiltImage | None = None,
    platform: Platform | str | None = None,
    created: str = FIXED_CREATED,
    env: Mapping[str, str] | Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    user: str | None = None,
    exposed_ports: Sequence[str] | None = None,
    entrypoint: Sequence[str] | None = None,
    cmd: Sequence[str] | None = None,
    working_dir: str | None = None,
    docker: bool = False,
    annotations: Mapping[str, str] | None = None,
) -> BuiltImage:
    """An image whose layers are ``base``'s (if any) then ``steps``' layers, as ``FROM base`` builds.

    The platform defaults to ``base``'s (else ``linux/amd64``). Config values are inherited from
    ``base`` and overridden (``env``/``labels`` key by key); each one set here also gets its
    ``empty_layer`` history entry, as BuildKit records ENV/LABEL/USER steps.
    """
    if platform is None:
        platform = base.platform if base else "linux/amd64"
    plat = Platform.parse(platform) if isinstance(platform, str) else platform
    inherited: dict[str, Any] = dict(base.config_doc.get("config", {})) if base else {}
    history: list[dict[str, Any]] = list(base.history) if base else []
    layers: list[Layer] = list(base.layers) if base else []
    for step in steps:
        if isinstance(step, Layer):
            layers.append(step)
            history.append({"created": created, "created_by": step.created_by, "comment": "buildkit"})
        else:
            history.append({"created": created, "created_by": step.created_by, "empty_layer": True})

    def note(text: str) -> None:
        history.append({"created": created, "created_by": text, "empty_layer": True})

    merged_env = _env_dict(inherited.get("Env"))
    for key, value in _env_dict(env).items():
        merged_env[key] = value
        note(f"ENV {key}={value}")
    merged_labels = dict(inherited.get("Labels") or {})
    for key, value in (labels or {}).items():
        merged_labels[key] = value
        note(f'LABEL {key}="{value}"')
    settings: dict[str, Any] = {k: v for k, v in inherited.items() if k not in ("Env", "Labels")}
    if user is not None:
        settings["User"] = user
        note(f"USER {user}")
    if exposed_ports is not None:
        ports: dict[str, dict[str, str]] = {p if "/" in p else f"{p}/tcp": {} for p in exposed_ports}
        settings["ExposedPorts"] = {**settings.get("ExposedPorts", {}), **ports}
        note("EXPOSE map[" + " ".join(f"{p}:{{}}" for p in ports) + "]")
    for key, argv, verb in (("Entrypoint", entrypoint, "ENTRYPOINT"), ("Cmd", cmd, "CMD")):
        if argv is not None:
            settings[key] = list(argv)
            note(f"{verb} {json.dumps(list(argv))}")
    if working_dir is not None:
        settings["WorkingDir"] = working_dir
        note(f"WORKDIR {working_dir}")
    if merged_env:
        settings["Env"] = [f"{key}={value}" for key, value in merged_env.items()]
    if merged_labels:
        settings["Labels"] = merged_labels

    config_doc: dict[str, Any] = {
        "architecture": plat.architecture,
        "os": plat.os,
        "created": created,
        "config": settings,
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
        "history": history,
    }
    if plat.variant:
        config_doc["variant"] = plat.variant
    config = canonical_json(config_doc)
    config_media_type = DOCKER_CONFIG if docker else OCI_CONFIG
    media_type = DOCKER_MANIFEST if docker else OCI_MANIFEST
    manifest_doc: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {"mediaType": config_media_type, "digest": sha256_digest(config), "size": len(config)},
        "layers": [layer.descriptor() for layer in layers],
    }
    if annotations:
        manifest_doc["annotations"] = dict(annotations)
    manifest = canonical_json(manifest_doc)
    return BuiltImage(
        manifest=manifest,
        manifest_digest=sha256_digest(manifest),
        media_type=media_type,
        config=config,
        config_digest=sha256_digest(config),
        config_media_type=config_media_type,
        layers=tuple(layers),
        platform=plat,
        config_doc=config_doc,
    )


def build_attestation(image: BuiltImage) -> BuiltImage:
    """A BuildKit-style provenance attestation manifest for ``image`` (``unknown/unknown``)."""
    statement = canonical_json(
        {
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": "https://slsa.dev/provenance/v0.2",
            "subject": [{"name": "image", "digest": {"sha256": image.manifest_digest[7:]}}],
            "predicate": {"builder": {"id": "nbcatalog.ocibuild"}},
        }
    )
    statement_digest = sha256_digest(statement)
    config = canonical_json(
        {
            "architecture": "unknown",
            "os": "unknown",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [statement_digest]},
        }
    )
    layer = Layer(statement, IN_TOTO, statement_digest, statement_digest, "none", "attestation")
    manifest_doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha256_digest(config), "size": len(config)},
        "layers": [
            {
                **layer.descriptor(),
                "annotations": {"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"},
            }
        ],
    }
    manifest = canonical_json(manifest_doc)
    return BuiltImage(
        manifest=manifest,
        manifest_digest=sha256_digest(manifest),
        media_type=OCI_MANIFEST,
        config=config,
        config_digest=sha256_digest(config),
        config_media_type=OCI_CONFIG,
        layers=(layer,),
        platform=Platform("unknown", "unknown"),
        config_doc=json.loads(config),
    )


@dataclass(frozen=True)
class BuiltIndex:
    """An OCI index or Docker manifest list over ``images`` (plus attestations, if built with them)."""

    manifest: bytes
    manifest_digest: str
    media_type: str
    images: tuple[BuiltImage, ...]
    attestations: tuple[BuiltImage, ...]

    @property
    def digest(self) -> str:
        return self.manifest_digest

    @property
    def blobs(self) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for image in self.images + self.attestations:
            out.update(image.blobs)
        return out

    @property
    def manifests(self) -> list[tuple[str, str, bytes]]:
        """Child manifests in push order (images, then attestations that reference them)."""
        return [(i.media_type, i.manifest_digest, i.manifest) for i in self.images + self.attestations]

    @property
    def platforms(self) -> list[str]:
        return [str(image.platform) for image in self.images]


def build_index(
    images: Sequence[BuiltImage],
    *,
    attestation: bool = True,
    docker: bool = False,
    annotations: Mapping[str, str] | None = None,
) -> BuiltIndex:
    attestations = tuple(build_attestation(image) for image in images) if attestation else ()
    descriptors = [image.descriptor() for image in images]
    for image, attest in zip(images, attestations, strict=False):
        descriptors.append(
            {
                **attest.descriptor(),
                "annotations": {
                    REFERENCE_DIGEST_ANNOTATION: image.manifest_digest,
                    REFERENCE_TYPE_ANNOTATION: ATTESTATION_TYPE,
                },
            }
        )
    media_type = DOCKER_MANIFEST_LIST if docker else OCI_INDEX
    doc: dict[str, Any] = {"schemaVersion": 2, "mediaType": media_type, "manifests": descriptors}
    if annotations:
        doc["annotations"] = dict(annotations)
    manifest = canonical_json(doc)
    return BuiltIndex(manifest, sha256_digest(manifest), media_type, tuple(images), attestations)


Artifact = BuiltImage | BuiltIndex
