"""Unit tests for the delay before ``python run.py`` restarts a child that died
(app.platform.supervisor.restart_delay) and for its web server's worker count."""

from hypothesis import given
from hypothesis import strategies as st

from app.platform.supervisor import HEALTHY_AFTER, MAX_RESTART_DELAY, quick_deaths_now, restart_delay


def test_a_child_dying_young_again_and_again_waits_1_2_4_seconds():
    """The first restart comes after a second; each quick death in a row doubles the wait."""
    assert [restart_delay(n) for n in (1, 2, 3, 4, 5)] == [1, 2, 4, 8, 16]


def test_the_delay_is_capped_at_a_minute():
    """However often a child dies, it is tried again at least once a minute."""
    assert restart_delay(7) == MAX_RESTART_DELAY == 60
    assert restart_delay(10_000) == 60


@given(st.integers(min_value=1, max_value=500))
def test_the_delay_never_shrinks_while_deaths_go_on(n):
    assert 1 <= restart_delay(n) <= restart_delay(n + 1) <= 60


def test_a_child_that_ran_a_while_starts_over_at_one_second():
    """Deaths count in a row only while the child keeps dying within HEALTHY_AFTER of its start."""
    assert quick_deaths_now(0, 0.5, -9) == 1
    assert quick_deaths_now(5, 3, 1) == 6
    assert quick_deaths_now(5, HEALTHY_AFTER, -9) == 1
    assert restart_delay(quick_deaths_now(9, HEALTHY_AFTER + 1, 1)) == 1


def test_a_clean_exit_is_restarted_after_one_second_however_often():
    """A worker recycling itself after each big job (exit 0) is never held back by the backoff."""
    assert quick_deaths_now(6, 2, 0) == 0
    assert restart_delay(quick_deaths_now(6, 2, 0)) == 1


def test_the_web_server_runs_two_workers_per_cpu_and_one_more_unless_told(monkeypatch):
    """gunicorn's recommended (2 x CPUs) + 1 when WEB_WORKERS is unset or blank; WEB_WORKERS wins when set."""
    from app.platform import supervisor

    monkeypatch.setattr(supervisor, "usable_cpus", lambda: 2)
    assert supervisor.web_workers({}) == supervisor.web_workers({"WEB_WORKERS": " "}) == "5"
    assert supervisor.web_workers({"WEB_WORKERS": "3"}) == "3"
    web = supervisor.commands("redis://x", {})["web"]
    assert web[web.index("-w") + 1] == "5"
    monkeypatch.setattr(supervisor, "usable_cpus", lambda: 8)
    web = supervisor.commands("redis://x", {"WEB_WORKERS": "2"})["web"]
    assert web[web.index("-w") + 1] == "2" and supervisor.web_workers({}) == "17"
