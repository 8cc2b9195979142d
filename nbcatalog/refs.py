"""Image references as frozen value types, parsed and normalised by Docker's rules.

``kubeflownotebookswg/jupyter:v1.8.0`` and ``docker.io/kubeflownotebookswg/jupyter:v1.8.0`` are the
same reference; ``ubuntu`` is ``docker.io/library/ubuntu`` (tag ``latest`` implied). ``oci:PATH[:TAG]``
names an image in an OCI image layout on disk, split at the first colon as skopeo's ``oci:`` does.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, replace

from nbcatalog.errors import InvalidReferenceError

DEFAULT_REGISTRY = "docker.io"
DOCKER_HUB_API_HOST = "registry-1.docker.io"
_LEGACY_HUB_NAMES = {"index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_COMPONENT_RE = re.compile(rf"^{_COMPONENT}$")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_RE = re.compile(rf"^(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$")
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$")
_SHA256_HEX_RE = re.compile(r"^[a-f0-9]{64}$")
_SHA512_HEX_RE = re.compile(r"^[a-f0-9]{128}$")
MAX_NAME_LENGTH = 255


def validate_digest(digest: str, *, reference: str | None = None) -> str:
    """Return ``digest`` if it is a well-formed content digest, else raise naming ``reference``."""
    where = reference or digest
    if not _DIGEST_RE.match(digest):
        raise InvalidReferenceError(f"invalid digest {digest!r}", where=where)
    algorithm, _, hex_part = digest.partition(":")
    if algorithm == "sha256" and not _SHA256_HEX_RE.match(hex_part):
        raise InvalidReferenceError(f"invalid sha256 digest {digest!r} (64 lowercase hex)", where=where)
    if algorithm == "sha512" and not _SHA512_HEX_RE.match(hex_part):
        raise InvalidReferenceError(f"invalid sha512 digest {digest!r}", where=where)
    return digest


def is_loopback_host(registry: str) -> bool:
    """Loopback registries may be spoken to over plain HTTP, as Docker allows."""
    host = registry
    if host.startswith("["):
        host = host[1 : host.index("]")] if "]" in host else host
    else:
        host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class ImageRef:
    """A registry image: ``registry/repository[:tag][@digest]``, always fully qualified."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def api_host(self) -> str:
        """The host[:port] the distribution API lives on (Docker Hub's differs from its name)."""
        return DOCKER_HUB_API_HOST if self.registry == DEFAULT_REGISTRY else self.registry

    @property
    def name(self) -> str:
        """``registry/repository`` without tag or digest: the repository's full name."""
        return f"{self.registry}/{self.repository}"

    @property
    def tag_or_latest(self) -> str:
        return self.tag or "latest"

    @property
    def manifest_reference(self) -> str:
        """What goes after ``/manifests/``: the digest when pinned, else the tag."""
        return self.digest or self.tag_or_latest

    def pull_scope(self) -> str:
        """Bearer token scope for read-only access: nbcatalog never asks for more."""
        return f"repository:{self.repository}:pull"

    def with_tag(self, tag: str) -> ImageRef:
        return replace(self, tag=_checked_tag(tag, f"{self.name}:{tag}"), digest=None)

    def with_digest(self, digest: str) -> ImageRef:
        return replace(self, digest=validate_digest(digest, reference=self.name))

    def repo_only(self) -> ImageRef:
        return ImageRef(self.registry, self.repository)

    def familiar(self) -> str:
        """The short form Docker prints (``ubuntu:22.04``, ``kubeflownotebookswg/jupyter``)."""
        name = self.name
        if self.registry == DEFAULT_REGISTRY:
            short = self.repository.removeprefix("library/") if self.repository.count("/") == 1 else self.repository
            # A first component that looks like a host would be read back as one: keep the prefix.
            if _split_domain(short)[0] == DEFAULT_REGISTRY:
                name = short
        return name + self._suffix()

    def _suffix(self) -> str:
        return (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    def __str__(self) -> str:
        return self.name + self._suffix()


@dataclass(frozen=True, slots=True)
class OciLayoutRef:
    """An image in an OCI image layout directory: ``oci:PATH[:TAG]``."""

    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        return f"oci:{self.path}"

    @property
    def repository(self) -> str:
        return self.path

    @property
    def registry(self) -> str:
        return "oci"

    @property
    def manifest_reference(self) -> str:
        return self.digest or self.tag or "latest"

    def with_tag(self, tag: str) -> OciLayoutRef:
        return replace(self, tag=tag, digest=None)

    def with_digest(self, digest: str) -> OciLayoutRef:
        return replace(self, digest=validate_digest(digest, reference=self.name))

    def repo_only(self) -> OciLayoutRef:
        return OciLayoutRef(self.path)

    def familiar(self) -> str:
        return str(self)

    def __str__(self) -> str:
        out = f"oci:{self.path}"
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out


AnyRef = ImageRef | OciLayoutRef


def _checked_tag(tag: str, where: str) -> str:
    if not _TAG_RE.match(tag):
        raise InvalidReferenceError(
            f"invalid tag {tag!r} (letters, digits, '_', '.', '-'; at most 128, not starting with '.' or '-')",
            where=where,
        )
    return tag


def checked_tag(tag: str, where: str) -> str:
    """``tag`` when Docker's rules allow it (for every transport), else an InvalidReferenceError naming ``where``."""
    return _checked_tag(tag, where)


def _split_domain(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first.lower() != first):
        return first, rest
    return DEFAULT_REGISTRY, name


def parse_oci_reference(text: str) -> OciLayoutRef:
    """``oci:PATH[:TAG]`` or ``oci:PATH@sha256:...``."""
    body = text.removeprefix("oci:")
    digest: str | None = None
    if "@" in body:
        body, digest = body.rsplit("@", 1)
        validate_digest(digest, reference=text)
    path, sep, tag = body.partition(":")
    if not path:
        raise InvalidReferenceError("an oci: reference needs a directory path", where=text)
    return OciLayoutRef(path, tag if sep and tag else None, digest)


def parse_reference(text: str) -> AnyRef:
    """Parse any reference the CLI accepts: ``oci:...`` layouts or registry images."""
    if text.startswith("oci:"):
        return parse_oci_reference(text)
    return parse_image_reference(text)


def parse_image_reference(text: str) -> ImageRef:
    """Parse and normalise a registry reference with Docker's rules; raise naming ``text``."""
    if not text or text != text.strip():
        raise InvalidReferenceError("empty reference or surrounding whitespace", where=repr(text))
    remainder = text
    digest: str | None = None
    if "@" in remainder:
        remainder, digest = remainder.rsplit("@", 1)
        validate_digest(digest, reference=text)
    tag: str | None = None
    last_slash = remainder.rfind("/")
    colon = remainder.rfind(":")
    if colon > last_slash:
        remainder, tag = remainder[:colon], remainder[colon + 1 :]
        _checked_tag(tag, text)
    registry, path = _split_domain(remainder)
    if registry in _LEGACY_HUB_NAMES:
        registry = DEFAULT_REGISTRY
    if registry != DEFAULT_REGISTRY and not _DOMAIN_RE.match(registry):
        raise InvalidReferenceError(f"invalid registry host {registry!r}", where=text)
    if not path:
        raise InvalidReferenceError("missing repository name", where=text)
    for component in path.split("/"):
        if not _COMPONENT_RE.match(component):
            hint = " (repository names must be lowercase)" if component.lower() != component else ""
            raise InvalidReferenceError(f"invalid repository path component {component!r}{hint}", where=text)
    if registry == DEFAULT_REGISTRY and "/" not in path:
        path = f"library/{path}"
    if len(registry) + 1 + len(path) > MAX_NAME_LENGTH:
        raise InvalidReferenceError(f"repository name longer than {MAX_NAME_LENGTH} characters", where=text)
    return ImageRef(registry, path, tag, digest)


def parse_repository(text: str) -> AnyRef:
    """A repository (for ``tags``): a reference whose tag and digest, if any, are dropped."""
    return parse_reference(text).repo_only()
