"""The idle and absolute bounds of a login (app/security/sessions.py), as pure rules."""
from __future__ import annotations

from app.security.sessions import REFRESH_SLACK, allowed_ttl, entry_value, needs_refresh, parse_entry

IDLE = 30 * 60
LIFETIME = 8 * 3600


def test_a_fresh_login_lives_the_idle_time():
    assert allowed_ttl(1000.0, 1000.0, IDLE, LIFETIME) == IDLE


def test_the_idle_time_is_cut_at_the_absolute_bound():
    """Near the end of SESSION_HOURS activity extends the login only up to that end, then not at all."""
    started = 1000.0
    assert allowed_ttl(started + LIFETIME - 100, started, IDLE, LIFETIME) == 100
    assert allowed_ttl(started + LIFETIME, started, IDLE, LIFETIME) <= 0
    assert allowed_ttl(started + LIFETIME + 5, started, IDLE, LIFETIME) < 0


def test_redis_is_written_at_most_once_a_minute():
    """A request refreshes the entry only once more than REFRESH_SLACK seconds of its idle time are used."""
    assert not needs_refresh(IDLE, IDLE)
    assert not needs_refresh(IDLE - REFRESH_SLACK, IDLE)
    assert needs_refresh(IDLE - REFRESH_SLACK - 1, IDLE)
    assert needs_refresh(-1, IDLE)  # an entry without expiry gets one


def test_entries_round_trip_and_malformed_ones_are_dead():
    assert parse_entry(entry_value(42, 1700000000.7).encode()) == ("42", 1700000000)
    for value in (None, b"", b"42", b"42 x", b"42 1 2"):
        assert parse_entry(value) is None
