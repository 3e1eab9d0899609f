"""Personal numbers and secrets where they must not be kept in full (issue 11): audit
rows and stored login-code messages. Pure functions, no app.

* :func:`mask_text` masks every ID-like or phone-like number in free text (an audit
  row's detail, a file name, a search keyword): a standalone run of 11 or more digits
  (a phone, a 15/18-character ID number — an 18-character one may end in X — or a
  long prefix of one), a passport's or a permit's number (E12345678, H12345678), and a
  phone or an ID number typed in groups (136 3147 8400, 136-3147-8400, +86 136 …).
  Shorter runs (dates, row ids, short prefixes) are kept.
* :func:`mask_record` masks a before/after snapshot: ``id_number`` and the phone keys
  by their own rule, every other text value (extra fields too) by :func:`mask_text`.
* :func:`redact_secret` hides the code of a sensitive message: every run of 4 or more
  digits becomes as many ``*`` (您的登录验证码为******，5分钟内有效。).
"""
from __future__ import annotations

import re
from typing import Any

from app.domain.identity import mask_id, mask_phone

ID_KEYS = frozenset({"id_number"})
PHONE_KEYS = frozenset({"phone", "head_phone"})

# Full-width digits are \d too; an 18-character ID may end in X (either width). A
# passport's or a permit's number: one or two letters and 7 to 10 digits (E12345678,
# G12345678, EA1234567, H12345678, H1234567890).
_NUMBER = re.compile(r"(?<!\d)\d{11,}[XxＸｘ]?(?![\dXxＸｘ])"
                     r"|(?<![0-9A-Za-z])[A-Za-z]{1,2}\d{7,8}(?:\d{2})?(?![0-9A-Za-z])")
# Digits in groups split by single spaces or dashes, as people type numbers (136 3147 8400,
# 136-3147-8400, 440115 19900723 7653, +86 136 …); masked when the digits are a phone or an ID.
_GROUPED = re.compile(r"(?<![\dXxＸｘ])\d+(?:[ \-　]\d+)+(?:[ \-　]?[XxＸｘ])?(?![\dXxＸｘ])")
_SEPARATOR = re.compile(r"[ \-　]")
_CODE = re.compile(r"\d{4,}")


def _mask_number(match: re.Match) -> str:
    number = match.group(0)
    return mask_phone(number) if len(number) == 11 and number.isdigit() else mask_id(number)


def _mask_grouped(match: re.Match) -> str:
    """A grouped number whose digits are a phone (with or without 86 / 0086 before) or a
    15/18-character ID, masked as one; any other groups (dates, amounts) kept."""
    number = _SEPARATOR.sub("", match.group(0))
    for prefix in ("0086", "86"):
        if len(number) == len(prefix) + 11 and number.startswith(prefix):
            return match.group(0)[:len(prefix)] + mask_phone(number[len(prefix):])
    if len(number) == 11 and number.isdigit():
        return mask_phone(number)
    if len(number) in (15, 18):
        return mask_id(number)
    return match.group(0)


def mask_text(text: Any) -> Any:
    """``text`` with every ID-like or phone-like number masked; non-text returned as is."""
    if not isinstance(text, str):
        return text
    return _NUMBER.sub(_mask_number, _GROUPED.sub(_mask_grouped, text))


def mask_record(values: Any) -> Any:
    """A copy of a snapshot (dicts and lists nested) with no full ID number or phone."""
    if isinstance(values, dict):
        out = {}
        for key, value in values.items():
            if key in ID_KEYS and value not in (None, ""):
                out[key] = mask_id(value)
            elif key in PHONE_KEYS and value not in (None, ""):
                out[key] = mask_phone(value)
            else:
                out[key] = mask_record(value)
        return out
    if isinstance(values, (list, tuple)):
        return [mask_record(v) for v in values]
    return mask_text(values)


def redact_secret(text: Any) -> Any:
    """``text`` with every run of 4 or more digits (a login code) replaced by stars."""
    if not isinstance(text, str):
        return text
    return _CODE.sub(lambda m: "*" * len(m.group(0)), text)
