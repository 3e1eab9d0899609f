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
