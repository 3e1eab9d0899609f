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


# A refused operation that only read ends with COMMIT (nothing to undo; psycopg forgets
# a connection's prepared statements on ROLLBACK); one that wrote anything, even
# unflushed or through plain SQL, is rolled back and leaves nothing behind.

def _ends(action) -> list[str]:
    """How the database transactions ended while ``action()`` ran: "commit"/"rollback"."""
    from sqlalchemy import event

    ended: list[str] = []
    engine = db.engine
    on_commit, on_rollback = (lambda conn: ended.append("commit")), (lambda conn: ended.append("rollback"))
    event.listen(engine, "commit", on_commit)
    event.listen(engine, "rollback", on_rollback)
    try:
        action()
    finally:
        event.remove(engine, "commit", on_commit)
        event.remove(engine, "rollback", on_rollback)
    return ended


def _refused(work) -> None:
    from app.domain.errors import Conflict

    with pytest.raises(Conflict), transaction() as session:
        work(session)
        raise Conflict("refused")


def test_a_refusal_after_reads_only_ends_with_a_commit(ctx):
    from sqlalchemy import func

    assert _ends(lambda: _refused(lambda s: s.execute(select(func.count()).select_from(JobRecord)).scalar())) \
        == ["commit"]
    assert not db.session().in_transaction()


def test_a_refusal_after_an_update_of_no_row_ends_with_a_commit(ctx):
    """The decision that lost the race for its pass: its conditional UPDATE found no row."""
    from sqlalchemy import update

    missing = uuid.uuid4().hex
    assert _ends(lambda: _refused(lambda s: s.execute(
        update(JobRecord).where(JobRecord.id == missing).values(progress=1)))) == ["commit"]


def _job(job_id: str) -> JobRecord:
    return JobRecord(id=job_id, kind="test.refused", status="finished", progress=100)


@pytest.mark.parametrize("write", ["unflushed", "flushed", "plain SQL"])
def test_a_refusal_after_any_write_rolls_it_back(ctx, write):
    from sqlalchemy import insert, text

    job_id = uuid.uuid4().hex

    def work(session):
        if write == "unflushed":
            session.add(_job(job_id))
        elif write == "flushed":
            session.add(_job(job_id))
            session.flush()
        else:
            session.execute(insert(JobRecord.__table__).values(
                id=job_id, kind="test.refused", status="finished", progress=100))
            session.execute(text("UPDATE job_record SET progress = 50 WHERE id = :id"), {"id": job_id})

    ended = _ends(lambda: _refused(work))
    assert ended == (["rollback"] if write != "unflushed" else [])  # nothing was sent, nothing is kept
    db.session.remove()
    assert db.session.get(JobRecord, job_id) is None


def _read_in_a_context_of_its_own(app) -> None:
    from sqlalchemy import func

    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(JobRecord)).scalar() >= 0


def test_a_request_that_only_read_ends_with_a_commit(app, auth):
    """A refused request that only read (the token's user was loaded, the scan refused a
    code that is none) ends its transaction with a commit; so does an app context (a
    request's, a job's) that ends with a read-only transaction open."""
    from tests.integration import factories as F

    token = auth.token("checkpoint")
    client = F.client_at(app)
    answers = []
    with app.app_context():
        ended = _ends(lambda: answers.append(client.post("/api/v1/checkpoint/scan", headers=token,
                                                         json={"code": "not-a-code"}).status_code))
        # no operation: the context's end commits what was read (a job's or a request's)
        ended += _ends(lambda: _read_in_a_context_of_its_own(app))
    assert answers == [400]
    assert ended == ["commit", "commit"]
