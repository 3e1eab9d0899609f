"""Benchmark (issue 14): the nightly check for 200,000 staff against 5,000,000 test records,
then every alert file, beside a bare SQL count of the same non-compliant people.

Setup (not timed as the measure): a fresh database, the registry of ``bench_staff_list``
(1,000 enterprises over the towns and the 5 shipped types; staff registered 60 days ago),
every staff member keyed, and 5,000,000 test records over the last 15 district days
(COPY on PostgreSQL, one executemany on SQLite): the staff's own samplings — each person
tests on a day with a probability of 0.95, 0.6, 0.35 or 0.1 (a quarter each), 3 % of
samplings sent twice (a second row, same time) — and the rest of the city's feed under
keys no staff member has. Then the production rebuild (``health.rebuild_summaries``)
makes the summaries, daily tallies and day bits the feed would have made. Five alert
settings, one per type (一天一检, 三天两检, 七天三检, 两天一检, 十四天一检), each with six
recipients: the district admin (every row), 南沙街 and 黄阁镇 (their town's rows), the port
bureau (its types' rows), a phone and a messenger robot.

Measured in a fresh child process (so its peak RSS is the measure's own): ``rules.evaluate``
(every setting), then ``rules.alerts`` (every file built, messages stored in the outbox);
then the ceiling: per setting one bare SQL count of the people with fewer than N distinct
sampling times in the window, read straight from the records (the check's answer must
be the same number).

    .venv/bin/python bench/bench_rules.py [--staff 200000] [--records 5000000] [--backends postgresql,sqlite] [--repeat 3]

SQLite runs at a quarter of the size unless ``--sqlite-full``.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import resource
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_staff_list as base  # noqa: E402
from staff_data import bulk_load  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
DAYS = 15
RATES = (0.95, 0.6, 0.35, 0.1)
RULES = {"port": "1d1", "freight": "3d2", "cold_chain": "7d3", "construction": "2d1", "medical": "14d1"}
TARGET_S, TARGET_RATIO, TARGET_RSS_MB = 30, 3.0, 500


def _write(session, table: str, columns: list[str], rows) -> None:
    raw = session.connection().connection.driver_connection
    if session.get_bind().dialect.name == "postgresql":
        with raw.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in columns)
        raw.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                        ([v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v for v in row]
                         for row in rows))


def load(app, n_records: int) -> dict:
    """Keys, records, the rebuild, the settings (see the module docstring)."""
    from sqlalchemy import select, text

    from app.platform.extensions import db
    from app.services.health.feeds import partitions
    from app.services.health.feeds.keys import keyers
    from app.services.health.status.summary import rebuild
    from models.enterprise_types import EnterpriseType
    from models.rules import AlertSetting
    from models.staff import Staff
    from models.users import SentinelUser

    rng = random.Random(14)
    out = {}
    started = time.perf_counter()
    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    with app.app_context():
        session = db.session
        key = keyers()[0]
        rows = session.execute(select(Staff.id, Staff.id_number)).all()
        keyed = [(r.id, key(r.id_number)) for r in rows]
        session.execute(text("CREATE TEMPORARY TABLE bench_keys (id integer PRIMARY KEY, id_key varchar(43))"))
        _write(session, "bench_keys", ["id", "id_key"], keyed)
        session.execute(text("UPDATE staff SET id_key = (SELECT k.id_key FROM bench_keys k WHERE k.id = staff.id), "
                             "created_at = :registered"), {"registered": now - timedelta(days=60)})
        session.commit()
        out["keys_s"] = round(time.perf_counter() - started, 1)

        start = now - timedelta(days=DAYS)
        if session.get_bind().dialect.name == "postgresql":
            partitions.ensure_for(session, [start + timedelta(days=d) for d in range(DAYS + 1)] + [now], now)
            session.commit()
        staff_keys = [k for _i, k in keyed]

        def records():
            made = 0
            for k in staff_keys:
                rate = RATES[rng.randrange(len(RATES))]
                for day in range(DAYS):
                    if rng.random() >= rate:
                        continue
                    sampled = start + timedelta(days=day, seconds=rng.randrange(86400))
                    if sampled >= now:
                        continue
                    for _copy in range(2 if rng.random() < 0.03 else 1):
                        made += 1
                        yield (sampled, uuid.uuid4().hex, k, sampled + timedelta(hours=6), "negative", "压测机构", now)
            while made < n_records:
                made += 1
                sampled = start + timedelta(seconds=rng.randrange(DAYS * 86400 - 3600))
                yield (sampled, uuid.uuid4().hex, f"x{made:042d}", sampled + timedelta(hours=6), "negative", "压测机构",
                       now)

        t = time.perf_counter()
        _write(session, "test_record", ["sampled_at", "identity", "id_key", "tested_at", "result", "institution",
                                        "received_at"], records())
        session.commit()
        out["records"] = session.execute(text("SELECT count(*) FROM test_record")).scalar_one()
        out["records_load_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        rebuild(session)
        session.commit()
        out["rebuild_s"] = round(time.perf_counter() - t, 1)

        users = {u.username: u.id for u in session.execute(select(SentinelUser)).scalars()}
        recipients = [{"user_id": users["admin"]}, {"user_id": users["town_nansha"]},
                      {"user_id": users["town_huangge"]}, {"user_id": users["bureau_port"]},
                      {"phone": "13800138000"}, {"webhook": "http://127.0.0.1:9/robot"}]
        for etype in session.execute(select(EnterpriseType)).scalars():
            session.add(AlertSetting(type_id=etype.id, category=None, rule=RULES.get(etype.code, "3d2"),
                                     recipients=recipients, check_time="01:00", alert_time="09:00", active=True))
        session.commit()
        if session.get_bind().dialect.name == "postgresql":
            raw = db.engine.raw_connection()
            raw.driver_connection.autocommit = True
            raw.driver_connection.execute("VACUUM ANALYZE")
            raw.close()
        else:
            session.execute(text("ANALYZE"))
            session.commit()
        out["staff"] = session.execute(text("SELECT count(*) FROM staff")).scalar_one()
        out["test_daily"] = session.execute(text("SELECT count(*) FROM test_daily")).scalar_one()
    out["setup_s"] = round(time.perf_counter() - started, 1)
    return out


def bare_count(session, day) -> tuple[int, float]:
    """The ceiling: per setting, the people with fewer than N distinct sampling times in the
    window, straight from the records (one statement per setting)."""
    from sqlalchemy import text

    from app.domain import testing_rules as TR
    from models.rules import AlertSetting

    started = time.perf_counter()
    total = 0
    for setting in session.query(AlertSetting).all():
        rule = TR.rule_by_name(setting.rule)
        start, end = TR.window(rule, day, TZ)
        total += session.execute(text(
            "SELECT count(*) FROM staff s JOIN enterprise e ON e.id = s.enterprise_id WHERE e.type_id = :t "
            "AND (SELECT count(DISTINCT r.sampled_at) FROM test_record r WHERE r.id_key = s.id_key "
            "     AND r.sampled_at >= :start AND r.sampled_at < :end) < :n"),
            {"t": setting.type_id, "start": start, "end": end, "n": rule.n}).scalar_one()
    return total, time.perf_counter() - started


def _profiled(profiler, what: str, step):
    """``step()``, and with BENCH_PROFILE set its 30 costliest functions and its most
    frequent SQL statements on stderr."""
    if profiler is None:
        return step()
    from collections import Counter

    from sqlalchemy import event

    from app.platform.extensions import db

    statements: Counter = Counter()

    def count(conn, cursor, statement, *args):
        statements[" ".join(statement.split())[:110]] += 1

    event.listen(db.engine, "before_cursor_execute", count)
    profiler.enable()
    try:
        return step()
    finally:
        profiler.disable()
        event.remove(db.engine, "before_cursor_execute", count)
        print(f"--- {what}: {sum(statements.values())} statements", file=sys.stderr)
        for statement, n in statements.most_common(12):
            print(f"{n:7d}  {statement}", file=sys.stderr)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(30)
        profiler.clear()


def measure(url: str, instance: str, hash_key: str, secret: str) -> dict:
    """The child: a fresh process on the loaded database."""
    os.environ["SENTINEL_INSTANCE_DIR"] = instance
    from sqlalchemy import text

    from app import create_app
    from app.platform.clock import local_today
    from app.platform.extensions import db
    from app.services.rules.alerts import send_alerts
    from app.services.rules.evaluate import evaluate

    prefix = f"sentinel-bench-{base.RUN_ID}:"
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": base.REDIS_URL, "REDIS_PREFIX": prefix,
        "RATELIMIT_KEY_PREFIX": prefix + "limit", "QUEUE_NAME": prefix.rstrip(":"), "SECRET_KEY": secret,
        "ID_HASH_KEY": hash_key, "NOTIFY_CHANNEL": "outbox",
    })
    out = {}
    with app.app_context():
        day = local_today()
        session = db.session
        profiler = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
        t = time.perf_counter()
        checked = _profiled(profiler, "rules.evaluate", lambda: evaluate(session, day))
        out["evaluate_s"] = time.perf_counter() - t
        t = time.perf_counter()
        sent = _profiled(profiler, "rules.alerts", lambda: send_alerts(session, day))
        out["alerts_s"] = time.perf_counter() - t
        out["people"], out["broken"], out["messages"] = checked["people"], checked["broken"], sent["messages"]
        out["file_rows"] = session.execute(text(
            "SELECT count(*) FROM message WHERE idempotency_key LIKE 'rules.alert:%'")).scalar_one()
        out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        out["bare_broken"], out["bare_s"] = bare_count(session, day)
        session.rollback()
    return out


def _forget_results(app) -> None:
    """Back to the state before the measure: no results, runs or messages of the day."""
    from sqlalchemy import text

    from app.platform.extensions import db

    with app.app_context():
        for table in ("message", "rule_run", "compliance_result"):
            db.session.execute(text(f"DELETE FROM {table}"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def run_backend(backend: str, n_staff: int, n_records: int, repeat: int = 1) -> dict:
    """Load once, then measure ``repeat`` times (each in a fresh child on the same data);
    the run with the median end-to-end / bare ratio is reported, every run is kept."""
    with base.scratch_app(backend) as app:
        staff_s = bulk_load(app, n_staff)
        setup = load(app, n_records)
        setup["staff_load_s"] = round(staff_s, 1)
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        runs = []
        for _ in range(repeat):
            _forget_results(app)
            done = subprocess.run(
                [sys.executable, __file__, "--measure", url, os.environ["SENTINEL_INSTANCE_DIR"],
                 app.config["ID_HASH_KEY"], app.config["SECRET_KEY"]],
                stdout=subprocess.PIPE, text=True, check=True)
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    runs.sort(key=lambda r: (r["evaluate_s"] + r["alerts_s"]) / r["bare_s"] if r["bare_s"] else float("inf"))
    return {"backend": backend, "setup": setup, **runs[len(runs) // 2],
            "runs": [{k: round(r[k], 2) for k in ("evaluate_s", "alerts_s", "bare_s")} for r in runs]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staff", type=int, default=200_000)
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--sqlite-full", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="measures on the same data (median reported)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        try:
            print(json.dumps(measure(*args.measure)))
        finally:
            base.clean_redis()  # this child's deliveries (its own RUN_ID)
        return 0
    if args.child:
        try:
            print(json.dumps(run_backend(args.backends, args.staff, args.records, args.repeat), ensure_ascii=False))
        finally:
            base.clean_redis()
        return 0
    print(f"load average before: {os.getloadavg()}")
    ok = True
    for backend in args.backends.split(","):
        scale = 1 if backend == "postgresql" or args.sqlite_full else 4
        command = [sys.executable, __file__, "--staff", str(args.staff // scale), "--records",
                   str(args.records // scale), "--backends", backend, "--repeat", str(args.repeat), "--child"]
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        total = r["evaluate_s"] + r["alerts_s"]
        ratio = total / r["bare_s"] if r["bare_s"] else float("inf")
        print(f"\n{backend}: setup {r['setup']}")
        print("| step | seconds |\n|---|---:|")
        print(f"| rules.evaluate ({r['people']} people, {r['broken']} broken) | {r['evaluate_s']:.2f} |")
        print(f"| rules.alerts ({r['messages']} files and messages) | {r['alerts_s']:.2f} |")
        print(f"| end to end | {total:.2f} |")
        print(f"| bare SQL count ({r['bare_broken']} broken) | {r['bare_s']:.2f} |")
        print(f"end to end / bare = {ratio:.2f}; peak RSS of the measure {r['rss_mb']:.0f} MB")
        if len(r["runs"]) > 1:
            print(f"every run (the median one above): {r['runs']}")
        if r["bare_broken"] != r["broken"]:
            print(f"MISMATCH: the check found {r['broken']}, the bare count {r['bare_broken']}")
            ok = False
        if backend == "postgresql" and (total > TARGET_S or ratio > TARGET_RATIO or r["rss_mb"] > TARGET_RSS_MB):
            print(f"over target on PostgreSQL (< {TARGET_S} s, < {TARGET_RATIO}x bare, < {TARGET_RSS_MB} MB)")
    print(f"load average after: {os.getloadavg()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
