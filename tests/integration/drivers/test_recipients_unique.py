"""告警设置 keeps one row per target, also for the rows of no town (the bureau's, the task
force's), where the unique (scope, town_id) does not hold (NULLs are distinct): the
migration removes duplicates stored before it (the lowest id is kept) and adds a unique
index that holds for them; two first reads at once create each row once.

Each test runs on a database of its own (tests/integration/platform/test_migrations.py's
fixtures), so the suite's shared rows are not touched.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from models.mixins import JSONType, utcnow
from tests.integration.platform.test_migrations import empty_database_url, fresh_app  # noqa: F401 (fixtures)

REVISION = "81e3e8d91884"  # the migration under test

RECIPIENTS = sa.table("checkpoint_recipients", sa.column("id", sa.Integer()), sa.column("scope", sa.String()),
                      sa.column("town_id", sa.Integer()), sa.column("recipients", JSONType),
                      sa.column("active", sa.Boolean()), sa.column("created_at", sa.DateTime()),
                      sa.column("updated_at", sa.DateTime()))
TOWN = sa.table("town", sa.column("id", sa.Integer()), sa.column("name", sa.String()),
                sa.column("sort_order", sa.Integer()))


def _row(scope, town_id=None, phone=None) -> dict:
    now = utcnow()
    return {"scope": scope, "town_id": town_id, "recipients": [{"phone": phone}] if phone else [], "active": True,
            "created_at": now, "updated_at": now}


def _stored(conn) -> list[tuple]:
    return [tuple(r) for r in conn.execute(sa.select(RECIPIENTS.c.id, RECIPIENTS.c.scope, RECIPIENTS.c.town_id,
                                                     RECIPIENTS.c.recipients).order_by(RECIPIENTS.c.id))]


def test_the_migration_keeps_the_first_row_of_each_target_and_refuses_another(fresh_app):  # noqa: F811
    from alembic.script import ScriptDirectory
    from flask_migrate import downgrade, upgrade

    from app.platform.extensions import db, migrate

    with fresh_app.app_context():
        before = ScriptDirectory.from_config(migrate.get_config()).get_revision(REVISION).down_revision
        upgrade(revision=before)
        with db.engine.begin() as conn:
            conn.execute(TOWN.insert().values(id=1, name="南沙街", sort_order=1))
            for row in (_row("bureau", phone="13900000001"), _row("taskforce"), _row("town", 1, "13900000002"),
                        _row("bureau", phone="13900000003"), _row("taskforce", phone="13900000004"),
                        _row("taskforce")):
                conn.execute(RECIPIENTS.insert().values(**row))
        upgrade()
        with db.engine.connect() as conn:
            kept = _stored(conn)
        assert kept == [(1, "bureau", None, [{"phone": "13900000001"}]), (2, "taskforce", None, []),
                        (3, "town", 1, [{"phone": "13900000002"}])]
        for scope, town_id in (("bureau", None), ("taskforce", None), ("town", 1)):
            with pytest.raises(IntegrityError), db.engine.begin() as conn:
                conn.execute(RECIPIENTS.insert().values(**_row(scope, town_id)))
        with db.engine.begin() as conn:  # another town's row is still welcome
            conn.execute(TOWN.insert().values(id=2, name="黄阁镇", sort_order=2))
            conn.execute(RECIPIENTS.insert().values(**_row("town", 2)))
        downgrade(revision=before)  # and the index goes with the revision
        with db.engine.begin() as conn:
            conn.execute(RECIPIENTS.insert().values(**_row("bureau")))
            assert conn.execute(sa.select(sa.func.count()).select_from(RECIPIENTS)
                                .where(RECIPIENTS.c.scope == "bureau")).scalar() == 2


def test_two_first_reads_at_once_create_each_row_once(fresh_app):  # noqa: F811
    """Both requests find the rows missing before either has inserted; the second one's
    inserts are skipped, without an error, and each target has one row."""
    from flask_migrate import upgrade
    from sqlalchemy.orm import Session

    from app.platform.extensions import db
    from app.services.drivers.recipients import create_rows, ensure_rows, missing_rows, list_settings

    with fresh_app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            conn.execute(TOWN.insert().values(id=1, name="南沙街", sort_order=1))
        with Session(db.engine) as first, Session(db.engine) as second:
            seen_first, seen_second = missing_rows(first), missing_rows(second)
            assert seen_first == seen_second == [("town", 1), ("bureau", None), ("taskforce", None)]
            assert create_rows(first, seen_first) == 3
            assert create_rows(second, seen_second) == 0
        ensure_rows()  # a later read: nothing missing, nothing added
        rows = [(r.scope, r.town_id, r.recipients, r.active) for r in list_settings()]
        db.session.remove()
    assert rows == [("town", 1, [], True), ("bureau", None, [], True), ("taskforce", None, [], True)]
