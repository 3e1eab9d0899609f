"""SMS login codes are not kept readable at rest (issue 11): redacted once a real
channel (an SMS gateway on 127.0.0.1) delivered them or gave up; with the embedded
outbox channel readable by the admin for the code's lifetime only — in the outbox
view as soon as the lifetime has passed, in the table once the job has run."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from models.mixins import utcnow
from models.notify import Message
from tests.conftest import csrf_from
from tests.integration import factories as F
from tests.integration.notify.test_notify import Gateway, new_message, reload, run_worker
from tests.integration.security.test_sms_login import _ip

REDACTED = "您的登录验证码为******，5分钟内有效。"


@pytest.fixture
def gateway(app, monkeypatch):
    server = Gateway()
    monkeypatch.setitem(app.config, "NOTIFY_SMS_URL", server.url + "/sms")
    yield server
    server.close()


def ask_code(app, phone: str) -> int:
    """A head asks for a login code on the real page; the id of the stored message."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = _ip()
    token = csrf_from(client.get("/head/login").data)
    since = F.in_db(app, lambda s: s.execute(select(Message.id).order_by(Message.id.desc())).scalar() or 0)
    answer = client.post("/head/login/code", json={"phone": phone},
                         headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert answer.status_code == 200, answer.json
    return F.in_db(app, lambda s: s.execute(select(Message.id).where(
        Message.id > since, Message.recipient == phone)).scalar_one())


def stored_text(app, message_id: int) -> tuple[str, str]:
    """(body, status) as the table holds them, read with plain SQL."""
    return F.in_db(app, lambda s: tuple(s.execute(
        text("SELECT body, status FROM message WHERE id = :id"), {"id": message_id}).one()))


def age(app, message_id: int, seconds: int) -> None:
    """Move the message ``seconds`` into the past (its creation and its redaction time)."""
    def shift(session):
        row = session.get(Message, message_id)
        session.execute(update(Message).where(Message.id == message_id).values(
            created_at=row.created_at - timedelta(seconds=seconds),
            redact_at=row.redact_at - timedelta(seconds=seconds)))
        session.commit()

    F.in_db(app, shift)


def head_phone(app) -> str:
    phone = F.phone()
    F.make_enterprise(app, F.tag() + "验证码企业", head_phone=phone)
    return phone


def test_code_sent_through_the_sms_gateway_is_not_kept(app, gateway, monkeypatch):
    """With a real SMS gateway the head receives the code, and the stored message no longer holds it."""
    monkeypatch.setitem(app.config, "NOTIFY_CHANNEL", "sms-http")
    phone = head_phone(app)
    message_id = ask_code(app, phone)
    run_worker(app)

    sent = [r["json"] for r in gateway.requests if r["json"]["phone"] == phone]
    assert len(sent) == 1 and re.fullmatch(r"您的登录验证码为\d{6}，5分钟内有效。", sent[0]["content"])
    assert stored_text(app, message_id) == (REDACTED, "sent")


def test_code_the_gateway_refused_is_not_kept_either(app, gateway, monkeypatch):
    """When the gateway keeps failing and delivery gives up, the stored code goes too."""
    monkeypatch.setitem(app.config, "NOTIFY_CHANNEL", "sms-http")
    monkeypatch.setitem(app.config, "NOTIFY_MAX_ATTEMPTS", 1)
    gateway.status = 500
    phone = head_phone(app)
    message_id = ask_code(app, phone)
    run_worker(app)

    assert any(r["json"]["phone"] == phone for r in gateway.requests)
    assert stored_text(app, message_id) == (REDACTED, "failed")


def test_code_past_its_lifetime_is_not_sent(app, ctx, gateway):
    """A login code whose five minutes passed before the gateway was reached is given up, not sent."""
    message_id = new_message("sms-http", body="您的登录验证码为314159，5分钟内有效。", kind="sms", sensitive=True)
    age(app, message_id, 301)
    run_worker(app)

    assert [r for r in gateway.requests if "314159" in r["json"]["content"]] == []
    message = reload(ctx, message_id)
    assert (message.status, message.body, message.last_error) == ("failed", REDACTED, "已过期，未发送")


def test_outbox_code_is_readable_for_its_lifetime_then_redacted(app, client, auth):
    """In the embedded outbox the admin reads a demo code for five minutes; after that the view
    hides it at once and the minute job removes it from the table."""
    from jobs.registry import JOBS

    phone = head_phone(app)  # a phone of its own: the demo head's resend pause belongs to other tests
    message_id = ask_code(app, phone)
    run_worker(app)
    body, status = stored_text(app, message_id)
    code = re.search(r"\d{6}", body).group(0)
    assert status == "sent"

    auth.login("admin")
    assert code in client.get("/outbox/").get_data(as_text=True)
    assert code in client.get(f"/outbox/{message_id}").get_data(as_text=True)
    newest = client.get("/api/v1/outbox/", headers=auth.token("admin")).json["result"]
    assert code in next(m for m in newest if m["id"] == message_id)["body"]
    assert [m["id"] for m in newest] == sorted((m["id"] for m in newest), reverse=True)  # newest first

    age(app, message_id, 270)  # still within its lifetime (with room for a slow machine)
    with app.app_context():
        JOBS["notify.redact"].func()
    assert stored_text(app, message_id)[0] == body

    age(app, message_id, 31)  # the five minutes have passed; the job has not run yet
    assert stored_text(app, message_id)[0] == body
    for page in ("/outbox/", f"/outbox/{message_id}"):
        html = client.get(page).get_data(as_text=True)
        assert code not in html and REDACTED in html, page
    listed = client.get("/api/v1/outbox/", headers=auth.token("admin")).json["result"]
    shown = next(m for m in listed if m["id"] == message_id)
    assert code not in str(listed) and shown["body"] == REDACTED

    with app.app_context():
        assert JOBS["notify.redact"].func()["redacted"] >= 1
    assert stored_text(app, message_id)[0] == REDACTED


def test_redaction_job_runs_every_minute():
    """The redaction is scheduled every minute, so a code never outlives its five minutes by more."""
    from jobs.registry import JOBS

    assert JOBS["notify.redact"].cron == "* * * * *"


def test_ordinary_messages_are_never_redacted(app, ctx):
    """Reminders and other non-secret messages keep their numbers in the outbox."""
    from jobs.registry import JOBS

    message_id = new_message(body="您的企业有 3 名人员核酸检测超期，联系电话 020-12345678")
    run_worker(app)
    with app.app_context():
        JOBS["notify.redact"].func()
    message = reload(ctx, message_id)
    assert message.body.endswith("020-12345678") and message.shown_body() == message.body
    assert message.redact_at is None and message.created_at <= utcnow()
