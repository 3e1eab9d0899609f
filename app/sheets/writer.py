"""Writing spreadsheets with XlsxWriter: streamed exports and the failure workbook.

Exports stream with ``constant_memory`` (each row is flushed to a temp file when the
next one starts), so rows must be written in order, each row once, cell by cell —
never through pandas ``to_excel``, which on this setup wrote only the first column.
Every string is neutralised against formula injection; ID/phone columns are written
as strings with the '@' format so 18-digit IDs never turn into 4.40115E+17.
"""

import datetime
import io
import math
from decimal import Decimal

import xlsxwriter
from flask_babel import lazy_gettext as _

from app.sheets.cells import cell_text, display_width
from app.sheets.cells import sheet_title as safe_sheet_title

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
MAX_CELL_CHARS = 32767
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
BIG_INT = 10**15  # beyond Excel's 15 significant digits: always written as text

__all__ = ["neutralise", "ExportWriter", "stream_xlsx", "write_failures"]


def neutralise(value):
    """A str starting with = + - @ tab or CR gets a leading "'" so Excel (and any
    CSV re-save) never evaluates it; anything else is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


class ExportWriter:
    """An .xlsx written row by row: a bold, frozen header, then ``write_row`` calls.

    ``target``: path or binary file object. ``text_columns``: 0-based indexes written
    as strings with the '@' format (IDs, phones). ``tz``: the district time zone;
    datetimes are shown there as "YYYY-MM-DD HH:MM:SS" (naive datetimes are taken as
    UTC, as stored); without ``tz`` they are formatted as given. None → blank cell;
    bool → 是/否; numbers → numbers (outside text columns, when < 10^15).
    Use as a context manager, or call ``close()``.
    """

    def __init__(self, target, headers, text_columns=(), *, sheet_title="Sheet1",
                 tz=None, widths=None):
        self._wb = xlsxwriter.Workbook(target, {
            "constant_memory": True, "strings_to_numbers": False,
            "strings_to_formulas": False, "strings_to_urls": False})
        self._ws = self._wb.add_worksheet(safe_sheet_title(sheet_title))
        self._text_columns = frozenset(text_columns)
        self._tz = tz
        self._text = self._wb.add_format({"num_format": "@"})
        head = self._wb.add_format({"bold": True, "bg_color": "#DDEBF7", "num_format": "@"})
        for col, header in enumerate(headers):
            width = widths[col] if widths else min(max(display_width(header) + 4, 10), 50)
            fmt = self._text if col in self._text_columns else None
            self._ws.set_column(col, col, width, fmt)
        for col, header in enumerate(headers):
            self._ws.write_string(0, col, neutralise(str(header)), head)
        self._ws.freeze_panes(1, 0)
        self._row = 1
        # XlsxWriter's own cell writer behind write_string (same arguments, no A1 check)
        self._put_string = getattr(self._ws, "_write_string", self._ws.write_string)

    @property
    def rows_written(self):
        return self._row - 1

    def write_row(self, values):
        """Write one row. Strings (nearly every cell of an export) take a short path:
        neutralised, then handed to XlsxWriter's cell writer directly — the public
        ``write_string`` only adds an A1-notation check, which costs a call per cell
        at 100,000 × 16 cells. Every other value goes through ``_write``."""
        row = self._row
        put, text_columns, text = self._put_string, self._text_columns, self._text
        for col, value in enumerate(values):
            if value is None:
                continue
            if type(value) is str:
                if not value:
                    continue
                if value.startswith(FORMULA_TRIGGERS):
                    value = "'" + value
                if len(value) > MAX_CELL_CHARS:
                    value = value[:MAX_CELL_CHARS]
                put(row, col, value, text if col in text_columns else None)
            else:
                self._write(row, col, value)
        self._row += 1

    def _write(self, row, col, value):
        if value is None:
            return
        is_text = col in self._text_columns
        if isinstance(value, bool):
            value = "是" if value else "否"
        elif isinstance(value, datetime.datetime):
            value = self._local(value).strftime(TIME_FORMAT)
        elif isinstance(value, (datetime.date, datetime.time)):
            value = value.isoformat()
        elif isinstance(value, (int, float, Decimal)):
            if is_text or not math.isfinite(value) or abs(value) >= BIG_INT:
                value = cell_text(value)
            else:
                self._ws.write_number(row, col, value)
                return
        elif not isinstance(value, str):
            value = str(value)  # lazy strings, enums
        if value == "":
            return
        fmt = self._text if is_text else None
        self._ws.write_string(row, col, neutralise(value)[:MAX_CELL_CHARS], fmt)

    def _local(self, moment):
        if self._tz is None:
            return moment
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.timezone.utc)
        return moment.astimezone(self._tz)

    def add_notes(self, title, lines):
        """A second sheet ``title`` with one line of text per row (what the list means)."""
        sheet = self._wb.add_worksheet(safe_sheet_title(str(title)))
        sheet.set_column(0, 0, 100)
        for row, line in enumerate(lines):
            sheet.write_string(row, 0, neutralise(str(line))[:MAX_CELL_CHARS])

    def close(self):
        self._wb.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def stream_xlsx(target, headers, rows, text_columns=(), **options):
    """Write ``headers`` and every row of ``rows`` (an iterable of lists) to
    ``target``; returns the number of data rows. Options as ``ExportWriter``."""
    with ExportWriter(target, headers, text_columns, **options) as writer:
        for values in rows:
            writer.write_row(values)
    return writer.rows_written


def write_failures(headers, rows):
    """The failure workbook: the original columns plus 异常信息, every cell as text.

    ``rows``: iterable of (original values list, message). Values are shown as the
    user saw them (``cell_text``: 13576266263.0 → "13576266263").
    """
    headers = [str(h) for h in headers]
    width = len(headers)
    all_headers = headers + [str(_("异常信息"))]
    widths = [min(max(display_width(h) + 4, 12), 50) for h in headers] + [60]
    out = io.BytesIO()
    with ExportWriter(out, all_headers, range(width + 1), widths=widths) as writer:
        for original, message in rows:
            cells = [cell_text(v) for v in list(original)[:width]]
            cells += [""] * (width - len(cells))
            writer.write_row(cells + [str(message)])
    return out.getvalue()

