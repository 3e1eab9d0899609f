"""Unit tests for the notification retry backoff (app.notify.dispatch.next_delay)."""

from hypothesis import given
from hypothesis import strategies as st

from app.notify.dispatch import RETRY_CAP_SECONDS, next_delay


def test_first_retries_double_from_one_minute():
    """A failed message is retried after 1, 2, 4, 8 minutes."""
    assert [next_delay(n) for n in (1, 2, 3, 4)] == [60, 120, 240, 480]


def test_delay_is_capped_at_one_hour():
    """However often a gateway fails, a message is retried at least once an hour."""
    assert next_delay(7) == RETRY_CAP_SECONDS
    assert next_delay(10_000) == RETRY_CAP_SECONDS


def test_no_delay_before_any_attempt():
    """A message that was never tried is due at once."""
    assert next_delay(0) == 0


def test_custom_base():
    """Operators can shorten the base delay (NOTIFY_RETRY_BASE_SECONDS)."""
    assert [next_delay(n, base=5) for n in (1, 2, 3)] == [5, 10, 20]


@given(st.integers(min_value=1, max_value=200))
def test_delay_never_shrinks(attempts):
    """Each further failure waits at least as long as the one before, never beyond the cap."""
    assert next_delay(attempts) <= next_delay(attempts + 1) <= RETRY_CAP_SECONDS
