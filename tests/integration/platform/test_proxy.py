"""TRUSTED_PROXIES: behind nginx, per-address limits count the clients the proxy forwards
(not the proxy), and HTTPS is seen; without it, a forged X-Forwarded-For changes nothing."""
from __future__ import annotations

import uuid

import pytest

from tests.conftest import PASSWORD, csrf_from, login


def _app(app_overrides, hops: int):
    from app import create_app

    return create_app(dict(app_overrides, TRUSTED_PROXIES=hops, AUTH_RATE_LIMIT="2 per hour",
                           RATELIMIT_KEY_PREFIX=app_overrides["REDIS_PREFIX"] + "proxy-" + uuid.uuid4().hex[:6]))


@pytest.fixture(scope="module")
def behind_proxy(app, app_overrides):
    return _app(app_overrides, 1)


@pytest.fixture(scope="module")
def direct(app, app_overrides):
    return _app(app_overrides, 0)


def attempts(client, n: int) -> list[int]:
    return [login(client, "nobody_" + uuid.uuid4().hex[:6], "wrong").status_code for _ in range(n)]


def test_behind_proxy_login_limit_counts_each_forwarded_client(behind_proxy):
    """Two clients behind the same proxy each get their own login allowance; one using it up does not block the other."""
    first, second = behind_proxy.test_client(), behind_proxy.test_client()
    for client, ip in ((first, "203.0.113.7"), (second, "203.0.113.8")):
        client.environ_base.update(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=ip)
    assert attempts(first, 3) == [302, 302, 429]
    assert attempts(second, 1) == [302]


def test_without_trusted_proxies_a_forged_forwarded_for_does_not_escape_the_limit(direct):
    """With TRUSTED_PROXIES=0 the socket address counts: changing X-Forwarded-For per request gains nothing."""
    client = direct.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.0.2"
    codes = []
    for i in range(3):
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"198.51.100.{i}"
        codes.append(login(client, "nobody_" + uuid.uuid4().hex[:6], "wrong").status_code)
    assert codes == [302, 302, 429]


def test_behind_proxy_the_audit_records_the_client_address(behind_proxy):
    """A login through the proxy is audited with the client's address, not the proxy's."""
    from sqlalchemy import select

    from app.platform.extensions import db
    from models.audit import AuditLog

    client = behind_proxy.test_client()
    client.environ_base.update(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.50")
    assert login(client, "admin").status_code == 302
    with behind_proxy.app_context():
        row = db.session.execute(select(AuditLog).where(AuditLog.action == "login")
                                 .order_by(AuditLog.id.desc()).limit(1)).scalar_one()
        assert row.ip == "203.0.113.50"


def https_login(application, referer=None) -> int:
    """Status of a login POST forwarded as https (X-Forwarded-Proto), with or without a Referer."""
    client = application.test_client()
    client.environ_base.update(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.51",
                               HTTP_X_FORWARDED_PROTO="https")
    data = {"username": "admin", "password": PASSWORD, "csrf_token": csrf_from(client.get("/login/").data)}
    return client.post("/login/", data=data, headers={"Referer": referer} if referer else {}).status_code


def test_behind_proxy_https_is_seen(behind_proxy, direct):
    """Forwarded as https, a request is https to the app (so a form POST needs a same-site https Referer); a direct client cannot claim https."""
    assert https_login(behind_proxy) == 400  # Flask-WTF's strict https check: no Referer
    assert https_login(behind_proxy, "https://localhost/login/") == 302
    assert https_login(direct) == 302  # the forged header is ignored: plain http, no Referer check
