"""Feed requests as a whole: a JSON array or a CSV text of rows (SPEC §9).

Request-level problems (malformed JSON/CSV, not an array, a bad header, more than
MAX_BATCH rows, not UTF-8) raise :class:`BatchError` before any row is returned, so
nothing of such a request is stored. Row numbers: the 1-based array index for JSON,
the line number for CSV (the header is line 1). Rows are then cleaned one by one by
``app.domain.feeds`` (which re-exports this module's public names).
"""
from __future__ import annotations

import csv
import io
import json
import unicodedata
from datetime import date, datetime
from typing import Any, Iterable

from app.domain.errors import RuleError
from app.domain.i18n import _

MAX_BATCH = 100_000

TESTS, VACCINATIONS = "tests", "vaccinations"
FIELDS = {
    TESTS: ("record_id", "id_type", "id_number", "sampled_at", "tested_at", "result", "institution"),
    VACCINATIONS: ("record_id", "id_type", "id_number", "dose", "vaccinated_at", "product", "site"),
}
REQUIRED = {
    TESTS: ("id_number", "sampled_at", "result", "institution"),
    VACCINATIONS: ("id_number", "dose", "vaccinated_at"),
}
HEADER_ALIASES = {
    "记录编号": "record_id", "证件类型": "id_type", "证件号码": "id_number", "身份证号码": "id_number",
    "采样时间": "sampled_at", "检测时间": "tested_at", "检测结果": "result", "核酸检测结果": "result",
    "检测机构": "institution", "采样机构": "institution", "剂次": "dose", "针次": "dose",
    "接种时间": "vaccinated_at", "接种日期": "vaccinated_at", "疫苗名称": "product", "疫苗": "product",
    "接种单位": "site", "接种地点": "site",
}

MSG_NOT_ARRAY = _("请求内容应为JSON数组，每个元素是一条记录")
MSG_NOT_UTF8 = _("内容不是UTF-8编码的文本")
MSG_CSV_EMPTY = _("CSV内容为空，第一行应为表头")
MSG_CSV_BINARY = _("CSV内容包含二进制字符，请提交UTF-8编码的文本")


class BatchError(RuleError):
    """A whole request was refused; nothing from it may be stored.

    ``status`` is the HTTP status the API answers with: 400, or 413 for too many rows.
    """

    def __init__(self, message, status: int = 400):
        super().__init__("batch", message)
        self.status = status

def check_batch_size(count: int) -> None:
    """BatchError (413) when a request holds more than MAX_BATCH rows."""
    if count > MAX_BATCH:
        raise BatchError(_("单次最多提交%(max)d条记录，请分批提交", max=MAX_BATCH), status=413)


def _text_of(payload: Any) -> str:
    if isinstance(payload, (bytes, bytearray, memoryview)):
        try:
            return bytes(payload).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BatchError(MSG_NOT_UTF8) from None
    return payload.removeprefix("\ufeff")


def parse_json_rows(payload: Any) -> list[tuple[int, Any]]:
    """``(row_number, element)`` of a JSON array (bytes, str, or already decoded).

    Elements that are not objects come through; the clean functions reject them.
    """
    data = payload
    if isinstance(payload, (bytes, bytearray, memoryview, str)):
        try:
            data = json.loads(_text_of(payload))
        except json.JSONDecodeError as err:
            raise BatchError(_("JSON格式不正确（第%(line)d行第%(col)d列附近），请提交JSON数组",
                               line=err.lineno, col=err.colno)) from None
        except RecursionError:
            raise BatchError(_("JSON嵌套层数过多")) from None
    if not isinstance(data, list):
        raise BatchError(MSG_NOT_ARRAY)
    check_batch_size(len(data))
    return list(enumerate(data, 1))


def _header_field(cell: str, kind: str) -> str | None:
    name = unicodedata.normalize("NFKC", cell).strip()
    name = HEADER_ALIASES.get(name, name.lower())
    return name if name in FIELDS[kind] else None


def _header(cells: list[str], kind: str) -> list[str | None]:
    fields = [_header_field(c, kind) for c in cells]
    seen = set()
    for f in fields:
        if f is not None and f in seen:
            raise BatchError(_("CSV表头中“%(name)s”列重复", name=f))
        seen.add(f)
    missing = [f for f in REQUIRED[kind] if f not in seen]
    if missing:
        raise BatchError(_("CSV表头缺少必需的列：%(cols)s（表头应为：%(all)s）",
                           cols="、".join(missing), all=",".join(FIELDS[kind])))
    return fields


def parse_csv_rows(text: str | bytes, kind: str = TESTS) -> list[tuple[int, dict | RuleError]]:
    """``(line_number, row)`` of a CSV text (UTF-8, comma-separated, header first).

    Header names are the SPEC field names (any case) or their Chinese column names;
    unknown columns are ignored. Blank lines are skipped. A line whose cell count differs
    from the header's (e.g. an unquoted comma in a name) comes through as a RuleError.
    """
    text = _text_of(text)
    if "\x00" in text:
        raise BatchError(MSG_CSV_BINARY)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str | None] | None = None
    rows: list[tuple[int, dict | RuleError]] = []
    line = 0
    try:
        for cells in reader:
            start, line = line + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = _header(cells, kind)
                continue
            if len(rows) >= MAX_BATCH:
                check_batch_size(len(rows) + 1)
            if len(cells) != len(header) and (len(cells) < len(header) or any(c.strip() for c in cells[len(header):])):
                rows.append((start, RuleError("row", _("该行有%(got)d列，表头有%(want)d列，请检查是否有未加引号的逗号",
                                                          got=len(cells), want=len(header)))))
                continue
            rows.append((start, {f: c for f, c in zip(header, cells) if f is not None}))
    except csv.Error:
        raise BatchError(_("CSV格式不正确（第%(line)d行附近）：请检查引号是否成对、字段是否过长",
                           line=line + 1)) from None
    if header is None:
        raise BatchError(MSG_CSV_EMPTY)
    return rows


def _cell(value: Any) -> str:
    """A spreadsheet cell as the text a CSV would hold: times in ISO 8601 (district time,
    as typed), whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_table_rows(table: Iterable[tuple[int, list]], kind: str = TESTS) -> list[tuple[int, dict]]:
    """``(row_number, row)`` of an uploaded sheet (``(number, cells)`` pairs, header first,
    e.g. ``app.sheets`` sources of an .xlsx or .csv). Same header names and limits as
    ``parse_csv_rows``; blank rows are skipped."""
    header: list[str | None] | None = None
    rows: list[tuple[int, dict]] = []
    for number, cells in table:
        texts = [_cell(c) for c in cells]
        if not any(t.strip() for t in texts):
            continue
        if header is None:
            header = _header(texts, kind)
            continue
        if len(rows) >= MAX_BATCH:
            check_batch_size(len(rows) + 1)
        rows.append((number, {f: t for f, t in zip(header, texts) if f is not None}))
    if header is None:
        raise BatchError(MSG_CSV_EMPTY)
    return rows

