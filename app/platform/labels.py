"""Labels in the user's language, looked up once per app context.

flask-babel resolves the locale, the domain and the catalog on every ``str()`` of a
lazy string (about 30 µs here): a list page pays it a few dozen times, an export of
100,000 people once per label cell. ``text`` memoises the translation on ``g`` (one
request, or one job), where the language cannot change.
"""
from __future__ import annotations

from typing import Any

from flask import g, has_app_context
from flask_babel import gettext
from flask_babel.speaklater import LazyString


def text(label: Any) -> str:
    """``label`` (a lazy string made by ``_()`` without parameters, or a msgid) as
    translated text; anything else is simply ``str()``-ed."""
    if not has_app_context():
        return str(label)
    if isinstance(label, LazyString):
        if label._kwargs:  # a message with parameters: not memoised
            return str(label)
        key: Any = (label._func, label._args)
    elif isinstance(label, str):
        key = (gettext, (label,))
    else:
        return str(label)
    memo = g.setdefault("_sentinel_labels", {})
    out = memo.get(key)
    if out is None:
        out = memo[key] = str(label) if isinstance(label, LazyString) else gettext(label)
    return out
