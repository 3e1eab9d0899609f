"""Security events (issue 11): failed logins, lockouts, refused SMS codes, out-of-scope
404s and permission refusals each leave a row the district admin reads in 系统管理 →
安全事件, and a log line — naming who, from where, which route, never a personal value."""
from __future__ import annotations

import logging
import re
import uuid
from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from app.platform import security_events as E
from app.security import roles as R
from models.regions import Town
from models.security_events import SecurityEvent
from tests.conftest import csrf_from, login
from tests.integration import factories as F

COLUMNS = ("id", "at", "kind", "user_id", "username", "account", "ip", "method", "route", "entity", "entity_id",
           "detail")


def last_event_id(app) -> int:
    return F.in_db(app, lambda s: s.execute(select(func.max(SecurityEvent.id))).scalar() or 0)


def events(app, since: int, kind: str | None = None, ip: str | None = None) -> list[dict]:
    """Security events written after ``since`` (optionally of one kind, from one address), oldest first."""
    def read(session):
        stmt = select(SecurityEvent).where(SecurityEvent.id > since).order_by(SecurityEvent.id)
        if kind:
            stmt = stmt.where(SecurityEvent.kind == kind)
        if ip:
            stmt = stmt.where(SecurityEvent.ip == ip)
        return [{c: getattr(e, c) for c in COLUMNS} for e in session.execute(stmt).scalars()]

    return F.in_db(app, read)


def throwaway_user(app, role=R.TOWN) -> str:
    return F.make_user(app, "ev_" + uuid.uuid4().hex[:8], role, town="南沙街" if role == R.TOWN else None)


def stored_text(rows: list[dict]) -> str:
    return " ".join(str(v) for row in rows for v in row.values())


# --- logins ---------------------------------------------------------------------------

def test_failed_logins_are_recorded_without_what_was_typed(app, caplog):
    """A wrong password on the form and on the API, and an unknown name, each leave an event
    and a log line with the route and address; the password and an unknown name are kept nowhere."""
    user, ip = throwaway_user(app), F.address()
    unknown = "nobody_" + uuid.uuid4().hex[:8]
    client = F.client_at(app, ip)
    since = last_event_id(app)
    with caplog.at_level(logging.WARNING, logger="sentinel.security"):
        login(client, user, "Wrong#Secret1")
        assert F.api_login(client, user, "Wrong#Secret2").status_code == 401
        login(client, unknown, "Wrong#Secret3")
    rows = events(app, since, ip=ip)
    assert [(r["kind"], r["account"], r["method"], r["route"]) for r in rows] == [
        (E.LOGIN_FAILED, user, "POST", "/login/"),
        (E.LOGIN_FAILED, user, "POST", "/api/v1/security/login"),
        (E.LOGIN_FAILED, "n***", "POST", "/login/"),
    ]
    assert all(r["user_id"] is None and r["username"] is None for r in rows)  # nobody was signed in
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "sentinel.security")
    assert logged.count("login_failed") == 3 and f"account={user}" in logged and ip in logged
    for secret in ("Wrong#Secret", unknown):
        assert secret not in stored_text(rows) and secret not in logged


def test_lockout_start_and_refused_attempts_are_recorded(app):
    """The failure that locks an address out leaves a 登录锁定 event (once); each attempt refused
    while locked leaves another, even with the right password."""
    user, ip = throwaway_user(app), F.address()
    client = F.client_at(app, ip)
    since = last_event_id(app)
    for _ in range(app.config["LOGIN_LOCK_AFTER"]):
        login(client, user, "wrong")
    login(client, user)
    assert F.api_login(client, user).status_code == 401
    kinds = [r["kind"] for r in events(app, since, ip=ip)]
    lock_after = app.config["LOGIN_LOCK_AFTER"]
    assert kinds == [E.LOGIN_FAILED] * lock_after + [E.LOCKOUT, E.LOCKED_OUT, E.LOCKED_OUT]
    assert {r["account"] for r in events(app, since, ip=ip)} == {user}


# --- SMS codes --------------------------------------------------------------------------

def ask_code(client, phone: str):
    token = csrf_from(client.get("/head/login").data)
    return client.post("/head/login/code", json={"phone": phone},
                       headers={"X-CSRFToken": token, "Accept": "application/json"})


def verify(client, phone: str, code: str):
    token = csrf_from(client.get("/head/login").data)
    return client.post("/head/login/verify", json={"phone": phone, "code": code}, headers={"X-CSRFToken": token})


def last_code(app, phone: str) -> str:
    from models.notify import Message

    body = F.in_db(app, lambda s: s.execute(select(Message.body).where(Message.recipient == phone)
                                            .order_by(Message.id.desc())).scalar())
    return re.search(r"\d{6}", body).group(0)


def masked(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:]


def test_refused_sms_codes_are_recorded_with_the_phone_masked(app, monkeypatch):
    """A wrong code, a code used up by wrong tries and a code that is gone each leave an event
    naming the phone masked; neither the phone nor the code is stored."""
    monkeypatch.setitem(app.config, "SMS_CODE_MAX_TRIES", 2)
    phone = F.phone()
    F.make_enterprise(app, F.tag() + "验证码企业", head_phone=phone)
    ip = F.address()
    client = F.client_at(app, ip)
    since = last_event_id(app)
    assert ask_code(client, phone).status_code == 200
    code = last_code(app, phone)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert verify(client, phone, wrong).status_code == 400  # wrong, one try left
    assert verify(client, phone, wrong).status_code == 400  # wrong again: the code is dead
    assert verify(client, phone, code).status_code == 400  # gone
    rows = events(app, since, ip=ip)
    assert [(r["kind"], r["account"], r["route"]) for r in rows] == [
        (E.SMS_CODE_WRONG, masked(phone), "/head/login/verify"),
        (E.SMS_CODE_DEAD, masked(phone), "/head/login/verify"),
        (E.SMS_CODE_GONE, masked(phone), "/head/login/verify"),
    ]
    assert phone not in stored_text(rows) and code not in stored_text(rows)


def test_throttled_sms_code_requests_are_recorded(app, monkeypatch):
    """Asking again within the pause, past the phone's hourly count and past the address's
    hourly count each leave their own event, the phone masked."""
    from app.platform.kv import get_redis, key
    from app.security.sms_codes import phone_digest

    monkeypatch.setitem(app.config, "SMS_PER_PHONE_PER_HOUR", 1)
    monkeypatch.setitem(app.config, "SMS_PER_IP_PER_HOUR", 3)
    phone, ip = F.phone(), F.address()
    client = F.client_at(app, ip)
    since = last_event_id(app)
    assert ask_code(client, phone).status_code == 200
    assert ask_code(client, phone).status_code == 429  # within the pause
    with app.app_context():  # the pause runs out
        get_redis().delete(key("sms", "pause", phone_digest(app.config["SECRET_KEY"], phone)))
    assert ask_code(client, phone).status_code == 429  # the phone's hour is used up
    assert ask_code(client, F.phone()).status_code == 429  # the address's hour is used up
    rows = events(app, since, ip=ip)
    assert [r["kind"] for r in rows] == [E.SMS_RESEND_PAUSE, E.SMS_PHONE_LIMIT, E.SMS_IP_LIMIT]
    assert rows[0]["account"] == rows[1]["account"] == masked(phone) and phone not in stored_text(rows)


# --- scope and permission refusals ------------------------------------------------------

@pytest.fixture(scope="module")
def foreign(app):
    """An enterprise of 黄阁镇 with one person: out of town_nansha's scope."""
    enterprise = F.make_enterprise(app, F.tag() + "外镇企业", town="黄阁镇")
    return enterprise, F.make_staff(app, enterprise, "外镇员工")


@pytest.mark.parametrize("method, path, entity, target, route", [
    ("get", "/api/v1/staff/{staff}", "Staff", "staff", "/api/v1/staff/<int:pk>"),
    ("put", "/api/v1/staff/{staff}", "Staff", "staff", "/api/v1/staff/<int:pk>"),
    ("delete", "/api/v1/staff/{staff}", "Staff", "staff", "/api/v1/staff/<int:pk>"),
    ("get", "/api/v1/staff/{staff}/health", "Staff", "staff", "/api/v1/staff/<int:pk>/health"),
    ("get", "/api/v1/staff/export?enterprise_id={enterprise}", "Enterprise", "enterprise", "/api/v1/staff/export"),
    ("delete", "/api/v1/enterprise/{enterprise}", "Enterprise", "enterprise", "/api/v1/enterprise/<int:pk>"),
    ("get", "/staff/{staff}", "Staff", "staff", "/staff/<int:pk>"),
    ("get", "/staff/{staff}/edit", "Staff", "staff", "/staff/<int:pk>/edit"),
    ("get", "/staff/export?enterprise_id={enterprise}", "Enterprise", "enterprise", "/staff/export"),
    ("get", "/enterprises/{enterprise}", "Enterprise", "enterprise", "/enterprises/<int:pk>"),
])
def test_out_of_scope_requests_are_recorded(app, auth, client, foreign, method, path, entity, target, route):
    """A town user reaching another town's row (detail, edit, delete, export, API) gets 404,
    and the event names the user, the route, the model and the id tried."""
    enterprise, staff = foreign
    ids = {"enterprise": enterprise, "staff": staff}
    url = path.format(**ids)
    if url.startswith("/api/"):
        kwargs = {"headers": auth.token("town_nansha")}
        if method == "put":
            kwargs["json"] = {"name": "改名"}
    else:
        auth.login("town_nansha")
        kwargs = {}
    since = last_event_id(app)
    assert getattr(client, method)(url, **kwargs).status_code == 404
    (row,) = events(app, since, E.OUT_OF_SCOPE)
    assert (row["username"], row["method"], row["route"], row["entity"], row["entity_id"]) == (
        "town_nansha", method.upper(), route, entity, str(ids[target]))
    assert row["user_id"] is not None and row["ip"] == "127.0.0.1"
    assert F.staff_row(app, staff) is not None and F.staff_row(app, staff)[1] == "外镇员工"


def test_permission_refusals_are_recorded(app, auth, client):
    """A town user opening the admin's page (403 page) or calling an admin-only API (403 JSON)
    leaves a 无权限访问 event naming the resource; a visitor not signed in leaves none."""
    since = last_event_id(app)
    assert app.test_client().get("/audit_log/").status_code == 302  # to the login page
    assert events(app, since) == []
    headers = auth.token("town_nansha")
    assert client.get("/api/v1/enterprise_type/", headers=headers).status_code == 403
    auth.login("town_nansha")
    assert client.get("/audit_log/").status_code == 403
    rows = events(app, since, E.PERMISSION_DENIED)
    assert [(r["username"], r["method"], r["route"], r["entity"], r["detail"]) for r in rows] == [
        ("town_nansha", "GET", "/api/v1/enterprise_type/", R.ENTERPRISE_TYPE, "can_read"),
        ("town_nansha", "GET", "/audit_log/", R.AUDIT, "can_read"),
    ]


@pytest.fixture(scope="module")
def failing_app(app, app_overrides):
    """An app with one more route that writes, breaks its transaction, then meets a row out of scope."""
    from app import create_app
    from app.platform.extensions import db
    from app.security.scope import OutOfScope

    application = create_app(app_overrides)

    @application.route("/_test/broken/<int:pk>")
    def broken(pk: int):
        db.session.add(Town(name=f"半途镇{pk}", sort_order=0))
        db.session.flush()
        try:  # on PostgreSQL this aborts the transaction: nothing more runs in it
            db.session.execute(text("SELECT * FROM no_such_table"))
        except Exception:
            pass
        raise OutOfScope("Town", pk)

    yield application
    with application.app_context():
        db.session.remove()


def test_event_is_kept_when_the_requests_transaction_fails(app, failing_app):
    """The request's own work is rolled back and the event is still stored and committed."""
    pk = uuid.uuid4().int % 10**9
    since = last_event_id(app)
    assert failing_app.test_client().get(f"/_test/broken/{pk}").status_code == 404
    (row,) = events(app, since, E.OUT_OF_SCOPE)
    assert (row["entity"], row["entity_id"], row["route"]) == ("Town", str(pk), "/_test/broken/<int:pk>")
    assert F.count(app, Town, Town.name == f"半途镇{pk}") == 0


# --- the admin's screen -----------------------------------------------------------------

def test_admin_reads_events_in_chinese_in_district_time_with_filters(app, auth, client):
    """系统管理 → 安全事件 lists an event with its Chinese name and district time to the minute;
    the kind, user and day filters keep or drop it. A town user may not open it."""
    town = F.client_at(app)
    login(town, "town_nansha")
    assert town.get("/security-events/").status_code == 403
    user = throwaway_user(app)
    since = last_event_id(app)
    login(F.client_at(app), user, "wrong")
    (row,) = events(app, since, E.LOGIN_FAILED)
    local = row["at"].replace(tzinfo=timezone.utc).astimezone(ZoneInfo(app.config["TIMEZONE"]))
    auth.login("admin")
    home = client.get("/security-events/").get_data(as_text=True)
    assert "安全事件" in home and 'href="/security-events/"' in home

    def table(**args) -> str:
        page = client.get("/security-events/", query_string={"user": user, **args}).get_data(as_text=True)
        return page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]

    def listed(**args) -> bool:
        return user in table(**args)

    rows = table()
    assert "登录失败" in rows and local.strftime("%Y-%m-%d %H:%M") in rows
    assert row["at"].strftime("%Y-%m-%d %H:%M") not in rows  # not UTC
    assert listed(kind=E.LOGIN_FAILED) and not listed(kind=E.LOCKOUT)
    day = local.date()
    assert listed(start=day.isoformat(), end=day.isoformat())
    assert not listed(start=(day + timedelta(days=1)).isoformat())
    assert not listed(end=(day - timedelta(days=1)).isoformat())
    assert not listed(user="someone_else_" + uuid.uuid4().hex[:6])
