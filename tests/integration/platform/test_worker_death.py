"""A worker killed with SIGKILL in the middle of a job: the job reads failed with a
message within two minutes, nothing half-written remains, and the work can be done
again. Real ``rq worker`` processes (the supervisor's command line) against this run's
database and Redis."""
from __future__ import annotations

import io
import os
import signal
import subprocess
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from rq.job import Job
from rq.registry import FailedJobRegistry
from sqlalchemy import func, select

from app.platform.queue import enqueue, set_progress
from jobs.context import with_app_context
from models.jobs import JobRecord
from models.staff import Staff
from tests.integration.factories import in_db, tag
from tests.integration.imports.helpers import new_enterprise

BASE_DIR = Path(__file__).resolve().parents[3]
NOTICED_WITHIN = 120  # seconds from the kill (the bound)
CRON_INTERVAL = 60  # maintenance.reap_jobs runs every minute
START_DEADLINE = 120  # a deadline to fail on, not a speed requirement
ROWS = 40_000


@with_app_context
def held_job(release_key: str) -> dict:
    """Runs (progress 10) until the test sets ``release_key`` in Redis, at most 5 minutes."""
    from app.platform.kv import get_redis

    set_progress(10)
    redis, deadline = get_redis(), time.monotonic() + 300
    while not redis.exists(release_key) and time.monotonic() < deadline:
        time.sleep(0.2)
    return {"released": bool(redis.exists(release_key))}


class RealWorker:
    """``rq worker -w jobs.worker.SentinelWorker <queue>`` as app/platform/supervisor.py starts it,
    configured like the test app (same database, Redis, prefix, queue and keys)."""

    def __init__(self, app, log: Path):
        from app.platform.supervisor import commands

        env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
                   REDIS_URL=app.config["REDIS_URL"], REDIS_PREFIX=app.config["REDIS_PREFIX"],
                   QUEUE_NAME=app.config["QUEUE_NAME"], SECRET_KEY=app.config["SECRET_KEY"],
                   ID_HASH_KEY=app.config["ID_HASH_KEY"])
        self.log = log
        self.proc = subprocess.Popen(commands(env["REDIS_URL"], env)["worker"], cwd=BASE_DIR, env=env,
                                     stdout=log.open("a"), stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> float:
        """SIGKILL the worker; returns when (monotonic)."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        self.proc.wait(timeout=30)
        return killed_at

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@pytest.fixture
def workers(app, tmp_path):
    started: list[RealWorker] = []

    def start() -> RealWorker:
        worker = RealWorker(app, tmp_path / "worker.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def wait_for(condition, deadline: float, what: str, log: Path, every: float = 0.5):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"gave up waiting for {what}:\n{log.read_text()[-3000:] if log.exists() else ''}")


def staff_csv(rows: int) -> bytes:
    """``rows`` people with valid, distinct ID numbers, as a user's CSV."""
    from stdnum.cn import ric

    lines = ["姓名,身份证号码,手机号码"]
    for i in range(rows):
        body = f"440115{date(1960, 1, 1) + timedelta(days=i % 14000):%Y%m%d}{i // 14000:03d}"
        lines.append(f"导入{i},{body}{ric.calc_check_digit(body + '0')},1{3 + i % 6}{i:09d}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def record_of(app, job_id: str) -> tuple:
    return in_db(app, lambda s: s.execute(select(JobRecord.status, JobRecord.result)
                                          .where(JobRecord.id == job_id)).one())


def staff_count(app, enterprise_id: int) -> int:
    return in_db(app, lambda s: s.execute(select(func.count()).select_from(Staff)
                                          .where(Staff.enterprise_id == enterprise_id)).scalar_one())


def rq_progress(app, job_id: str) -> int:
    from app.platform.kv import get_redis

    with app.app_context():
        return int(Job.fetch(job_id, connection=get_redis()).get_meta(refresh=True).get("progress") or 0)


def import_csv(client, headers, enterprise_id: int, content: bytes) -> str:
    response = client.post("/api/v1/staff/import", headers=headers, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(content), "人员.csv"), "enterprise_id": enterprise_id})
    assert response.status_code == 200 and set(response.json) == {"job_id"}, response.json
    return response.json["job_id"]


def test_import_whose_worker_is_killed_reads_failed_with_a_message_and_can_be_run_again(
        app, client, auth, workers, tmp_path):
    """kill -9 of the worker mid-import: the jobs API (and the import page) says 失败
    任务中断，请重新导入 within two minutes (not 'started' for an hour), no row of that
    import is stored, and the same file imported again with a restarted worker stores
    every row."""
    admin = auth.token("admin")
    eid = new_enterprise(client, admin)
    content = staff_csv(ROWS)
    job_id = import_csv(client, admin, eid, content)
    try:
        worker = workers()
        wait_for(lambda: 30 <= rq_progress(app, job_id) <= 90, START_DEADLINE, "the import at 30-90 %",
                 worker.log, every=0.01)
        killed_at = worker.kill()
        assert record_of(app, job_id)[0] == "started"
        assert staff_count(app, eid) == 0  # streamed rows were never committed

        restarted = workers()
        answer = wait_for(lambda: (lambda a: a if a["status"] != "started" else None)(
            client.get(f"/api/v1/jobs/{job_id}", headers=admin).json), NOTICED_WITHIN, "the job to fail",
            restarted.log)
        assert time.monotonic() - killed_at < NOTICED_WITHIN
        assert answer["status"] == "failed"
        assert answer["result"] == {"error": "任务中断，请重新导入"}
        assert record_of(app, job_id) == ("failed", {"error": "任务中断，请重新导入"})
        assert staff_count(app, eid) == 0
        auth.login("admin")  # what the import page's progress bar reads (and shows as the error)
        assert client.get(f"/import/staff/job/{job_id}").json == answer

        again = import_csv(client, admin, eid, content)
        done = wait_for(lambda: (lambda a: a if a["status"] in ("finished", "failed") else None)(
            client.get(f"/api/v1/jobs/{again}", headers=admin).json), START_DEADLINE, "the re-run", restarted.log)
        assert done["status"] == "finished", done
        assert (done["result"]["created"], done["result"]["failed"]) == (ROWS, 0)
        assert staff_count(app, eid) == ROWS
    finally:
        client.delete(f"/api/v1/enterprise/{eid}", headers=admin)  # its 40,000 staff too


def test_the_scheduled_reaper_fails_the_dead_workers_job_and_leaves_a_live_long_one(app, workers):
    """Two workers each run a job; one is killed. The every-minute job maintenance.reap_jobs
    marks the dead one's job 失败 任务中断，请重新运行 (RQ has it in its failed registry)
    in time for the two-minute bound; the other job, running longer than the heartbeat
    TTL, stays started and then finishes."""
    from app.platform.kv import get_redis
    from app.platform.queue import get_queue
    from jobs.registry import JOBS
    from jobs.runner import run_scheduled

    assert JOBS["maintenance.reap_jobs"].cron == "* * * * *"
    release = app.config["REDIS_PREFIX"] + "release:" + tag()
    with app.app_context():
        doomed = enqueue("tests.integration.platform.test_worker_death.held_job", release, job_kind="test_held")
    first = workers()
    wait_for(lambda: record_of(app, doomed)[0] == "started", START_DEADLINE, "the first job to start", first.log)
    with app.app_context():
        alive = enqueue("tests.integration.platform.test_worker_death.held_job", release, job_kind="test_held")
    second = workers()
    wait_for(lambda: record_of(app, alive)[0] == "started", START_DEADLINE, "the second job to start", second.log)
    alive_since = time.monotonic()

    killed_at = first.kill()

    def reaped():
        with app.app_context():
            run_scheduled("maintenance.reap_jobs")
        assert record_of(app, alive)[0] == "started"  # heartbeats keep the live one
        return record_of(app, doomed)[0] == "failed"

    wait_for(reaped, NOTICED_WITHIN - CRON_INTERVAL, "the reaper to fail the killed job", first.log)
    assert time.monotonic() - killed_at + CRON_INTERVAL < NOTICED_WITHIN
    assert record_of(app, doomed) == ("failed", {"error": "任务中断，请重新运行"})
    with app.app_context():
        assert doomed in FailedJobRegistry(queue=get_queue()).get_job_ids()
        from jobs.worker import HEARTBEAT_TTL

        wait_for(lambda: time.monotonic() - alive_since > HEARTBEAT_TTL + 5, HEARTBEAT_TTL + 10,
                 "the live job to outlast the heartbeat TTL", second.log)
        run_scheduled("maintenance.reap_jobs")
        assert record_of(app, alive)[0] == "started"
        get_redis().set(release, 1, ex=600)
    wait_for(lambda: record_of(app, alive)[0] == "finished", START_DEADLINE, "the live job to finish", second.log)
    assert record_of(app, alive)[1] == {"released": True}
