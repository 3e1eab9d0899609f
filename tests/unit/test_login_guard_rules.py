"""Rules behind the security events, without an app: what of a typed login name is ever
kept, and every kind's Chinese name."""
from __future__ import annotations

import pytest

from app.security_events import KINDS, mask_account


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
