"""Idle timeout beside the absolute one (issue 11, item 9; ASVS 3.3.2): a login with no
request for SESSION_IDLE_MINUTES is over, activity extends it, SESSION_HOURS still holds.

Time is not waited for: the tests age the login's Redis entry (its TTL, its start time)
as the passing minutes would, and let Redis expire it.
"""
from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import select

from app.security import roles as R
from app.security.sessions import SID, _key, entry_value
from models.users import SentinelUser
from tests.conftest import login
from tests.integration import factories as F


@pytest.fixture
def signed_in_client(app):
    """A town user's browser, signed in; ``.entry`` is the Redis key of its login."""
    username = F.make_user(app, "idle_" + uuid.uuid4().hex[:8], R.TOWN, town="南沙街")
    client = app.test_client()
    assert login(client, username).status_code == 302
    with client.session_transaction() as sess, app.app_context():
        client.entry = _key(sess[SID])
    client.user_id = F.in_db(app, lambda s: s.execute(
        select(SentinelUser.id).where(SentinelUser.username == username)).scalar_one())
    return client


def redis(app):
    from app.platform.kv import get_redis

    with app.app_context():
        return get_redis()


def signed_in(client) -> bool:
    return client.get("/enterprises/").status_code == 200


def idle_seconds(app) -> int:
    return int(app.config["SESSION_IDLE_MINUTES"] * 60)


def test_the_idle_limit_is_30_minutes_by_default():
    from config import Config

    assert Config().SESSION_IDLE_MINUTES == 30


def test_a_login_without_requests_ends_after_the_idle_time(app, signed_in_client):
    """The login's server-side entry lives SESSION_IDLE_MINUTES (not SESSION_HOURS); when
    Redis lets it expire, the browser is signed out."""
    r = redis(app)
    ttl = r.ttl(signed_in_client.entry)
    assert idle_seconds(app) - 60 <= ttl <= idle_seconds(app) < app.permanent_session_lifetime.total_seconds()
    r.pexpire(signed_in_client.entry, 1)  # the idle minutes have passed
    while r.exists(signed_in_client.entry):
        time.sleep(0.01)
    assert not signed_in(signed_in_client)


def test_activity_extends_the_login(app, signed_in_client):
    """A request two minutes before the idle limit pushes it back to the full idle time."""
    r = redis(app)
    r.expire(signed_in_client.entry, 120)
    assert signed_in(signed_in_client)
    assert r.ttl(signed_in_client.entry) > idle_seconds(app) - 60


def test_requests_within_a_minute_of_the_last_extension_write_nothing(app, signed_in_client):
    """Redis is not written on every request: less than a minute after the last extension the TTL is left alone."""
    r = redis(app)
    r.expire(signed_in_client.entry, idle_seconds(app) - 30)
    assert signed_in(signed_in_client)
    assert r.ttl(signed_in_client.entry) <= idle_seconds(app) - 30


def test_activity_never_extends_a_login_past_its_absolute_bound(app, signed_in_client):
    """Near the end of SESSION_HOURS a request extends the login only up to that end; past it, activity does not help."""
    r = redis(app)
    lifetime = app.permanent_session_lifetime.total_seconds()
    r.set(signed_in_client.entry, entry_value(signed_in_client.user_id, time.time() - lifetime + 100), ex=10)
    assert signed_in(signed_in_client)
    assert 0 < r.ttl(signed_in_client.entry) <= 100

    r.set(signed_in_client.entry, entry_value(signed_in_client.user_id, time.time() - lifetime - 1),
          ex=idle_seconds(app))
    assert not signed_in(signed_in_client)
    assert not signed_in(signed_in_client)
