"""One root error for everything the user can cause or fix.

Each error knows its exit code (the contract: 1 a failed operation, 2 bad usage or bad input) and
where it happened, so the CLI prints one plain line and the TUI one notification.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


class NbcatalogError(Exception):
    """Root of every expected failure; ``str()`` is the one line the user sees."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class BadInputError(NbcatalogError):
    """The user's input (a file, a reference, an option) is wrong: exit code 2."""

    exit_code = EXIT_BAD_INPUT


class InvalidReferenceError(BadInputError):
    """An image reference that Docker's rules reject."""


class CatalogError(BadInputError):
    """catalog.yaml (or another input file) is unreadable or breaks the schema."""


class FileWriteError(NbcatalogError):
    """A file could not be written (no such directory, no permission, disk full): nothing was changed."""


class RegistryError(NbcatalogError):
    """A registry answered with an error or could not be reached."""


class UnreachableHostError(RegistryError):
    """A registry host that no request reaches: its name does not resolve, or its ``/v2/`` ping
    cannot connect at all.

    Every repository on such a host fails alike, so callers that ask about many (the audit) stop
    asking it and report it once, with ``reason`` (a few words, no credentials) and ``host`` (the
    host[:port] contacted). ``name_resolved`` is False for a name failure, which is never retried.
    """

    def __init__(
        self,
        message: str,
        *,
        host: str = "",
        reason: str = "cannot connect",
        name_resolved: bool = True,
        where: str | None = None,
    ) -> None:
        super().__init__(message, where=where)
        self.host = host
        self.reason = reason
        self.name_resolved = name_resolved

    def again(self, message: str | None = None, *, where: str | None = None) -> UnreachableHostError:
        """The same failure as a fresh exception (another message or place), for another caller."""
        return UnreachableHostError(
            self.message if message is None else message,
            host=self.host,
            reason=self.reason,
            name_resolved=self.name_resolved,
            where=self.where if where is None else where,
        )


class NotFoundError(RegistryError):
    """A repository, tag, manifest or blob that the registry says does not exist."""


class AuthError(RegistryError):
    """The registry refused the credentials (or asked for some and none were configured)."""


class DigestMismatchError(RegistryError):
    """Content did not hash to the digest it was asked for: never trusted, never cached."""


class SizeLimitError(RegistryError):
    """A manifest, config, layer or token answer exceeded the limit that keeps memory bounded.

    The rule for every exit code: 2 is for what the user can fix in their own input (a file, an
    option, a reference); whatever an image source sends (a registry, a token service, an ``oci:``
    layout's blobs), however malformed or oversized, makes the operation fail: exit code 1, like a
    registry that answers with an error. An oversized local file is a ``BadInputError`` (2).
    """


class BackendError(NbcatalogError):
    """An external tool (skopeo) is missing or failed."""


class ClusterError(NbcatalogError):
    """The Kubernetes API refused or failed a request."""
