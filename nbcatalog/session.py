"""The one async facade both front ends call: shared HTTP client, backend choice, limits, options.

A session owns its clients and closes them; every registry call of a CLI command or a TUI worker
goes through one, so connections are reused and concurrency is bounded in one place.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncGenerator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from nbcatalog.cachedir import default_cache_dir
from nbcatalog.errors import BadInputError, NbcatalogError
from nbcatalog.limits import current as current_limits
from nbcatalog.oci import (
    Descriptor,
    ImageConfig,
    ImageManifest,
    ManifestBlob,
    Platform,
)
from nbcatalog.refs import AnyRef, OciLayoutRef
from nbcatalog.registry.base import RegistryBackend
from nbcatalog.registry.retry import RetryPolicy
from nbcatalog.registry.tagfilter import visible_tags
from nbcatalog.resolution import NeedManifest, ResolvedImage, name_the_image, resolve_steps

if TYPE_CHECKING:
    import httpx

    from nbcatalog.registry.hoststate import HostStore
    from nbcatalog.registry.pacing import HostPacer

#: Connections of one client (every host together) when each host's concurrency adapts.
_POOL_CONNECTIONS = 64


@dataclass(frozen=True, slots=True)
class SessionOptions:
    platform: Platform = field(default_factory=lambda: Platform("linux", "amd64"))
    backend: str = "httpx"
    insecure_registries: frozenset[str] = frozenset()
    #: None means ``--no-cache``.
    cache_dir: Path | None = field(default_factory=default_cache_dir)
    ca_cert: str | None = None
    #: Requests in flight per registry host; None: adaptive (:mod:`nbcatalog.registry.pacing`).
    #: Also bounds layer downloads and skopeo processes (8 when None).
    concurrency: int | None = None
    #: Seconds a read may wait for data; None: ``limits.stall_seconds``.
    timeout: float | None = None
    include_signature_tags: bool = False
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    #: Insecure hosts from the catalog, loaded only when a non-listed host is first contacted.
    catalog_registries: Callable[[], set[str]] | None = None


@dataclass(frozen=True, slots=True)
class TagDetail:
    tag: str
    digest: str | None = None
    created: str | None = None
    platforms: list[str] = field(default_factory=list)
    media_type: str | None = None
    size: int | None = None
    error: str | None = None


def _ssl_context(ca_cert: str | None) -> ssl.SSLContext:
    """Verified TLS: ``SSL_CERT_FILE`` or certifi's roots (read at the first handshake), plus ``--ca-cert``."""
    from nbcatalog.registry.tls import verified_context

    try:
        return verified_context(ca_cert)
    except (OSError, ssl.SSLError) as exc:
        raise BadInputError(f"cannot load CA certificate: {exc}", where=ca_cert) from exc


class Session:
    def __init__(self, options: SessionOptions | None = None) -> None:
        self.options = options or SessionOptions()
        self.limiter = asyncio.Semaphore(self.options.concurrency or 8)
        self._pacers: dict[str, HostPacer] = {}
        self._host_store: HostStore | None = None
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._catalog_insecure: set[str] | None = None
        self._backends: dict[str, RegistryBackend] = {}
        self._manifests: dict[str, ManifestBlob] = {}
        self._configs: dict[str, asyncio.Future[ImageConfig]] = {}

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for backend in self._backends.values():
            await backend.aclose()
        for client in self._clients.values():
            await client.aclose()
        self._save_host_state()

    def _save_host_state(self) -> None:
        """Pings and tokens of this session, for the next command (see :mod:`.registry.hoststate`)."""
        backend = self._backends.get("httpx")
        cache_dir = self.options.cache_dir
        if backend is None or cache_dir is None:
            return
        import time

        from nbcatalog.registry.distribution import DistributionClient
        from nbcatalog.registry.hoststate import HostRecord, HostStore

        assert isinstance(backend, DistributionClient)
        challenges, tokens = backend.auth.learnt()
        now = time.time()
        records = {}
        for host, base in backend.pinged.items():
            challenge = challenges.get(host)
            records[host] = HostRecord(
                base,
                challenge.scheme if challenge else None,
                challenge.realm if challenge else None,
                challenge.service if challenge else None,
                now,
            )
        forgotten = backend.forgotten - records.keys()
        for host, old in (self._host_store.hosts() if self._host_store else {}).items():
            challenge = challenges.get(host)
            if challenge is None or host in records or host in forgotten:
                continue
            if (challenge.scheme, challenge.realm, challenge.service) != (
                old.challenge_scheme,
                old.challenge_realm,
                old.challenge_service,
            ):  # the host now answers with another challenge: keep that one (and the ping's age)
                records[host] = HostRecord(old.base, challenge.scheme, challenge.realm, challenge.service, old.saved)
        if records or forgotten or tokens:
            (self._host_store or HostStore(cache_dir)).save(records, forgotten, tokens)

    # -- plumbing ----------------------------------------------------------------------------------

    def _new_client(self, verify: ssl.SSLContext | bool) -> httpx.AsyncClient:
        import httpx

        from nbcatalog.registry.transport import RegistryClient, asyncio_transport

        # every host has its own pacer: the pool only bounds them all together
        fixed = self.options.concurrency
        limits = httpx.Limits(
            max_connections=fixed * 2 if fixed else _POOL_CONNECTIONS, max_keepalive_connections=_POOL_CONNECTIONS
        )
        stall = self.options.timeout or current_limits().stall_seconds
        timeout = httpx.Timeout(stall, connect=min(10.0, stall))
        return RegistryClient(
            verify=verify,
            timeout=timeout,
            limits=limits,
            transport=asyncio_transport(verify, limits),
            follow_redirects=True,
            max_redirects=current_limits().redirects,
            headers={"User-Agent": "nbcatalog"},
            trust_env=True,
        )

    def client(self, mode: str) -> httpx.AsyncClient:
        """The shared client for ``verified`` TLS (also used for ``plain`` HTTP) or ``insecure`` TLS.

        Plain HTTP goes through the verifying client: a loopback registry that redirects blob reads to
        HTTPS storage gets that storage's certificate checked like any other.
        """
        if mode == "plain":
            mode = "verified"
        if mode not in self._clients:
            if mode == "verified":
                verify: ssl.SSLContext | bool = _ssl_context(self.options.ca_cert)
            else:
                verify = False
            self._clients[mode] = self._new_client(verify)
        return self._clients[mode]

    def is_insecure(self, host: str) -> bool:
        """``--insecure-registry``/env hosts, then the catalog's ``registries:`` (read only if needed)."""
        if host in self.options.insecure_registries:
            return True
        if self._catalog_insecure is None:
            loader = self.options.catalog_registries
            self._catalog_insecure = loader() if loader else set()
        return host in self._catalog_insecure

    def pacer(self, host: str) -> HostPacer:
        """The one pacer of ``host``'s requests, shared by every request of this session."""
        pacer = self._pacers.get(host)
        if pacer is None:
            from nbcatalog.registry.pacing import HostPacer, ceiling_for

            pacer = self._pacers[host] = HostPacer(*ceiling_for(host, self.options.concurrency))
        return pacer

    @property
    def concurrency_peaks(self) -> dict[str, int]:
        """The most requests each host had in flight at once (for benchmarks and tests)."""
        return {host: pacer.peak for host, pacer in self._pacers.items()}

    def backend_for(self, ref: AnyRef) -> RegistryBackend:
        kind = "oci" if isinstance(ref, OciLayoutRef) else self.options.backend
        if kind not in self._backends:
            self._backends[kind] = self._make_backend(kind)
        return self._backends[kind]

    def _make_backend(self, kind: str) -> RegistryBackend:
        if kind == "oci":
            from nbcatalog.registry.layout import OciLayoutBackend

            return OciLayoutBackend()
        if kind == "skopeo":
            from nbcatalog.registry.skopeo import SkopeoBackend

            cert_dir = str(Path(self.options.ca_cert).parent) if self.options.ca_cert else None
            return SkopeoBackend(limiter=self.limiter, is_insecure=self.is_insecure, cert_dir=cert_dir)
        from nbcatalog.registry.auth import Challenge, RegistryAuth
        from nbcatalog.registry.credentials import find_credentials
        from nbcatalog.registry.distribution import DistributionClient

        auth = RegistryAuth(find_credentials)
        remembered: dict[str, str] = {}
        if self.options.cache_dir is not None:
            from nbcatalog.registry.hoststate import HostStore

            self._host_store = store = HostStore(self.options.cache_dir)
            hosts = store.hosts()
            remembered = {host: record.base for host, record in hosts.items()}
            challenges = {
                host: Challenge(record.challenge_scheme, record.challenge_realm or "", record.challenge_service)
                for host, record in hosts.items()
                if record.challenge_scheme
            }
            auth.remember(challenges, store.tokens())
        return DistributionClient(
            clients=self.client,
            is_insecure=self.is_insecure,
            auth=auth,
            limiter=self.limiter,
            pacer=self.pacer,
            policy=self.options.retry,
            remembered=remembered,
        )

    @property
    def request_stats(self) -> dict[str, int]:
        """Requests made so far per kind (for benchmarks and tests)."""
        stats: dict[str, int] = {}
        for backend in self._backends.values():
            for key, value in getattr(backend, "stats", {}).items():
                stats[key] = stats.get(key, 0) + value
        return stats

    # -- the API the front ends use ---------------------------------------------------------------

    async def list_tags(self, repo: AnyRef) -> list[str]:
        tags = await self.backend_for(repo).list_tags(repo.repo_only())
        return visible_tags(tags, include_signatures=self.options.include_signature_tags)

    async def get_manifest(self, ref: AnyRef) -> ManifestBlob:
        if ref.digest and ref.digest in self._manifests:
            return self._manifests[ref.digest]
        blob = await self.backend_for(ref).get_manifest(ref)
        self._manifests[blob.digest] = blob
        return blob

    async def get_blob(self, ref: AnyRef, descriptor: Descriptor, *, max_size: int) -> bytes:
        return await self.backend_for(ref).get_blob(ref, descriptor, max_size=max_size)

    def stream_blob(self, ref: AnyRef, descriptor: Descriptor) -> AsyncGenerator[bytes, None]:
        return self.backend_for(ref).stream_blob(ref, descriptor)

    async def resolve_digest(self, ref: AnyRef) -> str:
        return await self.backend_for(ref).resolve_digest(ref)

    async def get_config(self, pinned: AnyRef, manifest: ImageManifest) -> ImageConfig:
        """Each config is read once per session, even when many tags ask for it at the same time."""
        digest = manifest.config.digest
        pending = self._configs.get(digest)
        if pending is None or (pending.done() and (pending.cancelled() or pending.exception() is not None)):
            pending = asyncio.ensure_future(self._read_config(pinned, manifest))
            self._configs[digest] = pending
        return await asyncio.shield(pending)

    async def _read_config(self, pinned: AnyRef, manifest: ImageManifest) -> ImageConfig:
        raw = await self.get_blob(pinned, manifest.config, max_size=current_limits().config_bytes)
        return ImageConfig.parse(raw, digest=manifest.config.digest)

    async def resolve(self, ref: AnyRef, platform: Platform | None = None) -> ResolvedImage:
        """Follow an index to the wanted platform (attestations skipped) and read the config
        (:func:`nbcatalog.resolution.resolve_steps`, driven by this session's reads)."""
        steps = resolve_steps(ref, platform or self.options.platform)
        try:
            need = next(steps)
            while True:
                if isinstance(need, NeedManifest):
                    need = steps.send(await self.get_manifest(need.ref))
                else:
                    need = steps.send(await self.get_config(need.pinned, need.manifest))
        except StopIteration as done:
            resolved: ResolvedImage = done.value
            return resolved
        except NbcatalogError as exc:
            name_the_image(exc, ref)
            raise

    async def tag_detail(self, repo: AnyRef, tag: str) -> TagDetail:
        try:
            image = await self.resolve(repo.with_tag(tag))
        except NbcatalogError as exc:
            return TagDetail(tag, error=str(exc))
        return TagDetail(
            tag,
            digest=image.digest,
            created=image.config.created,
            platforms=image.platforms,
            media_type=image.media_type,
            size=image.manifest.total_size,
        )

    async def tag_details(self, repo: AnyRef, tags: Iterable[str]) -> list[TagDetail]:
        """Details of many tags at once; each host's pacer bounds how many are asked at a time."""
        return list(await asyncio.gather(*(self.tag_detail(repo, tag) for tag in tags)))
