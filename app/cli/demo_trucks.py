"""Demo data of 货车司机管理 (seed 002): a freight enterprise headed by the demo head's
phone with drivers (one of them, the demo driver, with tests and three doses), the
checkpoint's recipients, and bookings in every state (待通行, 已通行, 不予通行, 已过期) made
and decided through the real services, so the outbox holds the decisions' messages.

Idempotent: the enterprise and its drivers are added when missing, bookings only when
there are none. Listed in the README: the demo driver books with DEMO_DRIVER_ID and
DEMO_DRIVER_PHONE.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import func, select, update
from stdnum.cn import ric

from app.cli.demo import DEMO_HEAD_PHONE, GIVEN, SURNAMES, make_id_number
from app.domain import checkpoint as CP
from app.platform.extensions import db
from app.platform.operations import transaction
from app.services.drivers import bookings, checkpoint, recipients
from app.services.health.feeds import ingest
from models.drivers import Booking, Pass
from models.enterprise_types import EnterpriseType
from models.enterprises import Enterprise
from models.regions import Town
from models.staff import Staff
from models.users import SentinelUser


def _with_check_digit(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


DEMO_FREIGHT_ENTERPRISE = "南沙示范物流有限公司"
DEMO_DRIVER_NAME = "李卫东"
DEMO_DRIVER_ID = _with_check_digit("44011519850315001")
DEMO_DRIVER_PHONE = "13700137000"
DEMO_PLATE = "粤A12345"


def _enterprise(session) -> Enterprise:
    found = session.execute(select(Enterprise).where(Enterprise.name == DEMO_FREIGHT_ENTERPRISE)).scalar()
    if found is not None:
        return found
    freight = session.execute(select(EnterpriseType).where(
        EnterpriseType.code == current_app.config["FREIGHT_TYPE_CODE"])).scalar_one()
    town = session.execute(select(Town).where(Town.name == "南沙街")).scalar_one()
    enterprise = Enterprise(name=DEMO_FREIGHT_ENTERPRISE, type_id=freight.id, town_id=town.id,
                            grid_id=town.grids[0].id if town.grids else None, address="广州市南沙区南沙街港前大道1号",
                            head_name="陈志强", head_phone=DEMO_HEAD_PHONE, extras={})
    session.add(enterprise)
    session.flush()
    rng = random.Random(2022)
    people = [(DEMO_DRIVER_NAME, DEMO_DRIVER_ID, DEMO_DRIVER_PHONE)] + [
        (rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN), make_id_number(rng), f"136{n:08d}")
        for n in range(1, 6)]
    category = ((freight.spec or {}).get("categories") or [None])[0]
    for name, number, phone in people:
        session.add(Staff(enterprise_id=enterprise.id, name=name, id_type="居民身份证", id_number=number, phone=phone,
                          category=category, address="广州市南沙区南沙街", extras={}))
    session.flush()
    return enterprise


def _health(session, drivers: list[Staff]) -> None:
    """The demo driver tested 10 hours ago (negative) and had three doses; the others
    tested 30, 60, 100 … hours ago (48小时阴性, 72小时阴性, 7天阴性 …) with fewer doses."""
    now = datetime.now(timezone.utc)
    tests, doses = [], []
    for n, person in enumerate(drivers):
        sampled = now - timedelta(hours=(10, 30, 60, 100, 200, 20)[n % 6])
        tests.append({"id_number": person.id_number, "sampled_at": sampled.isoformat(timespec="minutes"),
                      "tested_at": (sampled + timedelta(hours=5)).isoformat(timespec="minutes"), "result": "阴性",
                      "institution": "南沙区疾控中心"})
        doses += [{"id_number": person.id_number, "dose": d,
                   "vaccinated_at": (now - timedelta(days=400 - 120 * d)).date().isoformat(),
                   "product": "北京生物新冠病毒灭活疫苗", "site": "南沙区接种点"} for d in range(1, 4 - n % 4)]
    ingest.ingest_rows(session, ingest.TESTS, list(enumerate(tests, 1)), source="demo")
    ingest.ingest_rows(session, ingest.VACCINATIONS, list(enumerate(doses, 1)), source="demo")


def _recipients(session) -> None:
    """南沙街 and 黄阁镇 tell their town users; the bureau tells bureau_transport (when unset)."""
    users = dict(session.execute(select(SentinelUser.username, SentinelUser.id)).all())
    towns = dict(session.execute(select(Town.name, Town.id)).all())
    settings = {(r.scope, r.town_id): r for r in recipients.list_settings()}
    wanted = [("town", towns.get("南沙街"), "town_nansha"), ("town", towns.get("黄阁镇"), "town_huangge"),
              ("bureau", None, "bureau_transport"), ("taskforce", None, "taskforce")]
    for scope, town_id, username in wanted:
        row = settings.get((scope, town_id))
        if row is not None and not row.recipients and username in users:
            recipients.set_recipients(scope, [{"user_id": users[username]}], town_id)


def _book(driver_name, id_number, phone, plate, town, hours, passengers=(), company=DEMO_FREIGHT_ENTERPRISE):
    arrival = (datetime.now(timezone.utc) + timedelta(hours=hours)).isoformat(timespec="minutes")
    return bookings.create_booking({
        "driver_name": driver_name, "id_number": id_number, "phone": phone, "plate_number": plate,
        "origin": "广州市白云区太和镇", "destination_town": town, "destination_address": f"广州市南沙区{town}示范路8号",
        "expected_arrival": arrival, "company": company,
        "passengers": list(passengers)}, (), "demo")


def load_demo_trucks() -> dict:
    with transaction() as session:
        enterprise = _enterprise(session)
        drivers = list(session.execute(select(Staff).where(Staff.enterprise_id == enterprise.id)
                                       .order_by(Staff.id)).scalars())
    if session.execute(select(func.count(Booking.id))).scalar_one():
        return {"bookings": 0}
    _health(db.session, drivers)
    _recipients(db.session)
    checker = db.session.execute(select(SentinelUser).where(SentinelUser.username == "checkpoint")).scalar_one()
    rng = random.Random(2023)
    outsider = make_id_number(rng, "440103")
    passenger = make_id_number(rng, "440115")
    made = {
        "pending": _book(DEMO_DRIVER_NAME, DEMO_DRIVER_ID, DEMO_DRIVER_PHONE, DEMO_PLATE, "南沙街", 3,
                         [{"name": "李小华", "id_number": passenger, "phone": "13700137001"}]),
        "allowed": _book(drivers[1].name, drivers[1].id_number, drivers[1].phone, "粤A6D789", "黄阁镇", 1),
        "denied": _book("周建国", outsider, "13500135000", "湘B23456", "黄阁镇", 1, company="湖南顺达运输有限公司"),
        "expired": _book(DEMO_DRIVER_NAME, DEMO_DRIVER_ID, DEMO_DRIVER_PHONE, "粤AD12345", "龙穴街", 2),
    }
    checkpoint.decide(bookings.token_of(made["allowed"]), True, None, checker)
    checkpoint.decide(bookings.token_of(made["denied"]), False, "健康码黄码", checker)
    with transaction() as session:  # a pass never shown at a checkpoint: due two days ago, expired since
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        arrival = now - timedelta(days=2)
        expiry = min(CP.pass_expiry(arrival, timedelta(hours=current_app.config["PASS_VALID_HOURS"])),
                     now - timedelta(hours=1))
        session.execute(update(Booking).where(Booking.id == made["expired"].id)
                        .values(expected_arrival=arrival, created_at=arrival - timedelta(hours=2)))
        session.execute(update(Pass).where(Pass.booking_id == made["expired"].id).values(expires_at=expiry))
    return {"bookings": len(made)}
