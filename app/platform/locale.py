"""The language of a request, chosen without writing the session.

FAB's locale selector stored the default language in the Flask session of every request
that had none: every API answer (a checkpoint's scan, a system's call with a bearer
token) came with a ``Set-Cookie: session=…`` it did not ask for, and each cost a signed
cookie's serialisation. Here the choice is the same — ``?_l_=`` on an API call (FAB's
argument), else the language the user picked (``/lang/<code>`` stores it in the session),
else ``BABEL_DEFAULT_LOCALE`` — and only picking a language writes the session.
"""
from __future__ import annotations

from typing import Optional

from flask import Flask, current_app, has_request_context, request, session


def select_locale() -> Optional[str]:
    """The request's language code (one of ``LANGUAGES``), or None outside a request
    (flask-babel then takes the default)."""
    if not has_request_context():
        return None
    languages = current_app.config["LANGUAGES"]
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if "_l_" in request.args:
        asked = request.args["_l_"]
        return asked if asked in languages else default
    chosen = session.get("locale")
    return chosen if chosen in languages else default


def install(app: Flask) -> None:
    """Make :func:`select_locale` the app's locale selector (after FAB set its own)."""
    app.extensions["babel"].locale_selector = select_locale
