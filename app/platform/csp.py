"""Content-Security-Policy: scripts from the app itself, or inline ones carrying this
response's nonce; no ``'unsafe-inline'`` and no ``'unsafe-eval'`` for scripts.

* ``csp_nonce()`` — a Jinja global, the name Flask-AppBuilder's templates look for
  (``baselib.get_nonce()``): a random value made once per request, on first use.
  Inline ``<script>`` blocks (FAB's and ours) carry ``nonce="{{ … }}"``; our own
  behaviour lives in ``app/static/js/`` (no inline event handlers: a nonce cannot
  cover ``onclick=``).
* :func:`policy` — the header's value. ``script-src`` names the nonce when the page
  used one. No library the pages load needs ``eval`` (ECharts' only ``new Function``
  parses a GeoJSON string in browsers without ``JSON.parse``; Swagger UI's falls back
  from ``this``).
* ``style-src`` keeps ``'unsafe-inline'``: templates (ours and FAB's) still carry
  ``style=""`` attributes, and Select2 and ECharts write styles at run time. Styles
  cannot run code.
"""
from __future__ import annotations

import secrets
from typing import Optional

from flask import Flask, g, has_request_context


def csp_nonce() -> str:
    """This request's script nonce (made on first use; empty outside a request)."""
    if not has_request_context():
        return ""
    nonce = getattr(g, "_csp_nonce", None)
    if nonce is None:
        nonce = g._csp_nonce = secrets.token_urlsafe(18)
    return nonce


def used_nonce() -> Optional[str]:
    """The nonce this response's page used, if it used one."""
    return getattr(g, "_csp_nonce", None) if has_request_context() else None


def policy(nonce: Optional[str] = None) -> str:
    """The Content-Security-Policy header value (``nonce``: allowed inline scripts)."""
    scripts = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    return (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        f"script-src {scripts}; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
    )


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
