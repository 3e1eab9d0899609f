"""Benchmark: the statistics pages (核酸检测统计 7 days, 疫苗接种统计) at 200,000 staff.

Same registry as ``bench_staff_list.py`` (1,000 enterprises over the towns, 200,000
staff, categories spread over three values), then what ingest maintains for them:
every staff row keyed, a HealthSummary per key (doses 0–3 with dates spread over the
last 300 days and seven product names: the shipped ones, a blank and an unknown one),
and SamplingDaily for every key and each of the last 14 local days (2.8 M rows; the 7-day
period reads 1.4 M of them — the worst case of everybody testing daily). The raw test
records are not loaded: no statistics query reads them.

Measured in-process with the Flask test client, WARMUP then N requests, server time
in ms: the pages and APIs as the district admin (all 200,000 staff) and as a town user,
first cold (``STATS_CACHE_SECONDS=0``: every request runs the count queries), then warm
(after one run of the ``stats.warm`` job, whose own time is reported); two drill-downs.

    .venv/bin/python bench/bench_stats.py [--staff 200000] [--backends sqlite,postgresql] [--explain]
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_staff_list as base  # noqa: E402
from staff_data import bulk_load  # noqa: E402

TARGET_MS = 1000
N, WARMUP = 10, 2
DAYS = 14
PRODUCTS = ("新冠病毒灭活疫苗（Vero细胞）", "科兴新冠病毒灭活疫苗", "北京生物新冠病毒灭活疫苗", "重组新冠病毒疫苗（CHO细胞）",
            "康希诺新冠疫苗", "", "某某未知疫苗")
CATEGORIES = ("高风险人员", "管理人员", "其他人员")


def _copy(db, table: str, columns: list[str], rows) -> None:
    raw = db.engine.raw_connection()
    try:
        cur = raw.driver_connection.cursor()
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        raw.driver_connection.commit()
    finally:
        raw.close()


def _insert(db, table: str, columns: list[str], rows) -> None:
    raw = db.engine.raw_connection()
    try:
        marks = ", ".join("?" for _ in columns)
        raw.cursor().executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        raw.commit()
    finally:
        raw.close()


def add_health(app) -> dict:
    """Keys, categories, summaries and daily tallies (see the module docstring)."""
    from sqlalchemy import select, text

    from app.platform.extensions import db
    from app.services.health.feeds.keys import keyers
    from models.staff import Staff

    rng = random.Random(11)
    started = time.perf_counter()
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    with app.app_context():
        pg = db.engine.dialect.name == "postgresql"
        write = _copy if pg else _insert
        key = keyers()[0]
        rows = db.session.execute(select(Staff.id, Staff.id_number)).all()
        keyed = [(r.id, key(r.id_number), CATEGORIES[r.id % 3]) for r in rows]
        db.session.execute(text("CREATE TEMPORARY TABLE bench_keys (id integer, id_key varchar(43), "
                                "category varchar(64))"))
        if pg:
            raw = db.session.connection().connection.driver_connection
            with raw.cursor().copy("COPY bench_keys (id, id_key, category) FROM STDIN") as copy:
                for row in keyed:
                    copy.write_row(row)
        else:
            db.session.connection().connection.driver_connection.executemany(
                "INSERT INTO bench_keys VALUES (?, ?, ?)", keyed)
        db.session.execute(text("CREATE INDEX bench_keys_id ON bench_keys (id)"))
        db.session.execute(text(
            "UPDATE staff SET id_key = (SELECT k.id_key FROM bench_keys k WHERE k.id = staff.id), "
            "category = (SELECT k.category FROM bench_keys k WHERE k.id = staff.id)"))
        db.session.commit()
        keys = sorted({k for _i, k, _c in keyed})
        summaries = []
        for k in keys:
            dose = rng.choice((0, 1, 2, 2, 3, 3, 3))
            d1 = today - timedelta(days=rng.randrange(120, 300)) if dose >= 1 else None
            d2 = d1 + timedelta(days=rng.randrange(21, 60)) if dose >= 2 else None
            d3 = d2 + timedelta(days=rng.randrange(28, 60)) if dose >= 3 else None
            sampled = now - timedelta(minutes=rng.randrange(DAYS * 24 * 60))
            summaries.append((k, sampled, sampled + timedelta(hours=6), "negative", "压测机构", d1, d2, d3, dose,
                              rng.choice(PRODUCTS) if dose else None, now))
        write(db, "health_summary", ["id_key", "last_sampled_at", "last_tested_at", "last_result",
                                     "last_institution", "dose1_at", "dose2_at", "dose3_at", "max_dose", "product",
                                     "updated_at"], summaries)

        def daily():
            for k in keys:
                for back in range(DAYS):
                    x = rng.random()
                    positive, pending = (1, 0) if x < 0.002 else (0, 1) if x < 0.02 else (0, 0)
                    yield (k, today - timedelta(days=back), 1, 1 - positive - pending, positive, pending)

        write(db, "test_daily", ["id_key", "day", "tests", "negative", "positive", "pending"], daily())
        if pg:
            raw = db.engine.raw_connection()
            raw.driver_connection.autocommit = True
            raw.driver_connection.execute("VACUUM ANALYZE")
            raw.close()
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        counts = {t: db.session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                  for t in ("staff", "health_summary", "test_daily")}
    counts["load_s"] = round(time.perf_counter() - started, 1)
    return counts


def timed(client, url: str, headers=None) -> tuple[float, float]:
    """Median and max (ms)."""
    samples, _ = base.sample(client, url, headers, warmup=WARMUP, n=N)
    return statistics.median(samples), samples[-1]


def login(app, username: str):
    client = app.test_client()
    page = client.get("/login/")
    match = base.CSRF.search(page.get_data(as_text=True))
    response = client.post("/login/", data={"username": username, "password": base.PASSWORD,
                                           "csrf_token": match.group(1) or match.group(2)})
    assert response.status_code == 302 and "/login" not in response.headers["Location"], "login failed"
    token = client.post("/api/v1/security/login", json={"username": username, "password": base.PASSWORD,
                                                        "provider": "db"}).json["access_token"]
    return client, {"Authorization": f"Bearer {token}"}


PAGES = (
    ("GET /stats/tests (7 days)", "/stats/tests", False),
    ("GET /api/v1/stats/tests (7 days)", "/api/v1/stats/tests", True),
    ("GET /stats/vaccines", "/stats/vaccines", False),
    ("GET /api/v1/stats/vaccines", "/api/v1/stats/vaccines", True),
)


def measure(app) -> list[dict]:
    """Cold (cache off: every request computes) then warm (after the stats.warm job)."""
    rows = []
    clients = {user: login(app, user) for user in ("admin", base.USER)}
    app.config["STATS_CACHE_SECONDS"] = 0
    for user, (client, headers) in clients.items():
        for what, url, api in PAGES:
            median, worst = timed(client, url, headers if api else None)
            rows.append({"what": f"cold, {user}: {what}", "median_ms": median, "max_ms": worst})
    client, _headers = clients["admin"]
    for what, url in (
        ("drill-down: 阳性人员, all towns, 7 days", "/stats/people?kind=tests&measure=positive"),
        ("drill-down: 第二针可接种人员, all towns", "/stats/people?kind=vaccines&measure=dose2_eligible"),
    ):
        median, worst = timed(client, url)
        rows.append({"what": f"admin: {what}", "median_ms": median, "max_ms": worst})
    app.config["STATS_CACHE_SECONDS"] = 120
    with app.app_context():
        from app.platform.extensions import db
        from app.services.health.statistics import tables

        warmed = tables.warm(db.session)
    rows.append({"what": "job stats.warm: tests counts (7 days)", "median_ms": warmed["tests_ms"],
                 "max_ms": warmed["tests_ms"]})
    rows.append({"what": "job stats.warm: vaccine counts", "median_ms": warmed["vaccines_ms"],
                 "max_ms": warmed["vaccines_ms"]})
    for user, (client, headers) in clients.items():
        for what, url, api in PAGES:
            median, worst = timed(client, url, headers if api else None)
            rows.append({"what": f"warm, {user}: {what}", "median_ms": median, "max_ms": worst})
    return rows


def explain(app) -> None:
    """EXPLAIN ANALYZE of the two shared count queries (PostgreSQL), with the session
    settings the app uses for them."""
    from app.platform.extensions import db
    from app.services.health.statistics import samplings, tables, vaccinations

    with app.test_request_context():
        start, end = tables.period(None, None)
        captured: list[str] = []
        real = db.session.execute

        def capture(stmt, *a, **k):
            if hasattr(stmt, "compile"):
                captured.append(str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True})))
            return real(stmt, *a, **k)

        db.session.execute = capture
        try:
            samplings.enterprise_counts(db.session, start, end)
            vaccinations.enterprise_counts(db.session, tables.eligibility(db.session))
        finally:
            db.session.execute = real
        for sql in captured:
            if "GROUP BY" not in sql:
                continue
            connection = db.session.connection()
            for setting in ("jit = off", "work_mem = '64MB'", "max_parallel_workers_per_gather = 0"):
                connection.exec_driver_sql(f"SET LOCAL {setting}")
            plan = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql).scalars().all()
            print("\n".join(plan), file=sys.stderr)
            print("-" * 60, file=sys.stderr)
        db.session.rollback()


def run_backend(backend: str, n_staff: int, want_explain: bool) -> dict:
    with base.scratch_app(backend) as app:
        load_seconds = bulk_load(app, n_staff)
        counts = add_health(app)
        if want_explain and backend == "postgresql":
            explain(app)
        rows = measure(app)
    return {"backend": backend, "staff_load_s": round(load_seconds, 1), "counts": counts, "rows": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, default=200_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        try:
            print(json.dumps(run_backend(args.backends, args.staff, args.explain), ensure_ascii=False))
        finally:
            base.clean_redis()
        return 0
    results = []
    for backend in args.backends.split(","):
        command = [sys.executable, __file__, "--staff", str(args.staff), "--backends", backend, "--child"]
        done = subprocess.run(command + (["--explain"] if args.explain else []), stdout=subprocess.PIPE, text=True,
                              check=True)
        result = json.loads(done.stdout.rstrip("\n").split("\n")[-1])
        results.append(result)
        print(f"\n{backend}: {result['counts']} (staff load {result['staff_load_s']} s), N={N}")
        print("| request | median ms | max ms |\n|---|---:|---:|")
        for row in result["rows"]:
            print(f"| {row['what']} | {row['median_ms']:.1f} | {row['max_ms']:.1f} |")
    slow = [r["what"] for res in results if res["backend"] == "postgresql" for r in res["rows"]
            if r["median_ms"] > TARGET_MS and r["what"].startswith(("cold", "warm"))]
    if slow:
        print(f"over the {TARGET_MS} ms target on PostgreSQL: {slow}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
