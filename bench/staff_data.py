"""Bulk data for bench_staff_list.py: ~1,000 enterprises over the towns and N staff,
inserted with COPY on PostgreSQL and one executemany transaction on SQLite.

As the import stores them: ID numbers and phones sealed (the columns' own sealers),
phone keys set; ID keys are left to the benches (some time their computation)."""
from __future__ import annotations

import random
import time
from datetime import datetime, timezone

STAFF_COLUMNS = ["enterprise_id", "name", "id_type", "id_number", "phone", "category", "worker_kind",
                 "residence_type", "address", "extras", "created_at", "updated_at", "phone_key"]


def generate(n_staff: int, n_enterprises: int = 1000):
    """Enterprises spread over the towns and ``n_staff`` staff spread over them (seeded)."""
    from sqlalchemy import select

    from app.cli.demo import GIVEN, SURNAMES, make_id_number
    from app.platform.data_keys import keyring
    from app.platform.extensions import db
    from app.services.health.feeds.keys import phone_keyers
    from models.enterprise_types import EnterpriseType
    from models.regions import Town
    from models.staff import Staff

    rng = random.Random(20260)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    towns = [t for t in db.session.execute(select(Town).order_by(Town.id)).scalars() if t.name != "其他"]
    types = list(db.session.execute(select(EnterpriseType).order_by(EnterpriseType.id)).scalars())
    enterprises = []
    for i in range(n_enterprises):
        town, etype = towns[i % len(towns)], types[i % len(types)]
        enterprises.append(dict(
            name=f"{town.name}压测企业{i:04d}", type_id=etype.id, town_id=town.id, grid_id=None,
            address=f"广州市南沙区{town.name}压测路{i}号", head_name=rng.choice(SURNAMES) + rng.choice(GIVEN),
            head_phone=f"137{i:08d}", credit_code=None, extras={}, created_at=now, updated_at=now,
        ))
    per = -(-n_staff // n_enterprises)
    seal_number, seal_phone = (keyring().sealer(c.type.aad) for c in (Staff.__table__.c.id_number,
                                                                     Staff.__table__.c.phone))
    phone_key = phone_keyers()[0]

    def staff_rows(enterprise_ids):
        made = 0
        for eid in enterprise_ids:
            seen = set()
            while len(seen) < per and made < n_staff:
                number = make_id_number(rng)
                if number in seen:
                    continue
                seen.add(number)
                made += 1
                phone = f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
                yield (eid, rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN), "居民身份证",
                       seal_number(number), seal_phone(phone), "高风险人员", None, None, "广州市南沙区", "{}", now, now,
                       phone_key(phone))

    return enterprises, staff_rows


def bulk_load(app, n_staff: int) -> float:
    from sqlalchemy import insert, select, text

    from app.platform.extensions import db
    from models.enterprises import Enterprise

    started = time.perf_counter()
    with app.app_context():
        enterprises, staff_rows = generate(n_staff)
        db.session.execute(insert(Enterprise.__table__), enterprises)
        db.session.commit()
        ids = list(db.session.execute(select(Enterprise.id).order_by(Enterprise.id)).scalars())
        if db.engine.dialect.name == "postgresql":
            raw = db.engine.raw_connection()
            try:
                cur = raw.driver_connection.cursor()
                with cur.copy(f"COPY staff ({', '.join(STAFF_COLUMNS)}) FROM STDIN") as copy:
                    for row in staff_rows(ids):
                        copy.write_row(row)
                raw.driver_connection.commit()
                raw.driver_connection.autocommit = True
                cur.execute("VACUUM ANALYZE")
                raw.driver_connection.autocommit = False
            finally:
                raw.close()
        else:
            placeholders = ", ".join("?" for _ in STAFF_COLUMNS)
            raw = db.engine.raw_connection()
            try:
                raw.cursor().executemany(
                    f"INSERT INTO staff ({', '.join(STAFF_COLUMNS)}) VALUES ({placeholders})", staff_rows(ids)
                )
                raw.commit()
                raw.cursor().execute("ANALYZE")
            finally:
                raw.close()
        count = db.session.execute(text("SELECT count(*) FROM staff")).scalar_one()
        assert count == n_staff, count
    return time.perf_counter() - started
