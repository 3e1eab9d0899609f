"""Enterprise heads log in with their phone and an SMS code (SPEC §8, manual 2.1/2.2).

The code travels the real way: the outbox (Message rows) holds what the gateway would
send; Redis (real, shared) holds the limits and the code's hash.
"""
from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from app.cli.demo import DEMO_HEAD_PHONE
from app.security import roles as R
from app.security.sms_codes import phone_digest
from models.enterprises import Enterprise
from models.notify import Message
from models.staff import Staff
from models.users import SentinelUser
from tests.conftest import PASSWORD, csrf_from, login, logout
from tests.integration import factories as F


def _ip() -> str:
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


@pytest.fixture
def phone_client(app):
    """A browser on its own address (the per-address hourly limit is per test)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = _ip()
    return client


def head_phone(app, enterprises: int = 1) -> tuple[str, list[int]]:
    """A fresh phone heading ``enterprises`` new enterprises."""
    phone = F.phone()
    ids = [F.make_enterprise(app, F.tag() + f"负责人企业{i}", head_phone=phone) for i in range(enterprises)]
    return phone, ids


def ask_code(client, phone: str):
    token = csrf_from(client.get("/head/login").data)
    return client.post("/head/login/code", json={"phone": phone},
                       headers={"X-CSRFToken": token, "Accept": "application/json"})


def messages_to(app, phone: str) -> list[str]:
    return F.in_db(app, lambda s: [m.body for m in s.execute(
        select(Message).where(Message.recipient == phone, Message.kind == "sms").order_by(Message.id)).scalars()])


def last_code(app, phone: str) -> str:
    bodies = messages_to(app, phone)
    assert bodies, "no SMS was stored for this phone"
    return re.search(r"\d{6}", bodies[-1]).group(0)


def submit(client, phone: str, code: str):
    token = csrf_from(client.get("/head/login").data)
    return client.post("/head/login", data={"phone": phone, "code": code, "csrf_token": token})


def open_pause(app, phone: str) -> None:
    """Let the 60-second resend pause pass (its Redis key is what expires)."""
    from app.platform.kv import get_redis, key

    with app.app_context():
        get_redis().delete(key("sms", "pause", phone_digest(app.config["SECRET_KEY"], phone)))


def test_head_logs_in_with_code_picks_enterprise_and_sees_home(app, phone_client):
    """The demo head asks for a code, logs in, picks one of their two enterprises and sees its headcount and 员工管理."""
    answer = ask_code(phone_client, DEMO_HEAD_PHONE)
    assert answer.status_code == 200 and answer.json == {"message": "验证码已发送"}
    sensitive, body = F.in_db(app, lambda s: s.execute(
        select(Message.sensitive, Message.body).where(Message.recipient == DEMO_HEAD_PHONE)
        .order_by(Message.id.desc())).first())
    assert sensitive and re.fullmatch(r"您的登录验证码为\d{6}，5分钟内有效。", body)

    response = submit(phone_client, DEMO_HEAD_PHONE, last_code(app, DEMO_HEAD_PHONE))
    assert response.status_code == 302 and response.headers["Location"].endswith("/head/")
    assert phone_client.get("/head/").headers["Location"].endswith("/head/select")

    mine = F.in_db(app, lambda s: [(e.id, e.name) for e in s.execute(
        select(Enterprise).where(Enterprise.head_phone == DEMO_HEAD_PHONE).order_by(Enterprise.id)).scalars()])
    page = phone_client.get("/head/select").get_data(as_text=True)
    assert len(mine) == 2 and all(name in page for _, name in mine)
    assert page.count('name="enterprise_id"') == 2  # nobody else's enterprise is offered

    chosen_id, chosen_name = mine[1]
    token = csrf_from(page)
    picked = phone_client.post("/head/select", data={"enterprise_id": chosen_id, "csrf_token": token})
    assert picked.headers["Location"].endswith("/head/")
    home = phone_client.get("/head/").get_data(as_text=True)
    staff = F.count(app, Staff, Staff.enterprise_id == chosen_id)
    assert chosen_name in home and f"企业总人数：{staff} 人" in home
    assert f"/staff/?enterprise_id={chosen_id}" in home and "员工管理" in home

    username, roles = F.in_db(app, lambda s: (lambda u: (u.username, [r.name for r in u.roles]))(
        s.execute(select(SentinelUser).where(SentinelUser.phone == DEMO_HEAD_PHONE)).scalar_one()))
    assert roles == [R.ENTERPRISE_HEAD]
    assert DEMO_HEAD_PHONE not in username and username.startswith("head_")


def test_unknown_phone_gets_the_same_answer_and_no_message(app):
    """Asking a code for an unknown phone answers exactly like a known one, but nothing is sent."""
    known, _ids = head_phone(app)
    unknown = F.phone()
    a, b = app.test_client(), app.test_client()
    a.environ_base["REMOTE_ADDR"] = b.environ_base["REMOTE_ADDR"] = _ip()
    first_known, first_unknown = ask_code(a, known), ask_code(b, unknown)
    assert (first_known.status_code, first_known.json) == (first_unknown.status_code, first_unknown.json) == (
        200, {"message": "验证码已发送"})
    again_known, again_unknown = ask_code(a, known), ask_code(b, unknown)
    assert again_known.status_code == again_unknown.status_code == 429
    assert re.sub(r"\d+", "N", again_known.json["message"]) == re.sub(r"\d+", "N", again_unknown.json["message"])
    assert len(messages_to(app, known)) == 1 and messages_to(app, unknown) == []


def test_government_account_phone_gets_no_code(app, phone_client):
    """A phone that belongs to a government account cannot be used for SMS login (no message, same answer)."""
    phone, _ids = head_phone(app)
    F.make_user(app, "sms_town_" + uuid.uuid4().hex[:6], R.TOWN, phone_number=phone, town="南沙街")
    answer = ask_code(phone_client, phone)
    assert answer.status_code == 200 and answer.json == {"message": "验证码已发送"}
    assert messages_to(app, phone) == []


def test_code_is_single_use_and_logout_ends_it(app, phone_client):
    """A code logs in once; after logging out, the same code is refused."""
    phone, _ids = head_phone(app)
    ask_code(phone_client, phone)
    code = last_code(app, phone)
    assert submit(phone_client, phone, code).status_code == 302
    assert phone_client.get("/head/").status_code == 200  # one enterprise: straight home
    logout(phone_client)
    again = submit(phone_client, phone, code)
    assert again.status_code == 400 and "验证码已失效，请重新获取" in again.get_data(as_text=True)
    assert phone_client.get("/head/").status_code == 302  # signed out


def test_five_wrong_codes_kill_the_code(app, phone_client):
    """After five wrong tries the right code no longer works, and each miss says how many tries are left."""
    phone, _ids = head_phone(app)
    ask_code(phone_client, phone)
    code = last_code(app, phone)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1):
        page = submit(phone_client, phone, wrong).get_data(as_text=True)
        assert f"验证码不正确，还可以再试{left}次" in page
    assert "验证码错误次数过多，请重新获取" in submit(phone_client, phone, wrong).get_data(as_text=True)
    refused = submit(phone_client, phone, code)
    assert refused.status_code == 400 and "验证码已失效" in refused.get_data(as_text=True)


def test_new_code_only_after_the_pause_and_it_replaces_the_old_one(app, phone_client):
    """A second code within 60 s is refused in Chinese; once allowed, the older code is dead."""
    phone, _ids = head_phone(app)
    ask_code(phone_client, phone)
    first = last_code(app, phone)
    too_soon = ask_code(phone_client, phone)
    assert too_soon.status_code == 429 and re.fullmatch(r"请\d+秒后再重新获取验证码", too_soon.json["message"])
    assert len(messages_to(app, phone)) == 1
    open_pause(app, phone)
    assert ask_code(phone_client, phone).status_code == 200
    second = last_code(app, phone)
    if second != first:
        assert "验证码" in submit(phone_client, phone, first).get_data(as_text=True)
        assert phone_client.get("/head/").status_code == 302
    assert submit(phone_client, phone, second).status_code == 302


def test_per_phone_hourly_limit(app, phone_client):
    """A phone gets at most SMS_PER_PHONE_PER_HOUR codes an hour, known or not."""
    limit = app.config["SMS_PER_PHONE_PER_HOUR"]
    known, unknown = head_phone(app)[0], F.phone()
    for phone in (known, unknown):
        for _ in range(limit):
            open_pause(app, phone)
            assert ask_code(phone_client, phone).status_code == 200
        open_pause(app, phone)
        refused = ask_code(phone_client, phone)
        assert refused.status_code == 429 and refused.json["message"] == "该手机号码获取验证码次数过多，请一小时后再试"
    assert len(messages_to(app, known)) == limit and messages_to(app, unknown) == []


def test_per_address_hourly_limit(app, phone_client, monkeypatch):
    """One address may ask only SMS_PER_IP_PER_HOUR codes an hour, whatever the phones."""
    monkeypatch.setitem(app.config, "SMS_PER_IP_PER_HOUR", 3)
    for _ in range(3):
        assert ask_code(phone_client, F.phone()).status_code == 200
    phone, _ids = head_phone(app)
    refused = ask_code(phone_client, phone)
    assert refused.status_code == 429 and refused.json["message"] == "获取验证码过于频繁，请稍后再试"
    assert messages_to(app, phone) == []


def test_per_address_verify_limit(app, phone_client, monkeypatch):
    """One address may check only SMS_VERIFY_PER_IP_PER_HOUR codes an hour, on the page and the
    JSON step together: past it even the right code is refused (429, in Chinese), and the
    refusal is a security event naming the phone masked."""
    from app.platform.security_events import SMS_VERIFY_LIMIT
    from models.security_events import SecurityEvent

    monkeypatch.setitem(app.config, "SMS_VERIFY_PER_IP_PER_HOUR", 3)
    phone, _ids = head_phone(app)
    ask_code(phone_client, phone)
    code = last_code(app, phone)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    token = csrf_from(phone_client.get("/head/login").data)
    assert submit(phone_client, phone, wrong).status_code == 400
    assert submit(phone_client, F.phone(), wrong).status_code == 400  # another phone: same address
    assert phone_client.post("/head/login/verify", json={"phone": phone, "code": wrong},
                             headers={"X-CSRFToken": token}).status_code == 400
    refused = phone_client.post("/head/login/verify", json={"phone": phone, "code": code},
                                headers={"X-CSRFToken": token})
    assert refused.status_code == 429 and refused.json == {"message": "验证码校验过于频繁，请稍后再试"}
    page = submit(phone_client, phone, code)
    assert page.status_code == 429 and "验证码校验过于频繁，请稍后再试" in page.get_data(as_text=True)
    assert phone_client.get("/head/").status_code == 302  # not signed in
    ip = phone_client.environ_base["REMOTE_ADDR"]
    accounts = F.in_db(app, lambda s: list(s.execute(select(SecurityEvent.account).where(
        SecurityEvent.ip == ip, SecurityEvent.kind == SMS_VERIFY_LIMIT)).scalars()))
    assert accounts == [phone[:3] + "****" + phone[-4:]] * 2


def test_redis_holds_only_hashes_with_a_five_minute_life(app, phone_client):
    """Neither the code nor the phone can be read from Redis; the code lives at most 5 minutes."""
    from app.platform.kv import get_redis

    phone, _ids = head_phone(app)
    ask_code(phone_client, phone)
    code = last_code(app, phone)
    with app.app_context():
        r = get_redis()
        prefix = app.config["REDIS_PREFIX"]
        code_key = f"{prefix}sms:code:head:{phone_digest(app.config['SECRET_KEY'], phone)}"
        assert 0 < r.ttl(code_key) <= app.config["SMS_CODE_TTL"] == 300
        for k in r.scan_iter(match=f"{prefix}sms:*"):
            values = r.hgetall(k).values() if r.type(k) == b"hash" else [r.get(k) or b""]
            blob = k + b"".join(values)
            assert code.encode() not in blob and phone.encode() not in blob


def test_verify_endpoint_answers_json(app, phone_client):
    """The JSON login answers 登录成功 with where to go, and a clear Chinese reason when the code is wrong."""
    phone, _ids = head_phone(app)
    ask_code(phone_client, phone)
    code = last_code(app, phone)
    token = csrf_from(phone_client.get("/head/login").data)
    headers = {"X-CSRFToken": token}
    bad = phone_client.post("/head/login/verify", json={"phone": phone, "code": "12"}, headers=headers)
    assert bad.status_code == 400 and bad.json["message"] == "请输入6位数字验证码"
    ok = phone_client.post("/head/login/verify", json={"phone": phone, "code": code}, headers=headers)
    assert ok.status_code == 200 and ok.json == {"message": "登录成功", "next": "/head/"}
    assert phone_client.get("/head/").status_code == 200


def test_malformed_phone_and_missing_csrf_are_refused(app, phone_client):
    """A malformed phone gets a Chinese 400; a request without the CSRF token is refused and sends nothing."""
    bad = ask_code(phone_client, "12345")
    assert bad.status_code == 400 and bad.json["message"] == "手机号码格式不正确，应为以1开头的11位数字"
    phone, _ids = head_phone(app)
    refused = phone_client.post("/head/login/code", json={"phone": phone}, headers={"Accept": "application/json"})
    assert refused.status_code == 400 and "页面已过期" in refused.json["message"]
    assert messages_to(app, phone) == []


def test_second_login_reuses_the_account(app, phone_client):
    """Logging in again with the same phone uses the same account, not a new one."""
    phone, _ids = head_phone(app)
    for _ in range(2):
        open_pause(app, phone)
        ask_code(phone_client, phone)
        assert submit(phone_client, phone, last_code(app, phone)).status_code == 302
        logout(phone_client)
    assert F.count(app, SentinelUser, SentinelUser.phone == phone) == 1


def test_head_cannot_pick_someone_elses_enterprise(app, phone_client):
    """Choosing an enterprise the head does not head is refused; the home keeps showing their own."""
    phone, (mine,) = head_phone(app)
    other = F.make_enterprise(app, F.tag() + "别人的企业")
    ask_code(phone_client, phone)
    submit(phone_client, phone, last_code(app, phone))
    token = csrf_from(phone_client.get("/head/select").data)
    phone_client.post("/head/select", data={"enterprise_id": other, "csrf_token": token})
    home = phone_client.get("/head/").get_data(as_text=True)
    assert f"enterprise_id={mine}" in home and f"enterprise_id={other}" not in home


def test_head_account_has_no_usable_password(app, phone_client):
    """The head account created by SMS login cannot be opened with a password (and nothing breaks trying)."""
    phone, _ids = head_phone(app)
    ask_code(phone_client, phone)
    submit(phone_client, phone, last_code(app, phone))
    username = F.in_db(app, lambda s: s.execute(select(SentinelUser.username)
                                                .where(SentinelUser.phone == phone)).scalar_one())
    client = app.test_client()
    for password in (PASSWORD, "", "!"):
        response = login(client, username, password or "x")
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.post("/api/v1/security/login", json={"username": username, "password": "x",
                                                        "provider": "db"}).status_code == 401


def test_pages_offer_the_sms_login(client):
    """The login page links to 企业负责人登录, whose page has 手机号码, 获取验证码, 验证码 and 登录."""
    page = client.get("/login/").get_data(as_text=True)
    assert "企业负责人登录" in page and 'href="/head/login"' in page
    assert 'name="username"' in page and 'name="password"' in page
    head = client.get("/head/login").get_data(as_text=True)
    for text in ("手机号码", "获取验证码", "验证码", "登录", 'name="csrf_token"', "/js/sentinel-head-login.js"):
        assert text in head
    script = re.search(r'src="([^"]+/js/sentinel-head-login\.js)"', head).group(1)
    assert b"X-CSRFToken" in client.get(script).data
