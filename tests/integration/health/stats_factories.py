"""Rows for the statistics tests: a town, bureau and type of a test's own, keyed staff,
daily test tallies and per-person summaries written directly (as ingest would).

Each test builds its data in a town of its own (``make_town``), so the numbers of that
town are known exactly whatever else the shared database holds.
"""
from __future__ import annotations

from datetime import date
from typing import Optional

from sqlalchemy import select

from tests.integration.factories import id_number, in_db, make_enterprise, make_staff, make_user, tag


def make_town(app, name: Optional[str] = None) -> tuple[int, str]:
    """A new town (after the configured ones); (id, name)."""
    from models.regions import Town

    name = name or f"{tag()}镇"

    def create(session):
        town = Town(name=name, sort_order=1000)
        session.add(town)
        session.commit()
        return town.id

    return in_db(app, create), name


def make_bureau_type(app, categories=("高风险人员", "管理人员")) -> tuple[str, str, int]:
    """A bureau and one enterprise type it supervises; (bureau code, type code, bureau id)."""
    from models.enterprise_types import EnterpriseType
    from models.organisations import Bureau

    marker = tag()
    code = "t" + marker[1:].lower()

    def create(session):
        bureau = Bureau(code="b" + code[1:], name=f"{marker}局")
        session.add(bureau)
        session.flush()
        session.add(EnterpriseType(code=code, name=f"{marker}类型", bureau_id=bureau.id,
                                   spec={"categories": list(categories), "worker_kinds": [], "residence_types": [],
                                         "enterprise_fields": [], "staff_fields": []}))
        session.commit()
        return bureau.id

    bureau_id = in_db(app, create)
    return "b" + code[1:], code, bureau_id


def make_bureau_user(app, bureau_id: int) -> str:
    from app.security import roles as R
    from models.users import SentinelUser

    username = make_user(app, "u" + tag()[1:], R.BUREAU)

    def link(session):
        user = session.execute(select(SentinelUser).where(SentinelUser.username == username)).scalar_one()
        user.bureau_id = bureau_id
        session.commit()

    in_db(app, link)
    return username


def key_of(app, number: str) -> str:
    from app.domain.idkey import id_key
    from app.domain.identity import normalize_id_number

    return id_key(normalize_id_number(number), app.config["ID_HASH_KEY"])


def keyed_staff(app, enterprise_id: int, category: Optional[str] = "高风险人员",
                number: Optional[str] = None, name: Optional[str] = None) -> tuple[int, str]:
    """A staff row with its ID key set; (staff id, key)."""
    from models.staff import Staff

    number = number or id_number()
    staff_id = make_staff(app, enterprise_id, name or tag(), number, category=category)
    key = key_of(app, number)

    def set_key(session):
        session.get(Staff, staff_id).id_key = key
        session.commit()

    in_db(app, set_key)
    return staff_id, key


def add_daily(app, key: str, day: date, negative: int = 0, positive: int = 0, pending: int = 0) -> None:
    """One SamplingDaily row (tests = negative + positive + pending), and the key's summary
    with its day bits, as ingest keeps them."""
    from app.services.health.status import day_bits
    from models.health import HealthSummary, SamplingDaily

    def create(session):
        session.add(SamplingDaily(id_key=key, day=day, tests=negative + positive + pending,
                              negative=negative, positive=positive, pending=pending))
        if session.get(HealthSummary, key) is None:
            session.add(HealthSummary(id_key=key, max_dose=0))
        session.flush()
        day_bits.refresh(session, "SELECT id_key FROM health_summary WHERE id_key = :k", k=key)
        session.commit()

    in_db(app, create)


def set_summary(app, key: str, dose1: Optional[date] = None, dose2: Optional[date] = None,
                dose3: Optional[date] = None, product: Optional[str] = None) -> None:
    """The person's HealthSummary vaccine part (doses as recorded, product of the highest)."""
    from models.health import HealthSummary

    def write(session):
        row = session.get(HealthSummary, key) or HealthSummary(id_key=key)
        row.dose1_at, row.dose2_at, row.dose3_at = dose1, dose2, dose3
        row.max_dose = 3 if dose3 else 2 if dose2 else 1 if dose1 else 0
        row.product = product
        session.add(row)
        session.commit()

    in_db(app, write)


__all__ = ["make_town", "make_bureau_type", "make_bureau_user", "key_of", "keyed_staff", "add_daily",
           "set_summary", "make_enterprise", "make_user", "tag", "id_number"]
