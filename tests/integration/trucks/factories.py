"""Bookings and passes made directly in the database, for the ledger and scope tests
(the booking flow itself is app.services.drivers')."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from typing import Optional

from sqlalchemy import select

from tests.integration import factories as F


def make_booking(app, *, town: str = "黄阁镇", driver_name: Optional[str] = None, plate: Optional[str] = None,
                 enterprise_id: Optional[int] = None, staff_id: Optional[int] = None, state: str = "pending",
                 reason: Optional[str] = None, arrival: Optional[datetime] = None, passengers: int = 1,
                 id_number: Optional[str] = None, phone: Optional[str] = None) -> int:
    """A booking to ``town`` (its scope town unless the enterprise's town says otherwise)
    with its pass in ``state``; the freight type set like a booking made by a driver."""
    from models.drivers import Booking, Pass, Passenger
    from models.enterprise_types import EnterpriseType
    from models.enterprises import Enterprise
    from models.regions import Town

    now = datetime.now(timezone.utc).replace(tzinfo=None)

    def create(session):
        town_id = session.execute(select(Town.id).where(Town.name == town)).scalar_one()
        scope_town_id = town_id
        if enterprise_id is not None:
            scope_town_id = session.get(Enterprise, enterprise_id).town_id
        freight = session.execute(select(EnterpriseType.id).where(EnterpriseType.code == "freight")).scalar()
        when = arrival or now + timedelta(hours=2)
        booking = Booking(
            driver_name=driver_name or "司机" + F.tag()[1:4], id_type="居民身份证", id_number=id_number or F.id_number(),
            phone=phone or F.phone(), plate_number=plate or "粤A" + secrets.choice("BCDEF") + f"{secrets.randbelow(10**4):04d}",
            origin="广州市白云区", destination_town_id=town_id, destination_address=f"{town}示范路1号",
            expected_arrival=when, company="测试物流公司", enterprise_id=enterprise_id, staff_id=staff_id,
            scope_town_id=scope_town_id, freight_type_id=freight,
        )
        for n in range(passengers):
            booking.passengers.append(Passenger(name=f"乘车人{n + 1}", id_type="居民身份证", id_number=F.id_number(),
                                                phone=F.phone()))
        decided = state in ("allowed", "denied")
        booking.pass_ = Pass(token_id=secrets.token_urlsafe(12)[:16], key_id="testkey1",
                             expires_at=when + timedelta(hours=12), state=state,
                             decided_at=now if decided else None, reason=reason,
                             checkpoint="checkpoint" if decided else None)
        session.add(booking)
        session.commit()
        return booking.id

    return F.in_db(app, create)
