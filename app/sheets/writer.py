"""Writing spreadsheets: streamed exports and the failure workbook.

Exports stream through ``app.sheets.xlsx_stream`` (rows go into the deflated sheet as
they come), so rows must be written in order, each row once — never through pandas
``to_excel``, which on this setup wrote only the first column.
Every string is neutralised against formula injection; ID/phone columns are written
as strings with the '@' format so 18-digit IDs never turn into 4.40115E+17.
"""

import datetime
import io
import math
from decimal import Decimal

from flask_babel import lazy_gettext as _

from app.sheets.cells import cell_text, display_width
from app.sheets.cells import sheet_title as safe_sheet_title
from app.sheets.xlsx_stream import DEFAULT, HEADER, TEXT, RowXml, XlsxStream, row_xml

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
MAX_CELL_CHARS = 32767
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
BIG_INT = 10**15  # beyond Excel's 15 significant digits: always written as text

__all__ = ["neutralise", "ExportWriter", "RowCells", "stream_xlsx", "write_failures"]


def neutralise(value):
    """A str starting with = + - @ tab or CR gets a leading "'" so Excel (and any
    CSV re-save) never evaluates it; anything else is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


class RowCells:
    """How a writer of ``width`` columns turns a row's values into cells (see
    :class:`ExportWriter` for the rules); ``prepare`` makes a row's XML once for several
    files of the same columns."""

    def __init__(self, width, text_columns=(), tz=None):
        self._text_columns = frozenset(text_columns)
        self._tz = tz
        self.styles = [TEXT if col in self._text_columns else DEFAULT for col in range(width)]

    def prepare(self, values) -> RowXml:
        """A row's values made into XML once, to be written into several files with the
        same columns (``ExportWriter.write_row`` takes it as is)."""
        return row_xml(self.of(values))

    def of(self, values) -> list:
        """``(value, style)`` of each value. Strings (nearly every cell of an export) take
        a short path: neutralised and cut to Excel's cell size; every other value goes
        through ``_cell``."""
        styles, width = self.styles, len(self.styles)
        cells = []
        for col, value in enumerate(values):
            style = styles[col] if col < width else (TEXT if col in self._text_columns else DEFAULT)
            if type(value) is str:
                if value.startswith(FORMULA_TRIGGERS):
                    value = "'" + value
                if len(value) > MAX_CELL_CHARS:
                    value = value[:MAX_CELL_CHARS]
                cells.append((value, style))
            else:
                cells.append((self._cell(col, value), style))
        return cells

    def _cell(self, col, value):
        """A value that is not a str, as the cell shows it: a number or a string."""
        if value is None:
            return None
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
                return float(value) if isinstance(value, Decimal) else value
        elif not isinstance(value, str):
            value = str(value)  # lazy strings, enums
        return neutralise(value)[:MAX_CELL_CHARS]

    def _local(self, moment):
        if self._tz is None:
            return moment
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.timezone.utc)
        return moment.astimezone(self._tz)


class ExportWriter:
    """An .xlsx written row by row: a bold, frozen header, then ``write_row`` calls.

    ``target``: path or binary file object. ``text_columns``: 0-based indexes written
    as strings with the '@' format (IDs, phones). ``tz``: the district time zone;
    datetimes are shown there as "YYYY-MM-DD HH:MM:SS" (naive datetimes are taken as
    UTC, as stored); without ``tz`` they are formatted as given. None → blank cell;
    bool → 是/否; numbers → numbers (outside text columns, when < 10^15).
    Use as a context manager, or call ``close()``. Written by ``XlsxStream``.
    """

    def __init__(self, target, headers, text_columns=(), *, sheet_title="Sheet1",
                 tz=None, widths=None):
        self._book = XlsxStream(target)
        self._notes = None
        headers = [str(h) for h in headers]
        self._cells = RowCells(len(headers), text_columns, tz)
        self._book.start_sheet(
            safe_sheet_title(sheet_title), freeze_first_row=True, column_styles=self._cells.styles,
            widths=widths or [min(max(display_width(h) + 4, 10), 50) for h in headers])
        self._book.write_row((neutralise(h)[:MAX_CELL_CHARS], HEADER) for h in headers)
        self._row = 1

    @property
    def rows_written(self):
        return self._row - 1

    def write_row(self, values):
        """Write one row: its values, or a row made beforehand by ``RowCells.prepare``
        for a writer of the same columns."""
        if type(values) is RowXml:
            self._book.write_row_xml(values)
        else:
            self._book.write_row(self._cells.of(values))
        self._row += 1

    def add_notes(self, title, lines):
        """A second sheet ``title`` with one line of text per row (what the list means),
        written after the rows when the workbook is closed."""
        self._notes = (safe_sheet_title(str(title)), [neutralise(str(line))[:MAX_CELL_CHARS] for line in lines])

    def close(self):
        if self._notes is not None:
            title, lines = self._notes
            self._book.start_sheet(title, widths=[100])
            for line in lines:
                self._book.write_row(((line, DEFAULT),))
            self._notes = None
        self._book.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            self.close()
        else:
            self._book.abort()
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

