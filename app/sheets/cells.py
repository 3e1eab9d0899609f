"""Cell values as real spreadsheets hold them, and header text normalisation."""

import datetime
import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation

# Characters str.strip() keeps but that users never mean: zero-width space, BOM, ...
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
INVISIBLE = _INVISIBLE
_INVISIBLE_RE = re.compile(f"[\\s{_INVISIBLE}]+")
# NFKC already folds （）［］｛｝; these CJK brackets have no compatibility mapping.
_BRACKETS = str.maketrans({"【": "(", "】": ")", "〔": "(", "〕": ")", "〖": "(",
                           "〗": ")", "[": "(", "]": ")", "{": "(", "}": ")"})
_NOTE_RE = re.compile(r"\([^()]*\)")
_EDGE = "*:"  # '＊' and '：' become '*' and ':' under NFKC


def cell_text(value):
    """The text a user sees in a cell: the canonical string form of a raw value.

    None → ""; integral float → digits without ".0" (13576266263.0 → "13576266263",
    4.40115199007237e17 → "440115199007237000", as Excel displays it); other floats
    in plain notation; str stripped (also zero-width spaces); datetime → "YYYY-MM-DD"
    when midnight, else "YYYY-MM-DD HH:MM:SS"; date → ISO; bool → "是"/"否".
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip().strip(_INVISIBLE).strip()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return _decimal_text(Decimal(repr(value)))
    if isinstance(value, Decimal):
        return _decimal_text(value) if value.is_finite() else ""
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return str(value).strip()


def _decimal_text(d):
    try:
        if d == d.to_integral_value():
            return str(int(d))
    except (InvalidOperation, OverflowError):  # pragma: no cover - defensive
        pass
    text = format(d.normalize(), "f")
    return text


def is_blank(value):
    """True for an empty cell: None, "" or whitespace only."""
    if value is None:
        return True
    if isinstance(value, str):
        return not _INVISIBLE_RE.sub("", value)
    return False


def normalize_header(text, drop_notes=True):
    """Canonical form of a header cell, used on both sides of a header match.

    NFKC (full-width → half-width), all whitespace removed, CJK brackets → "()",
    bracketed notes such as (必填项) (可选填) (示例…) removed when ``drop_notes``,
    leading/trailing '*' and ':' removed, case-folded.
    """
    s = unicodedata.normalize("NFKC", cell_text(text) if not isinstance(text, str) else text)
    s = _INVISIBLE_RE.sub("", s.translate(_BRACKETS))
    if drop_notes:
        previous, whole = None, s
        while previous != s:  # nested notes: "(必填(示例))"
            previous, s = s, _NOTE_RE.sub("", s)
        if not s.strip(_EDGE):  # the label itself was bracketed: "【工作人员种类】"
            s = whole.replace("(", "").replace(")", "")
    return unicodedata.normalize("NFKC", s.strip(_EDGE).casefold())


def is_example(text):
    """True when a cell is the template's example marker ("示例：…", "(必填项) 示例：…")."""
    return normalize_header(text).startswith("示例")


def display_width(text):
    """Approximate column width in Excel units: CJK and full-width characters count 2."""
    width = 0
    for ch in str(text):
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def sheet_title(title):
    """A worksheet name Excel accepts: no []:*?/\\, no edge quotes, ≤ 31 characters."""
    title = "".join("_" if ch in '[]:*?/\\' else ch for ch in str(title)).strip("'")
    return title[:31] or "Sheet1"
