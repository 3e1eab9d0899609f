"""Benchmark (issue 4, "in one run"): 1,000,000 test records through the HTTP API, then
the pages at 200,000 staff and 5,000,000 raw test records, on SQLite and PostgreSQL.

For each backend, in a process of its own, on a fresh database:

1. ``bench_feeds``: migrated database, demo accounts, 200,000 staff bulk-loaded and keyed;
   gunicorn (1 worker) started; the ``feed`` account posts ``--records`` test records
   (200,000 staff + 800,000 other people, 14 days) in ``--batch``-row JSON batches
   (timed), then the staff's vaccinations (doses 0–3) the same way.
2. The bulk up to ``--total`` raw records is loaded directly, not through HTTP: the rows
   of ``health_data.records_for`` (every staff member ~14 tests over 14 days, then others
   ~2 each) go through the ingest's own row cleaning and identity (``SamplingChunks``) and are
   written with ``COPY`` (PostgreSQL, through a staging table) / ``executemany``
   (SQLite) into ``test_record``, skipping any row the API already stored; then the database is analysed and ``summary.rebuild`` (timed) recomputes every staff
   key's summary and daily tallies from all records.
3. Measured in-process with the Flask test client (WARMUP then N requests, median and
   p95, ms): the enterprise head's home ``/head/`` (an enterprise of ~200 staff); the
   test statistics for 7 days (page and API) and the vaccine statistics (page and API)
   as the district admin, cold (``STATS_CACHE_SECONDS=0``) and warm (after one
   ``tables.warm`` job, its own time reported); one ``GET /api/v1/staff/<id>/health``
   as a town user; and the 7-day test counts in-process from the summaries' day bits
   and from SamplingDaily (the way before them), checked equal.

    .venv/bin/python bench/bench_health_pages.py [--records 1000000] [--total 5000000] [--staff 200000]
        [--batch 100000] [--backends postgresql,sqlite] [--n 10]

Needs PostgreSQL (SENTINEL_TEST_PG) and Redis (SENTINEL_TEST_REDIS_URL) as for tests.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_feeds as F  # noqa: E402
import bench_staff_list as base  # noqa: E402
import health_data as H  # noqa: E402
from bench_staff_health import HEAD_USER, login as web_login  # noqa: E402
from bench_stats import login as api_login  # noqa: E402

TARGET_STATS_MS, TARGET_LOOKUP_MS, TARGET_INGEST_ROWS_S = 1000, 20, 100_000
SLICE = 500_000  # rows per SamplingChunks pass (its duplicate map stays small)


def ingest(url: str, instance: Path, numbers: list[str], args) -> dict:
    """Step 1 after ``bench_feeds.prepare``: the API ingest of tests, then vaccinations."""
    payloads = F.bodies(numbers, args.records, args.batch, "json")
    vaccines = H.vaccination_records(numbers)
    vaccine_bodies = [H.as_json(vaccines[i:i + args.batch]) for i in range(0, len(vaccines), args.batch)]
    server, port = F.start_server(url, instance, 1)
    try:
        headers = {"Authorization": f"Bearer {F.token(port)}", "Content-Type": "application/json"}
        F.request(port, "POST", "/api/v1/feeds/tests", b"[]", headers)  # warm-up
        stored, batches = 0, []
        started = time.perf_counter()
        for payload in payloads:
            t0 = time.perf_counter()
            status, data = F.request(port, "POST", "/api/v1/feeds/tests", payload, headers)
            assert status == 200, data[:500]
            batches.append(round(time.perf_counter() - t0, 2))
            stored += json.loads(data)["stored"]
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        for payload in vaccine_bodies:
            status, data = F.request(port, "POST", "/api/v1/feeds/vaccinations", payload, headers)
            assert status == 200, data[:500]
        vaccine_seconds = time.perf_counter() - started
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
    return {"api_records": args.records, "api_stored": stored, "api_s": round(seconds, 1),
            "api_rows_s": round(args.records / seconds), "api_batches_s": batches,
            "vaccinations": len(vaccines), "vaccinations_s": round(vaccine_seconds, 1)}


def bulk_records(app, numbers: list[str], others: list[str], total: int) -> dict:
    """Step 2: raw records up to ``total`` (direct load), then ``summary.rebuild``."""
    from sqlalchemy import text

    from app.platform.clock import district_tz
    from app.platform.extensions import db
    from app.services.health.feeds import partitions
    from app.services.health.status import summary
    from app.services.health.feeds.keys import keyers
    from app.services.health.feeds.sampling_writer import COLS, SamplingChunks, _sqlite_time

    with app.app_context():
        have = db.session.execute(text("SELECT count(*) FROM test_record")).scalar_one()
        wanted = max(0, total - have)
        rows = itertools.islice(itertools.chain(H.records_for(numbers, per_person=14, days=14, seed=21),
                                                H.records_for(others, per_person=2, days=14, seed=22)), wanted)
        now = H.utcnow()
        pg = db.engine.dialect.name == "postgresql"
        if pg:
            partitions.ensure_window(db.session, now)
            db.session.commit()
        key = keyers()[0]
        started, loaded = time.perf_counter(), 0
        raw = db.engine.raw_connection()
        try:
            conn = raw.driver_connection
            while True:
                part = list(itertools.islice(rows, SLICE))
                if not part:
                    break
                chunks = SamplingChunks(enumerate(part, 1), district_tz(), now, key)
                # A generated row may repeat one the API stored (same person, second and
                # institution): such rows are skipped, as the feed would answer "duplicate".
                if pg:
                    conn.execute("CREATE TEMPORARY TABLE IF NOT EXISTS bench_load "
                                 "(LIKE test_record INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
                    with conn.cursor().copy(f"COPY bench_load ({COLS}, received_at) FROM STDIN") as copy:
                        for chunk in chunks:
                            for row in chunk:
                                copy.write_row(row + (now,))
                    loaded += conn.execute(f"INSERT INTO test_record ({COLS}, received_at) SELECT {COLS}, received_at "
                                           "FROM bench_load ON CONFLICT DO NOTHING").rowcount
                else:
                    for chunk in chunks:
                        cursor = conn.executemany(
                            f"INSERT OR IGNORE INTO test_record ({COLS}, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                            [(r[0], _sqlite_time(r[1]), r[2], _sqlite_time(r[3]), r[4], r[5], _sqlite_time(now))
                             for r in chunk])
                        loaded += cursor.rowcount
                assert not chunks.errors, chunks.errors[:3]
                conn.commit()
        finally:
            raw.close()
        load_s = time.perf_counter() - started
        analyse(db)  # as autovacuum would: with the pre-load statistics, PostgreSQL plans
        # each rebuild chunk as a sort of every record (a merge join) instead of index probes
        started = time.perf_counter()
        rebuilt = summary.rebuild(db.session)
        rebuild_s = time.perf_counter() - started
        analyse(db)
        counts = {t: db.session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                  for t in ("staff", "test_record", "vaccination_record", "health_summary", "test_daily")}
    return {"bulk_loaded": loaded, "bulk_load_s": round(load_s, 1), "bulk_rows_s": round(loaded / load_s),
            "rebuild_keys": rebuilt["keys"], "rebuild_s": round(rebuild_s, 1), "counts": counts}


def analyse(db) -> None:
    from sqlalchemy import text

    if db.engine.dialect.name == "postgresql":
        raw = db.engine.raw_connection()
        try:
            raw.driver_connection.autocommit = True
            raw.driver_connection.execute("VACUUM ANALYZE")
            raw.driver_connection.autocommit = False  # back to the pool as the session expects it
        finally:
            raw.close()
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def head_and_sample(app) -> int:
    """An enterprise head account for the first enterprise; a staff id of the town user."""
    from sqlalchemy import select

    from app.platform.extensions import db
    from app.security import roles as R
    from models.enterprises import Enterprise
    from models.regions import Town
    from models.staff import Staff

    with app.app_context():
        enterprise = db.session.execute(select(Enterprise).order_by(Enterprise.id).limit(1)).scalar_one()
        sm = app.appbuilder.sm
        user = sm.add_user(username=HEAD_USER, first_name="head", last_name="", email="head@bench.invalid",
                           role=sm.find_role(R.ENTERPRISE_HEAD), password=base.PASSWORD)
        user.phone = enterprise.head_phone
        db.session.commit()
        return db.session.execute(
            select(Staff.id).join(Enterprise, Staff.enterprise_id == Enterprise.id).join(Town)
            .where(Town.name == "南沙街").order_by(Staff.id.desc()).limit(1)).scalar_one()


STATS = (
    ("GET /stats/tests (7 days)", "/stats/tests", False),
    ("GET /api/v1/stats/tests (7 days)", "/api/v1/stats/tests", True),
    ("GET /stats/vaccines", "/stats/vaccines", False),
    ("GET /api/v1/stats/vaccines", "/api/v1/stats/vaccines", True),
)


def measure(app, sample_id: int) -> list[dict]:
    """Step 3 (see the module docstring)."""
    rows = []

    def add(what, client, url, headers=None):
        median, p95, _ = base.timed(client, url, headers)
        rows.append({"what": what, "median_ms": round(median, 1), "p95_ms": round(p95, 1)})

    head = web_login(app, HEAD_USER)
    admin, admin_headers = api_login(app, "admin")
    town, town_headers = api_login(app, base.USER)
    add("head: GET /head/", head, "/head/")
    add("town: GET /api/v1/staff/<id>/health", town, f"/api/v1/staff/{sample_id}/health", town_headers)
    app.config["STATS_CACHE_SECONDS"] = 0
    for what, url, api in STATS:
        add(f"cold, admin: {what}", admin, url, admin_headers if api else None)
    app.config["STATS_CACHE_SECONDS"] = 120
    with app.app_context():
        from app.platform.extensions import db
        from app.services.health.statistics import tables

        warmed = tables.warm(db.session)
    rows.append({"what": "job tables.warm: tests counts (7 days)", "median_ms": warmed["tests_ms"], "p95_ms": None})
    rows.append({"what": "job tables.warm: vaccine counts", "median_ms": warmed["vaccines_ms"], "p95_ms": None})
    rows += counts_both_ways(app)
    for what, url, api in STATS:
        add(f"warm, admin: {what}", admin, url, admin_headers if api else None)
    return rows


def counts_both_ways(app, n: int = 5) -> list[dict]:
    """The 7-day test counts computed in-process from the summaries' day bits and, as
    before them, from SamplingDaily (median of ``n`` after one warm-up): the same data,
    the same minutes."""
    import statistics
    from datetime import timedelta

    from app.platform.clock import local_today
    from app.platform.extensions import db
    from app.services.health.statistics import samplings

    out = []
    with app.app_context():
        end = local_today()
        start = end - timedelta(days=6)
        results = {}
        for label, day_bits in (("day bits", True), ("SamplingDaily", False)):
            times = []
            for _ in range(n + 1):
                started = time.perf_counter()
                results[label] = samplings.enterprise_counts(db.session, start, end, use_day_bits=day_bits)
                times.append((time.perf_counter() - started) * 1000)
                db.session.rollback()
            out.append({"what": f"test counts (7 days) from {label}, in-process",
                        "median_ms": round(statistics.median(times[1:]), 1), "p95_ms": round(max(times[1:]), 1)})
        assert results["day bits"] == results["SamplingDaily"], "day bits and SamplingDaily disagree"
    return out


def run_backend(backend: str, args) -> dict:
    import psycopg

    tmp = Path(tempfile.mkdtemp(prefix="sentinel-bench-pages-"))
    db_name = f"sentinel_bench_pages_{F.RUN_ID}"
    if backend == "postgresql":
        with psycopg.connect(F.PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db_name}"')
        url = F.PG_ADMIN.rsplit("/", 1)[0] + f"/{db_name}"
    else:
        url = f"sqlite:///{tmp / 'bench.db'}"
    try:
        instance = tmp / "instance"
        numbers, result = F.prepare(url, instance, args.staff)
        result.update(ingest(url, instance, numbers, args))
        from app import create_app

        app = create_app({"SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://", 1),
                          "RATELIMIT_KEY_PREFIX": os.environ["REDIS_PREFIX"] + "limit"})
        others = H.id_numbers(4 * len(numbers), seed=11)  # the same other people as the API ingest
        result.update(bulk_records(app, numbers, others, args.total))
        sample = head_and_sample(app)
        result["rows"] = measure(app, sample)
        with app.app_context():
            from app.platform.extensions import db

            db.session.remove()
            db.engine.dispose()
        return {"backend": backend, "staff": args.staff, "n": base.N, **result}
    finally:
        if backend == "postgresql":
            with psycopg.connect(F.PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--total", type=int, default=5_000_000)
    parser.add_argument("--staff", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--n", type=int, default=10, help="timed requests per URL (after 3 warm-up ones)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    base.N = args.n
    if args.child:
        try:
            print(json.dumps(run_backend(args.backends, args), ensure_ascii=False, default=str))
        finally:
            F.clean_redis()
        return 0
    results = []
    for backend in args.backends.split(","):
        cmd = [sys.executable, __file__, "--child", "--backends", backend, "--records", str(args.records),
               "--total", str(args.total), "--staff", str(args.staff), "--batch", str(args.batch), "--n", str(args.n)]
        done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
        r = json.loads(done.stdout.strip().split("\n")[-1])
        results.append(r)
        print(f"\n{backend} ({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC): staff load {r['staff_load_s']} s, "
              f"rekey {r['rekey_s']} s; API ingest {r['api_records']:,} records in {r['api_s']} s = "
              f"{r['api_rows_s']:,} rows/s (stored {r['api_stored']:,}; batches {r['api_batches_s']}); "
              f"{r['vaccinations']:,} vaccinations through the API in {r['vaccinations_s']} s; "
              f"bulk {r['bulk_loaded']:,} records in {r['bulk_load_s']} s ({r['bulk_rows_s']:,} rows/s); "
              f"summary.rebuild of {r['rebuild_keys']:,} keys in {r['rebuild_s']} s; counts {r['counts']}")
        print(f"| request (N={r['n']}) | median ms | p95 ms |\n|---|---:|---:|")
        for row in r["rows"]:
            p95 = "" if row["p95_ms"] is None else f"{row['p95_ms']:.1f}"
            print(f"| {row['what']} | {row['median_ms']:.1f} | {p95} |")
    for r in results:
        if r["backend"] != "postgresql":
            continue
        slow = [row["what"] for row in r["rows"] if row["what"].startswith(("cold", "warm"))
                and row["median_ms"] > TARGET_STATS_MS]
        slow += [row["what"] for row in r["rows"] if "/health" in row["what"] and row["median_ms"] > TARGET_LOOKUP_MS]
        print(f"PostgreSQL targets (statistics < {TARGET_STATS_MS} ms, lookup < {TARGET_LOOKUP_MS} ms): "
              + (f"missed by {slow}" if slow else "met"))
        ingest_met = r["api_rows_s"] >= TARGET_INGEST_ROWS_S
        print(f"PostgreSQL ingest target (>= {TARGET_INGEST_ROWS_S:,} rows/s through the API): "
              f"{'met' if ingest_met else 'missed'} ({r['api_rows_s']:,} rows/s; the share of a bare COPY "
              "is measured by bench_feeds.py)")
    print("\n" + json.dumps(results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
