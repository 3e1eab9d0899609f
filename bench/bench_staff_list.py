"""Benchmark: the staff list at 200,000 staff, as a town user, on SQLite and PostgreSQL.

For each backend: a fresh database (SQLite: a temp file; PostgreSQL: a temporary
database dropped afterwards), migrated, demo accounts, then ~1,000 enterprises over
the towns and 200,000 staff bulk-inserted (COPY on PostgreSQL, one executemany
transaction on SQLite). Then, in-process with the Flask test client as ``town_nansha``,
the server time of the staff list page and ``GET /api/v1/staff/``, each plain and
with a keyword (a surname, a whole phone): WARMUP requests, then N timed ones;
median and p95 in ms. ``--explain`` prints PostgreSQL's EXPLAIN ANALYZE of the
list and count queries.

    .venv/bin/python bench/bench_staff_list.py [--staff 200000] [--backends sqlite,postgresql] [--explain]
        [--extra-sql "CREATE INDEX …"]

Needs PostgreSQL (SENTINEL_TEST_PG, default postgresql://postgres@127.0.0.1:5432/postgres)
and Redis (SENTINEL_TEST_REDIS_URL, default redis://127.0.0.1:6379/0); keys under a
unique prefix are removed afterwards.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from staff_data import bulk_load  # noqa: E402

PG_ADMIN = os.environ.get("SENTINEL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("SENTINEL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RUN_ID = uuid.uuid4().hex[:8]
PASSWORD = "Sentinel#2026"
USER = "town_nansha"
N, WARMUP, TARGET_MS = 30, 3, 150
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


# --- backends -----------------------------------------------------------------------

def make_app(database_url: str, instance: Path):
    os.environ["SENTINEL_INSTANCE_DIR"] = str(instance)
    from flask_migrate import upgrade

    from app import create_app
    from app.cli.demo import load_demo

    prefix = f"sentinel-bench-{RUN_ID}:"
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "REDIS_URL": REDIS_URL, "REDIS_PREFIX": prefix, "RATELIMIT_KEY_PREFIX": prefix + "limit",
        "QUEUE_NAME": prefix.rstrip(":"), "SECRET_KEY": "bench-secret-" + uuid.uuid4().hex, "ID_HASH_KEY": "bench-hash-" + uuid.uuid4().hex,
    })
    with app.app_context():
        upgrade()
        load_demo(enterprises=0)
    return app


def clean_redis() -> None:
    """This process's keys in the shared Redis (each process has its own ``RUN_ID``)."""
    from app_processes import forget_redis

    forget_redis(REDIS_URL, f"sentinel-bench-{RUN_ID}")


# --- measurement --------------------------------------------------------------------

def sample(client, url: str, headers=None, warmup: int = None, n: int = None):
    """Sorted server times (ms) of ``n`` requests after ``warmup``, and the last response."""
    warmup, n = WARMUP if warmup is None else warmup, N if n is None else n
    for _ in range(warmup):
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.status_code, response.data[:300])
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return sorted(samples), response


def timed(client, url: str, headers=None) -> tuple[float, float, dict]:
    """Median and p95 (ms), and the last JSON answer."""
    samples, response = sample(client, url, headers)
    info = response.get_json() if response.is_json else {}
    return statistics.median(samples), samples[max(0, int(round(0.95 * len(samples))) - 1)], info


def a_town_phone(app) -> str:
    """The full phone of a 南沙街 person (the search matches whole phones: they are sealed)."""
    from sqlalchemy import select

    from app.platform.extensions import db
    from models.enterprises import Enterprise
    from models.regions import Town
    from models.staff import Staff

    with app.app_context():
        phone = db.session.execute(
            select(Staff.phone).join(Enterprise).join(Town).where(Town.name == "南沙街").order_by(Staff.id).limit(1)
        ).scalar_one()
    return phone


def measure(app) -> list[dict]:
    client = app.test_client()
    page = client.get("/login/")
    match = CSRF.search(page.get_data(as_text=True))
    response = client.post("/login/", data={"username": USER, "password": PASSWORD,
                                           "csrf_token": match.group(1) or match.group(2)})
    assert response.status_code == 302 and "/login" not in response.headers["Location"], "login failed"
    token = client.post("/api/v1/security/login", json={"username": USER, "password": PASSWORD, "provider": "db"})
    headers = {"Authorization": f"Bearer {token.json['access_token']}"}
    phone = a_town_phone(app)
    rows = []
    for label, query in (("plain", ""), ("q=李", "&q=李"), (f"q={phone}", f"&q={phone}")):
        median, p95, _ = timed(client, f"/staff/?size=20{query}")
        rows.append({"what": f"GET /staff/?size=20 {label}", "median_ms": median, "p95_ms": p95})
        median, p95, info = timed(client, f"/api/v1/staff/?page=1{query}", headers)
        rows.append({"what": f"GET /api/v1/staff/ {label}", "median_ms": median, "p95_ms": p95,
                     "count": info.get("count")})
    return rows


def explain(app) -> None:
    from sqlalchemy import func, select, text

    from app.platform.extensions import db
    from app.security.scope import scope_for_user
    from app.services import staff as staff_service

    with app.app_context():
        scope = scope_for_user(app.appbuilder.sm.find_user(username=USER))
        for q in ("", "李", a_town_phone(app)):
            stmt = staff_service.query(scope, q)
            count = stmt.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
            for label, s in (("page", stmt.limit(20)), ("count", count)):
                sql = str(s.compile(db.engine, compile_kwargs={"literal_binds": True}))
                plan = db.session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql)).scalars()
                print(f"\n-- {label} q={q!r}\n" + "\n".join(plan))


def run_sql(app, statements: list[str]) -> None:
    """Extra DDL after the load (to try an index before writing its migration)."""
    from sqlalchemy import text

    from app.platform.extensions import db

    with app.app_context():
        for sql in statements:
            db.session.execute(text(sql))
        db.session.execute(text("ANALYZE"))
        db.session.commit()


@contextmanager
def scratch_app(backend: str):
    """A fresh database of ``backend`` (PostgreSQL database or SQLite file) and an app on
    it; the database and the temporary instance are removed afterwards."""
    import psycopg

    tmp = Path(tempfile.mkdtemp(prefix="sentinel-bench-"))
    db_name = f"sentinel_bench_{RUN_ID}"
    if backend == "postgresql":
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db_name}"')
        server = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        url = f"{server}/{db_name}"
    else:
        url = f"sqlite:///{tmp / 'bench.db'}"
    try:
        app = make_app(url, tmp / "instance")
        yield app
        with app.app_context():
            from app.platform.extensions import db

            db.session.remove()
            db.engine.dispose()
    finally:
        if backend == "postgresql":
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)


def run_backend(backend: str, n_staff: int, want_explain: bool, extra_sql: list[str] = ()) -> dict:
    with scratch_app(backend) as app:
        load_seconds = bulk_load(app, n_staff)
        if extra_sql:
            run_sql(app, extra_sql)
        rows = measure(app)
        if want_explain and backend == "postgresql":
            explain(app)
    return {"backend": backend, "staff": n_staff, "load_s": round(load_seconds, 1), "rows": rows}


def _in_child(backend: str, args) -> dict:
    """Each backend in its own process: a fresh app, instance dir and memory."""
    import subprocess

    cmd = [sys.executable, __file__, "--staff", str(args.staff), "--backends", backend, "--child"]
    if args.explain:
        cmd.append("--explain")
    for sql in args.extra_sql:
        cmd += ["--extra-sql", sql]
    done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
    *explained, last = done.stdout.rstrip("\n").split("\n")
    if explained:
        print("\n".join(explained))
    return json.loads(last)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, default=200_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--extra-sql", action="append", default=[],
                        help="SQL run after the load, e.g. a CREATE INDEX to evaluate (repeatable)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        try:
            print(json.dumps(run_backend(args.backends, args.staff, args.explain, args.extra_sql), ensure_ascii=False))
        finally:
            clean_redis()
        return 0
    results = []
    for backend in args.backends.split(","):
        result = _in_child(backend, args)
        results.append(result)
        print(f"\n{backend}: {args.staff} staff loaded in {result['load_s']} s (as {USER}, N={N})")
        print("| request | median ms | p95 ms | rows matched |\n|---|---:|---:|---:|")
        for row in result["rows"]:
            print(f"| {row['what']} | {row['median_ms']:.1f} | {row['p95_ms']:.1f} | {row.get('count', '')} |")
    print("\n" + json.dumps(results, ensure_ascii=False))
    slow = [r["what"] for res in results if res["backend"] == "postgresql" for r in res["rows"]
            if r["median_ms"] > TARGET_MS]
    if slow:
        print(f"over the {TARGET_MS} ms target on PostgreSQL: {slow}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
