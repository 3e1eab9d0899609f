"""Mainland plates (车牌号): ordinary and new-energy plates accepted, anything else refused."""
import pytest

from app.domain.errors import RuleError
from app.domain.plates import is_new_energy, normalize_plate


@pytest.mark.parametrize("raw, stored", [
    ("粤A12345", "粤A12345"), (" 粤a·123 45 ", "粤A12345"), ("京B1234挂", "京B1234挂"), ("沪CA1B2C", "沪CA1B2C"),
    ("粤AD12345", "粤AD12345"), ("粤BF12345", "粤BF12345"), ("粤BDA1234", "粤BDA1234"),  # small new-energy
    ("粤B12345D", "粤B12345D"), ("川A54321F", "川A54321F"),  # large new-energy (trucks)
    ("粤Ａ１２３４５", "粤A12345"),  # full-width typed on a phone
])
def test_a_mainland_plate_is_accepted_in_one_form(raw, stored):
    """A driver may type spaces, dots, lower case or full-width characters: one stored form."""
    assert normalize_plate(raw) == stored


@pytest.mark.parametrize("raw", [
    "", "A12345", "粤12345", "粤A1234", "粤A1234567", "粤AI2345", "粤AO2345", "港A12345", "粤A12345X挂",
    "粤AD123", "粤AX12345", "粤B1234AD", "<script>", "粤A-1234-",
])
def test_anything_else_is_refused_with_a_chinese_reason(raw):
    """A wrong plate is refused, naming the expected forms."""
    with pytest.raises(RuleError) as err:
        normalize_plate(raw)
    assert err.value.field == "plate_number"
    assert "车牌号格式不正确" in str(err.value)


def test_new_energy_plates_are_recognised():
    assert is_new_energy("粤AD12345") and is_new_energy("粤B12345D") and not is_new_energy("粤A12345")
