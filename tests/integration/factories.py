"""Rows of a test's own (unique names), read back from the database, and xlsx parsing.

Every database access opens its own app context: a request of the test client run
while the test holds an app context open would share ``g`` (and its cached scope)
with it.
"""
from __future__ import annotations

import io
import random
import uuid
from contextlib import contextmanager
from typing import Any, Callable, Optional

import openpyxl
from sqlalchemy import event, func, select
from stdnum.cn import ric

from tests.conftest import PASSWORD

_rng = random.Random()


def tag() -> str:
    """A short unique marker for the names of one test's rows. It ends in a letter (a last
    hex digit 0-9 becomes g-p), so no part of it, nor of a name built around it, reads as
    a passport number (a letter and 7 or 8 digits, "ud6505598"), which audit rows mask."""
    marker = uuid.uuid4().hex[:8]
    last = marker[-1] if marker[-1].isalpha() else "ghijklmnop"[int(marker[-1])]
    return "测" + marker[:-1] + last


def id_number(area: str = "440115") -> str:
    """A valid 居民身份证 number nobody else in the database has (random birth + sequence)."""
    body = f"{area}{_rng.randrange(1960, 2000)}{_rng.randrange(1, 13):02d}{_rng.randrange(1, 29):02d}" \
           f"{_rng.randrange(0, 1000):03d}"
    return body + ric.calc_check_digit(body + "0")


def phone() -> str:
    return f"17{_rng.randrange(10**8, 10**9):09d}"


def address() -> str:
    """A client address of the test's own (per-address limits and locks start afresh)."""
    return f"10.{_rng.randrange(250)}.{_rng.randrange(250)}.{_rng.randrange(1, 251)}"


def client_at(app, ip: Optional[str] = None):
    """A test client coming from ``ip`` (a fresh address by default)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip or address()
    return client


def api_login(client, username: str, password: str = PASSWORD):
    """POST /api/v1/security/login as a script would."""
    return client.post("/api/v1/security/login", json={"username": username, "password": password, "provider": "db"})


def in_db(app, fn: Callable[[Any], Any]) -> Any:
    """Run ``fn(session)`` in a fresh app context and return its result."""
    from app.platform.extensions import db

    with app.app_context():
        try:
            return fn(db.session)
        finally:
            db.session.rollback()
            db.session.remove()


def make_enterprise(app, name: str, town: str = "南沙街", type_code: str = "port",
                    head_phone: Optional[str] = None) -> int:
    from models.enterprise_types import EnterpriseType
    from models.enterprises import Enterprise
    from models.regions import Town

    def create(session):
        town_id = session.execute(select(Town.id).where(Town.name == town)).scalar_one()
        type_id = session.execute(select(EnterpriseType.id).where(EnterpriseType.code == type_code)).scalar_one()
        row = Enterprise(name=name, type_id=type_id, town_id=town_id, address="广州市南沙区测试路1号",
                         head_name="王五", head_phone=head_phone or phone(), extras={})
        session.add(row)
        session.commit()
        return row.id

    return in_db(app, create)


def make_staff(app, enterprise_id: int, name: str, number: Optional[str] = None, **values) -> int:
    from models.staff import Staff

    def create(session):
        row = Staff(enterprise_id=enterprise_id, name=name, id_type="居民身份证", id_number=number or id_number(),
                    phone=values.pop("phone", None) or phone(), extras=values.pop("extras", {}), **values)
        session.add(row)
        session.commit()
        return row.id

    return in_db(app, create)


def make_user(app, username: str, role: str, *, phone_number: Optional[str] = None,
              town: Optional[str] = None, bureau: Optional[str] = None) -> str:
    """A user created through the security manager, password ``PASSWORD`` (``bureau``: its code)."""
    from models.organisations import Bureau
    from models.regions import Town

    def create(session):
        sm = app.appbuilder.sm
        user = sm.add_user(username=username, first_name=username, last_name="", email=f"{username}@sentinel.invalid",
                           role=sm.find_role(role), password=PASSWORD)
        assert user, f"could not create {username}"
        user.phone = phone_number
        if town:
            user.town_id = session.execute(select(Town.id).where(Town.name == town)).scalar_one()
        if bureau:
            user.bureau_id = session.execute(select(Bureau.id).where(Bureau.code == bureau)).scalar_one()
        session.commit()
        return username

    return in_db(app, create)


def staff_row(app, staff_id: int) -> Optional[tuple]:
    """(enterprise_id, name, phone, id_number) of a person, or None when gone."""
    from models.staff import Staff

    def read(session):
        s = session.get(Staff, staff_id)
        return None if s is None else (s.enterprise_id, s.name, s.phone, s.id_number)

    return in_db(app, read)


def enterprise_row(app, enterprise_id: int) -> Optional[tuple]:
    """(name, town_id, type_id, head_phone, address) of an enterprise, or None when gone."""
    from models.enterprises import Enterprise

    def read(session):
        e = session.get(Enterprise, enterprise_id)
        return None if e is None else (e.name, e.town_id, e.type_id, e.head_phone, e.address)

    return in_db(app, read)


def count(app, model, *where) -> int:
    return in_db(app, lambda s: s.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


def audits(app, action: str, entity: str, since_id: int = 0) -> list:
    """Audit rows (AuditLog objects detached as dicts) written after ``since_id``."""
    from models.audit import AuditLog

    def read(session):
        stmt = select(AuditLog).where(AuditLog.action == action, AuditLog.entity == entity, AuditLog.id > since_id)
        return [
            dict(id=a.id, username=a.username, entity_id=a.entity_id, rows=a.rows, detail=a.detail,
                 before=a.before, after=a.after)
            for a in session.execute(stmt.order_by(AuditLog.id)).scalars()
        ]

    return in_db(app, read)


def last_audit_id(app) -> int:
    from models.audit import AuditLog

    return in_db(app, lambda s: s.execute(select(func.max(AuditLog.id))).scalar() or 0)


def read_xlsx(data: bytes) -> list[list]:
    """All rows of the first sheet, header included, as lists of cell values."""
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    wb.close()
    return rows


@contextmanager
def statements_run(app):
    """The SQL statements sent while the block runs."""
    from app.platform.extensions import db

    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def note(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", note)
