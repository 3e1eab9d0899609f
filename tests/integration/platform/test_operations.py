"""The operation wrapper's after-commit work (app/platform/operations.py): it runs only
once the transaction is committed, and may itself store something (queueing a job
writes the job's record) — an import's follow-up job depends on both."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from app.platform.extensions import db
from app.platform.operations import after_commit, transaction
from models.jobs import JobRecord


def _record(job_id: str, done: list) -> None:
    db.session.add(JobRecord(id=job_id, kind="test.after_commit", status="finished", progress=100))
    db.session.commit()  # what ``enqueue`` does with the record of the job it queues
    done.append(job_id)


def test_work_after_a_commit_runs_once_and_may_store_its_own_rows(ctx):
    """The work runs after the commit, once, and what it stores is there."""
    job_id, done = uuid.uuid4().hex, []
    with transaction():
        after_commit(lambda: _record(job_id, done))
        assert done == []
    assert done == [job_id]
    assert db.session.execute(select(JobRecord.kind).where(JobRecord.id == job_id)).scalar_one() == "test.after_commit"
    with transaction():
        pass
    assert done == [job_id]


def test_work_after_a_rolled_back_transaction_never_runs(ctx):
    """An operation that raises queues nothing: its after-commit work is dropped."""
    job_id, done = uuid.uuid4().hex, []
    with pytest.raises(RuntimeError), transaction():
        after_commit(lambda: _record(job_id, done))
        raise RuntimeError("refused")
    with transaction():
        pass
    assert done == []
    assert db.session.get(JobRecord, job_id) is None
