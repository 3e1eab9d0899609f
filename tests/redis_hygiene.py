"""Removing what one test run wrote to the shared Redis, and nothing else.

A run's keys carry its unique tag: the app's own keys (``REDIS_PREFIX``), the rate
limiter's (its storage prefix is ``REDIS_PREFIX`` too) and RQ's queue and registry keys
(the queue is named after the tag). RQ's per-job and per-worker keys (``rq:job:<id>``,
``rq:results:<id>``, …, ``rq:worker:<name>``) carry only an id: they are ours when
the job's ``origin`` or the worker's ``queues`` is our queue, or (the app's workers) the
worker's name begins with our queue's.
"""
from __future__ import annotations

import redis

# RQ keys named after a job id: rq:job:<id>[:dependents…], rq:results:<id>, rq:executions:<id>,
# rq:execution:<id>:<n>
_JOB_KEY_KINDS = {"job", "results", "executions", "execution"}


def run_keys(client: redis.Redis, tag: str) -> list[bytes]:
    """Every key that names ``tag`` (the run's prefix and queue name)."""
    return list(client.scan_iter(match=f"*{tag}*", count=1000))


def queue_job_ids(client: redis.Redis, queue: str) -> set[str]:
    """Ids of the jobs whose hash says they were enqueued on ``queue``."""
    ids = set()
    for raw in client.scan_iter(match="rq:job:*", count=1000):
        name = raw.decode()
        job_id = name[len("rq:job:"):]
        if ":" in job_id:  # rq:job:<id>:dependents and the like
            continue
        origin = client.hget(raw, "origin")
        if origin is not None and origin.decode() == queue:
            ids.add(job_id)
    return ids


def worker_keys(client: redis.Redis, queue: str) -> list[bytes]:
    """Hashes of the (burst) workers that listened on ``queue`` (RQ lets dead ones expire in a minute)."""
    found = []
    for raw in client.scan_iter(match="rq:worker:*", count=1000):
        queues = client.hget(raw, "queues")
        if queues is not None and queue in queues.decode().split(","):
            found.append(raw)
    return found


def job_keys(client: redis.Redis, ids: set[str]) -> list[bytes]:
    """Every RQ key named after one of the job ``ids``."""
    if not ids:
        return []
    found = []
    for raw in client.scan_iter(match="rq:*", count=1000):
        parts = raw.decode().split(":")
        if len(parts) >= 3 and parts[1] in _JOB_KEY_KINDS and parts[2] in ids:
            found.append(raw)
    return found


def forget_cron_jobs(client: redis.Redis, ids: set[str]) -> None:
    """RQ cron's record of the jobs it enqueued (``rq:cron_job:<name>:jobs``, one sorted
    set per cron job, not named after any queue): our jobs leave it; a set left empty goes,
    and its name leaves the registry of cron jobs (``rq:cron_jobs``) — the jobs of another
    run's cron job stay."""
    for raw in client.scan_iter(match="rq:cron_job:*:jobs", count=1000):
        ours = [i for i in ids if client.zscore(raw, i) is not None]
        if ours:
            client.zrem(raw, *ours)
            if client.zcard(raw) == 0:
                client.delete(raw)
                client.zrem("rq:cron_jobs", raw.decode()[len("rq:cron_job:"):-len(":jobs")])


def forget_run(client: redis.Redis, tag: str, queue: str) -> int:
    """Delete the keys of the run tagged ``tag`` whose RQ queue is ``queue``; returns how many."""
    workers = worker_keys(client, queue)
    ids = queue_job_ids(client, queue)
    forget_cron_jobs(client, ids)
    doomed = set(run_keys(client, tag)) | set(job_keys(client, ids)) | set(workers)
    for key in doomed:
        client.delete(key)
    client.srem("rq:queues", f"rq:queue:{queue}")
    # our workers' entries in RQ's registry of workers: those whose hash says so, and
    # those named after our queue (jobs.worker.SentinelWorker) whose hash has expired (a
    # killed worker's lives a minute)
    named = [m for m in client.smembers("rq:workers") if m.decode().startswith(f"rq:worker:{queue}.")]
    if workers or named:
        client.srem("rq:workers", *workers, *named)
    return len(doomed)
