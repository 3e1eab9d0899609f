"""Background jobs: enqueue with a JobRecord, progress and results through
GET /api/v1/jobs/<id> (owner or admin only), the cron configuration and the CLI."""
from __future__ import annotations

import json

import pytest
from flask import current_app
from rq import get_current_job

from app.domain.errors import ServiceError
from app.platform.queue import enqueue, set_progress
from app.security.ownership import readable_job_status
from jobs.context import with_app_context
from models.jobs import JobRecord


# Job functions the worker imports by dotted path (tests.integration.platform.test_jobs.…).
@with_app_context
def progress_job(user_id: int) -> dict:
    """Reports 40 % and returns what its owner would have seen at that moment."""
    from app.platform.extensions import db
    from models.users import SentinelUser

    set_progress(40)
    seen = readable_job_status(get_current_job().id, db.session.get(SentinelUser, user_id))
    return {"seen_status": seen["status"], "seen_progress": seen["progress"], "queue": current_app.config["QUEUE_NAME"]}


@with_app_context
def failing_job(_enterprise_id: int) -> dict:
    raise ServiceError("文件格式不正确，请使用下载的模板")


def run_worker(app):
    from rq import SimpleWorker

    from app.platform.queue import get_queue

    with app.app_context():
        queue = get_queue()
        SimpleWorker([queue], connection=queue.connection).work(burst=True)


def user_id(session, username):
    from sqlalchemy import select

    from models.users import SentinelUser

    return session.execute(select(SentinelUser.id).where(SentinelUser.username == username)).scalar_one()


def test_owner_follows_progress_and_result_others_get_404(app, ctx, client, auth):
    """The user who started a job sees its progress and result; another town user gets 404, the admin sees it."""
    owner = user_id(ctx, "bureau_port")
    headers, other_headers, admin_headers = (auth.token(u) for u in ("bureau_port", "town_nansha", "admin"))
    job_id = enqueue("tests.integration.platform.test_jobs.progress_job", owner, job_kind="test", user_id=owner)
    queued = client.get(f"/api/v1/jobs/{job_id}", headers=headers)
    assert queued.status_code == 200
    assert queued.json == {"status": "queued", "progress": 0, "result": None}

    run_worker(app)
    done = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json
    assert done["status"] == "finished" and done["progress"] == 100
    assert done["result"] == {"seen_status": "started", "seen_progress": 40, "queue": app.config["QUEUE_NAME"]}

    other = client.get(f"/api/v1/jobs/{job_id}", headers=other_headers)
    assert other.status_code == 404
    assert other.json == {"message": "数据不存在或无权访问"}
    assert client.get(f"/api/v1/jobs/{job_id}", headers=admin_headers).json["status"] == "finished"
    assert client.get("/api/v1/jobs/no-such-job", headers=headers).status_code == 404


def test_failed_job_reports_its_message(app, ctx, client, auth):
    """When a background job fails, its owner sees "failed" with the reason in Chinese."""
    owner = user_id(ctx, "town_huangge")
    headers = auth.token("town_huangge")
    job_id = enqueue("tests.integration.platform.test_jobs.failing_job", 1, job_kind="test", user_id=owner)
    run_worker(app)
    answer = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json
    assert answer["status"] == "failed"
    assert answer["result"] == {"error": "文件格式不正确，请使用下载的模板"}
    ctx.expire_all()
    record = ctx.get(JobRecord, job_id)
    assert (record.kind, record.params, record.finished_at is not None) == ("test", {"ids": [1]}, True)


def test_jobs_api_needs_login(client):
    """Without a token the jobs API answers 401."""
    assert client.get("/api/v1/jobs/anything").status_code == 401


def test_jobs_carry_ids_only(app, ctx):
    """A job cannot be handed personal data, only ids."""
    with pytest.raises(TypeError):
        enqueue("jobs.notify.deliver_one", {"name": "张三", "id_number": "440115199007237650"})


def test_cron_config_registers_every_scheduled_job_in_utc(app, ctx, monkeypatch):
    """rq cron gets every scheduled job, shifted from district time to UTC, and its run works in the worker."""
    from rq.cron import CronScheduler
    from rq.job import Job

    from app.platform.kv import get_redis
    from jobs.registry import JOBS
    from jobs.runner import run_scheduled

    monkeypatch.setenv("QUEUE_NAME", app.config["QUEUE_NAME"])
    scheduler = CronScheduler(connection=get_redis())
    scheduler.load_config_from_file("jobs/cron_config.py")
    registered = {job.args[0]: job for job in scheduler.get_jobs()}
    assert set(registered) == {name for name, job in JOBS.items() if job.cron}
    assert all(job.func is run_scheduled for job in registered.values())
    assert registered["maintenance.purge_jobs"].cron == "30 19 * * *"  # 03:30 in Asia/Shanghai
    assert registered["notify.dispatch"].cron == "* * * * *"

    job = registered["notify.dispatch"].enqueue(get_redis())
    run_worker(app)
    result = Job.fetch(job.id, connection=get_redis()).return_value()
    assert set(result) == {"sent", "retry", "failed", "skipped"}


def test_cli_runs_a_scheduled_job_now(app):
    """`flask --app run jobs run notify.dispatch` sends due messages now and prints the counts."""
    result = app.test_cli_runner().invoke(args=["jobs", "run", "notify.dispatch"])
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.output)) == {"sent", "retry", "failed", "skipped"}
    listing = app.test_cli_runner().invoke(args=["jobs", "list"])
    assert "notify.dispatch" in listing.output and "maintenance.purge_jobs" in listing.output
