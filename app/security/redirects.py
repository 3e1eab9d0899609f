"""Where a redirect that comes from input (``?next=``, a form's ``back``) may go.

Every such target passes :func:`redirect_target` (request-bound) or the pure
:func:`safe_redirect_target`. The URL is parsed, never pattern-matched: a relative
path starting with exactly one ``/``, or an absolute ``http``/``https`` URL without
user-info whose ``host[:port]`` is the request's own or one of ``SAFE_REDIRECT_HOSTS``
(exact names, no wildcards). Anything else — another site, ``//host``, ``/\\host``,
``javascript:``, control characters, an unparsable port — becomes the home page.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import current_app, request
from werkzeug.urls import iri_to_uri

SCHEMES = ("http", "https")


def _plain(text: str) -> bool:
    """No control, format or separator characters (browsers drop or fold some of them,
    which turns ``/\\t/evil`` into ``//evil``) and no backslash (``\\`` is ``/`` to them)."""
    return "\\" not in text and not any(unicodedata.category(c)[0] in "CZ" for c in text)


def _is_relative_path(url: str) -> bool:
    return url.startswith("/") and not url.startswith("//")


def _authority(url: str) -> str | None:
    """``host[:port]`` of an absolute http(s) URL without user-info, lower case; None otherwise."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in SCHEMES or not parts.netloc or "@" in parts.netloc:
        return None
    _ = parts.port  # ValueError for a port that is not a number in range
    return parts.netloc.lower()


def safe_redirect_target(raw: object, own_host: str, allowed_hosts: Iterable[str], home: str) -> str:
    """``raw`` itself when it is a safe place to send the browser, else ``home``.

    Safe: a relative path starting with exactly one "/", or an absolute http(s) URL
    with no user-info whose host[:port] equals ``own_host`` or one of ``allowed_hosts``
    (compared exactly, case-insensitively). Never raises, whatever ``raw`` is.
    """
    if not isinstance(raw, str) or not raw or not _plain(raw):
        return home
    try:
        if not _is_relative_path(raw):
            authority = _authority(raw)
            hosts = {h.strip().lower() for h in (own_host, *allowed_hosts) if h and h.strip()}
            if authority is None or authority not in hosts:
                return home
        iri_to_uri(raw)  # what the Location header will go through: it must not fail there
    except (ValueError, UnicodeError):
        return home
    return raw


def redirect_target(raw: object) -> str:
    """:func:`safe_redirect_target` for this request: its own host, the configured
    ``SAFE_REDIRECT_HOSTS``, and the app's index as the fallback."""
    return safe_redirect_target(
        raw, request.host, current_app.config.get("SAFE_REDIRECT_HOSTS", ()),
        current_app.appbuilder.get_url_for_index,
    )
