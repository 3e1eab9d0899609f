"""Benchmark (issue 15): the checkpoint under load — scan then decide on fresh passes,
50 concurrent clients for 60 s, on PostgreSQL, with the production server settings
(gunicorn as the Procfile and ``python run.py`` start it: ``-w $WEB_WORKERS`` sync
workers — unset: gunicorn's recommended (2 x CPUs) + 1, as ``app.platform.supervisor.web_workers``
computes it — ``--timeout 120``), beside a trivial endpoint of the same server as the ceiling,
in one run.

Setup (not measured): a fresh PostgreSQL database migrated with the demo data, and
``--passes`` bookings with their passes made through the booking service (a third by
drivers of the demo's freight enterprises, so scans match staff and health records).

Measured, in this order, against one gunicorn started as in production:

1. the ceiling: ``GET /api/v1/checkpoint/keys`` (the public keys: no database) by the same
   50 clients for half of ``--ceiling-seconds`` (default 20);
2. the flow: each client takes the next code and POSTs ``/api/v1/checkpoint/scan`` then
   ``/api/v1/checkpoint/decide`` (allow, or deny with a reason), for ``--seconds`` (60).
   Every code is handed out twice, to two clients at once, so every pass is raced: one
   decision must win, the other scan or decision must answer 409;
3. the ceiling again for the other half: the ceiling brackets the flow, so a machine
   whose speed drifts during the run (a shared host) moves both alike; the share is
   taken against the two halves together, and each half's rate is reported.

Reported: requests/s and p50/p95/p99 of each, the flow's share of the ceiling, the CPU a
request took per kind of process (web server, PostgreSQL, Redis, this client), and the
passes consumed twice (two decisions answered 200 for one code, or a pass row whose
state disagrees with the winning answer). The client is asyncio with one short-lived
connection per request (gunicorn's sync workers close every connection).

    .venv/bin/python bench/bench_checkpoint.py [--clients 50] [--seconds 60] [--passes 12000]

Targets: p95 < 100 ms, at least a third of the ceiling's throughput, zero double-consumed passes.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from app_processes import forget_redis, free_port, stop  # noqa: E402

PG_ADMIN = os.environ.get("SENTINEL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("SENTINEL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "Sentinel#2026"
REASONS = ["健康码黄码", "健康码红码", "无核酸证明", "核酸超时", "其他"]
TARGET_P95_MS, TARGET_SHARE = 100, 1 / 3


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def create_database() -> tuple[str, str]:
    import psycopg

    name = f"sentinel_bench_checkpoint_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare(env: dict, passes: int) -> list[str]:
    """Migrate, load the demo data, make ``passes`` bookings; their codes."""
    os.environ.update(env)
    from flask_migrate import upgrade
    from sqlalchemy import select

    from app import create_app
    from app.cli.demo import load_demo
    from app.domain import checkpoint as CP
    from app.domain import pass_tokens as PT
    from app.platform.extensions import db
    from app.platform.pass_keys import keyring
    from app.services.drivers import bookings
    from app.services.health.feeds.keys import phone_key, staff_keys
    from models.drivers import Booking, Pass
    from models.enterprise_types import EnterpriseType
    from models.enterprises import Enterprise
    from models.regions import Town
    from models.staff import Staff
    from stdnum.cn import ric

    app = create_app({"BOOKING_RATE_LIMIT": "1000000 per minute"})
    rng = random.Random(15)
    with app.app_context():
        upgrade()
        load_demo()
        session = db.session
        freight = session.execute(select(EnterpriseType).where(EnterpriseType.code == "freight")).scalar_one()
        drivers = session.execute(select(Staff).join(Enterprise).where(Enterprise.type_id == freight.id)).scalars().all()
        towns = session.execute(select(Town)).scalars().all()
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        ring = keyring()
        codes = []
        batch = []
        for i in range(passes):
            staff = drivers[i % len(drivers)] if drivers and i % 3 == 0 else None
            if staff is not None:
                number = staff.id_number
            else:
                body = f"440115{rng.randrange(1960, 2000)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}" \
                       f"{rng.randrange(0, 1000):03d}"
                number = body + ric.calc_check_digit(body + "0")
            phone = f"17{rng.randrange(10**8, 10**9):09d}"
            town = rng.choice(towns)
            arrival = now + timedelta(hours=2)
            booking = Booking(
                driver_name="李某某", id_type="居民身份证", id_number=number, id_key=staff_keys(number)[0],
                phone=phone, phone_key=phone_key(phone), plate_number=f"粤A{10000 + i % 90000}", origin="广州市天河区",
                destination_town_id=town.id, destination_address="测试路1号", expected_arrival=arrival,
                enterprise_id=staff.enterprise_id if staff else None, staff_id=staff.id if staff else None,
                scope_town_id=staff.enterprise.town_id if staff else town.id, freight_type_id=freight.id)
            token_id = PT.new_token_id()
            booking.pass_ = Pass(token_id=token_id, key_id=ring.current_id, expires_at=arrival + timedelta(hours=24),
                                 state=CP.PENDING)
            codes.append(ring.issue(token_id, arrival + timedelta(hours=24)))
            batch.append(booking)
            if len(batch) == 1000:
                session.add_all(batch)
                session.commit()
                batch = []
        session.add_all(batch)
        session.commit()
        # one booking through the real service, so the path the public page takes is exercised
        with app.test_request_context():
            bookings.create_booking({
                "driver_name": "王某某", "id_number": "44011519900101123" + ric.calc_check_digit("440115199001011230"), "phone": "17000000000", "plate_number": "粤B12345D",
                "origin": "广州", "destination_town": towns[0].name, "destination_address": "测试路",
                "expected_arrival": (datetime.now(timezone.utc) + timedelta(hours=3)).isoformat()})
        db.session.remove()
        db.engine.dispose()
    return codes


async def request(port: int, method: str, path: str, token: str | None = None, body: dict | None = None):
    """One HTTP/1.1 request on a fresh connection: (status, parsed JSON or None, seconds)."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    payload = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
    head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close",
            f"Content-Length: {len(payload)}"]
    if body is not None:
        head.append("Content-Type: application/json")
    if token:
        head.append(f"Authorization: Bearer {token}")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
    await writer.drain()
    raw = await reader.read()
    writer.close()
    elapsed = time.perf_counter() - started
    status_line, _, rest = raw.partition(b"\r\n")
    status = int(status_line.split()[1])
    _, _, content = rest.partition(b"\r\n\r\n")
    try:
        parsed = json.loads(content) if content else None
    except ValueError:
        parsed = None
    return status, parsed, elapsed


async def ceiling(port: int, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    statuses: Counter = Counter()
    deadline = time.perf_counter() + seconds

    async def client():
        while time.perf_counter() < deadline:
            status, _, elapsed = await request(port, "GET", "/api/v1/checkpoint/keys")
            statuses[status] += 1
            latencies.append(elapsed)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return {"seconds": time.perf_counter() - started, "latencies": latencies, "statuses": statuses}


async def flow(port: int, token: str, codes: list[str], clients: int, seconds: float) -> dict:
    """Each code handed to two clients at once; scan then decide."""
    queue: asyncio.Queue = asyncio.Queue()
    for code in codes:
        queue.put_nowait(code)
        queue.put_nowait(code)
    latencies: dict[str, list[float]] = defaultdict(list)
    statuses: dict[str, Counter] = defaultdict(Counter)
    wins: Counter = Counter()
    winner_state: dict[str, str] = {}
    deadline = time.perf_counter() + seconds
    errors: list = []

    async def client(n: int):
        rng = random.Random(n)
        while time.perf_counter() < deadline:
            try:
                code = queue.get_nowait()
            except asyncio.QueueEmpty:
                errors.append("ran out of passes")
                return
            status, _, elapsed = await request(port, "POST", "/api/v1/checkpoint/scan", token, {"code": code})
            statuses["scan"][status] += 1
            latencies["scan"].append(elapsed)
            if status != 200:
                continue
            allow = rng.random() < 0.8
            status, answer, elapsed = await request(port, "POST", "/api/v1/checkpoint/decide", token, {
                "code": code, "allow": allow, "reason": None if allow else rng.choice(REASONS)})
            statuses["decide"][status] += 1
            latencies["decide"].append(elapsed)
            if status == 200:
                wins[code] += 1
                winner_state[code] = answer["state"]
            elif status != 409:
                errors.append((status, answer))

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    return {"seconds": time.perf_counter() - started, "latencies": latencies, "statuses": statuses,
            "wins": wins, "winner_state": winner_state, "errors": errors}


def cpu_by_process(web_pid: int) -> dict[str, float]:
    """CPU seconds used so far, per kind of process on this machine: the web server (the
    gunicorn master and its workers), PostgreSQL's, Redis, this client and the rest."""
    tick = os.sysconf("SC_CLK_TCK")
    out: Counter = Counter()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        ppid, seconds = int(fields[1]), (int(fields[11]) + int(fields[12])) / tick
        pid = int(entry)
        if pid == web_pid or ppid == web_pid:
            kind = "web"
        elif name.startswith("postgres"):
            kind = "postgresql"
        elif name.startswith("redis"):
            kind = "redis"
        elif pid == os.getpid():
            kind = "client"
        else:
            kind = "other"
        out[kind] += seconds
    return dict(out)


def login(port: int, username: str) -> str:
    import urllib.request

    data = json.dumps({"username": username, "password": PASSWORD, "provider": "db"}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/security/login", data=data,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as response:
        return json.load(response)["access_token"]


def stored_states(url: str, codes: list[str]) -> dict[str, str]:
    """token id → the pass row's state, read straight from PostgreSQL."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        rows = conn.execute("SELECT token_id, state FROM booking_pass").fetchall()
    return dict(rows)


def summary(name: str, latencies: list[float], seconds: float) -> dict:
    return {"endpoint": name, "requests": len(latencies), "rps": round(len(latencies) / seconds, 1),
            "p50_ms": round(percentile(latencies, 50) * 1000, 1), "p95_ms": round(percentile(latencies, 95) * 1000, 1),
            "p99_ms": round(percentile(latencies, 99) * 1000, 1)}


def bench_env(url: str, instance: Path, prefix: str) -> dict:
    """The server's environment: this run's database, instance folder, Redis prefix and
    fresh secrets; logins not rate-limited (one client address makes every request)."""
    return {**os.environ, "DATABASE_URL": url, "REDIS_URL": REDIS_URL, "REDIS_PREFIX": prefix,
            "QUEUE_NAME": prefix.rstrip(":"), "SENTINEL_INSTANCE_DIR": str(instance),
            "AUTH_RATE_LIMIT": "100000 per minute", "SECRET_KEY": uuid.uuid4().hex * 2,
            "ID_HASH_KEY": uuid.uuid4().hex, "DATA_KEY": uuid.uuid4().hex * 2,
            "PASS_SIGNING_KEY": uuid.uuid4().hex * 2}


def start_web(env: dict, workers, instance: Path, app: str = "run:create_app()",
              pythonpath: str | None = None) -> tuple[subprocess.Popen, int, str]:
    """gunicorn as the Procfile's web command (and ``python run.py``'s) starts it: sync
    workers, ``--timeout 120``; ``(process, port, the checkpoint user's token)`` once it answers."""
    port = free_port()
    log = instance / "gunicorn.log"
    extra = ["--pythonpath", pythonpath] if pythonpath else []
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "--timeout", "120",
         "--no-control-socket", *extra, app],
        cwd=ROOT, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    while True:
        try:
            return web, port, login(port, "checkpoint")
        except OSError:
            if web.poll() is not None or time.monotonic() > deadline:
                stop(web)
                raise RuntimeError("gunicorn did not start:\n" + log.read_text()[-3000:])
            time.sleep(0.3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--ceiling-seconds", type=float, default=20)
    parser.add_argument("--passes", type=int, default=12000)
    parser.add_argument("--workers", default=None, help="default: WEB_WORKERS, else (2 x CPUs) + 1 as in production")
    args = parser.parse_args()

    db_name, url = create_database()
    instance = Path(tempfile.mkdtemp(prefix="sentinel-bench-checkpoint-"))
    prefix = f"sentinel-bench-{uuid.uuid4().hex[:8]}:"
    env = bench_env(url, instance, prefix)
    web = None
    try:
        t0 = time.perf_counter()
        codes = prepare(env, args.passes)
        from app.platform.supervisor import web_workers  # imported once prepare() has set the environment

        args.workers = args.workers or web_workers(os.environ)
        print(f"setup: {len(codes)} passes in {time.perf_counter() - t0:.1f} s", flush=True)
        web, port, token = start_web(env, args.workers, instance)
        # warm every worker (imports, first queries) before measuring
        asyncio.run(ceiling(port, 4, 2))

        first = cpu_by_process(web.pid)
        top_before = asyncio.run(ceiling(port, args.clients, args.ceiling_seconds / 2))
        before = cpu_by_process(web.pid)
        ran = asyncio.run(flow(port, token, codes, args.clients, args.seconds))
        after = cpu_by_process(web.pid)
        top_after = asyncio.run(ceiling(port, args.clients, args.ceiling_seconds / 2))
        last = cpu_by_process(web.pid)
        top = {"latencies": top_before["latencies"] + top_after["latencies"],
               "seconds": top_before["seconds"] + top_after["seconds"],
               "statuses": top_before["statuses"] + top_after["statuses"]}

        states = stored_states(url, codes)
        from app.domain.pass_tokens import parse

        double = sum(1 for n in ran["wins"].values() if n > 1)
        for code, state in ran["winner_state"].items():
            if states.get(parse(code)[1].token_id) != state:
                double += 1  # the row says otherwise than the decision that won
        decided_rows = sum(1 for s in states.values() if s in ("allowed", "denied"))
        flow_requests = len(ran["latencies"]["scan"]) + len(ran["latencies"]["decide"])
        both = ran["latencies"]["scan"] + ran["latencies"]["decide"]
        result = {
            "server": f"gunicorn -w {args.workers} (sync), PostgreSQL, {args.clients} clients",
            "ceiling": {**summary("GET /api/v1/checkpoint/keys", top["latencies"], top["seconds"]),
                        "rps_before_flow": round(len(top_before["latencies"]) / top_before["seconds"], 1),
                        "rps_after_flow": round(len(top_after["latencies"]) / top_after["seconds"], 1),
                        "statuses": dict(top["statuses"])},
            "flow": {**summary("scan + decide", both, ran["seconds"]),
                     "scan": summary("POST /api/v1/checkpoint/scan", ran["latencies"]["scan"], ran["seconds"]),
                     "decide": summary("POST /api/v1/checkpoint/decide", ran["latencies"]["decide"], ran["seconds"]),
                     "statuses": {k: dict(v) for k, v in ran["statuses"].items()},
                     "passes_decided": len(ran["wins"]), "pass_rows_decided": decided_rows},
            "double_consumed": double,
            "errors": ran["errors"][:5],
        }
        def per_request(start: dict, end: dict, n: int) -> dict:
            return {k: round((end.get(k, 0) - start.get(k, 0)) / n * 1000, 2) for k in end}

        # where a request's CPU goes (ms of CPU a request, by kind of process)
        halves = per_request(first, before, 1), per_request(after, last, 1)  # ms in all, each half
        ceiling_cpu = {k: halves[0].get(k, 0) + halves[1].get(k, 0) for k in last}
        result["cpu_ms_per_request"] = {
            "ceiling": {k: round(v / len(top["latencies"]), 2) for k, v in ceiling_cpu.items()},
            "flow": per_request(before, after, flow_requests)}
        share = (flow_requests / ran["seconds"]) / (len(top["latencies"]) / top["seconds"])
        result["share_of_ceiling"] = round(share, 3)
        result["targets"] = {"p95_under_100ms": result["flow"]["p95_ms"] < TARGET_P95_MS,
                             "a_third_of_ceiling": share >= TARGET_SHARE, "zero_double": double == 0}
        print(json.dumps(result, ensure_ascii=False, indent=2))
    finally:
        if web is not None:
            stop(web)
        drop_database(db_name)
        import shutil

        shutil.rmtree(instance, ignore_errors=True)
        forget_redis(REDIS_URL, prefix.rstrip(":"))


if __name__ == "__main__":
    main()
