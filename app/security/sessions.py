"""Login sessions that really end: after a while without requests, at an absolute bound,
and on the server at logout.

Flask keeps the session in a signed cookie, so a copy of the cookie would outlive a
logout. Each login therefore gets a random id, kept in the cookie and in Redis as
``"<user id> <login time>"``. A request whose id is no longer in Redis is anonymous:

* idle: the entry lives ``SESSION_IDLE_MINUTES``; a request that finds it with more
  than ``REFRESH_SLACK`` seconds of that used pushes it back to the full idle time, so
  Redis is written at most once a minute per session, and a session ends between
  ``SESSION_IDLE_MINUTES`` minus one minute and ``SESSION_IDLE_MINUTES`` after its
  last request;
* absolute: the entry never outlives the login time plus ``PERMANENT_SESSION_LIFETIME``
  (``SESSION_HOURS``), and a request past that bound is anonymous whatever the entry;
* logout deletes the entry.

Logins also make the session permanent, so the cookie carries the absolute bound too.
"""
from __future__ import annotations

import hashlib
import logging
import math
import secrets
import time
from typing import Optional

from flask import Flask, current_app, session
from flask_login import user_logged_in, user_logged_out
from redis import RedisError

from app.platform.kv import get_redis, key
from app.security import credential_stamp

log = logging.getLogger(__name__)

SID = "_sentinel_sid"
REFRESH_SLACK = 60  # seconds of idle time a request may leave unrefreshed


LOGIN_CLAIM = "login"  # of a page's API token: the login it was handed out in


def _ref(sid: str) -> str:
    """A login's reference: what Redis keys it by (the id itself stays in the cookie)."""
    return hashlib.sha256(sid.encode()).hexdigest()[:40]


def _key(sid: str) -> str:
    return _ref_key(_ref(sid))


def _ref_key(ref: str) -> str:
    return key("session", ref)


def _lifetime_seconds() -> int:
    return max(1, int(current_app.permanent_session_lifetime.total_seconds()))


def _idle_seconds() -> int:
    return max(1, int(float(current_app.config["SESSION_IDLE_MINUTES"]) * 60))


# --- pure rules -------------------------------------------------------------------

def entry_value(user_id, started: float) -> str:
    """What Redis keeps for a login: the user's id and the login's start (epoch seconds)."""
    return f"{user_id} {int(started)}"


def parse_entry(value: Optional[bytes]) -> Optional[tuple[str, int]]:
    """``(user id, start)`` of a stored entry; None for a missing or malformed one."""
    if not value:
        return None
    parts = value.decode(errors="replace").split(" ")
    if len(parts) != 2 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1])


def allowed_ttl(now: float, started: float, idle: int, lifetime: int) -> int:
    """Seconds the entry may live from ``now``: the idle time, cut at the absolute bound
    (0 or less: the login is over)."""
    return min(idle, math.floor(started + lifetime - now))


def needs_refresh(ttl: int, allowed: int) -> bool:
    """Whether the entry's remaining ``ttl`` (Redis TTL: -1 none) must be pushed back to
    ``allowed``: only once more than ``REFRESH_SLACK`` seconds of it are used."""
    return ttl < 0 or ttl < allowed - REFRESH_SLACK


# --- Flask-Login signals and the per-request check ---------------------------------

def start(_sender, user, **_extra) -> None:
    """flask_login.user_logged_in: a permanent session with a fresh server-side id."""
    session.permanent = True
    sid = secrets.token_urlsafe(32)
    session[SID] = sid
    credential_stamp.renew_session(user)
    now = time.time()
    ttl = allowed_ttl(now, now, _idle_seconds(), _lifetime_seconds())
    get_redis().set(_key(sid), entry_value(user.id, now), ex=max(1, ttl))


def end(_sender, **_extra) -> None:
    """flask_login.user_logged_out: the id is dropped, old copies of the cookie die."""
    sid = session.pop(SID, None)
    if sid:
        get_redis().delete(_key(sid))


def is_alive(user_id) -> bool:
    """Whether this request's session is a live login of ``user_id``; extends its idle
    time (at most once a minute)."""
    sid = session.get(SID)
    if not sid:
        return False
    k = _key(sid)
    try:
        pipe = get_redis().pipeline(transaction=False)
        pipe.get(k)
        pipe.ttl(k)
        value, ttl = pipe.execute()
    except RedisError:
        log.warning("session store unreachable; treating the request as signed out")
        return False
    entry = parse_entry(value)
    if entry is None or entry[0] != str(user_id):
        return False
    allowed = allowed_ttl(time.time(), entry[1], _idle_seconds(), _lifetime_seconds())
    if allowed <= 0:
        return False  # past the absolute bound (where the entry's TTL ends too)
    if needs_refresh(ttl, allowed):
        try:
            get_redis().expire(k, allowed)
        except RedisError:
            log.warning("session store unreachable; the session's idle time was not extended")
    return True


# --- API tokens a page hands its script ---------------------------------------------

def login_claims() -> dict:
    """Claims binding an API token to this request's login (the checkpoint's scan page
    carries such a token): :func:`token_login_ended` refuses it once that login ended —
    at logout, when idle too long, at the absolute bound — not an hour later."""
    sid = session.get(SID)
    return {LOGIN_CLAIM: _ref(sid)} if sid else {}


def token_login_ended(_jwt_header: dict, jwt_data: dict) -> bool:
    """flask-jwt-extended's revocation check: a token bound to a login (see
    :func:`login_claims`) counts while that login is alive; any other token is not
    bound (the API login's tokens live their own hour)."""
    ref = jwt_data.get(LOGIN_CLAIM)
    if ref is None:
        return False
    if not isinstance(ref, str):
        return True
    try:
        return not get_redis().exists(_ref_key(ref))
    except RedisError:
        log.warning("session store unreachable; a page's token is refused")
        return True


def init_app(app: Flask) -> None:
    # FAB hands its managers ``current_app``, a proxy: signals are sent by the real app
    real = app._get_current_object() if hasattr(app, "_get_current_object") else app
    user_logged_in.connect(start, real)
    user_logged_out.connect(end, real)
