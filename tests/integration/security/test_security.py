"""Security settings, closed and proven (SPEC §8): login rate limit shared through Redis,
lock-out on both login paths, CSRF, no state change by GET, session cookies and their
end, safe redirects, upload size, JWT errors, security headers, nothing secret logged."""
from __future__ import annotations

import logging
import re
import uuid
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select

from app.security import roles as R
from models.notify import Message
from models.users import SentinelUser
from tests.conftest import PASSWORD, csrf_from, login, logout
from tests.integration import factories as F


def api_login(client, username, password=PASSWORD):
    return client.post("/api/v1/security/login", json={"username": username, "password": password, "provider": "db"})


def throwaway_user(app, role=R.TOWN) -> str:
    return F.make_user(app, "sec_" + uuid.uuid4().hex[:8], role, town="南沙街" if role == R.TOWN else None)


def signed_in(client) -> bool:
    return client.get("/enterprises/").status_code == 200


# --- login rate limit, shared by every process through Redis ---------------------------

@pytest.fixture(scope="module")
def twin_apps(app, app_overrides):
    """Two more app instances (think: two gunicorn workers) on the same database and Redis."""
    from app import create_app

    overrides = dict(app_overrides, AUTH_RATE_LIMIT="3 per hour",
                     RATELIMIT_KEY_PREFIX=app_overrides["REDIS_PREFIX"] + "twin-" + uuid.uuid4().hex[:6])
    return create_app(overrides), create_app(overrides)


def test_login_rate_limit_is_counted_across_app_instances(twin_apps):
    """Three login attempts on one worker use up the allowance on the other worker too (429, in Chinese)."""
    first, second = (a.test_client() for a in twin_apps)
    for client in (first, second):
        client.environ_base["REMOTE_ADDR"] = "10.99.0.1"
    for _ in range(3):
        assert login(first, "nobody_" + uuid.uuid4().hex[:6], "wrong").status_code == 302
    refused = login(second, "nobody_" + uuid.uuid4().hex[:6], "wrong")
    assert refused.status_code == 429 and "操作过于频繁" in refused.get_data(as_text=True)


def test_api_login_rate_limit_is_counted_across_app_instances(twin_apps):
    """The API login has the same allowance, shared the same way, answered as Chinese JSON."""
    first, second = (a.test_client() for a in twin_apps)
    for client in (first, second):
        client.environ_base["REMOTE_ADDR"] = "10.99.0.2"
    for _ in range(3):
        assert api_login(first, "nobody_" + uuid.uuid4().hex[:6], "wrong").status_code == 401
    refused = api_login(second, "nobody_" + uuid.uuid4().hex[:6], "wrong")
    assert refused.status_code == 429 and refused.json == {"message": "操作过于频繁，请稍后再试"}


# --- lock-out ---------------------------------------------------------------------------

def test_web_login_locks_after_repeated_failures(app, client):
    """After LOGIN_LOCK_AFTER wrong passwords even the right one is refused on the login page, with a Chinese message."""
    username = throwaway_user(app)
    for _ in range(app.config["LOGIN_LOCK_AFTER"]):
        login(client, username, "wrong")
    refused = login(client, username)
    assert "/login" in refused.headers["Location"]
    page = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "登录失败次数过多，账号已暂时锁定，请稍后再试" in page
    assert not signed_in(client)


def test_api_login_locks_after_repeated_failures(app, client):
    """The API login locks the same way and says so in Chinese."""
    username = throwaway_user(app)
    for _ in range(app.config["LOGIN_LOCK_AFTER"]):
        assert api_login(client, username, "wrong").json == {"message": "用户名或密码错误"}
    refused = api_login(client, username)
    assert refused.status_code == 401 and refused.json == {"message": "登录失败次数过多，账号已暂时锁定，请稍后再试"}


def test_failures_on_both_paths_add_up(app, client):
    """Failures on the page and on the API count together: guessing cannot alternate paths."""
    username = throwaway_user(app)
    lock_after = app.config["LOGIN_LOCK_AFTER"]
    for _ in range(lock_after - 2):
        login(client, username, "wrong")
    for _ in range(2):
        api_login(client, username, "wrong")
    assert api_login(client, username).status_code == 401
    login(client, username)
    assert not signed_in(client)


def test_api_login_refusals_are_chinese(client):
    """A wrong password and a malformed request both answer in Chinese JSON."""
    wrong = api_login(client, "admin", "wrong-" + uuid.uuid4().hex[:4])
    assert wrong.status_code == 401 and wrong.json == {"message": "用户名或密码错误"}
    malformed = client.post("/api/v1/security/login", data="username=admin")
    assert malformed.status_code == 400 and malformed.json == {
        "message": "请求内容应为 JSON，包含 username、password 和 provider"}


# --- CSRF and GET -----------------------------------------------------------------------

def test_post_without_csrf_token_is_refused_and_changes_nothing(app, client, auth):
    """A delete posted without the page's token is refused with a Chinese message; the row stays."""
    victim = F.make_enterprise(app, F.tag() + "CSRF企业")
    auth.login("admin")
    refused = client.post("/enterprises/delete", data={"ids": [victim]})
    assert refused.status_code == 400
    assert "页面已过期或请求来源无效，请刷新页面后重试" in refused.get_data(as_text=True)
    assert F.enterprise_row(app, victim) is not None


def test_get_never_changes_state(app, client, auth):
    """Deletes and code requests reached by GET do nothing (405, or FAB's refusal for its own views)."""
    victim = F.make_enterprise(app, F.tag() + "GET企业")
    user = throwaway_user(app)
    user_id = F.in_db(app, lambda s: s.execute(select(SentinelUser.id).where(SentinelUser.username == user)).scalar())
    auth.login("admin")
    assert client.get(f"/enterprises/delete?ids={victim}").status_code == 405
    assert client.get(f"/users/delete/{user_id}").status_code == 302
    assert client.get("/head/login/code?phone=13800138000").status_code == 405
    assert F.enterprise_row(app, victim) is not None
    assert F.count(app, SentinelUser, SentinelUser.id == user_id) == 1


# --- sessions ---------------------------------------------------------------------------

def _session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, "no session cookie set"
    return cookies[-1]


def test_session_cookie_is_httponly_lax_and_bounded(app, client, auth):
    """The login cookie is HttpOnly, SameSite=Lax and expires with PERMANENT_SESSION_LIFETIME."""
    cookie = _session_cookie(auth.login("admin"))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))
    lifetime = app.permanent_session_lifetime
    expected = datetime.now(timezone.utc) + lifetime
    assert abs((expires - expected).total_seconds()) < 300 and lifetime <= timedelta(hours=24)


def test_session_cookie_is_secure_when_configured(app, client, auth, monkeypatch):
    """With SESSION_COOKIE_SECURE the cookie is only sent over HTTPS (and the env var sets it)."""
    from config import Config

    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    assert "Secure" in _session_cookie(auth.login("admin"))
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("ID_HASH_KEY", "y")
    config = Config()
    assert config.SESSION_COOKIE_SECURE and config.REMEMBER_COOKIE_SECURE and config.SESSION_COOKIE_HTTPONLY


def test_logout_ends_the_session_for_copies_of_the_cookie(app, client, auth):
    """After logout, a saved copy of the old session cookie no longer opens any page."""
    auth.login("admin")
    old = client.get_cookie("session").value
    assert signed_in(client)
    logout(client)
    assert not signed_in(client)
    client.set_cookie("session", old)
    assert not signed_in(client)
    assert client.get("/head/").status_code == 302


def test_server_side_session_ends_with_its_lifetime(app, client, auth):
    """The server-side record of a login lives no longer than PERMANENT_SESSION_LIFETIME; once gone, so is the login."""
    from app.platform.kv import get_redis
    from app.security.sessions import SID, _key

    auth.login("admin")
    with client.session_transaction() as sess:
        sid = sess[SID]
    with app.app_context():
        r = get_redis()
        ttl = r.ttl(_key(sid))
        assert 0 < ttl <= app.permanent_session_lifetime.total_seconds()
        r.delete(_key(sid))  # what expiry does
    assert not signed_in(client)


# --- redirects, uploads, tokens, headers -----------------------------------------------

def test_login_never_redirects_to_a_foreign_site(client):
    """A login link with next=http://evil.example/ lands on the app's index; a local next is kept."""
    page = client.get("/login/?next=http://evil.example/")
    response = client.post("/login/?next=http://evil.example/",
                           data={"username": "admin", "password": PASSWORD, "csrf_token": csrf_from(page.data)})
    assert response.status_code == 302 and "evil.example" not in response.headers["Location"]
    assert response.headers["Location"] in ("/", "http://localhost/")
    logout(client)
    page = client.get("/login/?next=/staff/")
    response = client.post("/login/?next=/staff/",
                           data={"username": "admin", "password": PASSWORD, "csrf_token": csrf_from(page.data)})
    assert response.headers["Location"] == "/staff/"


def test_too_large_upload_answers_413_in_chinese(app, client, auth, monkeypatch):
    """An upload above MAX_CONTENT_LENGTH is refused with 413 {"message": "上传的文件过大"}."""
    headers = auth.token("admin")
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2048)
    import io

    response = client.post("/api/v1/staff/import", headers=headers, content_type="multipart/form-data",
                           data={"enterprise_id": "1", "file": (io.BytesIO(b"x" * 10_000), "big.xlsx")})
    assert response.status_code == 413 and response.json == {"message": "上传的文件过大"}
    raw = client.post("/api/v1/enterprise/", headers=headers, data=b"{" + b" " * 10_000 + b"}",
                      content_type="application/json")
    assert raw.status_code == 413 and raw.json == {"message": "上传的文件过大"}
    auth.login("admin")
    page = client.post("/import/staff/", content_type="multipart/form-data",
                       data={"enterprise_id": "1", "file": (io.BytesIO(b"x" * 10_000), "big.xlsx")})
    assert page.status_code == 413 and "上传的文件过大" in page.get_data(as_text=True)


def test_forged_and_expired_tokens_are_refused_in_chinese(app, client):
    """A forged token, a token signed with another key and an expired token all get 401 with a Chinese message."""
    import jwt as pyjwt
    from flask_jwt_extended import create_access_token

    admin_id = F.in_db(app, lambda s: s.execute(select(SentinelUser.id).where(SentinelUser.username == "admin")).scalar())
    with app.app_context():
        expired = create_access_token(identity=str(admin_id), expires_delta=timedelta(seconds=-60))
    foreign = pyjwt.encode({"sub": str(admin_id), "type": "access", "fresh": True, "jti": "x",
                            "exp": datetime.now(timezone.utc) + timedelta(hours=1)}, "not-our-key-" + "k" * 40, algorithm="HS256")
    for token, message in (("abc.def.ghi", "请先登录"), (foreign, "请先登录"), (expired, "登录已过期，请重新登录")):
        response = client.get("/api/v1/staff/", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401 and response.json == {"message": message}


def test_security_headers_on_pages_and_api(client):
    """Pages and API answers forbid sniffing and framing and limit the referrer."""
    for response in (client.get("/login/"), client.get("/head/login"), client.get("/api/v1/staff/")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_sms_login_logs_no_code_no_phone_no_id(app, caplog):
    """Nothing logged during a whole SMS login (wrong code included) shows the code, the phone or an ID number."""
    phone = F.phone()
    enterprise = F.make_enterprise(app, F.tag() + "日志企业", head_phone=phone)
    number = F.id_number()
    staff = F.make_staff(app, enterprise, "日志员工", number)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.98.0.1"
    caplog.set_level(logging.DEBUG)

    token = csrf_from(client.get("/head/login").data)
    assert client.post("/head/login/code", json={"phone": phone}, headers={"X-CSRFToken": token}).status_code == 200
    body = F.in_db(app, lambda s: s.execute(select(Message.body).where(Message.recipient == phone)).scalar())
    code = re.search(r"\d{6}", body).group(0)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    client.post("/head/login", data={"phone": phone, "code": wrong, "csrf_token": token})
    assert client.post("/head/login", data={"phone": phone, "code": code, "csrf_token": token}).status_code == 302
    assert client.get("/head/").status_code == 200
    assert client.get(f"/staff/{staff}").status_code == 200
    client.post("/head/login/code", json={"phone": phone}, headers={"X-CSRFToken": token})  # refused: too soon

    text = caplog.text  # formatted as logged (a record's arguments may be rows long since detached)
    for secret in (code, wrong, phone, number):
        assert secret not in text


def test_public_access_comes_from_the_roles_table_without_permission_queries(app, client, auth, monkeypatch):
    """What the public role may do is read from app.security.roles (nothing, as shipped;
    a grant added there applies), and a protected API request reads no permission rows."""
    with app.app_context():
        sm = app.appbuilder.sm
        assert sm.is_item_public("can_read", R.STAFF) is False
        monkeypatch.setitem(sm.builtin_roles, sm.auth_role_public, [[f"^{R.STATISTICS}$", "^can_read$"]])
        assert sm.is_item_public("can_read", R.STATISTICS) is True
        assert sm.is_item_public("can_write", R.STATISTICS) is False
        monkeypatch.undo()

    headers = auth.token("town_nansha")
    with F.statements_run(app) as statements:
        response = client.get("/api/v1/staff/?page_size=1", headers=headers)
    assert response.status_code == 200
    assert statements and not [s for s in statements if "ab_permission_view" in s or "ab_role.name =" in s]


def test_a_role_taken_away_applies_to_the_next_api_call_and_the_user_is_read_in_one_query(app, client, auth):
    """The user, their roles and groups are read together on each request (one statement,
    not one per relationship), so a role removed by the admin refuses the very next call."""
    username = throwaway_user(app)
    headers = auth.token(username)
    with F.statements_run(app) as statements:
        assert client.get("/api/v1/staff/?page_size=1", headers=headers).status_code == 200
    role_reads = [s for s in statements if "ab_role" in s]
    assert len(role_reads) == 1 and "FROM ab_user" in role_reads[0]

    def demote(session):
        user = session.execute(select(SentinelUser).where(SentinelUser.username == username)).scalar_one()
        user.roles = [app.appbuilder.sm.find_role(R.FEED)]
        session.commit()

    F.in_db(app, demote)
    refused = client.get("/api/v1/staff/?page_size=1", headers=headers)
    assert refused.status_code == 403 and refused.json["message"]
