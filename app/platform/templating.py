"""Jinja filters every page may use."""
from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import lazy_gettext as _

from app.platform.clock import MINUTE_FORMAT, to_local


def local_minute(value) -> str:
    """A stored (naive UTC) time in district local time, to the minute."""
    if not isinstance(value, datetime):
        return "" if value is None else str(value)
    return to_local(value).strftime(MINUTE_FORMAT)


def shown(value):
    """A raw value as pages show it: nothing for None, 是/否, a stored time to the minute
    (Flask-AppBuilder's own pages, the audit log's snapshots)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, datetime):
        return local_minute(value)
    return value


def init_app(app: Flask) -> None:
    app.jinja_env.filters["local_minute"] = local_minute
