"""Login sessions that really end: bounded, and dead on the server after logout.

Flask keeps the session in a signed cookie, so a copy of the cookie would outlive a
logout. Each login therefore gets a random id, kept in the cookie and in Redis for
``PERMANENT_SESSION_LIFETIME``; a request whose id is no longer in Redis (logged out,
or older than the lifetime) is anonymous. Logins also make the session permanent, so
the cookie carries the same bound.
"""
from __future__ import annotations

import hashlib
import logging
import secrets

from flask import Flask, current_app, session
from flask_login import user_logged_in, user_logged_out
from redis import RedisError

from app.platform.kv import get_redis, key

log = logging.getLogger(__name__)

SID = "_sentinel_sid"


def _key(sid: str) -> str:
    return key("session", hashlib.sha256(sid.encode()).hexdigest()[:40])


def _lifetime_seconds() -> int:
    return max(1, int(current_app.permanent_session_lifetime.total_seconds()))


def start(_sender, user, **_extra) -> None:
    """flask_login.user_logged_in: a permanent session with a fresh server-side id."""
    session.permanent = True
    sid = secrets.token_urlsafe(32)
    session[SID] = sid
    get_redis().set(_key(sid), str(user.id), ex=_lifetime_seconds())


def end(_sender, **_extra) -> None:
    """flask_login.user_logged_out: the id is dropped, old copies of the cookie die."""
    sid = session.pop(SID, None)
    if sid:
        get_redis().delete(_key(sid))


def is_alive(user_id) -> bool:
    """Whether this request's session is a live login of ``user_id``."""
    sid = session.get(SID)
    if not sid:
        return False
    try:
        value = get_redis().get(_key(sid))
    except RedisError:
        log.warning("session store unreachable; treating the request as signed out")
        return False
    return value is not None and value.decode() == str(user_id)


def init_app(app: Flask) -> None:
    # FAB hands its managers ``current_app``, a proxy: signals are sent by the real app
    real = app._get_current_object() if hasattr(app, "_get_current_object") else app
    user_logged_in.connect(start, real)
    user_logged_out.connect(end, real)
