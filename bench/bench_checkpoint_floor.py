"""Benchmark (issue 15's Measure): how much of the ceiling an endpoint of this stack can
reach at all — the floor of what a scan must cost, beside the ceiling and the real flow,
in one run, as ``bench_checkpoint.py`` measures them (PostgreSQL, gunicorn with the
production settings, 50 clients, one connection a request).

The issue asks the scan-then-decide flow for a third of a trivial endpoint's
throughput. This run adds two endpoints that do LESS than any scan may do, registered
only in this run's server (``floor_app()``; the product has no such endpoint):

* ``noop``: the checkpoint API's authentication and nothing else — the bearer token,
  the signed-in user's rows, FAB's permission check for the checkpoint's scan, the JSON
  body read, an empty answer;
* ``read``: ``noop`` + what the rules demand of every scan at the least — the pass code's
  signature checked, ONE select of the pass's row, the read audited (an ``audit_log``
  row: SPEC "reads of details audited"), the transaction committed, a small answer.

Measured in this order against one gunicorn: the ceiling (``GET
/api/v1/checkpoint/keys``) for half of ``--ceiling-seconds``, then ``noop``, ``read``
and the real flow (scan then decide on fresh, raced passes, as ``bench_checkpoint.py``)
for ``--seconds`` each, then the ceiling's other half. Reported for each: requests/s,
p50/p95/p99, its share of the ceiling and the CPU a request took per kind of process.

    .venv/bin/python bench/bench_checkpoint_floor.py [--clients 50] [--seconds 20] [--passes 8000]

If ``read`` — a scan stripped to what it must do — stays under a third of the ceiling,
the Measure's share is out of reach of any scan on this machine with this stack.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_checkpoint as B  # noqa: E402
from app_processes import forget_redis, stop  # noqa: E402


def floor_app():
    """The product's app with the two floor endpoints (this benchmark's server only)."""
    from flask import g
    from flask_appbuilder import expose
    from flask_appbuilder.security.decorators import permission_name, protect
    from sqlalchemy import bindparam, select

    from app import create_app
    from app.platform import audit
    from app.platform.extensions import db
    from app.platform.operations import operation
    from app.security import roles as R
    from app.services.drivers import bookings
    from app.services.drivers.checkpoint import claims_of
    from models.drivers import Pass
    from models.mixins import utcnow
    from views.base import ScopedApi, answer, rw_map

    state_of = select(Pass.booking_id, Pass.state).where(Pass.token_id == bindparam("token"))

    @operation
    def read_pass(code, user) -> dict:
        claims = claims_of(code, utcnow())
        row = db.session.connection().execute(state_of, {"token": claims.token_id}).first()
        audit.record("view", bookings.ENTITY, row.booking_id, detail="bench floor", user=user)
        return {"state": row.state}

    class FloorApi(ScopedApi):
        resource_name = "bench_floor"
        class_permission_name = R.CHECKPOINT_SCAN  # the scan's permission, as the scan checks it
        method_permission_name = rw_map(extra_read=("noop", "read"))

        @expose("/noop", methods=["POST"])
        @protect()
        @permission_name("scan")
        def noop(self):
            self.json_object()
            return answer(200, {})

        @expose("/read", methods=["POST"])
        @protect()
        @permission_name("scan")
        def read(self):
            return answer(200, read_pass(self.json_object().get("code"), g.user))

    app = create_app()
    with app.app_context():
        app.appbuilder.add_api(FloorApi)
    return app


async def hammer(port: int, path: str, token: str, codes: list[str], clients: int, seconds: float) -> dict:
    """``clients`` clients POSTing ``{"code"}`` (the codes in turn) to ``path`` for ``seconds``."""
    latencies: list[float] = []
    statuses: Counter = Counter()
    deadline = time.perf_counter() + seconds
    turn = iter(range(10**9))

    async def client():
        while time.perf_counter() < deadline:
            code = codes[next(turn) % len(codes)]
            status, _, elapsed = await B.request(port, "POST", path, token, {"code": code})
            statuses[status] += 1
            latencies.append(elapsed)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return {"seconds": time.perf_counter() - started, "latencies": latencies, "statuses": statuses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--ceiling-seconds", type=float, default=20)
    parser.add_argument("--passes", type=int, default=8000)
    parser.add_argument("--workers", default=None, help="default: WEB_WORKERS, else (2 x CPUs) + 1 as in production")
    args = parser.parse_args()

    db_name, url = B.create_database()
    instance = Path(tempfile.mkdtemp(prefix="sentinel-bench-floor-"))
    prefix = f"sentinel-bench-{uuid.uuid4().hex[:8]}:"
    env = B.bench_env(url, instance, prefix)
    web = None
    try:
        codes = B.prepare(env, args.passes)
        from app.platform.supervisor import web_workers

        args.workers = args.workers or web_workers(os.environ)
        web, port, token = B.start_web(env, args.workers, instance, "bench_checkpoint_floor:floor_app()",
                                       str(ROOT / "bench"))
        asyncio.run(B.ceiling(port, 4, 2))
        spare, flow_codes = codes[:500], codes[500:]  # noop/read read these; the flow consumes the rest
        asyncio.run(hammer(port, "/api/v1/bench_floor/read", token, spare[:20], 4, 2))

        phases, cpu = {}, [B.cpu_by_process(web.pid)]
        phases["ceiling (first half)"] = asyncio.run(B.ceiling(port, args.clients, args.ceiling_seconds / 2))
        cpu.append(B.cpu_by_process(web.pid))
        phases["noop: authenticated, nothing else"] = asyncio.run(
            hammer(port, "/api/v1/bench_floor/noop", token, spare, args.clients, args.seconds))
        cpu.append(B.cpu_by_process(web.pid))
        phases["read: + verify, one select, audit, commit"] = asyncio.run(
            hammer(port, "/api/v1/bench_floor/read", token, spare, args.clients, args.seconds))
        cpu.append(B.cpu_by_process(web.pid))
        ran = asyncio.run(B.flow(port, token, flow_codes, args.clients, args.seconds))
        phases["flow: scan + decide"] = {
            "seconds": ran["seconds"], "latencies": ran["latencies"]["scan"] + ran["latencies"]["decide"],
            "statuses": ran["statuses"]["scan"] + ran["statuses"]["decide"]}
        cpu.append(B.cpu_by_process(web.pid))
        phases["ceiling (second half)"] = asyncio.run(B.ceiling(port, args.clients, args.ceiling_seconds / 2))
        cpu.append(B.cpu_by_process(web.pid))

        names = list(phases)
        halves = [phases[names[0]], phases[names[-1]]]
        ceiling_rps = sum(len(h["latencies"]) for h in halves) / sum(h["seconds"] for h in halves)
        result = {"server": f"gunicorn -w {args.workers} (sync), PostgreSQL, {args.clients} clients",
                  "ceiling_rps": round(ceiling_rps, 1), "phases": []}
        for i, name in enumerate(names):
            phase = phases[name]
            n = len(phase["latencies"])
            row = B.summary(name, phase["latencies"], phase["seconds"])
            row["share_of_ceiling"] = round(n / phase["seconds"] / ceiling_rps, 3)
            row["statuses"] = dict(phase["statuses"])
            row["cpu_ms_per_request"] = {k: round((cpu[i + 1].get(k, 0) - cpu[i].get(k, 0)) / n * 1000, 2)
                                         for k in ("web", "postgresql", "client", "redis")}
            result["phases"].append(row)
        result["flow_errors"] = ran["errors"][:5]
        print(json.dumps(result, ensure_ascii=False, indent=2))
    finally:
        if web is not None:
            stop(web)
        B.drop_database(db_name)
        import shutil

        shutil.rmtree(instance, ignore_errors=True)
        forget_redis(B.REDIS_URL, prefix.rstrip(":"))


if __name__ == "__main__":
    main()
