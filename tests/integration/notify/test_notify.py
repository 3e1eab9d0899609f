"""Notifications: outbox, webhook and SMS gateway delivery through a real RQ worker,
against a real HTTP server on 127.0.0.1; retries, idempotent sweeps, attachment links."""
from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import update

from app.notify import send_message
from app.platform.operations import transaction
from app.notify.dispatch import deliver, dispatch_due, next_delay
from app.platform.extensions import db
from models.mixins import utcnow
from models.notify import Message


class Gateway:
    """A real HTTP peer: records every POST (``requests``) and every request line of any
    method (``hits``), answers with ``status`` (and a ``Location`` header when
    ``location`` is set)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.hits: list[str] = []
        self.status = 200
        self.location: str | None = None
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def parse_request(self):
                parsed = super().parse_request()
                with gateway.lock:
                    gateway.hits.append(self.requestline)
                return parsed

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with gateway.lock:
                    gateway.requests.append({"path": self.path, "json": json.loads(body or b"null"),
                                             "content_type": self.headers.get("Content-Type"),
                                             "host": self.headers.get("Host")})
                self.send_response(gateway.status)
                if gateway.location:
                    self.send_header("Location", gateway.location)
                self.end_headers()
                self.wfile.write(body)  # echo: a careless client would store the secret it sent

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway(app, monkeypatch):
    server = Gateway()
    monkeypatch.setitem(app.config, "NOTIFY_WEBHOOK_URL", server.url + "/robot/send?key=secret-key")
    monkeypatch.setitem(app.config, "NOTIFY_SMS_URL", server.url + "/sms")
    yield server
    server.close()


def run_worker(app):
    """A real RQ worker in burst mode (in this process: SimpleWorker) on the app's queue."""
    from rq import SimpleWorker

    from app.platform.queue import get_queue

    with app.app_context():
        queue = get_queue()
        SimpleWorker([queue], connection=queue.connection).work(burst=True)


def reload(session, message_id) -> Message:
    session.commit()
    session.expire_all()
    return session.get(Message, message_id)


def new_message(channel=None, body="您的企业有 3 名人员核酸检测超期", **kw) -> int:
    """A message stored as a module's operation stores it (committed, then queued)."""
    with transaction():
        return send_message(kind=kw.pop("kind", "messenger"), recipient=kw.pop("recipient", "13800138000"),
                            body=body, idempotency_key=f"test-{uuid.uuid4().hex}", channel=channel, **kw)


def test_outbox_channel_marks_sent_and_posts_nothing(app, ctx, gateway):
    """With the default channel a message shows as sent in the outbox and nothing leaves the machine."""
    message_id = new_message()
    assert reload(ctx, message_id).status == "queued"
    run_worker(app)
    message = reload(ctx, message_id)
    assert (message.channel, message.status, message.attempts) == ("outbox", "sent", 1)
    assert message.sent_at is not None
    assert gateway.requests == []


def test_webhook_receives_the_message_once_even_if_queued_twice(app, ctx, gateway):
    """A messenger group gets the text exactly once even when its delivery job is queued twice."""
    from app.platform.queue import enqueue

    message_id = new_message("webhook", subject="超期提醒")
    enqueue("jobs.notify.deliver_one", message_id, record=False)  # a second job for the same message
    run_worker(app)
    assert len(gateway.requests) == 1
    request = gateway.requests[0]
    assert request["path"] == "/robot/send?key=secret-key"
    assert request["content_type"].startswith("application/json")
    assert request["json"] == {"msgtype": "text", "text": {"content": "超期提醒\n您的企业有 3 名人员核酸检测超期"}}
    assert reload(ctx, message_id).status == "sent"


def test_sms_gateway_receives_phone_and_content(app, ctx, gateway):
    """An SMS goes to the configured gateway as {"phone", "content"}."""
    message_id = new_message("sms-http", body="您的验证码是 482913，5分钟内有效", kind="sms", sensitive=True)
    run_worker(app)
    assert [r["json"] for r in gateway.requests] == [{"phone": "13800138000", "content": "您的验证码是 482913，5分钟内有效"}]
    assert gateway.requests[0]["path"] == "/sms"
    assert reload(ctx, message_id).status == "sent"


def make_due(session, message_id):
    """Let the retry time pass: the message becomes due now."""
    past = utcnow() - timedelta(seconds=1)
    session.execute(update(Message).where(Message.id == message_id).values(next_attempt_at=past))
    session.commit()


def test_failing_gateway_is_retried_with_backoff_then_gives_up(app, ctx, gateway, monkeypatch, caplog):
    """A gateway answering 500 is retried later and later, then the message is marked failed."""
    monkeypatch.setitem(app.config, "NOTIFY_MAX_ATTEMPTS", 3)
    gateway.status = 500
    caplog.set_level(logging.DEBUG)
    message_id = new_message("sms-http", body="您的验证码是 771204", kind="sms", sensitive=True)
    before = utcnow()
    run_worker(app)
    message = reload(ctx, message_id)
    assert (message.status, message.attempts, len(gateway.requests)) == ("queued", 1, 1)
    assert message.next_attempt_at >= before + timedelta(seconds=next_delay(1))
    assert "500" in message.last_error

    dispatch_due()  # not due yet: nothing is sent
    assert len(gateway.requests) == 1

    make_due(ctx, message_id)
    assert dispatch_due()["retry"] == 1
    message = reload(ctx, message_id)
    assert (message.status, message.attempts, len(gateway.requests)) == ("queued", 2, 2)
    assert message.next_attempt_at >= utcnow() + timedelta(seconds=next_delay(2) - 5)

    make_due(ctx, message_id)
    assert dispatch_due()["failed"] == 1
    message = reload(ctx, message_id)
    assert (message.status, message.attempts, len(gateway.requests)) == ("failed", 3, 3)

    make_due(ctx, message_id)
    dispatch_due()
    assert len(gateway.requests) == 3  # given up: never sent again
    assert "771204" not in (message.last_error or "")
    assert "secret" not in (message.last_error or "")
    assert "771204" not in caplog.text


def test_dispatch_sweep_twice_sends_each_message_once(app, ctx, gateway):
    """Running the minute sweep twice (or alongside the jobs) never sends a message twice."""
    ids = [new_message("webhook", body=f"提醒 {i}") for i in range(3)]
    first = dispatch_due()
    second = dispatch_due()
    run_worker(app)  # the jobs queued by send_message find nothing left to do
    contents = sorted(r["json"]["text"]["content"] for r in gateway.requests)
    assert contents == ["提醒 0", "提醒 1", "提醒 2"]
    assert first["sent"] >= 3 and second["sent"] == 0
    assert {reload(ctx, i).status for i in ids} == {"sent"}


def test_concurrent_workers_send_a_message_once(app, ctx, gateway):
    """Several workers racing for the same message send it exactly once."""
    message_id = new_message("webhook", body="并发投递")
    barrier = threading.Barrier(6)
    outcomes = []

    def worker():
        with app.app_context():
            barrier.wait()
            outcomes.append(deliver(message_id))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["sent"] + ["skipped"] * 5
    assert len(gateway.requests) == 1


def test_attachment_link_in_message_downloads_the_file(app, ctx, gateway, client):
    """A webhook message carries a link that downloads its attachment; forged links get a Chinese 404."""
    from app.notify.attachments import store_attachment

    path = store_attachment(b"PK-fake-xlsx-bytes", "超期人员名单.xlsx")
    new_message("webhook", body="超期人员名单见附件", attachment_path=path, attachment_name="超期人员名单.xlsx")
    run_worker(app)
    content = gateway.requests[0]["json"]["text"]["content"]
    match = re.search(r"https?://[^/\s]+(/files/\S+)", content)
    assert match and "超期人员名单.xlsx" in content
    response = client.get(match.group(1))
    assert response.status_code == 200
    assert response.data == b"PK-fake-xlsx-bytes"
    assert "attachment" in response.headers["Content-Disposition"]

    forged = client.get(match.group(1)[:-3] + "abc")
    assert forged.status_code == 404
    assert "文件链接已过期或无效" in forged.get_data(as_text=True)


def test_expired_attachment_link_is_refused(app, ctx, client):
    """A link older than its lifetime no longer downloads the file."""
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    from app.notify import attachments

    path = attachments.store_attachment(b"data", "list.xlsx")

    class FourDaysAgo(TimestampSigner):
        def get_timestamp(self):
            return super().get_timestamp() - 4 * 24 * 3600

    old = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=attachments.SALT, signer=FourDaysAgo)
    token = old.dumps({"p": path, "n": "list.xlsx"})
    assert client.get(f"/files/{attachments.make_token(path)}").status_code == 200
    response = client.get(f"/files/{token}")
    assert response.status_code == 404
    assert "文件链接已过期或无效" in response.get_data(as_text=True)


def test_link_cannot_reach_files_outside_attachments(app, ctx, client):
    """A validly signed link naming a file outside the attachments folder is refused."""
    from app.notify import attachments

    response = client.get(f"/files/{attachments.make_token('../sentinel.db')}")
    assert response.status_code == 404


def test_daily_job_removes_attachments_whose_links_expired(app, ctx):
    """Attachments older than their link lifetime go; a recent one, or one a message still needs (queued or just sent), stays."""
    import os
    import time

    from app.notify import attachments
    from jobs.runner import run_scheduled

    root = attachments.attachments_dir()
    expired, waiting, recent = (attachments.store_attachment(b"x", name) for name in ("a.xlsx", "b.xlsx", "c.xlsx"))
    new_message(body="名单见附件", attachment_path=waiting, attachment_name="b.xlsx")
    long_ago = time.time() - (app.config["ATTACHMENT_LINK_HOURS"] + 25) * 3600
    for path in (expired, waiting):
        os.utime(root / path, (long_ago, long_ago))

    assert run_scheduled("maintenance.purge_attachments") == {"deleted": 1}
    assert not (root / expired).exists()
    assert (root / waiting).exists() and (root / recent).exists()
    assert run_scheduled("maintenance.purge_attachments") == {"deleted": 0}


def test_a_key_stores_one_message_and_every_call_gets_its_id(app, ctx):
    """The second store of a key (a retried job, a replayed request) returns the first
    message's id and stores nothing; its text stays the first one's."""
    from sqlalchemy import func, select

    key = f"test-{uuid.uuid4().hex}"
    with transaction():
        first = send_message(kind="sms", recipient="13800138000", body="第一次", idempotency_key=key)
    with transaction():
        again = send_message(kind="sms", recipient="13800138000", body="第二次", idempotency_key=key)
    assert isinstance(first, int) and again == first
    assert ctx.execute(select(func.count()).select_from(Message).where(Message.idempotency_key == key)).scalar() == 1
    assert reload(ctx, first).body == "第一次"
