"""skopeo as a backend: ``list-tags``, ``inspect --raw`` and ``inspect --config --raw``.

Always an argument list, never a shell. skopeo reads the same credential files itself; nbcatalog
passes no secret on its command line. Layers are not read through skopeo (it can only copy them to
disk); ``packages`` and ``diff`` need the httpx backend or an ``oci:`` layout.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncGenerator, Callable

from nbcatalog import limits
from nbcatalog.errors import (
    AuthError,
    BackendError,
    DigestMismatchError,
    NotFoundError,
    RegistryError,
    SizeLimitError,
)
from nbcatalog.oci import Descriptor, ManifestBlob, sha256_digest
from nbcatalog.refs import AnyRef, ImageRef, OciLayoutRef, is_loopback_host
from nbcatalog.registry.protocol import too_slow


class SkopeoBackend:
    def __init__(
        self,
        *,
        limiter: asyncio.Semaphore,
        is_insecure: Callable[[str], bool] = lambda host: False,
        cert_dir: str | None = None,
        program: str = "skopeo",
    ) -> None:
        self._limiter = limiter
        self._is_insecure = is_insecure
        self._cert_dir = cert_dir
        self._program = program
        self.calls = 0

    async def aclose(self) -> None:
        return None

    def _transport(self, ref: AnyRef) -> str:
        if isinstance(ref, OciLayoutRef):
            return str(ref)
        return f"docker://{ref}"

    def _tls_args(self, ref: AnyRef) -> list[str]:
        if not isinstance(ref, ImageRef):
            return []
        args: list[str] = []
        if is_loopback_host(ref.registry) or self._is_insecure(ref.registry):
            args.append("--tls-verify=false")
        if self._cert_dir:
            args.append(f"--cert-dir={self._cert_dir}")
        return args

    async def _run(self, args: list[str], ref: AnyRef, limit: str) -> bytes:
        """skopeo's output, at most the ``limit`` bytes (its stderr at most ``error-body-bytes``),
        within ``request-seconds`` for the whole call: skopeo speaks to the same hostile servers."""
        program = shutil.which(self._program)
        if program is None:
            raise BackendError("skopeo is not installed (apt-get install skopeo), or use --backend httpx")
        self.calls += 1
        bounds = limits.current()
        cap = int(getattr(bounds, limit))
        async with self._limiter:
            process = await asyncio.create_subprocess_exec(
                program, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
            )
            assert process.stdout is not None and process.stderr is not None
            try:
                async with asyncio.timeout(bounds.request_seconds):
                    stdout, stderr = await asyncio.gather(
                        _read_upto(process.stdout, cap + 1), _read_upto(process.stderr, bounds.error_body_bytes)
                    )
                    if len(stdout) > cap:
                        raise SizeLimitError(bounds.reached(limit, "skopeo's answer is over the limit"), where=str(ref))
                    await process.wait()
            except TimeoutError as exc:
                raise BackendError(too_slow("skopeo " + args[0]), where=str(ref)) from exc
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
        if process.returncode != 0:
            raise _error_from(stderr.decode("utf-8", "replace"), str(ref))
        return stdout

    async def list_tags(self, repo: AnyRef) -> list[str]:
        target = self._transport(repo.repo_only())
        out = await self._run(["list-tags", *self._tls_args(repo), target], repo, "tag_page_bytes")
        try:
            tags = json.loads(out).get("Tags") or []
        except (ValueError, AttributeError, RecursionError) as exc:
            raise BackendError(f"skopeo list-tags printed no JSON: {exc}", where=str(repo)) from exc
        return [t for t in tags if isinstance(t, str)]

    async def get_manifest(self, ref: AnyRef) -> ManifestBlob:
        raw = await self._run(["inspect", "--raw", *self._tls_args(ref), self._transport(ref)], ref, "manifest_bytes")
        digest = sha256_digest(raw)
        if ref.digest and ref.digest != digest:
            raise DigestMismatchError(f"manifest content hashes to {digest}, expected {ref.digest}", where=str(ref))
        try:
            media_type = str(json.loads(raw).get("mediaType") or "")
        except (ValueError, AttributeError, RecursionError) as exc:
            raise RegistryError(f"manifest is not JSON: {exc}", where=str(ref)) from exc
        return ManifestBlob(media_type, digest, raw)

    async def resolve_digest(self, ref: AnyRef) -> str:
        if ref.digest:
            return ref.digest
        return (await self.get_manifest(ref)).digest

    async def get_blob(self, ref: AnyRef, descriptor: Descriptor, *, max_size: int) -> bytes:
        """Only configs: ``ref`` must be pinned to the image manifest whose config this is."""
        if descriptor.size > max_size:
            raise SizeLimitError(
                f"blob {descriptor.digest} is {descriptor.size} bytes (cap {max_size})", where=str(ref)
            )
        if not ref.digest:
            raise BackendError("the skopeo backend reads config blobs only through a pinned manifest", where=str(ref))
        raw = await self._run(
            ["inspect", "--config", "--raw", *self._tls_args(ref), self._transport(ref)], ref, "config_bytes"
        )
        if sha256_digest(raw) != descriptor.digest:
            raise BackendError(
                f"skopeo returned another blob than {descriptor.digest}: only config blobs can be read with skopeo",
                where=str(ref),
            )
        return raw

    def stream_blob(self, ref: AnyRef, descriptor: Descriptor) -> AsyncGenerator[bytes, None]:
        raise BackendError(
            "reading layers needs the httpx backend (skopeo can only copy layers to disk)", where=str(ref)
        )


async def _read_upto(stream: asyncio.StreamReader, size: int) -> bytes:
    """Up to ``size`` bytes, to the end of the stream if it comes first (``read(n)`` stops early)."""
    parts: list[bytes] = []
    while size > 0:
        chunk = await stream.read(min(size, 1 << 20))
        if not chunk:
            break
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


def _error_from(stderr: str, where: str) -> RegistryError | BackendError:
    text = stderr.strip().splitlines()[-1] if stderr.strip() else "skopeo failed"
    lowered = stderr.lower()
    if "manifest unknown" in lowered or "name unknown" in lowered or "not found" in lowered:
        return NotFoundError(f"skopeo: {text}", where=where)
    if "unauthorized" in lowered or "authentication required" in lowered or "denied" in lowered:
        return AuthError(f"skopeo: {text}", where=where)
    return RegistryError(f"skopeo: {text}", where=where)
