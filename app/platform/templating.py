"""Jinja filters every page may use."""
from __future__ import annotations

from datetime import datetime

from flask import Flask

from app.platform.clock import MINUTE_FORMAT, to_local


def local_minute(value) -> str:
    """A stored (naive UTC) time in district local time, to the minute."""
    if not isinstance(value, datetime):
        return "" if value is None else str(value)
    return to_local(value).strftime(MINUTE_FORMAT)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["local_minute"] = local_minute
