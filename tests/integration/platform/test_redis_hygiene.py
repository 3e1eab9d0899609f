"""The test suite cleans up after itself on the shared Redis, and touches nothing else."""
from __future__ import annotations

import uuid

import redis

from tests.redis_hygiene import forget_run


def test_forget_run_removes_the_runs_keys_and_keeps_everyone_elses(redis_url):
    """App, limiter, RQ job, result and worker keys of a run go; another run's job and a foreign key stay."""
    url, _prefix = redis_url
    client = redis.Redis.from_url(url)
    tag = "sentinel-hygiene-" + uuid.uuid4().hex[:8]
    ours_id, theirs_id = uuid.uuid4().hex, uuid.uuid4().hex
    ours = [f"{tag}:session:abc", f"{tag}:LIMITS:LIMITER/{tag}:limit/1.2.3.4/login", f"rq:queue:{tag}",
            f"rq:job:{ours_id}", f"rq:results:{ours_id}", f"rq:worker:{ours_id}"]
    theirs = [f"rq:job:{theirs_id}", f"{tag[:-1]}X:session:abc"]
    try:
        client.set(ours[0], 1)
        client.set(ours[1], 1)
        client.rpush(ours[2], ours_id)
        client.hset(ours[3], mapping={"origin": tag, "status": "finished"})
        client.xadd(ours[4], {"type": "1"})
        client.hset(ours[5], mapping={"queues": tag})
        client.sadd("rq:queues", ours[2])
        client.hset(theirs[0], mapping={"origin": "someone-else", "status": "queued"})
        client.set(theirs[1], 1)

        assert forget_run(client, tag, tag) == len(ours)
        assert [k for k in ours if client.exists(k)] == []
        assert not client.sismember("rq:queues", ours[2])
        assert all(client.exists(k) for k in theirs)
    finally:
        client.delete(*ours, *theirs)
        client.srem("rq:queues", ours[2])


def test_forget_run_takes_its_jobs_out_of_rq_crons_records(redis_url):
    """rq cron records the jobs it enqueued per cron job, outside any queue's keys: a run's
    jobs leave those records (a record left empty goes, with its name in the registry);
    another run's cron job and its jobs stay."""
    url, _prefix = redis_url
    client = redis.Redis.from_url(url)
    tag = "sentinel-hygiene-" + uuid.uuid4().hex[:8]
    mine, shared, theirs = (f"hygiene.{uuid.uuid4().hex[:6]}" for _ in range(3))
    ours_ids, their_id = [uuid.uuid4().hex for _ in range(3)], uuid.uuid4().hex
    records = {name: f"rq:cron_job:{name}:jobs" for name in (mine, shared, theirs)}
    try:
        for job_id in ours_ids:
            client.hset(f"rq:job:{job_id}", mapping={"origin": tag, "status": "finished"})
        client.hset(f"rq:job:{their_id}", mapping={"origin": "someone-else", "status": "queued"})
        client.zadd(records[mine], {ours_ids[0]: 1, ours_ids[1]: 2})
        client.zadd(records[shared], {ours_ids[2]: 1, their_id: 2})
        client.zadd(records[theirs], {their_id: 1})
        client.zadd("rq:cron_jobs", {mine: 1, shared: 1, theirs: 1})

        forget_run(client, tag, tag)
        assert not client.exists(records[mine]) and client.zscore("rq:cron_jobs", mine) is None
        assert [m.decode() for m in client.zrange(records[shared], 0, -1)] == [their_id]
        assert client.zscore("rq:cron_jobs", shared) is not None
        assert client.zcard(records[theirs]) == 1 and client.zscore("rq:cron_jobs", theirs) is not None
        assert client.exists(f"rq:job:{their_id}") and not any(client.exists(f"rq:job:{i}") for i in ours_ids)
    finally:
        client.delete(*records.values(), f"rq:job:{their_id}", *(f"rq:job:{i}" for i in ours_ids))
        client.zrem("rq:cron_jobs", mine, shared, theirs)


def test_a_killed_workers_registration_goes_with_its_run_and_no_one_elses(redis_url):
    """The app's workers are named after their queue: a run's worker killed long enough
    ago that its hash expired leaves ``rq:workers`` with the run; a foreign one stays."""
    from jobs.worker import SentinelWorker

    url, _prefix = redis_url
    client = redis.Redis.from_url(url)
    tag = "sentinel-hygiene-" + uuid.uuid4().hex[:8]
    worker = SentinelWorker([tag], connection=client)
    assert worker.name.startswith(f"{tag}.")
    ours, theirs = f"rq:worker:{worker.name}", f"rq:worker:{uuid.uuid4().hex}"
    try:
        client.sadd("rq:workers", ours, theirs)  # registered, then killed: no hash left
        forget_run(client, tag, tag)
        assert not client.sismember("rq:workers", ours) and client.sismember("rq:workers", theirs)
    finally:
        client.srem("rq:workers", ours, theirs)
