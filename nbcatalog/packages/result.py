"""An image's package list, assembled from its layers' results in manifest order.

Shared by the read that downloads what the cache lacks (:mod:`nbcatalog.packages.image`) and the
warm read of an image every layer of which is cached (:mod:`nbcatalog.packages.warm`), so both give
the same packages, in the same order, with the same warnings. Nothing here starts an event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from nbcatalog.oci import Descriptor, ImageManifest
from nbcatalog.packages import files as package_files
from nbcatalog.packages.layer import LayerResult
from nbcatalog.packages.model import ECOSYSTEMS, Package, ParsedFile
from nbcatalog.packages.overlay import apply_layers
from nbcatalog.refs import AnyRef

if TYPE_CHECKING:
    from nbcatalog.cache import Cache
    from nbcatalog.resolution import ResolvedImage

log = logging.getLogger("nbcatalog")
T = TypeVar("T")

#: The cache's parser key of package results: a new parser version reads every layer again.
PACKAGES_PARSER = f"packages/{package_files.PARSER_VERSION}"


@dataclass(slots=True)
class ImagePackages:
    """The packages of one image (one platform), each with the layer that installed its record."""

    reference: str
    digest: str
    manifest_digest: str
    platform: str
    packages: list[Package] = field(default_factory=list)
    layers_of: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    layers_read: int = 0
    layers_cached: int = 0
    #: Final contents of the plain files read in the same pass (``files.PLAIN_FILES``), by absolute path.
    files: dict[str, bytes] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "digest": self.digest,
            "manifest_digest": self.manifest_digest,
            "platform": self.platform,
            "packages": [
                {**package.to_json(), "layer": layer}
                for package, layer in zip(self.packages, self.layers_of, strict=True)
            ],
            "warnings": self.warnings,
        }


def _is_tar_layer(descriptor: Descriptor) -> bool:
    media_type = descriptor.media_type
    return not (media_type.endswith("+json") or media_type.endswith(".json") or "foreign" in media_type)


def tar_layers(manifest: ImageManifest) -> list[Descriptor]:
    """The layers that are filesystem tars, in order (not attestations, not foreign layers)."""
    return [d for d in manifest.layers if _is_tar_layer(d)]


def cached_layers(
    cache: Cache, descriptors: Iterable[Descriptor], parser: str, decode: Callable[[bytes], LayerResult[T]]
) -> dict[str, LayerResult[T]]:
    """The cached results of ``descriptors`` by digest; an entry that no longer decodes is a miss."""
    found: dict[str, LayerResult[T]] = {}
    for digest, payload in cache.get_layers((d.digest for d in descriptors), parser).items():
        try:
            found[digest] = decode(payload)
        except (ValueError, KeyError, TypeError):
            log.debug("ignoring an unreadable cache entry for %s", digest)
    return found


def assemble(
    ref: AnyRef,
    image: ResolvedImage,
    layers: list[LayerResult[ParsedFile]],
    cached: int,
    ecosystems: Sequence[str] | None,
) -> ImagePackages:
    """The packages of ``image`` from its tar layers' results (in manifest order), optionally of some
    ecosystems, sorted by ecosystem, location and name."""
    digests = [d.digest for d in tar_layers(image.manifest)]
    merged = apply_layers(layers)
    wanted = set(ecosystems or ECOSYSTEMS)
    out = ImagePackages(str(ref), image.digest, image.manifest_digest, image.platform, layers_cached=cached)
    out.layers_read = len(set(digests)) - cached
    rows: list[tuple[Package, str]] = []
    for path in sorted(merged):
        index, parsed = merged[path]
        if parsed.content is not None:
            out.files["/" + path] = parsed.content
        layer = digests[index]
        out.warnings.extend(f"{warning} (layer {layer[7:19]})" for warning in parsed.warnings)
        rows.extend((p, layer) for p in parsed.packages if p.ecosystem in wanted)
    for index, layer_result in enumerate(layers):
        out.warnings.extend(f"{warning} (layer {digests[index][7:19]})" for warning in layer_result.warnings)
    order = {name: i for i, name in enumerate(ECOSYSTEMS)}
    rows.sort(key=lambda row: (order.get(row[0].ecosystem, 99), row[0].location, row[0].name.lower()))
    out.packages = [p for p, _ in rows]
    out.layers_of = [layer for _, layer in rows]
    return out
