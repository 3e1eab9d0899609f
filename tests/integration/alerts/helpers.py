"""Rows of an alerts test's own: an enterprise type (so settings never collide across
tests), its enterprises and people, and the jobs run as the worker runs them."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Optional

from sqlalchemy import select

from tests.integration import factories as F


def make_type(app, bureau: str = "port", categories=("高风险人员", "管理人员")) -> str:
    """A fresh enterprise type supervised by ``bureau`` (its code)."""
    from models.enterprise_types import EnterpriseType
    from models.organisations import Bureau

    code = "t" + F.tag()[1:]

    def create(session):
        bureau_id = session.execute(select(Bureau.id).where(Bureau.code == bureau)).scalar_one()
        session.add(EnterpriseType(code=code, name="类型" + code, bureau_id=bureau_id,
                                   spec={"categories": list(categories)}, active=True))
        session.commit()

    F.in_db(app, create)
    return code


def make_setting(client, headers, type_code: str, rule: str = "三天两检", **extra):
    body = {"enterprise_type": type_code, "rule": rule, "recipients": [], **extra}
    return client.post("/api/v1/alert_settings/", json=body, headers=headers)


def local_midnight(day: date) -> datetime:
    """Naive UTC of 00:00 district time (Asia/Shanghai, UTC+8) on ``day``."""
    return datetime(day.year, day.month, day.day) - timedelta(hours=8)


def at_local(day: date, hour: int, minute: int = 0) -> datetime:
    return local_midnight(day) + timedelta(hours=hour, minutes=minute)


def registered(app, staff_id: int, on: Optional[date]) -> None:
    """Backdate a person's registration (created_at) to district day ``on``."""
    from models.staff import Staff

    def write(session):
        session.get(Staff, staff_id).created_at = at_local(on, 10)
        session.commit()

    F.in_db(app, write)
