"""One phone identity (SPEC §9): ``/api/v1/identity/code`` and ``/verify`` for every person
who proves a phone by SMS code — the same answer for known and unknown phones, a code
good for its purpose only, the SMS limits, a head's token scoped like the head's pages,
and another purpose's token opening nothing but that person's own rows."""
from __future__ import annotations

import pytest

from app.security import identities
from tests.integration import factories as F
from tests.integration.security.test_sms_login import _ip, head_phone, last_code, messages_to, open_pause

SENT = "验证码已发送"


@pytest.fixture
def api(app):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = _ip()
    return client


@pytest.fixture
def any_phone_purpose():
    """A purpose like the driver's: any phone is sent a code; the token names the phone."""
    purpose = identities.register_purpose(identities.Purpose("test_anyone", lambda _s, _p: True, "test_phone"))
    yield purpose.name
    identities._PURPOSES.pop(purpose.name, None)


def ask(api, phone, purpose="head"):
    return api.post("/api/v1/identity/code", json={"phone": phone, "purpose": purpose})


def verify(api, phone, code, purpose="head"):
    return api.post("/api/v1/identity/verify", json={"phone": phone, "code": code, "purpose": purpose})


def test_known_and_unknown_phones_get_the_same_answer_and_only_the_known_an_sms(app, api):
    """A head's phone and a stranger's both get 200 验证码已发送; only the head's gets a message."""
    head, _ids = head_phone(app)
    stranger = F.phone()
    assert ask(api, head).json == ask(api, stranger).json == {"message": SENT}
    assert len(messages_to(app, head)) == 1 and messages_to(app, stranger) == []


@pytest.mark.parametrize("body, message", [
    ({"phone": "1380013800", "purpose": "head"}, "手机号"),
    ({"phone": "13800138000", "purpose": "astronaut"}, "不支持的验证用途"),
    ({"phone": "13800138000"}, "不支持的验证用途"),
])
def test_bad_requests_are_400_in_chinese(api, body, message):
    answer = api.post("/api/v1/identity/code", json=body)
    assert answer.status_code == 400 and message in answer.json["message"]
    assert api.post("/api/v1/identity/code", json=["x"]).status_code == 400


def test_a_second_code_within_the_pause_is_429(app, api):
    head, _ids = head_phone(app)
    assert ask(api, head).status_code == 200
    again = ask(api, head)
    assert again.status_code == 429 and "秒后再重新获取验证码" in again.json["message"]


def test_a_heads_token_reads_exactly_the_heads_staff(app, api):
    """The head's token lists the staff of their enterprise and not another's (404 there)."""
    head, (enterprise_id,) = head_phone(app)
    mine = F.make_staff(app, enterprise_id, "自己人")
    other = F.make_staff(app, F.make_enterprise(app, F.tag() + "别家"), "别人")
    ask(api, head)
    token = verify(api, head, last_code(app, head)).json["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    listed = api.get("/api/v1/staff/", headers=headers).json
    assert listed["ids"] == [mine]
    assert api.get(f"/api/v1/staff/{other}", headers=headers).status_code == 404


def test_a_code_is_single_use_and_wrong_codes_count(app, api):
    head, _ids = head_phone(app)
    ask(api, head)
    code = last_code(app, head)
    wrong = "000000" if code != "000000" else "111111"
    refused = verify(api, head, wrong)
    assert refused.status_code == 400 and "还可以再试4次" in refused.json["message"]
    assert verify(api, head, code).status_code == 200
    assert verify(api, head, code).status_code == 400  # used


def test_a_code_proves_its_purpose_only(app, api, any_phone_purpose):
    """A head's code does not prove the same phone for another purpose, and vice versa."""
    head, _ids = head_phone(app)
    ask(api, head)
    assert verify(api, head, last_code(app, head), any_phone_purpose).status_code == 400
    open_pause(app, head)
    ask(api, head, any_phone_purpose)
    assert verify(api, head, last_code(app, head), "head").status_code == 400


def test_another_purposes_token_opens_no_platform_api(app, api, any_phone_purpose):
    """A stranger proves their phone: the token works for the purpose, yet every
    permission-checked API refuses it."""
    stranger = F.phone()
    assert ask(api, stranger, any_phone_purpose).json == {"message": SENT}
    answer = verify(api, stranger, last_code(app, stranger), any_phone_purpose)
    assert answer.status_code == 200
    headers = {"Authorization": f"Bearer {answer.json['access_token']}"}
    for path in ("/api/v1/staff/", "/api/v1/enterprise/", "/api/v1/stats/tests", "/api/v1/vaccine_product/"):
        assert api.get(path, headers=headers).status_code in (401, 403), path
