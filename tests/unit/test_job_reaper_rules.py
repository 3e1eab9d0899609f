"""Unit tests for when an unfinished background job counts as interrupted, and what its
user is told (app.platform.job_reaper)."""

from hypothesis import given
from hypothesis import strategies as st

from app.platform.job_reaper import GONE_GRACE_SECONDS, interrupted, message_for


def test_a_job_rq_failed_stopped_or_canceled_was_interrupted():
    """A job RQ ended (abandoned by a dead worker, stopped, canceled) never writes its outcome."""
    assert all(interrupted(status, 5) for status in ("failed", "stopped", "canceled"))


@given(st.sampled_from(["queued", "started", "finished", "deferred", "scheduled", ""]), st.floats(0, 10**6))
def test_a_job_rq_still_runs_or_finished_is_left_alone(status, age):
    """Queued, running or finished jobs are not touched, however old their record."""
    assert not interrupted(status, age)


def test_a_job_gone_from_redis_is_interrupted_after_the_grace():
    """A record whose job RQ no longer knows is closed, but not while enqueue() may still be queueing it."""
    assert not interrupted(None, 1)
    assert not interrupted(None, GONE_GRACE_SECONDS)
    assert interrupted(None, GONE_GRACE_SECONDS + 1)


def test_an_import_is_to_be_imported_again_anything_else_run_again():
    """The message names what the user does next."""
    assert str(message_for("staff_import")) == "任务中断，请重新导入"
    assert str(message_for("enterprise_import")) == "任务中断，请重新导入"
    assert str(message_for("health_rebuild")) == "任务中断，请重新运行"
