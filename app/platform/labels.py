"""Labels in the user's language, looked up once per app context.

flask-babel resolves the locale, the domain and the catalog on every ``str()`` of a
lazy string (about 30 µs here): a list page pays it a few dozen times, an export of
100,000 people once per label cell. ``text`` memoises the translation on ``g`` (one
request, or one job), where the language cannot change.
"""
from __future__ import annotations

from typing import Any, Callable

from flask import g, has_app_context
from flask_babel import get_translations, gettext
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


def translator() -> Callable[..., str]:
    """``tr(label, **variables)``: ``gettext`` with the catalog looked up once, for an
    answer made of several labels (each ``gettext`` finds the locale, the domain and the
    catalog again, about 8 µs here). ``label``: a msgid or a lazy string made by ``_()``."""
    catalog = get_translations() if has_app_context() else None

    def tr(label: Any, **variables: Any) -> str:
        if isinstance(label, LazyString):
            if label._func is not gettext or label._kwargs or catalog is None:
                return str(label) if not variables else str(label) % variables
            label = label._args[0]
        text_ = catalog.ugettext(label) if catalog is not None else str(label)
        return text_ % variables if variables else text_

    return tr
