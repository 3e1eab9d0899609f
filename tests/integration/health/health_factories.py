"""Health rows of a test's own: test and vaccination records of a staff member, and
that person's summary, written straight into the database (no feed request).

Staff get their ``id_key`` from the mapper events of ``app.services.health.feeds.keys`` when
``factories.make_staff`` inserts them. The records' partitions (PostgreSQL) and the
person's ``HealthSummary`` are made by the ingest's own helpers
(``partitions.ensure_for``, ``summary.refresh_keys``), as a feed would leave them.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Iterable, Optional

from sqlalchemy import select

from app.domain.feeds import NEGATIVE
from tests.integration.factories import in_db, tag


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def ago(**delta) -> datetime:
    """Naive UTC ``now - timedelta(**delta)``."""
    return utcnow() - timedelta(**delta)


def staff_key(app, staff_id: int) -> str:
    from models.staff import Staff

    key = in_db(app, lambda s: s.execute(select(Staff.id_key).where(Staff.id == staff_id)).scalar_one())
    assert key, "staff row has no id_key"
    return key


def _summarise(session, key: str) -> None:
    from app.services.health.status import summary

    summary.refresh_keys(session, [key])


def add_tests(app, staff_id: int, *samples: datetime | tuple, institution: str = "测试检测机构") -> str:
    """Test records of a person: each sample a sampling time (negative, tested an hour
    later) or ``(sampled_at, result[, tested_at])``. Returns the person's key."""
    from models.health import SamplingRecord

    key = staff_key(app, staff_id)

    def write(session):
        from app.services.health.feeds import partitions

        if session.get_bind().dialect.name == "postgresql":
            partitions.ensure_for(session, [s[0] if isinstance(s, tuple) else s for s in samples], utcnow())
        for sample in samples:
            sampled_at, result, tested_at = (sample + (None, None))[:3] if isinstance(sample, tuple) else (
                sample, None, None)
            session.add(SamplingRecord(
                sampled_at=sampled_at, identity=uuid.uuid4().hex, id_key=key,
                tested_at=tested_at or sampled_at + timedelta(hours=1), result=result or NEGATIVE,
                institution=institution,
            ))
        session.flush()
        _summarise(session, key)
        session.commit()

    in_db(app, write)
    return key


def add_doses(app, staff_id: int, doses: dict[int, date], product: Optional[str] = "新冠病毒灭活疫苗（Vero细胞）") -> str:
    """Vaccination records ``{dose: day}`` of a person. Returns the person's key."""
    from models.health import VaccinationRecord

    key = staff_key(app, staff_id)

    def write(session):
        for dose, day in doses.items():
            session.add(VaccinationRecord(identity=uuid.uuid4().hex, id_key=key, dose=dose,
                                          vaccinated_at=day, product=product))
        session.flush()
        _summarise(session, key)
        session.commit()

    in_db(app, write)
    return key


def bucket_people(app, enterprise_id: int, ages: Iterable[Optional[timedelta]], prefix: str = "") -> list[int]:
    """One new person of ``enterprise_id`` per age of their latest sampling (None: no record)."""
    from tests.integration.factories import make_staff

    ids = []
    for n, age in enumerate(ages):
        pk = make_staff(app, enterprise_id, f"{prefix or tag()}{n}")
        if age is not None:
            add_tests(app, pk, utcnow() - age)
        ids.append(pk)
    return ids
