"""SMS login codes (SPEC §8): what a code looks like and what Redis stores instead of it."""
from __future__ import annotations

import pytest

from app.domain.errors import RuleError
from app.security.sms_codes import code_digest, new_code, normalize_code, phone_digest

PHONE = "13800138000"


def test_codes_are_six_random_digits():
    """Every code is exactly 6 ASCII digits, and codes vary."""
    codes = [new_code() for _ in range(2000)]
    assert all(len(c) == 6 and c.isascii() and c.isdigit() for c in codes)
    assert len(set(codes)) > 1900
    assert any(c.startswith("0") for c in codes)  # leading zeros are kept, not dropped


@pytest.mark.parametrize("typed, code", [("123456", "123456"), (" 012 345 ", "012345"), ("１２３４５６", "123456")])
def test_typed_codes_are_tolerated(typed, code):
    """A code typed with spaces or full-width digits (Chinese keyboards) is still accepted."""
    assert normalize_code(typed) == code


@pytest.mark.parametrize("typed", ["", None, "12345", "1234567", "12345a", "١٢٣٤٥٦", "12.345"])
def test_malformed_codes_are_refused_in_chinese(typed):
    """Anything but 6 digits is refused with 请输入6位数字验证码."""
    with pytest.raises(RuleError) as err:
        normalize_code(typed)
    assert str(err.value) == "请输入6位数字验证码"


def test_code_digest_is_keyed_and_bound_to_the_phone():
    """The stored hash reveals neither the code nor the phone and changes with key, phone and code."""
    digest = code_digest("key", PHONE, "123456")
    assert "123456" not in digest and PHONE not in digest
    assert digest == code_digest("key", PHONE, "123456")
    assert digest != code_digest("other-key", PHONE, "123456")
    assert digest != code_digest("key", "13800138001", "123456")
    assert digest != code_digest("key", PHONE, "123457")


def test_phone_digest_hides_the_phone():
    """Redis keys name a phone by a keyed hash, never by its digits."""
    assert PHONE not in phone_digest("key", PHONE)
    assert phone_digest("key", PHONE) != phone_digest("other-key", PHONE)
