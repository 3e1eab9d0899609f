"""Cell values and header texts as users type them."""

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.sheets import Limits, cell_text, neutralise
from app.sheets.cells import is_example, normalize_header
from app.sheets.writer import FORMULA_TRIGGERS


@pytest.mark.parametrize("raw, text", [
    (None, ""), ("  张三 \u3000", "张三"), (13576266263.0, "13576266263"),
    (4.40115199007237e17, "440115199007237000"), (3.5, "3.5"), (1e-7, "0.0000001"),
    (42, "42"), (False, "否"), (datetime.date(2022, 6, 7), "2022-06-07"),
    (datetime.datetime(2022, 6, 7, 8, 30), "2022-06-07 08:30:00"),
])
def test_cell_text(raw, text):
    """Cells read back exactly as the user saw them in Excel."""
    assert cell_text(raw) == text


@pytest.mark.parametrize("header, norm", [
    ("姓 名（必填项）", "姓名"), ("＊身份证号码", "身份证号码"), ("手机号码(可选填)*", "手机号码"),
    ("Name (required)", "name"), ("居住地址【示例：XX镇】", "居住地址"),
])
def test_normalize_header(header, norm):
    """Header decorations users add are ignored when matching."""
    assert normalize_header(header) == norm


def test_example_marker():
    """Only cells starting with 示例 mark the example row."""
    assert is_example("示例：李XX") and is_example("(必填项) 示例：李XX")
    assert not is_example("李示例")


@given(st.integers(min_value=0, max_value=10**15 - 1))
def test_integral_floats_print_like_integers(n):
    """Any number Excel stored as a float prints without '.0' or an exponent."""
    assert cell_text(float(n)) == str(n)


@given(st.text(max_size=30))
def test_neutralised_text_never_starts_a_formula(text):
    """Whatever a user typed, the exported cell cannot start with a formula trigger."""
    out = neutralise(text)
    assert not out.startswith(FORMULA_TRIGGERS)
    assert out.endswith(text)


@given(st.text(max_size=30))
def test_header_normalisation_is_stable(text):
    """Normalising a header twice gives the same key (template and upload agree)."""
    once = normalize_header(text)
    assert normalize_header(once) == once


def test_limits_from_config():
    """Administrators can raise or lower the limits from configuration."""
    limits = Limits.from_config({"IMPORT_MAX_ROWS": "5000", "IMPORT_MAX_BYTES": None})
    assert limits.max_rows == 5000 and limits.max_bytes == Limits().max_bytes
