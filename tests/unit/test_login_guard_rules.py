"""Rules behind the login lockout and the security events, without an app: how long a
user name waits after failures, and what of a typed login name is ever kept."""
from __future__ import annotations

import pytest

from app.security.lockout import delay_seconds
from app.platform.security_events import KINDS, mask_account


@pytest.mark.parametrize("failures, wait", [(0, 0), (9, 0), (10, 2), (11, 4), (12, 8), (14, 32), (15, 60), (40, 60)])
def test_the_wait_doubles_after_the_threshold_and_stops_at_the_cap(failures, wait):
    """Below 10 failures nobody waits; then 2, 4, 8 … seconds, never more than a minute."""
    assert delay_seconds(failures, after=10, cap=60) == wait


def test_a_huge_count_still_waits_only_the_cap():
    """Millions of failures (a long distributed guess) keep the wait at the cap, no overflow."""
    assert delay_seconds(10**7, after=10, cap=60) == 60


def test_threshold_zero_turns_the_delay_off():
    """LOGIN_DELAY_AFTER=0: no wait whatever the count."""
    assert delay_seconds(500, after=0, cap=60) == 0


@pytest.mark.parametrize("typed, kept", [
    ("zhangsan", "z***"),
    ("zhangsan@example.com", "z***"),
    ("13800138000", "138****8000"),
    ("+8613800138000", "138****8000"),
    ("440115199001011234", "4***"),
    ("王小明", "王***"),
    ("  ", None),
    (None, None),
])
def test_a_typed_login_name_is_kept_masked(typed, kept):
    """A name typed at a login that matches no account never appears whole: phones keep
    the usual 3+4 digits, anything else its first character (the length hidden too)."""
    assert mask_account(typed) == kept


def test_every_kind_has_a_chinese_name():
    """The admin's screen names every kind in Chinese, none twice."""
    names = [str(label) for label in KINDS.values()]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in name) for name in names)
    assert len(set(names)) == len(names)
