"""Jinja filters every page may use."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import Flask, current_app


def local_minute(value) -> str:
    """A stored (naive UTC) time in district local time, to the minute."""
    if not isinstance(value, datetime):
        return "" if value is None else str(value)
    tz = ZoneInfo(current_app.config.get("TIMEZONE", "Asia/Shanghai"))
    aware = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value
    return aware.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def init_app(app: Flask) -> None:
    app.jinja_env.filters["local_minute"] = local_minute
