"""The proxy environment read the way curl reads it, and NO_PROXY matched exactly as written."""

from __future__ import annotations

import base64

import pytest

from nbcatalog.errors import BadInputError
from nbcatalog.registry.proxyenv import NoProxy, ProxyEnv, ProxyURL, parse_proxy_url


def test_lowercase_wins_empty_is_unset_and_all_proxy_is_the_fallback() -> None:
    env = ProxyEnv.from_environ(
        {
            "HTTPS_PROXY": "http://upper:1",
            "https_proxy": "http://lower:2",
            "http_proxy": "",
            "HTTP_PROXY": "http://upper-http:3",
            "ALL_PROXY": "http://all:4",
        }
    )
    assert env.proxy_for("https", "registry.example", 443) == ProxyURL("lower", 2, "https_proxy")
    assert env.proxy_for("http", "registry.example", 80) == ProxyURL("upper-http", 3, "HTTP_PROXY")
    only_all = ProxyEnv.from_environ({"all_proxy": "all.example:3128", "ALL_PROXY": "http://ignored:1"})
    assert only_all.proxy_for("https", "r.example", 443) == ProxyURL("all.example", 3128, "all_proxy")
    assert only_all.proxy_for("http", "r.example", 80) == ProxyURL("all.example", 3128, "all_proxy")


def test_nothing_set_or_only_empty_values_means_direct() -> None:
    assert ProxyEnv.from_environ({}).proxy_for("https", "r.example", 443) is None
    env = ProxyEnv.from_environ({"https_proxy": "  ", "HTTPS_PROXY": "", "no_proxy": "r.example"})
    assert env.proxy_for("https", "r.example", 443) is None
    assert ProxyEnv.from_environ({"https_proxy": "p:1"}).proxy_for("ftp", "r.example", 21) is None


def test_no_proxy_lowercase_wins_and_applies_to_both_schemes() -> None:
    env = ProxyEnv.from_environ({"all_proxy": "p:1", "NO_PROXY": "other.example", "no_proxy": "r.example"})
    assert env.proxy_for("https", "r.example", 443) is None
    assert env.proxy_for("http", "r.example", 80) is None
    assert env.proxy_for("https", "other.example", 443) is not None


def test_proxy_url_without_scheme_or_port_and_credentials_percent_decoded() -> None:
    proxy = parse_proxy_url("us%40er:p%3Ass@Proxy.Example", "HTTPS_PROXY")
    assert (proxy.host, proxy.port, proxy.address) == ("proxy.example", 80, "proxy.example:80")
    assert proxy.authorization == "Basic " + base64.b64encode(b"us@er:p:ss").decode()
    assert "p:ss" not in repr(proxy) and "Basic" not in repr(proxy) and "p%3Ass" not in str(proxy)
    v6 = parse_proxy_url("http://[::1]:3128/", "http_proxy")
    assert (v6.host, v6.port, v6.address, v6.authorization) == ("::1", 3128, "[::1]:3128", None)
    assert parse_proxy_url("http://user@p:1", "x").authorization == "Basic " + base64.b64encode(b"user:").decode()


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("http://user:s3cret@proxy:notaport", "bad port"),
        ("http://user:s3cret@proxy:99999", "bad port"),
        ("http://user:s3cret@proxy:0", "bad port"),
        ("http://user:s3cret@[::1", "bad host"),
        ("http://user:s3cret@", "no host"),
        ("https://user:s3cret@proxy:443", "https:// proxies are not supported"),
        ("socks5://user:s3cret@proxy:1080", "socks5:// proxies are not supported"),
    ],
)
def test_a_bad_proxy_url_is_bad_input_naming_the_variable_never_the_password(value: str, words: str) -> None:
    with pytest.raises(BadInputError) as caught:
        ProxyEnv.from_environ({"HTTPS_PROXY": value})
    assert caught.value.where == "HTTPS_PROXY" and caught.value.exit_code == 2
    assert words in str(caught.value)
    assert "s3cret" not in str(caught.value) and "user" not in str(caught.value)


def test_a_bad_all_proxy_that_both_schemes_shadow_is_not_read() -> None:
    env = ProxyEnv.from_environ({"ALL_PROXY": "socks5://x", "HTTPS_PROXY": "p:1", "HTTP_PROXY": "p:2"})
    assert env.https == ProxyURL("p", 1, "HTTPS_PROXY")


@pytest.mark.parametrize(
    ("no_proxy", "host", "port", "bypassed"),
    [
        ("*", "anything.example", 443, True),
        ("a.example, *", "anything.example", 443, True),
        ("example.com", "example.com", 443, True),
        ("example.com", "registry.example.com", 443, True),
        (".example.com", "example.com", 443, True),
        (".example.com", "deep.registry.example.com", 443, True),
        ("*.example.com", "registry.example.com", 443, True),
        ("example.com", "notexample.com", 443, False),
        ("example.com", "example.com.evil", 443, False),
        ("EXAMPLE.com", "Registry.Example.COM.", 443, True),
        ("a.example b.example,,c.example", "b.example", 443, True),
        ("a.example\tc.example", "c.example", 443, True),
        ("example.com:5000", "example.com", 5000, True),
        ("example.com:5000", "example.com", 443, False),
        ("example.com:notaport", "example.com", 443, False),
        ("127.0.0.1", "127.0.0.1", 5000, True),
        ("127.0.0.1", "127.0.0.2", 5000, False),
        ("127.0.0.1:5000", "127.0.0.1", 5001, False),
        ("10.0.0.0/8", "10.20.30.40", 443, True),
        ("10.0.0.0/8", "11.0.0.1", 443, False),
        ("10.0.0.0/8", "10.example", 443, False),
        ("::1", "::1", 5000, True),
        ("::1", "[::1]", 5000, True),
        ("[::1]", "::1", 5000, True),
        ("[::1]:5000", "::1", 5000, True),
        ("[::1]:5000", "::1", 5001, False),
        ("fd00::/8", "FD12:3456::1", 443, True),
        ("fd00::/8", "10.0.0.1", 443, False),
        ("10.0.0.0/8", "fd00::1", 443, False),
        # Loopback is not special (curl): only what NO_PROXY lists goes direct.
        ("", "127.0.0.1", 5000, False),
        ("", "localhost", 5000, False),
        ("127.0.0.1", "localhost", 5000, False),
        ("localhost", "localhost", 5000, True),
        # A name never matches an address, nor the other way round (no DNS look-ups).
        ("localhost", "127.0.0.1", 5000, False),
    ],
)
def test_no_proxy_matching(no_proxy: str, host: str, port: int, bypassed: bool) -> None:
    assert NoProxy.parse(no_proxy).matches(host, port) is bypassed
    env = ProxyEnv.from_environ({"https_proxy": "proxy.example:3128", "no_proxy": no_proxy})
    assert (env.proxy_for("https", host, port) is None) is bypassed
