"""app/domain/redaction.py: what audit rows and stored login codes keep of personal
numbers and secrets (issue 11)."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.redaction import mask_record, mask_text, redact_secret

ID18, ID_X, ID15, PHONE = "440115199007237653", "44011519850101003X", "440115900723765", "13576266263"


@pytest.mark.parametrize("raw, masked", [
    (f"q={ID18}", "q=440115********7653"),
    (f"q={ID_X.lower()}; enterprise_id=3", "q=440115********003x; enterprise_id=3"),
    (f"q={ID15}", "q=44***********65"),
    (f"q={PHONE}", "q=135****6263"),
    (f"名单{PHONE}.xlsx", "名单135****6263.xlsx"),
    ("q=４４０１１５１９９００７２３７６５３", "q=４４０１１５********７６５３"),  # full-width digits
    ("q=H12345678", "q=H1*****78"),  # Hong Kong/Macao permit
    ("q=44011519900723", "q=44**********23"),  # a long prefix of an ID
    # typed as people type them (the staff search finds these, so the audit row named them in full)
    ("q=135-7626-6263", "q=135****6263"),
    ("q=135 7626 6263", "q=135****6263"),
    ("q=+86 135 7626 6263", "q=+86135****6263"),
    ("q=4401 1519 9007 2376 53", "q=440115********7653"),
    ("q=440115 19850101 003x", "q=440115********003x"),
    ("q=E12345678", "q=E1*****78"),  # a passport
    ("q=ea1234567", "q=ea*****67"),
])
def test_numbers_in_free_text_are_masked(raw, masked):
    """An ID number, a phone or a long prefix of one is masked wherever it stands in a detail text."""
    assert mask_text(raw) == masked


@pytest.mark.parametrize("kept", [
    "tests:staff; town_id=12; start=2026-01-01; end=2026-01-07", "q=张三", "q=1380013", "admin", "",
    "start=2026-12-01 2026-12-07", "q=粤A12345", "q=138 0013",
])
def test_short_numbers_dates_and_names_are_kept(kept):
    """Row ids, dates, names and short search prefixes stay readable."""
    assert mask_text(kept) == kept


def test_snapshots_mask_their_number_fields_and_any_number_in_text():
    """A staff or enterprise snapshot keeps its shape, with ID numbers and phones masked (extras too)."""
    before = {"name": "张三", "id_number": "H1234567", "phone": PHONE, "head_phone": "13900000001",
              "enterprise_id": 3, "extras": {"联系人": f"李四 {PHONE}"}, "list": [ID18], "address": None}
    assert mask_record(before) == {
        "name": "张三", "id_number": "H1****67", "phone": "135****6263", "head_phone": "139****0001",
        "enterprise_id": 3, "extras": {"联系人": "李四 135****6263"}, "list": ["440115********7653"],
        "address": None,
    }
    assert mask_record(None) is None


@given(st.text())
def test_masking_twice_changes_nothing_more(text):
    """Masking is idempotent: a masked text has nothing left to mask."""
    once = mask_text(text)
    assert mask_text(once) == once


def test_login_code_is_hidden_and_the_rest_kept():
    """A stored login code becomes stars; the text around it (5分钟) stays."""
    assert redact_secret("您的登录验证码为048213，5分钟内有效。") == "您的登录验证码为******，5分钟内有效。"
    assert redact_secret(None) is None
