"""Benchmark: import and export of a 100,000-row staff workbook, end to end, on SQLite
and PostgreSQL, against bare reads and a bare write of the same data.

One generated workbook (XlsxWriter; the staff template's layout: note row, header with
(必填项) marks, then 100,000 people with valid ID check digits and phones — some typed
as numbers, as Excel users do — plus 100 rows whose ID has a wrong check digit, which
come back in the failure workbook). Then, per backend, in a child process:

* a fresh database (SQLite file / temporary PostgreSQL database), migrated, demo
  accounts and types, one 口岸企业 in 南沙街;
* the real app served by gunicorn (1 worker) and an RQ ``SimpleWorker``
  (``rq worker -w rq.worker.SimpleWorker``, the supervisor's command), both fresh;
* **import**: ``POST /api/v1/staff/import`` as ``town_nansha`` (JWT) → job id →
  ``GET /api/v1/jobs/<id>`` polled until finished → rows counted in the database.
  Timed from the first byte of the upload to the job's end as the worker recorded it
  (``job_record.finished_at``; status polled every 0.5 s); peak RSS (VmHWM) of the
  worker, the process doing the work. More than 2,000 new people get their health
  matching in a job of its own queued at the end: its time after the import is shown. Run twice: all new rows, then the same file
  again (every row an update), each with a fresh worker;
* **export**: ``GET /api/v1/staff/export`` as ``town_nansha`` (every person of the
  town: the 100,000 imported), timed to the last byte; peak RSS of the (fresh)
  gunicorn worker; the file is checked (row count, IDs and phones as text cells).

Each backend runs ``--repeat`` times (default 3; the staff are deleted before each new
run) and the fastest run of each step is reported with all the times: on a machine
shared with other work the fastest is the least disturbed. The worker logs the phases
of each import (read, clean, match, failures, write, after_write, commit), shown too.

Bare baselines, each in its own process: python-calamine and openpyxl read-only
reading every row of the upload (calamine best of 3); and XlsxWriter
``constant_memory`` writing the exported rows (read back from the export, untimed)
with ``write_row`` and the text format on the ID/phone columns: same rows, same
columns. Import is reported as a multiple of the fastest bare read, export of the
bare write.

    .venv/bin/python bench/bench_registry_io.py [--rows 100000] [--backends sqlite,postgresql] [--repeat 3]

Needs PostgreSQL (SENTINEL_TEST_PG) and Redis (SENTINEL_TEST_REDIS_URL) as the tests
do; its database and Redis keys are removed afterwards.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from app_processes import PHASES, Web, Worker, api, multipart, peak_rss_mb, stop  # noqa: E402
PG_ADMIN = os.environ.get("SENTINEL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("SENTINEL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RUN_ID = uuid.uuid4().hex[:8]
USER = "town_nansha"  # the town user who imports and exports (app_processes.Web.token)
BAD_ROWS = 100
TARGETS = {"import_s": 10.0, "import_x_read": 4.0, "export_x_write": 1.3, "rss_mb": 400.0}
HEADERS = ["姓名(必填项)", "证件类型(可选填)", "身份证号码(必填项)", "手机号码(必填项)", "工作人员种类(可选填)",
           "人员类别(可选填)", "居住类型(可选填)", "居住地址(可选填)"]
WORKER_KINDS = ["拆件或装卸等人员", "登轮作业人员", "引航员", "其他"]
CATEGORIES = ["高风险人员", "管理人员", "其他人员"]
RESIDENCES = ["集中居住", "分散居住"]
SURNAMES = "李王张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬斌宇浩凯鹏辉俊帅"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def check_digit(body: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS)) % 11]


# --- the workbook -------------------------------------------------------------------

def generate(path: Path, rows: int) -> int:
    """``rows`` valid people and BAD_ROWS with a wrong ID check digit, in the template's
    layout; returns the number of data rows written."""
    import xlsxwriter

    rng = random.Random(2026)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("人员信息")
    text = wb.add_format({"num_format": "@"})
    ws.write_string(0, 0, "注：请勿修改表头；带(必填项)的列必须填写；身份证号码、手机号码请以文本格式填写。")
    ws.write_row(1, 0, HEADERS)
    seen: set[str] = set()
    bad_at = set(rng.sample(range(rows + BAD_ROWS), BAD_ROWS))
    r = 2
    for i in range(rows + BAD_ROWS):
        while True:
            birth = date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 45))
            body = f"4401{rng.choice(('15', '13', '05', '06'))}{birth:%Y%m%d}{rng.randrange(1000):03d}"
            if body not in seen:
                seen.add(body)
                break
        digit = check_digit(body)
        if i in bad_at:
            digit = "0" if digit != "0" else "1"
        number = body + digit
        if digit == "X" and i % 2:
            number = body + "x"  # lowercase x, as typed
        phone = f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
        ws.write_string(r, 0, rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN))
        if i % 3 == 0:
            ws.write_string(r, 1, "居民身份证")
        ws.write_string(r, 2, number, text)
        if i % 4 == 0:
            ws.write_number(r, 3, int(phone))  # Excel turned it into a number
        else:
            ws.write_string(r, 3, phone, text)
        ws.write_string(r, 4, WORKER_KINDS[i % len(WORKER_KINDS)])
        ws.write_string(r, 5, CATEGORIES[i % len(CATEGORIES)])
        ws.write_string(r, 6, RESIDENCES[i % len(RESIDENCES)])
        ws.write_string(r, 7, f"广州市南沙区南沙街道进港大道{rng.randrange(1, 999)}号{rng.randrange(1, 30)}栋")
        r += 1
    wb.close()
    return rows + BAD_ROWS


# --- bare baselines (each in its own process) -----------------------------------------

def bare_calamine(path: str) -> int:
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(path)
    return sum(1 for _ in wb.get_sheet_by_index(0).iter_rows())


def bare_openpyxl(path: str) -> int:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    n = sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    return n


def bare_write(path: str) -> dict:
    """XlsxWriter constant_memory writing the rows of the export ``path`` (read first,
    untimed): same header, same rows, text format on the export's text columns."""
    import xlsxwriter
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_path(path).get_sheet_by_index(0)
    rows = [[None if v == "" else v for v in row] for row in sheet.iter_rows()]
    header, data = rows[0], rows[1:]
    text_cols = [i for i, h in enumerate(header) if h in ("手机号码", "证件号码", "负责人电话")]
    out = path + ".bare.xlsx"
    started = time.perf_counter()
    wb = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_numbers": False,
                                   "strings_to_formulas": False, "strings_to_urls": False})
    ws = wb.add_worksheet("人员信息")
    text = wb.add_format({"num_format": "@"})
    for col in text_cols:
        ws.set_column(col, col, 20, text)
    ws.write_row(0, 0, header)
    for r, row in enumerate(data, 1):
        ws.write_row(r, 0, row)
    wb.close()
    seconds = time.perf_counter() - started
    os.remove(out)
    return {"rows": len(data), "columns": len(header), "seconds": seconds}


BARE = {"calamine": bare_calamine, "openpyxl": bare_openpyxl, "write": bare_write}


def run_bare(name: str, path: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--bare", name, path], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bare_child(name: str, path: str) -> None:
    import openpyxl  # noqa: F401  (imports are not what is timed)
    import python_calamine  # noqa: F401
    import xlsxwriter  # noqa: F401

    started = time.perf_counter()
    result = BARE[name](path)
    seconds = time.perf_counter() - started
    if not isinstance(result, dict):
        result = {"rows": result, "seconds": seconds}
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


POLL_S = 0.5  # how often the bench asks for the job's status (the import page asks every second)


def import_once(env, logs, workbook: Path, enterprise_id: int, url: str) -> dict:
    web, worker = Web(env, logs / "web.log"), Worker(env, logs / "worker.log")
    try:
        token = web.token()
        content = workbook.read_bytes()
        body, ctype = multipart({"enterprise_id": enterprise_id}, "人员导入.xlsx", content)
        started, started_at = time.perf_counter(), utcnow()
        job_id = api(web, token, "/api/v1/staff/import", body, ctype)["job_id"]
        queued = time.perf_counter() - started
        status = wait_for(web, token, job_id)
        assert status["status"] == "finished", status
        # The end as the worker recorded it: polling every 50 ms to catch it would take
        # CPU from the import on a 2-core machine; polling every 0.5 s would round it up.
        seconds = job_seconds(url, job_id, started_at)
        rss = worker.peak_mb()
        matching = None  # many new people: their health matching is a job of its own, right after
        if status["result"].get("health_job"):
            health_id = status["result"]["health_job"]
            assert wait_for(web, token, health_id)["status"] == "finished"
            matching = job_seconds(url, health_id, started_at) - seconds
        stop(worker.proc)
        phases = PHASES.findall(worker.log.read_text())
        return {"seconds": seconds, "upload_request_s": queued, "worker_rss_mb": rss, "health_job_s": matching,
                "web_rss_mb": peak_rss_mb(web.worker_pid()), "result": status["result"],
                "phases": phases[-1] if phases else ""}
    finally:
        stop(worker.proc)
        stop(web.proc)


def utcnow():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).replace(tzinfo=None)


def wait_for(web, token, job_id: str) -> dict:
    while True:
        status = api(web, token, f"/api/v1/jobs/{job_id}")
        if status["status"] in ("finished", "failed"):
            return status
        time.sleep(POLL_S)


def job_seconds(url: str, job_id: str, started_at) -> float:
    """Seconds from ``started_at`` (naive UTC) to the job record's ``finished_at``."""
    from datetime import datetime

    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        finished = conn.execute(text("SELECT finished_at FROM job_record WHERE id = :id"), {"id": job_id}).scalar_one()
    engine.dispose()
    if isinstance(finished, str):  # SQLite
        finished = datetime.fromisoformat(finished)
    return (finished - started_at).total_seconds()


def export_once(env, logs, target: Path) -> dict:
    web = Web(env, logs / "web.log")
    try:
        token = web.token()
        request = urllib.request.Request(web.url + "/api/v1/staff/export", headers={"Authorization": f"Bearer {token}"})
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=600) as response, target.open("wb") as out:
            shutil.copyfileobj(response, out, 1 << 20)
            rows = int(response.headers["X-Export-Rows"])
        seconds = time.perf_counter() - started
        return {"seconds": seconds, "rows": rows, "web_rss_mb": peak_rss_mb(web.worker_pid()),
                "mb": target.stat().st_size / 2**20}
    finally:
        stop(web.proc)


def check_export(path: Path, expected_rows: int) -> dict:
    """Row count, and IDs and phones stored as text (never numbers)."""
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    header, data = rows[0], rows[1:]
    id_col, phone_col = header.index("证件号码"), header.index("手机号码")
    assert len(data) == expected_rows, (len(data), expected_rows)
    assert all(isinstance(r[id_col], str) and len(r[id_col]) == 18 for r in data), "IDs not text"
    assert all(isinstance(r[phone_col], str) and len(r[phone_col]) == 11 for r in data), "phones not text"
    return {"columns": len(header)}


# --- one backend ----------------------------------------------------------------------

def setup(url: str, instance: Path, env: dict) -> int:
    """Migrate, demo accounts and types, one 口岸企业 in 南沙街; returns its id."""
    os.environ.update(env)
    from flask_migrate import upgrade
    from sqlalchemy import select

    from app import create_app
    from app.cli.demo import load_demo
    from app.platform.extensions import db
    from models.enterprise_types import EnterpriseType
    from models.enterprises import Enterprise
    from models.regions import Town

    app = create_app()
    with app.app_context():
        upgrade()
        load_demo(enterprises=0)
        town = db.session.execute(select(Town).where(Town.name == "南沙街")).scalar_one()
        etype = db.session.execute(select(EnterpriseType).where(EnterpriseType.code == "port")).scalar_one()
        e = Enterprise(name="南沙压测口岸企业", type_id=etype.id, town_id=town.id, address="广州市南沙区压测路1号",
                       head_name="王五", head_phone="13700000000", extras={})
        db.session.add(e)
        db.session.commit()
        eid = e.id
        db.session.remove()
        db.engine.dispose()
    return eid


def count_staff(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM staff")).scalar_one()
    engine.dispose()
    return n


def delete_staff(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM staff"))
        conn.execute(text("DELETE FROM health_summary"))
    engine.dispose()


def best(runs: list[dict]) -> dict:
    """The fastest run (the least disturbed on a shared machine), with every time kept."""
    top = dict(min(runs, key=lambda r: r["seconds"]))
    top["all_seconds"] = [round(r["seconds"], 2) for r in runs]
    return top


def run_backend(backend: str, workbook: Path, rows: int, repeat: int = 1) -> dict:
    import psycopg

    tmp = Path(tempfile.mkdtemp(prefix="sentinel-bench-io-"))
    db_name = f"sentinel_bench_io_{RUN_ID}"
    if backend == "postgresql":
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db_name}"')
        url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{db_name}"
    else:
        url = f"sqlite:///{tmp / 'bench.db'}"
    prefix = f"sentinel-bench-io-{RUN_ID}"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DATABASE_URL=url, REDIS_URL=REDIS_URL, REDIS_PREFIX=prefix + ":", QUEUE_NAME=prefix,
               SENTINEL_INSTANCE_DIR=str(tmp / "instance"), SECRET_KEY="bench-" + uuid.uuid4().hex,
               ID_HASH_KEY="bench-hash-" + uuid.uuid4().hex, IMPORT_MAX_ROWS=str(rows * 2),
               AUTH_RATE_LIMIT="1000 per minute", PYTHONDONTWRITEBYTECODE="1")
    logs = tmp / "logs"
    logs.mkdir()
    try:
        eid = setup(url, tmp / "instance", env)
        news, agains, exports, writes = [], [], [], []
        for n in range(repeat):
            if n:
                delete_staff(url)
            news.append(import_once(env, logs, workbook, eid, url))
            stored = count_staff(url)
            agains.append(import_once(env, logs, workbook, eid, url))
            export_path = tmp / "export.xlsx"
            export = export_once(env, logs, export_path)
            export.update(check_export(export_path, stored))
            exports.append(export)
            writes.append(run_bare("write", str(export_path)))
        return {"backend": backend, "stored": stored, "import_new": best(news), "import_update": best(agains),
                "export": best(exports), "bare_write": best(writes)}
    except Exception:
        for log in sorted(logs.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text()[-4000:]}", file=sys.stderr)
        raise
    finally:
        if backend == "postgresql":
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        clean_redis(prefix)
        shutil.rmtree(tmp, ignore_errors=True)


def clean_redis(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for pattern in (f"{prefix}*", f"rq:*{prefix}*"):
        for key in client.scan_iter(match=pattern, count=1000):
            client.delete(key)


# --- report ---------------------------------------------------------------------------

def report(reads: dict, results: list[dict]) -> list[str]:
    fastest = min(reads["calamine"]["seconds"], reads["openpyxl"]["seconds"])
    print(f"\nbare reads of the upload (fastest of {len(reads['calamine']['all_seconds'])} / "
          f"{len(reads['openpyxl']['all_seconds'])}): python-calamine {reads['calamine']['seconds']:.2f} s "
          f"({reads['calamine']['rss_mb']:.0f} MB), openpyxl read-only {reads['openpyxl']['seconds']:.2f} s "
          f"({reads['openpyxl']['rss_mb']:.0f} MB)")
    print("\n| backend | step | seconds | × baseline | peak RSS MB (worker / web) | result |")
    print("|---|---|---:|---:|---:|---|")
    missed = []
    for res in results:
        b = res["backend"]
        for label, key in (("import, new rows", "import_new"), ("import, all updates", "import_update")):
            r = res[key]
            x = r["seconds"] / fastest
            out = r["result"]
            print(f"| {b} | {label} | {r['seconds']:.2f} ({', '.join(map(str, r['all_seconds']))}) | {x:.1f}× read | "
                  f"{r['worker_rss_mb']:.0f} / {r['web_rss_mb']:.0f} | created {out['created']}, updated "
                  f"{out['updated']}, failed {out['failed']}; upload request {r['upload_request_s']:.2f} s; "
                  f"worker: {r['phases']}"
                  + (f"; then the health matching job {r['health_job_s']:.2f} s" if r.get("health_job_s") else "")
                  + " |")
            if b == "postgresql" and key == "import_new":
                if r["seconds"] >= TARGETS["import_s"]:
                    missed.append(f"import {r['seconds']:.1f} s ≥ {TARGETS['import_s']} s")
                if x > TARGETS["import_x_read"]:
                    missed.append(f"import {x:.1f}× the fastest read > {TARGETS['import_x_read']}×")
                if r["worker_rss_mb"] >= TARGETS["rss_mb"]:
                    missed.append(f"import worker {r['worker_rss_mb']:.0f} MB")
        e, w = res["export"], res["bare_write"]
        x = e["seconds"] / w["seconds"]
        print(f"| {b} | export {e['rows']} rows × {e['columns']} columns | {e['seconds']:.2f} "
              f"({', '.join(map(str, e['all_seconds']))}) | {x:.2f}× write | "
              f"– / {e['web_rss_mb']:.0f} | {e['mb']:.1f} MiB |")
        print(f"| {b} | bare XlsxWriter write, same rows | {w['seconds']:.2f} ({', '.join(map(str, w['all_seconds']))})"
              f" | 1 | {w['rss_mb']:.0f} (holds "
              f"the rows) | |")
        if b == "postgresql":
            if x > TARGETS["export_x_write"]:
                missed.append(f"export {x:.2f}× the bare write > {TARGETS['export_x_write']}×")
            if e["web_rss_mb"] >= TARGETS["rss_mb"]:
                missed.append(f"export web worker {e['web_rss_mb']:.0f} MB")
    return missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=3, help="runs per backend; the fastest of each is reported")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--workbook", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_backend(args.child, Path(args.workbook), args.rows, args.repeat), ensure_ascii=False))
        return 0
    with tempfile.TemporaryDirectory(prefix="sentinel-bench-io-") as tmp:
        workbook = Path(tmp) / "staff.xlsx"
        started = time.perf_counter()
        n = generate(workbook, args.rows)
        print(f"generated {n} rows ({BAD_ROWS} with a bad ID) in {time.perf_counter() - started:.1f} s, "
              f"{workbook.stat().st_size / 2**20:.1f} MiB")
        reads = {"calamine": best([run_bare("calamine", str(workbook)) for _ in range(max(3, args.repeat))]),
                 "openpyxl": best([run_bare("openpyxl", str(workbook)) for _ in range(args.repeat)])}
        results = []
        for backend in args.backends.split(","):
            done = subprocess.run([sys.executable, __file__, "--child", backend, "--workbook", str(workbook),
                                   "--rows", str(args.rows), "--repeat", str(args.repeat)],
                                  stdout=subprocess.PIPE, text=True, check=True)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        missed = report(reads, results)
        print("\n" + json.dumps({"reads": reads, "results": results}, ensure_ascii=False))
        if missed:
            print("\nPostgreSQL targets missed: " + "; ".join(missed))
        else:
            print("\nPostgreSQL targets met: import < 10 s and ≤ 4× the fastest bare read, export ≤ 1.3× the "
                  "bare write, peak RSS < 400 MB")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--bare":
        bare_child(sys.argv[2], sys.argv[3])
    else:
        sys.exit(main())
