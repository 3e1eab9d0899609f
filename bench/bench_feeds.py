"""Benchmark: ingest of 1,000,000 test records through the real HTTP API, on SQLite and
PostgreSQL, in 100,000-row batches; and, on PostgreSQL, a bare COPY of the same rows
into an unindexed table (the limit), and COPYs of them as stored into tables with
``test_record``'s two indexes, or one of them (``INDEXED_TABLES``: what the idempotency
and the per-person history cost PostgreSQL alone).

For each backend, in a process of its own: a fresh database, migrated, demo accounts,
200,000 staff bulk-loaded (``staff_data``) and keyed (``keys.rekey``, timed); then
gunicorn (``run:create_app()``, ``--workers`` workers) is started on that database and
the ``feed`` account posts the batches as JSON (``--format csv`` for CSV) one after
the other. The people tested are the 200,000 staff and 800,000 others (a city feed:
mostly people who are not registered staff). Reported: seconds and rows/s per batch
and in total (request bodies are made before the clock starts), the peak RSS of the
gunicorn workers, and the counts the API answered. A second pass re-sends the first
batch (all duplicates).

    .venv/bin/python bench/bench_feeds.py [--records 1000000] [--batch 100000] [--staff 200000]
        [--backends sqlite,postgresql] [--workers 1] [--concurrency 1] [--format json|csv] [--verbose]

Needs PostgreSQL (SENTINEL_TEST_PG) and Redis (SENTINEL_TEST_REDIS_URL) as for tests.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import health_data as H  # noqa: E402

PG_ADMIN = os.environ.get("SENTINEL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("SENTINEL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RUN_ID = uuid.uuid4().hex[:8]
PASSWORD = "Sentinel#2026"
HASH_KEY = "bench-hash-" + RUN_ID + "-0123456789"
TARGET_ROWS_S, TARGET_COPY_SHARE = 100_000, 0.40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_env(url: str, instance: Path) -> dict:
    prefix = f"sentinel-bench-{RUN_ID}:"
    return {**os.environ, "DATABASE_URL": url, "REDIS_URL": REDIS_URL, "REDIS_PREFIX": prefix,
            "QUEUE_NAME": prefix.rstrip(":"), "SECRET_KEY": "bench-secret-" + RUN_ID, "ID_HASH_KEY": HASH_KEY,
            "SENTINEL_INSTANCE_DIR": str(instance), "AUTH_RATE_LIMIT": "1000 per minute"}


def prepare(url: str, instance: Path, n_staff: int) -> tuple[list[str], dict]:
    """Migrated database, demo accounts, ``n_staff`` keyed staff; returns their numbers."""
    os.environ.update(app_env(url, instance))
    from flask_migrate import upgrade
    from sqlalchemy import select

    from app import create_app
    from app.cli.demo import load_demo
    from app.platform.extensions import db
    from app.services.health.feeds.keys import rekey
    from models.staff import Staff
    from staff_data import bulk_load

    app = create_app({"SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://", 1)})
    with app.app_context():
        upgrade()
        load_demo(enterprises=0)
    timings = {"staff_load_s": round(bulk_load(app, n_staff), 1)}
    with app.app_context():
        started = time.perf_counter()
        result = rekey(db.session, chunk=10_000)
        timings["rekey_s"] = round(time.perf_counter() - started, 1)
        timings["rekeyed"] = result["changed"]
        numbers = list(db.session.execute(select(Staff.id_number)).scalars())
        db.session.remove()
        db.engine.dispose()
    return numbers, timings


def start_server(url: str, instance: Path, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = app_env(url, instance)
    instance.mkdir(parents=True, exist_ok=True)
    conf = instance / "gunicorn_bench.py"  # the ingest's own log line (steps in seconds) to the log file
    conf.write_text("import logging, sys\n"
                    "def post_worker_init(worker):\n"
                    "    log = logging.getLogger('app.services.health.feeds.ingest')\n"
                    "    log.setLevel(logging.INFO)\n"
                    "    log.addHandler(logging.StreamHandler(sys.stderr))\n")
    log = open(instance / "gunicorn.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(conf), "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--timeout", "300", "--chdir", str(ROOT), "run:create_app()"],
        cwd=str(ROOT), env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server, port
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("gunicorn did not start: " + (instance / "gunicorn.log").read_text()[-2000:])


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def peak_rss_mb(pids: list[int]) -> float:
    peak = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            continue
    return round(peak / 1024, 1)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds consumed so far by ``pids`` (those still alive)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            continue
    return total / tick


def backend_pids(url: str) -> list[int]:
    """PostgreSQL server processes of the benchmark database (the app's connections)."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        return [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,))]


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def token(port: int) -> str:
    status, data = request(port, "POST", "/api/v1/security/login",
                           json.dumps({"username": "feed", "password": PASSWORD, "provider": "db"}).encode(),
                           {"Content-Type": "application/json"})
    assert status == 200, data[:300]
    return json.loads(data)["access_token"]


def bodies(numbers: list[str], n: int, batch: int, fmt: str) -> list[bytes]:
    people = numbers + H.id_numbers(4 * len(numbers) or n, seed=11)  # staff are 1 in 5 of those tested
    rows = H.test_records(people, n, days=14, seed=12)
    encode = H.as_csv if fmt == "csv" else H.as_json
    return [encode(rows[i:i + batch]) for i in range(0, n, batch)]


def bare_copy(url: str, payloads: list[bytes], fmt: str) -> dict:
    """COPY of the same rows (as the feed sent them) into an unindexed table."""
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE bench_copy (id_number varchar(32), sampled_at timestamp, tested_at timestamp, "
                     "result varchar(8), institution varchar(100))")
        conn.commit()
        texts = []
        for payload in payloads:  # the same rows as COPY text, made before the clock starts
            rows = json.loads(payload) if fmt == "json" else None
            if rows is None:
                import csv
                import io
                rows = list(csv.DictReader(io.StringIO(payload.decode())))
            texts.append("".join(f"{r['id_number']}\t{r['sampled_at']}\t{r.get('tested_at') or chr(92) + 'N'}\t"
                                 f"{r['result']}\t{r['institution']}\n" for r in rows))
        started = time.perf_counter()
        count = 0
        with conn.cursor() as cur:
            for text in texts:
                with cur.copy("COPY bench_copy FROM STDIN") as copy:
                    copy.write(text)
                count += text.count("\n")
        conn.commit()
        seconds = time.perf_counter() - started
        conn.execute("TRUNCATE bench_copy")
        conn.commit()
        # the same, row by row from Python tuples (what a Python client pays to send them)
        tuples = [tuple(line.split("\t")) for text in texts for line in text.splitlines()]
        tuples = [t[:2] + (None if t[2] == "\\N" else t[2],) + t[3:] for t in tuples]
        started = time.perf_counter()
        with conn.cursor() as cur:
            with cur.copy("COPY bench_copy FROM STDIN") as copy:
                for row in tuples:
                    copy.write_row(row)
        conn.commit()
        from_python = time.perf_counter() - started
        conn.execute("DROP TABLE bench_copy")
        conn.commit()
        indexed = {name: indexed_copy(conn, tuples, ddl) for name, ddl in INDEXED_TABLES.items()}
    return {"rows": count, "seconds": round(seconds, 2), "rows_s": round(count / seconds),
            "write_row_seconds": round(from_python, 2), "write_row_rows_s": round(count / from_python),
            "indexed": {name: {"seconds": round(t, 2), "rows_s": round(count / t)} for name, t in indexed.items()}}


# The stored rows COPY'd into plain tables with these indexes: what PostgreSQL alone needs
# to keep the records idempotent and findable per person, before any summary.
INDEXED_TABLES = {
    "test_record's two indexes": ("PRIMARY KEY (sampled_at, identity)", "(id_key, sampled_at)"),
    "the idempotency key alone (sampled first)": ("PRIMARY KEY (sampled_at, identity)",),
    "one key for both (person first)": ("PRIMARY KEY (id_key, sampled_at, identity)",),
}


def indexed_copy(conn, tuples: list[tuple], ddl: tuple[str, ...]) -> float:
    """Seconds to COPY the rows, as stored (32-character identity, 43-character key),
    into a plain table with the primary key ``ddl[0]`` and the indexes ``ddl[1:]``."""
    import base64
    import hashlib

    def stored(row: tuple) -> str:
        number, sampled, tested, result, institution = row
        key = base64.urlsafe_b64encode(hashlib.sha256(number.encode()).digest()).decode().rstrip("=")
        identity = hashlib.md5(f"{key}|{sampled}|{institution}".encode()).hexdigest()
        return f"{identity}\t{sampled}\t{key}\t{tested or chr(92) + 'N'}\t{result}\t{institution}\n"

    body = "".join(stored(row) for row in tuples)
    conn.execute("CREATE TABLE bench_copy_indexed (identity varchar(32), sampled_at timestamp, id_key varchar(43), "
                 f"tested_at timestamp, result varchar(8), institution varchar(100), {ddl[0]})")
    for columns in ddl[1:]:
        conn.execute(f"CREATE INDEX ON bench_copy_indexed {columns}")
    conn.commit()
    started = time.perf_counter()
    with conn.cursor() as cur:
        with cur.copy("COPY bench_copy_indexed FROM STDIN") as copy:
            copy.write(body)
    conn.commit()
    seconds = time.perf_counter() - started
    conn.execute("DROP TABLE bench_copy_indexed")
    conn.commit()
    return seconds


def run_backend(backend: str, args) -> dict:
    import psycopg

    tmp = Path(tempfile.mkdtemp(prefix="sentinel-bench-feeds-"))
    db_name = f"sentinel_bench_feeds_{RUN_ID}"
    if backend == "postgresql":
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db_name}"')
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{db_name}"
    else:
        url = f"sqlite:///{tmp / 'bench.db'}"
    server = None
    try:
        numbers, timings = prepare(url, tmp / "instance", args.staff)
        payloads = bodies(numbers, args.records, args.batch, args.format)
        server, port = start_server(url, tmp / "instance", args.workers)
        headers = {"Authorization": f"Bearer {token(port)}",
                   "Content-Type": "text/csv" if args.format == "csv" else "application/json"}
        request(port, "POST", "/api/v1/feeds/tests", b"[]", headers)  # warm-up: imports, connections
        batches, totals = [], {"received": 0, "stored": 0, "duplicates": 0, "rejected": 0}

        def post(payload: bytes) -> None:
            t0 = time.perf_counter()
            status, data = request(port, "POST", "/api/v1/feeds/tests", payload, headers)
            seconds = time.perf_counter() - t0
            assert status == 200, data[:500]
            answer = json.loads(data)
            for k in totals:
                totals[k] += answer[k] if k != "rejected" else answer["rejected_count"]
            batches.append({"seconds": round(seconds, 2), "rows_s": round(answer["received"] / seconds)})

        app_pids = worker_pids(server.pid)
        db_pids = backend_pids(url) if backend == "postgresql" else []
        cpu_before = cpu_seconds(app_pids), cpu_seconds(db_pids)
        started = time.perf_counter()
        if args.concurrency > 1:  # several clients at once, each posting its share of the batches
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(args.concurrency) as pool:
                list(pool.map(post, payloads))
        else:
            for payload in payloads:
                post(payload)
        total = time.perf_counter() - started
        per = 100_000 / args.records
        cpu = {"app_s_per_100k": round((cpu_seconds(app_pids) - cpu_before[0]) * per, 2),
               "db_s_per_100k": round((cpu_seconds(db_pids) - cpu_before[1]) * per, 2)}
        t0 = time.perf_counter()
        status, data = request(port, "POST", "/api/v1/feeds/tests", payloads[0], headers)
        resend = {"seconds": round(time.perf_counter() - t0, 2), **{k: json.loads(data)[k] for k in
                                                                      ("stored", "duplicates")}}
        result = {"backend": backend, **timings, "records": args.records, "batch": args.batch,
                  "format": args.format, "workers": args.workers, "concurrency": args.concurrency,
                  "seconds": round(total, 1), "cpu": cpu,
                  "rows_s": round(args.records / total), "batches": batches, "totals": totals,
                  "resend_first_batch": resend, "peak_rss_mb": peak_rss_mb(worker_pids(server.pid)),
                  "body_mb": round(sum(len(p) for p in payloads) / len(payloads) / 1e6, 1)}
        result["log"] = [line for line in (tmp / "instance" / "gunicorn.log").read_text().splitlines()
                         if line.startswith("feed ")]
        if backend == "postgresql":
            result["bare_copy"] = bare_copy(url, payloads, args.format)
        return result
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(30)
        if backend == "postgresql":
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)


def clean_redis() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"*sentinel-bench-{RUN_ID}*", count=1000):
        client.delete(key)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--staff", type=int, default=200_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--format", choices=("json", "csv"), default="json")
    parser.add_argument("--concurrency", type=int, default=1,
                        help="clients posting at the same time (use with --workers of at least as many)")
    parser.add_argument("--verbose", action="store_true", help="print the server's log line of each batch")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        try:
            print(json.dumps(run_backend(args.backends, args), ensure_ascii=False))
        finally:
            clean_redis()
        return 0
    results = []
    for backend in args.backends.split(","):
        cmd = [sys.executable, __file__, "--child", "--backends", backend, "--records", str(args.records),
               "--batch", str(args.batch), "--staff", str(args.staff), "--workers", str(args.workers),
               "--format", args.format, "--concurrency", str(args.concurrency)]
        done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
        result = json.loads(done.stdout.strip().split("\n")[-1])
        results.append(result)
        print(f"\n{backend}: {result['records']:,} records in {result['seconds']} s = {result['rows_s']:,} rows/s "
              f"({result['format']}, {result['body_mb']} MB per batch, {result['workers']} worker(s), "
              f"{result['concurrency']} client(s), peak worker RSS {result['peak_rss_mb']} MB; "
              f"staff load {result['staff_load_s']} s, rekey {result['rekey_s']} s)")
        print("batches (s): " + ", ".join(str(b["seconds"]) for b in result["batches"]))
        print(f"CPU per 100,000 rows: app {result['cpu']['app_s_per_100k']} s, "
              f"database {result['cpu']['db_s_per_100k']} s")
        print(f"totals: {result['totals']}; re-sent first batch: {result['resend_first_batch']}")
        if args.verbose:
            print("\n".join(result["log"]))
        if "bare_copy" in result:
            copy = result["bare_copy"]
            share = result["rows_s"] / copy["rows_s"]
            print(f"bare COPY: {copy['rows']:,} rows in {copy['seconds']} s = {copy['rows_s']:,} rows/s; "
                  f"API ingest = {share:.0%} of it (target ≥ {TARGET_COPY_SHARE:.0%}, ≥ {TARGET_ROWS_S:,} rows/s)")
            print(f"bare COPY row by row from Python (psycopg write_row): {copy['write_row_rows_s']:,} rows/s; "
                  f"API ingest = {result['rows_s'] / copy['write_row_rows_s']:.0%} of it")
            for name, indexed in copy["indexed"].items():
                print(f"COPY of the stored rows into a table with {name}: {indexed['rows_s']:,} rows/s = "
                      f"{indexed['rows_s'] / copy['rows_s']:.0%} of the bare COPY")
    print("\n" + json.dumps(results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
