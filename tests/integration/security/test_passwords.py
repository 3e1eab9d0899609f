"""Passwords (issue 11, item 2): 修改密码 for every account with a password, the district
admin's 用户管理 add / edit / reset, the policy in Chinese, a first login with a password
the admin set must change it (pages and the API), every change audited.

Every test works on accounts of its own: the demo accounts' passwords never change.
"""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from app.security import roles as R
from models.users import SentinelUser
from tests.conftest import PASSWORD, csrf_from, login, logout
from tests.integration import factories as F

NEW = "Changed#2026x"
CHANGE = "/resetmypassword/form"


def _name() -> str:
    return "pw_" + uuid.uuid4().hex[:8]


def _client(app):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.96.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"
    return client


def _account(app, username: str) -> dict:
    def read(session):
        user = session.execute(select(SentinelUser).where(SentinelUser.username == username)).scalar_one_or_none()
        if user is None:
            return {}
        return dict(id=user.id, hash=user.password, must_change=user.must_change_password, last_name=user.last_name,
                    email=user.email, first_name=user.first_name, phone=user.phone, active=user.active,
                    roles=sorted(r.name for r in user.roles), town=user.town.name if user.town else None)

    return F.in_db(app, read)


def _ids(app, model, names) -> list[str]:
    return F.in_db(app, lambda s: [str(s.execute(select(model.id).where(model.name == n)).scalar_one()) for n in names])


def _text(response) -> str:
    return response.get_data(as_text=True)


def _signed_in(client) -> bool:
    return client.get("/enterprises/").status_code == 200


def change_password(client, old, new, confirm=None):
    page = client.get(CHANGE)
    assert page.status_code == 200
    return client.post(CHANGE, data={"old_password": old, "password": new, "conf_password": confirm or new,
                                     "csrf_token": csrf_from(page.data)})


def api_login(client, username, password):
    return client.post("/api/v1/security/login", json={"username": username, "password": password, "provider": "db"})


@pytest.fixture
def admin(app):
    client = _client(app)
    assert login(client, "admin").status_code == 302
    return client


def add_user(app, admin, username, password=NEW, confirm=None, roles=(R.TOWN,), town="南沙街", phone=""):
    from flask_appbuilder.security.sqla.models import Role
    from models.regions import Town

    page = admin.get("/users/add")
    assert page.status_code == 200
    data = {"first_name": "新用户" + username[-4:], "username": username, "phone": phone,
            "roles": _ids(app, Role, roles), "bureau": "__None",
            "town": _ids(app, Town, [town])[0] if town else "__None", "active": "y",
            "password": password, "conf_password": confirm or password, "csrf_token": csrf_from(page.data)}
    return admin.post("/users/add", data=data)


def reset_password(admin, user_id, password=NEW, confirm=None):
    page = admin.get(f"/resetpassword/form?pk={user_id}")
    assert page.status_code == 200
    return admin.post(f"/resetpassword/form?pk={user_id}", data={
        "password": password, "conf_password": confirm or password, "csrf_token": csrf_from(page.data)})


# --- 修改密码 -------------------------------------------------------------------------------

@pytest.mark.parametrize("role", [R.DISTRICT_ADMIN, R.BUREAU, R.TOWN, R.TASKFORCE, R.CHECKPOINT, R.FEED,
                                  R.UNIT_ADMIN, R.INSTITUTION_ADMIN])
def test_every_account_with_a_password_finds_its_profile_and_the_change_page(app, role):
    """用户信息 and 修改密码 are in the user menu and open (200) for every role but the heads'."""
    username = F.make_user(app, _name(), role, town="南沙街" if role == R.TOWN else None,
                           bureau="port" if role == R.BUREAU else None)
    client = _client(app)
    assert login(client, username).status_code == 302
    menu = _text(client.get("/welcome"))
    assert 'id="navbar-change-password"' in menu and "修改密码" in menu
    profile = client.get("/users/userinfo/")
    assert profile.status_code == 200 and username in _text(profile)
    page = client.get(CHANGE)
    assert page.status_code == 200
    for label in ("原密码", "新密码", "确认新密码", "密码要求：至少10个字符、包含大写字母、包含小写字母、包含数字、包含特殊字符"):
        assert label in _text(page)


def test_a_user_changes_their_password_and_logs_in_with_the_new_one(app):
    """Old password, the new one twice: 302 home, the new password works, the old one no longer, audited without the password."""
    username = F.make_user(app, _name(), R.TOWN, town="南沙街")
    client = _client(app)
    login(client, username)
    since = F.last_audit_id(app)
    done = change_password(client, PASSWORD, NEW)
    assert done.status_code == 302 and done.headers["Location"] in ("/", "http://localhost/")
    assert "密码已修改" in _text(client.get("/welcome"))
    [row] = F.audits(app, "password_change", "User", since)
    assert row["username"] == username and row["detail"] == username
    assert NEW not in repr(row) and PASSWORD not in repr(row)
    logout(client)
    assert login(client, username, PASSWORD).headers["Location"].startswith("/login/")
    assert login(client, username, NEW).status_code == 302 and _signed_in(client)


@pytest.mark.parametrize("old, new, confirm, message", [
    ("Wrong#Password1", NEW, NEW, "原密码不正确"),
    ("", NEW, NEW, "请输入原密码"),
    (PASSWORD, NEW, NEW + "y", "两次输入的新密码不一致"),
    (PASSWORD, "weakpass", "weakpass", "密码强度不足：需要至少10个字符、包含大写字母、包含数字、包含特殊字符"),
    (PASSWORD, PASSWORD, PASSWORD, "新密码不能与原密码相同"),
])
def test_refused_changes_say_why_in_chinese_and_change_nothing(app, old, new, confirm, message):
    """A wrong or missing old password, a mismatch, a weak or unchanged password: the form again with the reason, the old password still works."""
    username = F.make_user(app, _name(), R.BUREAU, bureau="port")
    client = _client(app)
    login(client, username)
    before = _account(app, username)["hash"]
    refused = change_password(client, old, new, confirm)
    assert refused.status_code == 200 and message in _text(refused)
    assert _account(app, username)["hash"] == before
    logout(client)
    assert login(client, username, PASSWORD).status_code == 302 and _signed_in(client)


def test_enterprise_heads_have_no_password_to_change(app):
    """A head (SMS login) is not offered 修改密码 and cannot open it."""
    from tests.integration.security.test_sms_login import ask_code, head_phone, last_code, submit

    phone, _ids = head_phone(app)
    client = _client(app)
    ask_code(client, phone)
    assert submit(client, phone, last_code(app, phone)).status_code == 302
    assert "navbar-change-password" not in _text(client.get("/head/select"))
    assert client.get(CHANGE).status_code == 403


# --- the admin's 用户管理 -----------------------------------------------------------------

def test_admin_adds_a_government_account_with_what_it_needs(app, admin):
    """姓名, 用户名, 手机号码, 角色, 镇街, 启用 and a policy-checked initial password: 302, the
    account exists (no e-mail asked: a placeholder), flagged, and the creation is audited."""
    page = _text(admin.get("/users/add"))
    for label in ("姓名", "用户名", "手机号码", "角色", "委办局", "镇街", "启用", "初始密码"):
        assert label in page
    assert "Last Name" not in page and "Email" not in page and 'name="email"' not in page
    username = _name()
    since = F.last_audit_id(app)
    added = add_user(app, admin, username, phone="13912345678")
    assert added.status_code == 302
    account = _account(app, username)
    assert account["must_change"] and account["roles"] == [R.TOWN] and account["town"] == "南沙街"
    assert account["email"] == f"{username}@users.invalid" and account["last_name"] == ""
    assert account["phone"] == "13912345678"
    [row] = F.audits(app, "create", "User", since)
    assert row["after"]["username"] == username and row["after"]["phone"] == "139****5678"
    assert NEW not in repr(row) and "password" not in row["after"]


def test_an_account_keeps_only_the_links_its_roles_use(app, admin):
    """The form shows 委办局 for the bureau role and 镇街 for the town role only; a value left
    in the hidden one is not saved (a task force account gets no town)."""
    page = _text(admin.get("/users/add"))
    assert "role_links" not in page and '"bureau":' in page and '"town":' in page
    username = _name()
    assert add_user(app, admin, username, roles=(R.TASKFORCE,), town="南沙街").status_code == 302
    account = _account(app, username)
    assert account["roles"] == [R.TASKFORCE] and account["town"] is None


@pytest.mark.parametrize("change, message", [
    (dict(password="weakpass"), "密码强度不足：需要至少10个字符、包含大写字母、包含数字、包含特殊字符"),
    (dict(confirm=NEW + "y"), "两次输入的新密码不一致"),
    (dict(town=None), "镇街账号请选择镇街"),
    (dict(roles=()), "请选择角色"),
    (dict(phone="12345"), "手机号码格式不正确"),
])
def test_admin_add_refusals_are_chinese_and_create_nothing(app, admin, change, message):
    username = _name()
    refused = add_user(app, admin, username, **change)
    assert refused.status_code == 200 and message in _text(refused)
    assert _account(app, username) == {}


def test_admin_add_refuses_a_taken_username(app, admin):
    username = F.make_user(app, _name(), R.TASKFORCE)
    refused = add_user(app, admin, username)
    assert refused.status_code == 200 and "该用户名已被使用" in _text(refused)


def test_admin_edits_an_account_with_an_empty_last_name(app, admin):
    """The demo accounts' empty last name no longer blocks the edit form: the change is saved and audited."""
    username = F.make_user(app, _name(), R.TOWN, town="南沙街")
    account = _account(app, username)
    assert account["last_name"] == ""
    page = admin.get(f"/users/edit/{account['id']}")
    assert page.status_code == 200
    for label in ("姓名", "用户名", "手机号码", "角色", "委办局", "镇街", "启用"):
        assert label in _text(page)
    from flask_appbuilder.security.sqla.models import Role
    from models.regions import Town

    since = F.last_audit_id(app)
    saved = admin.post(f"/users/edit/{account['id']}", data={
        "first_name": "改名后", "username": username, "phone": "", "roles": _ids(app, Role, [R.TOWN]),
        "bureau": "__None", "town": _ids(app, Town, ["黄阁镇"])[0], "active": "y",
        "csrf_token": csrf_from(page.data)})
    assert saved.status_code == 302
    after = _account(app, username)
    assert after["first_name"] == "改名后" and after["town"] == "黄阁镇" and after["phone"] is None
    assert after["hash"] == account["hash"] and not after["must_change"]
    [row] = F.audits(app, "update", "User", since)
    assert row["before"]["town"] == "南沙街" and row["after"]["town"] == "黄阁镇"


def test_admin_deletes_an_account_and_the_audit_says_whose(app, admin):
    username = F.make_user(app, _name(), R.TASKFORCE, phone_number=F.phone())
    account = _account(app, username)
    since = F.last_audit_id(app)
    token = csrf_from(admin.get(f"/users/show/{account['id']}").data)
    assert admin.post(f"/users/delete/{account['id']}", data={"csrf_token": token}).status_code == 302
    assert _account(app, username) == {}
    [row] = F.audits(app, "delete", "User", since)
    assert row["entity_id"] == str(account["id"]) and row["detail"] == username
    assert row["before"]["roles"] == [R.TASKFORCE] and "****" in row["before"]["phone"]


def test_admin_reset_applies_the_policy_and_forces_a_change(app, admin):
    """The reset form refuses a weak password in Chinese; a good one is set, audited without
    the password, and the user must change it at the next login."""
    username = F.make_user(app, _name(), R.CHECKPOINT)
    account = _account(app, username)
    weak = reset_password(admin, account["id"], "weakpass")
    assert weak.status_code == 200 and "密码强度不足" in _text(weak)
    assert _account(app, username)["hash"] == account["hash"]
    since = F.last_audit_id(app)
    done = reset_password(admin, account["id"])
    assert done.status_code == 302
    assert _account(app, username)["must_change"]
    [row] = F.audits(app, "password_reset", "User", since)
    assert row["entity_id"] == str(account["id"]) and row["username"] == "admin" and NEW not in repr(row)
    client = _client(app)
    assert login(client, username, PASSWORD).headers["Location"].startswith("/login/")
    assert login(client, username, NEW).status_code == 302
    assert client.get("/welcome").headers["Location"].endswith(CHANGE)


def test_a_heads_account_gets_no_password_from_the_admin(app, admin):
    """Resetting an enterprise head's password is refused with a Chinese message: heads log in by SMS only."""
    from tests.integration.security.test_sms_login import ask_code, head_phone, last_code, submit

    phone, _ids = head_phone(app)
    client = _client(app)
    ask_code(client, phone)
    submit(client, phone, last_code(app, phone))
    head_id = F.in_db(app, lambda s: s.execute(select(SentinelUser.id).where(SentinelUser.phone == phone)).scalar_one())
    before = F.in_db(app, lambda s: s.get(SentinelUser, head_id).password)
    refused = admin.post(f"/resetpassword/form?pk={head_id}", data={
        "password": NEW, "conf_password": NEW, "csrf_token": csrf_from(admin.get("/users/list/").data)})
    assert refused.status_code == 302
    assert "企业负责人使用短信验证码登录，没有密码" in _text(admin.get(refused.headers["Location"]))
    assert F.in_db(app, lambda s: s.get(SentinelUser, head_id).password) == before


# --- a password the admin set is changed at the first login ------------------------------

def test_an_account_the_admin_created_must_change_its_password_first(app, admin):
    """Every page leads to 修改密码 and the API refuses a token (Chinese 403) until the user
    sets their own password; then the account works normally on both."""
    username = _name()
    assert add_user(app, admin, username).status_code == 302
    client = _client(app)
    assert login(client, username, NEW).status_code == 302
    for path in ("/", "/welcome", "/enterprises/", "/staff/", "/users/userinfo/", "/stats/tests"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith(CHANGE), path
    page = client.get(CHANGE)
    assert page.status_code == 200 and "这是管理员为您设置的初始密码，请先设置您自己的新密码" in _text(page)
    assert client.get("/static/css/sentinel.css").status_code == 200
    refused = api_login(_client(app), username, NEW)
    assert refused.status_code == 403 and refused.json == {"message": "请先在网页上登录并修改初始密码，再使用接口"}

    mine = "MyOwn#Password9"
    assert change_password(client, NEW, mine).status_code == 302
    assert not _account(app, username)["must_change"]
    assert _signed_in(client)
    token = api_login(_client(app), username, mine)
    assert token.status_code == 200 and token.json["access_token"]
    logout(client)
    assert login(client, username, NEW).headers["Location"].startswith("/login/")
    assert login(client, username, mine).status_code == 302 and _signed_in(client)


def test_a_token_issued_before_the_admins_reset_stops_working(app, admin):
    """The reset also ends the API access of tokens obtained with the old password (401, Chinese)."""
    username = F.make_user(app, _name(), R.TOWN, town="南沙街")
    client = _client(app)
    headers = {"Authorization": "Bearer " + api_login(client, username, PASSWORD).json["access_token"]}
    assert client.get("/api/v1/staff/?page_size=1", headers=headers).status_code == 200
    assert reset_password(admin, _account(app, username)["id"]).status_code == 302
    refused = client.get("/api/v1/staff/?page_size=1", headers=headers)
    assert refused.status_code == 401 and refused.json == {"message": "请先登录"}


def test_demo_accounts_are_not_flagged(app):
    """`demo load` creates accounts that work at once (demos and tests): none must change its password."""
    from app.cli.demo import ACCOUNTS

    names = [a[0] for a in ACCOUNTS]
    flagged = F.in_db(app, lambda s: s.execute(select(SentinelUser.username).where(
        SentinelUser.username.in_(names), SentinelUser.must_change_password.is_(True))).scalars().all())
    assert flagged == []


# --- a password change ends the other logins made with the old password -----------------

def _api_tokens(client, username, password):
    answer = client.post("/api/v1/security/login", json={"username": username, "password": password,
                                                           "provider": "db", "refresh": True})
    assert answer.status_code == 200
    return answer.json["access_token"], answer.json["refresh_token"]


def _api_ok(client, token) -> int:
    return client.get("/api/v1/staff/?page_size=1", headers={"Authorization": "Bearer " + token}).status_code


def _refresh(client, token):
    return client.post("/api/v1/security/refresh", headers={"Authorization": "Bearer " + token})


def test_changing_ones_password_ends_every_other_login(app):
    """After 修改密码 the browser that changed it stays signed in, but another browser signed in
    with the old password, a copy of its cookie, and API tokens and refresh tokens obtained
    with the old password are refused (a stolen login does not outlive the change)."""
    username = F.make_user(app, _name(), R.TOWN, town="南沙街")
    mine, other = _client(app), _client(app)
    assert login(mine, username).status_code == 302 and login(other, username).status_code == 302
    access, refresh = _api_tokens(_client(app), username, PASSWORD)
    assert _api_ok(mine, access) == 200 and _refresh(mine, refresh).status_code == 200

    assert change_password(mine, PASSWORD, NEW).status_code == 302
    assert _signed_in(mine)
    assert not _signed_in(other)
    assert _api_ok(mine, access) == 401
    refused = _refresh(mine, refresh)
    assert refused.status_code == 401 and refused.json == {"message": "请先登录"}
    fresh, _ = _api_tokens(_client(app), username, NEW)
    assert _api_ok(mine, fresh) == 200


def test_the_admins_reset_ends_old_logins_also_after_the_user_set_their_own(app, admin):
    """A login copied before the admin's reset (cookie, refresh token) stays dead once the user
    has set a password of their own after the reset."""
    username = F.make_user(app, _name(), R.TOWN, town="南沙街")
    stolen = _client(app)
    assert login(stolen, username).status_code == 302
    _, refresh = _api_tokens(_client(app), username, PASSWORD)
    assert reset_password(admin, _account(app, username)["id"]).status_code == 302

    owner = _client(app)
    assert login(owner, username, NEW).status_code == 302
    assert change_password(owner, NEW, "MyOwn#Password9").status_code == 302
    assert _signed_in(owner)
    assert not _signed_in(stolen)
    assert _refresh(stolen, refresh).status_code == 401


def test_the_admin_resetting_their_own_password_stays_signed_in(app):
    """The admin who resets their own account's password on its page keeps working in that browser."""
    username = F.make_user(app, _name(), R.DISTRICT_ADMIN)
    client = _client(app)
    assert login(client, username).status_code == 302
    assert reset_password(client, _account(app, username)["id"]).status_code == 302
    assert _signed_in(client)


# --- the admin cannot lock the district out of its own administration ------------------------

def _admin_of_its_own(app):
    username = F.make_user(app, _name(), R.DISTRICT_ADMIN)
    client = _client(app)
    assert login(client, username).status_code == 302
    return client, username, _account(app, username)


def test_an_admin_cannot_delete_their_own_account(app):
    """删除 on one's own account says why in Chinese and keeps the account (and the login)."""
    client, username, account = _admin_of_its_own(app)
    token = csrf_from(client.get(f"/users/show/{account['id']}").data)
    refused = client.post(f"/users/delete/{account['id']}", data={"csrf_token": token}, follow_redirects=True)
    assert "不能删除自己的账号" in _text(refused)
    assert _account(app, username)["active"] and _signed_in(client)


@pytest.mark.parametrize("change", ["deactivate", "drop_role"])
def test_an_admin_cannot_deactivate_themselves_or_drop_their_admin_role(app, change):
    """Unticking 启用 or taking 区管理员 away on one's own account is refused in Chinese; nothing changes."""
    from flask_appbuilder.security.sqla.models import Role

    client, username, account = _admin_of_its_own(app)
    page = client.get(f"/users/edit/{account['id']}")
    data = {"first_name": "改名后", "username": username, "phone": "", "bureau": "__None", "town": "__None",
            "roles": _ids(app, Role, [R.DISTRICT_ADMIN] if change == "deactivate" else [R.TASKFORCE]),
            "csrf_token": csrf_from(page.data)}
    if change == "drop_role":
        data["active"] = "y"
    refused = client.post(f"/users/edit/{account['id']}", data=data, follow_redirects=True)
    assert "不能停用自己的账号或取消自己的区管理员角色" in _text(refused)
    after = _account(app, username)
    assert after["active"] and after["roles"] == [R.DISTRICT_ADMIN] and after["first_name"] == username
    assert _signed_in(client)


def test_an_admin_still_edits_their_own_name_and_deactivates_another_admin(app, admin):
    """The guard is about oneself: one's own name changes, and another admin's account is deactivated."""
    from flask_appbuilder.security.sqla.models import Role

    client, username, account = _admin_of_its_own(app)
    page = client.get(f"/users/edit/{account['id']}")
    saved = client.post(f"/users/edit/{account['id']}", data={
        "first_name": "改名后", "username": username, "phone": "", "bureau": "__None", "town": "__None",
        "roles": _ids(app, Role, [R.DISTRICT_ADMIN]), "active": "y", "csrf_token": csrf_from(page.data)})
    assert saved.status_code == 302 and _account(app, username)["first_name"] == "改名后"
    page = admin.get(f"/users/edit/{account['id']}")
    saved = admin.post(f"/users/edit/{account['id']}", data={
        "first_name": "改名后", "username": username, "phone": "", "bureau": "__None", "town": "__None",
        "roles": _ids(app, Role, [R.DISTRICT_ADMIN]), "csrf_token": csrf_from(page.data)})
    assert saved.status_code == 302 and not _account(app, username)["active"]
