"""The app's Redis client and key naming (every key carries REDIS_PREFIX)."""
from __future__ import annotations

import redis
from flask import current_app

from app.platform.redis_embedded import connect


def get_redis() -> redis.Redis:
    app = current_app._get_current_object()
    client = app.extensions.get("sentinel_redis")
    if client is None:
        client = connect(app.config["REDIS_URL"])
        app.extensions["sentinel_redis"] = client
    return client


def key(*parts: object) -> str:
    return current_app.config["REDIS_PREFIX"] + ":".join(str(p) for p in parts)
