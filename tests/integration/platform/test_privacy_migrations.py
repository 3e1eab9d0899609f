"""What the issue-11 privacy migrations do to rows written before them: audit rows
lose their full ID numbers and phones, stored login codes become unreadable."""
from __future__ import annotations

import sqlalchemy as sa

from models.mixins import JSONType, utcnow
from tests.integration.platform.test_migrations import empty_database_url, fresh_app  # noqa: F401 (fixtures)

NUMBER, PHONE, HEAD = "440115199007237653", "13576266263", "13900000001"


def _before(application, revision: str) -> str:
    """The revision just before ``revision`` (whatever the chain looks like after a merge)."""
    from alembic.script import ScriptDirectory

    from app.platform.extensions import migrate

    with application.app_context():
        return ScriptDirectory.from_config(migrate.get_config()).get_revision(revision).down_revision


def test_existing_audit_rows_are_masked(fresh_app):  # noqa: F811
    """Audit rows that held full numbers (snapshots, an export's q=) hold masked ones after the upgrade."""
    from flask_migrate import upgrade

    from app.platform.extensions import db

    audit_log = sa.table("audit_log", sa.column("id", sa.Integer()), sa.column("at", sa.DateTime()),
                         sa.column("action", sa.String()), sa.column("entity", sa.String()),
                         sa.column("detail", sa.String()), sa.column("before", JSONType),
                         sa.column("after", JSONType))
    with fresh_app.app_context():
        upgrade(revision=_before(fresh_app, "7a0d50a3c2cd"))
        with db.engine.begin() as conn:
            for row in [
                {"at": utcnow(), "action": "export", "entity": "Staff", "detail": f"q={NUMBER}"},
                {"at": utcnow(), "action": "update", "entity": "Staff", "detail": "张三",
                 "before": {"name": "张三", "id_number": NUMBER, "phone": PHONE},
                 "after": {"name": "张三", "id_number": NUMBER, "phone": "13576266264", "extras": {"note": HEAD}}},
                {"at": utcnow(), "action": "login", "entity": "User", "detail": "admin"},
            ]:
                conn.execute(audit_log.insert().values(**row))
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(sa.select(audit_log.c.detail, audit_log.c.before, audit_log.c.after)
                                .order_by(audit_log.c.id)).all()
    assert rows[0].detail == "q=440115********7653"
    assert rows[1].before == {"name": "张三", "id_number": "440115********7653", "phone": "135****6263"}
    assert rows[1].after == {"name": "张三", "id_number": "440115********7653", "phone": "135****6264",
                             "extras": {"note": "139****0001"}}
    assert (rows[2].detail, rows[2].before, rows[2].after) == ("admin", None, None)


def test_login_codes_stored_before_are_hidden(fresh_app):  # noqa: F811
    """A login code the outbox held before the upgrade is shown redacted afterwards; other messages are untouched."""
    from flask_migrate import upgrade

    from app.platform.extensions import db
    from models.notify import Message

    message = sa.table("message", *(sa.column(c) for c in (
        "id", "channel", "kind", "recipient", "body", "status", "attempts", "idempotency_key", "sensitive",
        "created_at")))
    with fresh_app.app_context():
        upgrade(revision=_before(fresh_app, "48b4d139292c"))
        with db.engine.begin() as conn:
            conn.execute(message.insert(), [
                {"channel": "outbox", "kind": "sms", "recipient": PHONE, "body": "您的登录验证码为123456，5分钟内有效。",
                 "status": "sent", "attempts": 1, "idempotency_key": "old-code", "sensitive": True,
                 "created_at": utcnow()},
                {"channel": "outbox", "kind": "messenger", "recipient": PHONE, "body": "核酸检测超期 123456 人",
                 "status": "sent", "attempts": 1, "idempotency_key": "old-reminder", "sensitive": False,
                 "created_at": utcnow()},
            ])
        upgrade()
        shown = {m.idempotency_key: m.shown_body() for m in db.session.execute(sa.select(Message)).scalars()}
        db.session.remove()
    assert shown == {"old-code": "您的登录验证码为******，5分钟内有效。", "old-reminder": "核酸检测超期 123456 人"}
