"""The proxy a registry connection goes through, decided by the environment the way curl decides it.

The session's transport opens its own sockets, so httpx never mounts ``HTTPS_PROXY`` and friends for
it: this module is where they are read (once, when a transport is built) and answered per origin.
Lowercase names win over uppercase (``https_proxy`` over ``HTTPS_PROXY``), an empty value counts as
unset, ``ALL_PROXY`` stands in for a scheme without its own variable, and ``NO_PROXY`` is exactly
what it says: loopback is not bypassed unless it is listed (curl's rule, not Python's).
"""

from __future__ import annotations

import base64
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from nbcatalog.errors import BadInputError

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Per origin scheme, the variables asked in turn.
_VARIABLES = {"https": ("https_proxy", "all_proxy"), "http": ("http_proxy", "all_proxy")}
_SEPARATORS = re.compile(r"[\s,]+")
#: A proxy host goes into no header, but a control character or space means the value is garbage.
_BAD_HOST = re.compile(r"[\x00-\x20\x7f/\\@]")


@dataclass(frozen=True, slots=True)
class ProxyURL:
    """An HTTP proxy: where to connect and the ``Proxy-Authorization`` value, which ``repr`` hides."""

    host: str
    port: int
    #: The environment variable it came from, for messages.
    variable: str
    authorization: str | None = field(default=None, repr=False)

    @property
    def address(self) -> str:
        """``host:port`` (IPv6 in brackets) without credentials: the form errors may print."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def __str__(self) -> str:
        return f"proxy {self.address} (from {self.variable})"


def parse_proxy_url(value: str, variable: str) -> ProxyURL:
    """``http://[user[:password]@]host[:port]``; no scheme means ``http://``, no port means 80.

    Errors name the variable and never repeat the value, which may carry a password.
    """
    raw = value.strip()
    if "://" not in raw:
        raw = "http://" + raw
    try:
        parts = urlsplit(raw)
        port = parts.port
        host = parts.hostname
    except ValueError as exc:
        raise BadInputError(f"not a proxy URL ({_reason(exc)})", where=variable) from None
    scheme = parts.scheme.lower()
    if scheme != "http":
        hint = " (a CONNECT tunnel through an http:// proxy still carries TLS end to end)" if scheme == "https" else ""
        raise BadInputError(f"{scheme}:// proxies are not supported, only http://{hint}", where=variable)
    if not host or _BAD_HOST.search(host):
        raise BadInputError("not a proxy URL (no host name)", where=variable)
    if port == 0:
        raise BadInputError("not a proxy URL (bad port)", where=variable)
    authorization = None
    if parts.username is not None or parts.password is not None:
        userinfo = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
        authorization = "Basic " + base64.b64encode(userinfo.encode("utf-8")).decode("ascii")
    return ProxyURL(host.lower(), 80 if port is None else port, variable, authorization)


def _reason(exc: ValueError) -> str:
    """urllib's complaint about the port or brackets; it quotes no part of the value."""
    message = str(exc)
    return "bad port" if "port" in message.lower() else "bad host or brackets"


@dataclass(frozen=True, slots=True)
class _Rule:
    """One ``NO_PROXY`` entry: a domain (with its subdomains) or an IP network, perhaps one port only."""

    domain: str | None
    network: IPNetwork | None
    port: int | None

    def matches(self, host: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address | None, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.network is not None:
            return address is not None and address.version == self.network.version and address in self.network
        assert self.domain is not None
        return address is None and (host == self.domain or host.endswith("." + self.domain))


@dataclass(frozen=True, slots=True)
class NoProxy:
    """``NO_PROXY`` as rules: ``*``, domains (``example.com`` = ``.example.com``), IPs, CIDR, ``:port``."""

    bypass_all: bool = False
    rules: tuple[_Rule, ...] = ()

    @classmethod
    def parse(cls, value: str) -> NoProxy:
        """Entries that are neither a name nor an address (``host:notaport``) are ignored, as curl does."""
        rules: list[_Rule] = []
        for entry in _SEPARATORS.split(value.strip().lower()):
            if entry == "*":
                return cls(bypass_all=True)
            rule = _parse_rule(entry)
            if rule is not None:
                rules.append(rule)
        return cls(rules=tuple(rules))

    def matches(self, host: str, port: int) -> bool:
        """Whether a connection to ``host:port`` goes direct (no DNS lookups: names match names only)."""
        if self.bypass_all:
            return True
        host = _bare_host(host)
        address = _ip_address(host)
        return any(rule.matches(host, address, port) for rule in self.rules)


def _parse_rule(entry: str) -> _Rule | None:
    host, port = entry, None
    if entry.startswith("["):  # [v6] or [v6]:port
        inside, bracket, rest = entry[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        host, port_text = inside, rest[1:] if rest else None
        if port_text is not None and not (port := _port(port_text)):
            return None
    elif entry.count(":") == 1:  # name:port or v4:port; more colons are a bare IPv6 address or network
        host, _, port_text = entry.partition(":")
        if not (port := _port(port_text)):
            return None
    host = _bare_host(host.removeprefix("*"))
    if not host:
        return None
    try:
        return _Rule(None, ipaddress.ip_network(host, strict=False), port)
    except ValueError:
        return _Rule(host.removeprefix("."), None, port) if ":" not in host and "/" not in host else None


def _port(text: str) -> int | None:
    return int(text) if text.isdigit() and 0 < int(text) < 65536 else None


def _bare_host(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()


def _ip_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class ProxyEnv:
    """The environment's proxies, read once; :meth:`proxy_for` answers per origin."""

    http: ProxyURL | None = None
    https: ProxyURL | None = None
    no_proxy: NoProxy = field(default_factory=NoProxy)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> ProxyEnv:
        """Only the variables in effect are parsed, so a bad ``ALL_PROXY`` two others shadow is harmless."""
        env = os.environ if environ is None else environ
        found = {scheme: _first_set(env, names) for scheme, names in _VARIABLES.items()}
        urls = {scheme: parse_proxy_url(hit[1], hit[0]) if hit else None for scheme, hit in found.items()}
        no_proxy = _first_set(env, ("no_proxy",))
        return cls(urls["http"], urls["https"], NoProxy.parse(no_proxy[1]) if no_proxy else NoProxy())

    def proxy_for(self, scheme: str, host: str, port: int) -> ProxyURL | None:
        """The proxy for ``scheme://host:port``, or None to connect directly."""
        proxy = self.https if scheme == "https" else self.http if scheme == "http" else None
        if proxy is None or self.no_proxy.matches(host, port):
            return None
        return proxy


def _first_set(environ: Mapping[str, str], names: tuple[str, ...]) -> tuple[str, str] | None:
    """(variable, value) of the first name set non-empty, lowercase spelling before uppercase."""
    for name in names:
        for spelling in (name, name.upper()):
            value = environ.get(spelling, "").strip()
            if value:
                return spelling, value
    return None
