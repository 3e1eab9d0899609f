"""Mainland vehicle plate numbers (车牌号), normalised and checked.

Accepted (after removing spaces, dots and dashes, full-width made half-width, upper case):

* ordinary plates: a province character, a letter (no I or O), then five letters or
  digits; the last may instead be 挂 (trailer), 学, 警, 港 or 澳 — e.g. 粤A12345, 粤B1234挂;
* small new-energy plates: province, letter, D or F, a letter or digit, four digits —
  e.g. 粤AD12345, 粤BF1A234 is refused, 粤BDA1234 accepted;
* large new-energy plates (trucks, buses): province, letter, five digits, D or F —
  e.g. 粤B12345D.
"""
from __future__ import annotations

import re
import unicodedata

from app.domain.errors import RuleError
from app.domain.i18n import _

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_LETTER = "A-HJ-NP-Z"
_ORDINARY = re.compile(rf"^[{PROVINCES}][{_LETTER}][{_LETTER}0-9]{{4}}[{_LETTER}0-9挂学警港澳]$")
_NEV_SMALL = re.compile(rf"^[{PROVINCES}][{_LETTER}][DF][{_LETTER}0-9][0-9]{{4}}$")
_NEV_LARGE = re.compile(rf"^[{PROVINCES}][{_LETTER}][0-9]{{5}}[DF]$")
_SEPARATORS = re.compile(r"[\s·•.\-]+")

MSG_PLATE = _("车牌号格式不正确，如粤A12345或新能源车牌粤AD12345")


def normalize_plate(raw) -> str:
    """The plate in its stored form, or RuleError("plate_number") when it is not a
    mainland plate."""
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", str(raw or ""))).upper()
    if not is_plate(text):
        raise RuleError("plate_number", MSG_PLATE)
    return text


def is_plate(text: str) -> bool:
    """Whether ``text`` (already normalised) is an ordinary or a new-energy plate."""
    return bool(_ORDINARY.match(text) or _NEV_SMALL.match(text) or _NEV_LARGE.match(text))


def is_new_energy(text: str) -> bool:
    return bool(_NEV_SMALL.match(text) or _NEV_LARGE.match(text))
