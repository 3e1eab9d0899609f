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


def _honouring_menu_conditions(is_visible):
    """Flask-AppBuilder's navbar asks only for the menu permission; a menu item declared
    with a condition (``add_view(..., menu_cond=…)``, ``add_link(..., cond=…)``) is shown
    only when its condition holds too (FAB's own menu API already checks it)."""
    def visible(item) -> bool:
        return item.should_render() and is_visible(item)
    return visible


def init_app(app: Flask) -> None:
    app.jinja_env.filters["local_minute"] = local_minute
    fab_filter = app.jinja_env.filters.get("is_menu_visible")
    if fab_filter is not None:
        app.jinja_env.filters["is_menu_visible"] = _honouring_menu_conditions(fab_filter)
