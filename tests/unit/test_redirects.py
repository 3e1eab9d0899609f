"""Where a ``next`` (or any redirect target from input) may send the browser: parsed, not
pattern-matched (app/security/redirects.py)."""
from __future__ import annotations

import unicodedata
from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.urls import iri_to_uri

from app.security.redirects import safe_redirect_target

HOME = "/"
OWN = "127.0.0.1:8093"
ALLOWED = ("portal.gov.example", "intranet.example:8443")


def target(raw):
    return safe_redirect_target(raw, OWN, ALLOWED, HOME)


@pytest.mark.parametrize("raw", [
    "http://127.0.0.1:1@evil.com/phish",          # the probe: user-info before another host
    "http://127.0.0.1:8093.evil.com/",            # the probe: a "port" that is a host (500 before)
    "http://127.0.0.1:8093@evil.com/",
    "https://evil.com/",
    "//evil.com/",
    "///evil.com/",
    "/\\evil.com/",
    "\\\\evil.com/",
    "/\t/evil.com/",
    " //evil.com/",
    "/%0a/evil.com".replace("%0a", "\n"),
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "http:/evil.com",
    "http:evil.com",
    "ftp://127.0.0.1:8093/",
    "http://127.0.0.1:8093:8093/",
    "http://127.0.0.1:99999/",
    "http://127.0.0.1/",                          # own host, other port
    "http://127.0.0.1:8094/",
    "http://portal.gov.example.evil.com/",
    "http://evil.com/portal.gov.example",
    "http://[::1/",
    "staff/",
    "",
    None,
    42,
])
def test_foreign_or_malformed_targets_go_home(raw):
    """Another host, user-info, a scheme-relative or backslashed path, a non-http scheme, a
    bad port, control characters, a path without its leading "/": the home page."""
    assert target(raw) == HOME


@pytest.mark.parametrize("raw", [
    "/staff/",
    "/staff/?q=%E5%BC%A0&page=2#top",
    "/",
    "http://127.0.0.1:8093/staff/",               # what FAB's login_required puts in ?next=
    "HTTP://127.0.0.1:8093/staff/",
    "https://portal.gov.example/a/b?c=d",
    "http://intranet.example:8443/",
])
def test_relative_same_host_and_allow_listed_targets_are_kept(raw):
    """A relative path, the request's own host[:port] or an allow-listed one: kept as given."""
    assert target(raw) == raw


def test_allow_list_entries_are_exact_host_and_port():
    """No wildcard: an allowed host with another port, or a sub-domain, is not allowed."""
    assert target("http://intranet.example/") == HOME
    assert target("http://intranet.example:8444/") == HOME
    assert target("http://x.portal.gov.example/") == HOME
    assert safe_redirect_target("http://a.example:*/", OWN, ["a.example:*"], HOME) == HOME


def _on_allowed_host(raw: str) -> bool:
    """Independent oracle: where a browser on the own origin lands when it follows ``raw``."""
    landed = urlsplit(urljoin(f"http://{OWN}/here/", raw))
    return landed.scheme in ("http", "https") and landed.netloc.lower() in {OWN, *ALLOWED}


URLISH = st.builds(
    lambda scheme, slashes, userinfo, host, port, path: f"{scheme}{slashes}{userinfo}{host}{port}{path}",
    st.sampled_from(["", "http:", "https:", "HTTP:", "javascript:", "ftp:", "/", "\\"]),
    st.sampled_from(["", "/", "//", "///", "/\\", "\\\\"]),
    st.sampled_from(["", "user@", "127.0.0.1:8093@", "a:b@"]),
    st.sampled_from(["127.0.0.1", "evil.com", "portal.gov.example", "intranet.example", "[::1]", "", "127.0.0.1:8093.evil.com"]),
    st.sampled_from(["", ":8093", ":8443", ":1", ":99999", ":x", ":"]),
    st.text(max_size=12),
)


@given(st.one_of(st.text(max_size=40), URLISH))
def test_property_the_target_is_the_input_only_when_it_stays_on_an_allowed_host(raw):
    """Never raises; answers the input itself or the home page; the input only when a
    browser following it stays on the own host or an allow-listed one, through a
    relative path with exactly one leading "/" or an http(s) URL without user-info, and
    the Location header can be written."""
    result = target(raw)
    assert result in (raw, HOME)
    if result == raw and raw != HOME:
        assert not any(unicodedata.category(c)[0] in "CZ" for c in raw) and "\\" not in raw
        relative = raw.startswith("/") and not raw.startswith("//")
        absolute = urlsplit(raw).scheme.lower() in ("http", "https") and "@" not in urlsplit(raw).netloc
        assert relative or absolute
        assert _on_allowed_host(raw)
        iri_to_uri(raw)
