"""Benchmark: staff pages with test status at 200,000 staff, on SQLite and PostgreSQL.

Same data as ``bench_staff_list.py`` (1,000 enterprises, 200,000 staff), then every
staff row gets its ID key and 90 % of them a health summary (latest sampling spread
over the last 20 days, so all five buckets are populated; doses 0–3). Measured
in-process with the Flask test client, WARMUP then N requests, server time in ms:

* a town user (``town_nansha``, 22,400 staff): the staff list plain and filtered by
  bucket (24h, unmatched), the export-free 未匹配 list, one person's health API;
* the district admin: the list filtered to 未匹配 over all 200,000 staff;
* an enterprise head (one enterprise of 200 staff): the phone home (five counts in one
  query) and the list behind the 24小时 count.

    .venv/bin/python bench/bench_staff_health.py [--staff 200000] [--backends sqlite,postgresql]
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_staff_list as base  # noqa: E402
from staff_data import bulk_load  # noqa: E402

TARGET_MS = 150
HEAD_USER = "bench_head"


def add_health(app) -> int:
    """ID keys for every staff row, a summary for 90 % of them, a head account."""
    from sqlalchemy import bindparam, insert, select, update

    from app.platform.extensions import db
    from app.security import roles as R
    from app.services.health.feeds.keys import keyers
    from models.enterprises import Enterprise
    from models.health import HealthSummary
    from models.regions import Town
    from models.staff import Staff

    rng = random.Random(7)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    with app.app_context():
        key = keyers()[0]
        rows = db.session.execute(select(Staff.id, Staff.id_number)).all()
        staff_table = Staff.__table__
        db.session.execute(update(staff_table).where(staff_table.c.id == bindparam("sid")),
                           [{"sid": r.id, "id_key": key(r.id_number)} for r in rows])
        summaries, seen = [], set()
        for r in rows:
            k = key(r.id_number)
            if k in seen or rng.random() < 0.1:  # one summary per key (a number may be in two enterprises)
                continue
            seen.add(k)
            sampled = now - timedelta(minutes=rng.randrange(20 * 24 * 60))
            dose = rng.choice((0, 1, 2, 3, 3))
            summaries.append(dict(
                id_key=k, last_sampled_at=sampled, last_tested_at=sampled + timedelta(hours=6),
                last_result="negative", last_institution="压测机构", max_dose=dose,
                dose1_at=date(2021, 5, 1) if dose >= 1 else None, dose2_at=date(2021, 6, 1) if dose >= 2 else None,
                dose3_at=date(2022, 1, 1) if dose >= 3 else None, product=None, updated_at=now,
            ))
        for start in range(0, len(summaries), 20000):
            db.session.execute(insert(HealthSummary.__table__), summaries[start:start + 20000])
        enterprise = db.session.execute(
            select(Enterprise).order_by(Enterprise.id).limit(1)).scalar_one()
        sm = app.appbuilder.sm
        user = sm.add_user(username=HEAD_USER, first_name="head", last_name="", email="head@bench.invalid",
                           role=sm.find_role(R.ENTERPRISE_HEAD), password=base.PASSWORD)
        user.phone = enterprise.head_phone
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # The keys were added by an UPDATE of every row (ingest-time keys in real life):
            # vacuum so the table is not twice its size with dead rows.
            raw = db.engine.raw_connection()
            try:
                raw.driver_connection.autocommit = True
                raw.driver_connection.execute("VACUUM ANALYZE staff")
                raw.driver_connection.execute("VACUUM ANALYZE health_summary")
                raw.driver_connection.autocommit = False  # back to the pool as the session expects it
            finally:
                raw.close()
        else:
            from sqlalchemy import text

            db.session.execute(text("ANALYZE"))
            db.session.commit()
        sample = db.session.execute(
            select(Staff.id).join(Enterprise, Staff.enterprise_id == Enterprise.id).join(Town)
            .where(Town.name == "南沙街").order_by(Staff.id.desc()).limit(1)
        ).scalar_one()
    return sample


def login(app, username: str):
    client = app.test_client()
    page = client.get("/login/")
    match = base.CSRF.search(page.get_data(as_text=True))
    response = client.post("/login/", data={"username": username, "password": base.PASSWORD,
                                           "csrf_token": match.group(1) or match.group(2)})
    assert response.status_code == 302 and "/login" not in response.headers["Location"], "login failed"
    return client


def measure(app, sample_id: int) -> list[dict]:
    town, admin, head = login(app, base.USER), login(app, "admin"), login(app, HEAD_USER)
    token = town.post("/api/v1/security/login", json={"username": base.USER, "password": base.PASSWORD,
                                                      "provider": "db"}).json["access_token"]
    requests = [
        ("town: GET /api/v1/staff/ (no health, control)", town, "/api/v1/staff/?page=1",
         {"Authorization": f"Bearer {token}"}),
        ("town: GET /staff/?size=20", town, "/staff/?size=20", None),
        ("town: GET /staff/?size=20&bucket=24h", town, "/staff/?size=20&bucket=24h", None),
        ("town: GET /staff/?size=20&bucket=unmatched", town, "/staff/?size=20&bucket=unmatched", None),
        ("town: GET /api/v1/staff/<id>/health", town, f"/api/v1/staff/{sample_id}/health",
         {"Authorization": f"Bearer {token}"}),
        ("admin: GET /staff/?size=20&bucket=unmatched", admin, "/staff/?size=20&bucket=unmatched", None),
        ("head: GET /head/ (five counts)", head, "/head/", None),
        ("head: GET /head/people?bucket=24h", head, "/head/people?bucket=24h", None),
    ]
    rows = []
    for what, client, url, headers in requests:
        median, p95, _ = base.timed(client, url, headers)
        rows.append({"what": what, "median_ms": median, "p95_ms": p95})
    return rows


def run_backend(backend: str, n_staff: int) -> dict:
    with base.scratch_app(backend) as app:
        load_seconds = bulk_load(app, n_staff)
        sample = add_health(app)
        rows = measure(app, sample)
    return {"backend": backend, "staff": n_staff, "load_s": round(load_seconds, 1), "rows": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, default=200_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        try:
            print(json.dumps(run_backend(args.backends, args.staff), ensure_ascii=False))
        finally:
            base.clean_redis()
        return 0
    results = []
    for backend in args.backends.split(","):
        done = subprocess.run([sys.executable, __file__, "--staff", str(args.staff), "--backends", backend, "--child"],
                              stdout=subprocess.PIPE, text=True, check=True)
        result = json.loads(done.stdout.rstrip("\n").split("\n")[-1])
        results.append(result)
        print(f"\n{backend}: {args.staff} staff, 90 % with a health summary (N={base.N})")
        print("| request | median ms | p95 ms |\n|---|---:|---:|")
        for row in result["rows"]:
            print(f"| {row['what']} | {row['median_ms']:.1f} | {row['p95_ms']:.1f} |")
    slow = [r["what"] for res in results if res["backend"] == "postgresql" for r in res["rows"]
            if r["median_ms"] > TARGET_MS]
    if slow:
        print(f"over the {TARGET_MS} ms target on PostgreSQL: {slow}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
