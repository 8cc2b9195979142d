"""Registry authentication as an ``httpx.Auth`` flow: Bearer token exchange and Basic.

Tokens are cached per (realm, service, scope) until shortly before they expire, and attached
pre-emptively once a host's challenge is known, so a run asks a token service once per repository.
A session may hand in what earlier commands learnt (:meth:`RegistryAuth.remember`, from
:mod:`.hoststate`): then a known challenge and a still-valid token of the same user skip both the
401 and the token request.
Only ``pull`` scopes are ever requested. Secrets never reach logs or error messages.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import AsyncGenerator, Callable, Generator
from dataclasses import dataclass

import httpx

from nbcatalog.errors import AuthError, RegistryError
from nbcatalog.registry.credentials import Credentials
from nbcatalog.registry.hoststate import StoredToken

_PARAM_RE = re.compile(r'([a-zA-Z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
_SCOPED_PATH_RE = re.compile(r"^/v2/(?P<name>.+?)/(?:tags/list|manifests/[^/]+|blobs/[^/]+)$")
_TOKEN_MARGIN_S = 10.0
_DEFAULT_TOKEN_LIFETIME_S = 60.0
#: A token kept for later commands is dropped after this, whatever lifetime its service claims.
_STORED_MAX_S = 24 * 3600.0
_TOKEN_EXTENSION = "nbcatalog_token_request"
#: The token answer's body, read (capped) by the async flow and parsed by :meth:`_store_token`.
_TOKEN_BODY = "nbcatalog_token_body"


@dataclass(frozen=True, slots=True)
class Challenge:
    scheme: str  # "bearer" or "basic"
    realm: str
    service: str | None = None
    scope: str | None = None


def parse_challenge(header: str) -> Challenge | None:
    scheme, _, params = header.strip().partition(" ")
    values = {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3) for m in _PARAM_RE.finditer(params)
    }
    if scheme.lower() == "bearer" and values.get("realm"):
        return Challenge("bearer", values["realm"], values.get("service"), values.get("scope"))
    if scheme.lower() == "basic":
        return Challenge("basic", values.get("realm", ""))
    return None


def pull_scope_for_path(path: str) -> str | None:
    """The token scope a distribution API path needs (None for the ``/v2/`` ping)."""
    match = _SCOPED_PATH_RE.match(path)
    return f"repository:{match.group('name')}:pull" if match else None


def _basic_header(creds: Credentials) -> str:
    raw = f"{creds.username}:{creds.password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


class RegistryAuth(httpx.Auth):
    """One instance per session, shared by every request to every registry."""

    #: Bodies are read only for token answers (see ``async_auth_flow``): with True, httpx would read
    #: every response whole before returning it, and layer streams would sit in memory.
    requires_response_body = False

    def __init__(self, lookup: Callable[[str], Credentials | None]) -> None:
        self._lookup = lookup
        self._credentials: dict[str, Credentials | None] = {}
        self._challenges: dict[str, Challenge] = {}
        self._tokens: dict[tuple[str, str | None, str | None], tuple[str, float]] = {}
        #: Tokens of earlier commands by (host, realm, service, scope, user), used once the user matches.
        self._stored: dict[tuple[str, str, str | None, str | None, str], StoredToken] = {}
        #: Tokens obtained in this session, for :meth:`learnt`.
        self._obtained: list[StoredToken] = []
        self.token_requests = 0

    def remember(self, challenges: dict[str, Challenge], tokens: list[StoredToken]) -> None:
        """What earlier commands learnt; anything this session learns itself wins."""
        for host, challenge in challenges.items():
            self._challenges.setdefault(host, challenge)
        self._stored.update((token.key, token) for token in tokens)

    def learnt(self) -> tuple[dict[str, Challenge], list[StoredToken]]:
        """The challenges known now, and the tokens this session obtained (for the next command)."""
        return dict(self._challenges), list(self._obtained)

    def _stored_token(self, host: str, challenge: Challenge, scope: str | None) -> str | None:
        """An earlier command's token for this host, challenge and scope, if the same user got it."""
        if not self._stored:
            return None
        matching = [
            t
            for t in self._stored.values()
            if (t.host, t.realm, t.service, t.scope) == (host, challenge.realm, challenge.service, scope)
        ]
        if not matching:
            return None
        creds = self.credentials_for(host)
        user = creds.username if creds else ""
        now = time.time()
        for token in matching:
            del self._stored[token.key]
            if token.user == user and token.fresh(now):
                remaining = token.expires - now
                self._tokens[(challenge.realm, challenge.service, scope)] = (token.token, time.monotonic() + remaining)
                return token.token
        return None

    def credentials_for(self, host: str) -> Credentials | None:
        if host not in self._credentials:
            self._credentials[host] = self._lookup(host)
        return self._credentials[host]

    def _cached_token(self, challenge: Challenge, scope: str | None) -> str | None:
        entry = self._tokens.get((challenge.realm, challenge.service, scope))
        if entry and entry[1] > time.monotonic():
            return entry[0]
        return None

    def _authorize(self, request: httpx.Request, host: str, scope: str | None) -> bool:
        """Attach what we already know works for this host; True if something was attached."""
        challenge = self._challenges.get(host)
        if challenge is None:
            return False
        if challenge.scheme == "basic":
            creds = self.credentials_for(host)
            if creds:
                request.headers["Authorization"] = _basic_header(creds)
                return True
            return False
        token = self._cached_token(challenge, scope) or self._stored_token(host, challenge, scope)
        if token:
            request.headers["Authorization"] = f"Bearer {token}"
            return True
        return False

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        flow = self.auth_flow(request)
        next_request = next(flow)
        while True:
            response = yield next_request
            if response.request.extensions.get(_TOKEN_EXTENSION) and response.status_code == 200:
                # a token service is a server too: an endless or huge answer stops at token-bytes
                from nbcatalog import limits
                from nbcatalog.registry.protocol import read_capped

                cap = limits.current().token_bytes
                where = str(response.request.url.copy_with(query=None))
                body = await read_capped(response, cap, where, limit="token_bytes", what="token answer")
                response.extensions[_TOKEN_BODY] = body
                # httpx reads every answer the flow answers with another request (``aread``): this
                # one is read already, and what it would read again is what was capped here
                response._content = body
            try:
                next_request = flow.send(response)
            except StopIteration:
                return

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        flow = self.auth_flow(request)
        next_request = next(flow)
        while True:
            response = yield next_request
            if response.request.extensions.get(_TOKEN_EXTENSION) and response.status_code == 200:
                from nbcatalog import limits

                cap, body = limits.current().token_bytes, b""
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > cap:
                        response.close()
                        raise RegistryError(
                            limits.current().reached("token_bytes", "token answer is over the limit"),
                            where=str(response.request.url.copy_with(query=None)),
                        )
                response.extensions[_TOKEN_BODY] = body
                response._content = body
            try:
                next_request = flow.send(response)
            except StopIteration:
                return

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        host = request.url.netloc.decode("ascii")
        scope = pull_scope_for_path(request.url.path)
        attached = self._authorize(request, host, scope)
        response = yield request
        if response.status_code != 401:
            return
        header = response.headers.get("WWW-Authenticate", "")
        challenge = parse_challenge(header) if header else None
        if challenge is None:
            # gcr.io answers 401 without a challenge except on the /v2/ ping: use the ping's.
            known = self._challenges.get(host)
            if attached:
                raise AuthError("the registry rejected the credentials", where=host)
            if known is None or scope is None:
                return
            challenge = known
        self._challenges[host] = challenge
        if scope is None:
            return  # a ping: the challenge is recorded, the 401 is the answer
        creds = self.credentials_for(host)
        if challenge.scheme == "basic":
            if creds is None:
                raise AuthError("the registry requires a login and no credentials were found", where=host)
            if attached:
                raise AuthError(f"the registry rejected the credentials of user {creds.username!r}", where=host)
            request.headers["Authorization"] = _basic_header(creds)
            retried = yield request
            if retried.status_code == 401:
                raise AuthError(f"the registry rejected the credentials of user {creds.username!r}", where=host)
            return
        token_scope = challenge.scope or scope
        if creds is not None and not _may_carry_credentials(challenge.realm, request.url):
            raise AuthError(
                f"the registry names a token service over plain HTTP on another host "
                f"({_origin(challenge.realm)}): the credentials for {host} are not sent in the clear",
                where=host,
            )
        token_response = yield self._token_request(challenge, token_scope, creds)
        if token_response.status_code == 429 or token_response.status_code >= 500:
            return  # the caller's retry policy takes it from here
        token = self._store_token(challenge, token_scope, token_response, host, creds)
        request.headers["Authorization"] = f"Bearer {token}"
        retried = yield request
        if retried.status_code == 401:
            who = f"user {creds.username!r}" if creds else "anonymous access"
            raise AuthError(f"the token service granted no access for {who} ({token_scope})", where=host)

    def _token_request(self, challenge: Challenge, scope: str | None, creds: Credentials | None) -> httpx.Request:
        self.token_requests += 1
        params = {k: v for k, v in (("service", challenge.service), ("scope", scope)) if v}
        if creds and creds.identity_token:
            form = {
                "grant_type": "refresh_token",
                "refresh_token": creds.identity_token,
                "client_id": "nbcatalog",
            }
            return httpx.Request("POST", challenge.realm, data={**form, **params}, extensions={_TOKEN_EXTENSION: True})
        headers = {"Authorization": _basic_header(creds)} if creds else {}
        url = httpx.URL(challenge.realm).copy_merge_params(params)
        return httpx.Request("GET", url, headers=headers, extensions={_TOKEN_EXTENSION: True})

    def _store_token(
        self,
        challenge: Challenge,
        scope: str | None,
        response: httpx.Response,
        host: str,
        creds: Credentials | None,
    ) -> str:
        if response.status_code in (401, 403):
            who = f"user {creds.username!r}" if creds else "anonymous access"
            raise AuthError(f"the token service refused {who} (HTTP {response.status_code})", where=host)
        if response.status_code != 200:
            raise RegistryError(f"token service answered HTTP {response.status_code}", where=challenge.realm)
        try:
            body = json.loads(response.extensions.get(_TOKEN_BODY, b""))
            token = str(body.get("token") or body.get("access_token") or "")
            lifetime = float(body.get("expires_in") or _DEFAULT_TOKEN_LIFETIME_S)
        except (ValueError, AttributeError, TypeError, RecursionError, OverflowError) as exc:
            raise RegistryError("token service answered something that is not a token", where=challenge.realm) from exc
        if not token:
            raise RegistryError("token service answered without a token", where=challenge.realm)
        usable = max(lifetime - _TOKEN_MARGIN_S, 1.0)
        self._tokens[(challenge.realm, challenge.service, scope)] = (token, time.monotonic() + usable)
        if lifetime > _TOKEN_MARGIN_S:  # one too short-lived to outlast its margin is not kept
            now = time.time()
            user = creds.username if creds else ""
            self._obtained.append(
                StoredToken(
                    host, challenge.realm, challenge.service, scope, user, token, now + min(usable, _STORED_MAX_S), now
                )
            )
        return token


def _origin(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return "an invalid URL"
    return f"{parsed.scheme}://{parsed.netloc.decode('ascii', 'replace')}"


def _may_carry_credentials(realm: str, registry: httpx.URL) -> bool:
    """A realm may get the user's password (as Docker sends it, to whatever realm the registry
    names: auth.docker.io for Docker Hub) over HTTPS, or over plain HTTP only to the registry's own
    host or a loopback one; never in the clear across the network to a host the user never named."""
    from nbcatalog.refs import is_loopback_host

    try:
        url = httpx.URL(realm)
    except (httpx.InvalidURL, TypeError):
        return True  # not sent at all: the request fails as an invalid URL
    if url.scheme != "http":
        return True
    return url.host == registry.host or is_loopback_host(url.host)
