"""Lock an account out after repeated failed logins (counted in Redis, all processes)."""
from __future__ import annotations

import hashlib

from flask import current_app

from app.platform.kv import get_redis, key


def _key(username: str) -> str:
    # Hash the name: keys never carry what a person typed (it may be a phone or worse).
    digest = hashlib.sha256((username or "").strip().lower().encode()).hexdigest()[:32]
    return key("login-fail", digest)


def is_locked(username: str) -> bool:
    count = get_redis().get(_key(username))
    return count is not None and int(count) >= current_app.config["LOGIN_LOCK_AFTER"]


def record_failure(username: str) -> None:
    r = get_redis()
    k = _key(username)
    pipe = r.pipeline()
    pipe.incr(k)
    pipe.expire(k, current_app.config["LOGIN_LOCK_SECONDS"])
    pipe.execute()


def clear(username: str) -> None:
    get_redis().delete(_key(username))
