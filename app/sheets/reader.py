"""read_sheet: an uploaded spreadsheet → its header mapping and data rows.

The whole file is judged before anything is returned: size, format, zip bomb,
encryption, header, required columns and row count each give one ``SheetError`` with
one clear message. Rows are then streamed (python-calamine keeps the cells in Rust;
each Python row is built only when iterated), and ``rows`` can be iterated again.
"""

import unicodedata
from dataclasses import dataclass, field

from app.sheets import errors
from app.sheets.cells import INVISIBLE, cell_text, is_blank, is_example
from app.sheets.errors import SheetError
from app.sheets.limits import Limits
from app.sheets.sources import load_bytes, open_book

HEADER_SCAN = 10  # the header is searched among the first 10 non-blank rows

__all__ = ["read_sheet", "check_file", "ParsedSheet", "Row", "RowStream", "SheetError"]


@dataclass(slots=True)
class Row:
    """One data row.

    ``number``: 1-based row number as the user sees it in Excel (line for csv).
    ``values``: spec key → raw cell value (str, int, float, bool, date, datetime or
    None), only for the spec columns present in the file (see ``ParsedSheet.mapping``).
    ``original``: every cell under the header, raw, in file order (for the failure
    workbook).
    """

    number: int
    values: dict
    original: list


class RowStream:
    """The data rows of a table, re-iterable: blank rows and the example row skipped."""

    def __init__(self, table, header_row, width, mapping):
        self._table = table
        self._header_row = header_row
        self._width = width
        self._mapping = mapping

    def __iter__(self):
        width, header_row = self._width, self._header_row
        pairs = tuple(self._mapping.items())
        for number, cells in self._table.rows():
            if number <= header_row:
                continue
            if len(cells) < width:
                cells = cells + [None] * (width - len(cells))
            elif len(cells) > width:
                cells = cells[:width]
            first = _first_filled(cells)
            if first is None or (isinstance(first, str) and _maybe_example(first) and is_example(first)):
                continue
            yield Row(number, {key: cells[i] for i, key in pairs}, cells)

    def count(self, stop=None):
        """Number of data rows; stops counting once it exceeds ``stop``."""
        n = 0
        for _ in self:
            n += 1
            if stop is not None and n > stop:
                break
        return n


def _first_filled(cells):
    """The first non-blank cell of a row, or None (``is_blank`` on each, with a fast
    answer for the usual cell: a str starting with a visible character)."""
    for cell in cells:
        if cell is None:
            continue
        if type(cell) is str and cell and not cell[0].isspace() and cell[0] not in INVISIBLE:
            return cell
        if not is_blank(cell):
            return cell
    return None


def _maybe_example(text):
    """False when ``text`` cannot be the example marker: it has no 示 and NFKC (what
    ``is_example`` applies first) would not change it. Saves ``is_example`` per row."""
    return "示" in text or not unicodedata.is_normalized("NFKC", text)


@dataclass
class ParsedSheet:
    """A readable upload.

    ``headers``: header texts in file order ("" for unnamed columns);
    ``mapping``: 0-based file column index → spec key;
    ``rows``: ``RowStream`` of ``Row``; ``header_row``: 1-based row number of the
    header; ``last_row``: number of the last row in the file (for progress:
    ``row.number / last_row``); ``kind``: "xlsx", "xls" or "csv".
    """

    headers: list
    mapping: dict
    rows: RowStream
    header_row: int
    last_row: int
    sheet_name: str
    kind: str
    filename: str = ""
    present: frozenset = field(default_factory=frozenset)


def check_file(data, limits=None):
    """The judgements of ``read_sheet`` that need no cell: size, format, zip bomb,
    encryption, a readable workbook. Milliseconds where ``read_sheet`` loads every
    cell of the sheet. :raise SheetError: as ``read_sheet``."""
    limits = limits or Limits()
    open_book(load_bytes(data, limits), limits).close()


def read_sheet(data, filename, spec, limits=None):
    """Open an upload and map its header to ``spec``.

    ``data``: bytes, a binary file object, or a path. ``filename`` is informative
    only: the format is decided by content (magic bytes). Visible worksheets are
    tried in order, the one titled ``spec.sheet_title`` first.

    :raise SheetError: too_large, bad_format, encrypted, zip_bomb, corrupt,
        no_header, missing_columns, too_many_rows — before any row is returned.
    """
    limits = limits or Limits()
    raw = load_bytes(data, limits)
    book = open_book(raw, limits)
    del raw
    try:
        for table in book.tables(prefer=spec.sheet_title):
            found = _find_header(table, spec)
            if found:
                break
        else:
            raise errors.no_header()
    finally:
        book.close()
    header_row, header_cells, mapping = found
    present = frozenset(mapping.values())
    missing = [str(c.label) for c in spec.required if c.key not in present]
    if missing:
        raise errors.missing_columns(missing)
    width = max(i for i, c in enumerate(header_cells) if not is_blank(c)) + 1
    headers = [cell_text(c) for c in header_cells[:width]]
    headers += [""] * (width - len(headers))
    rows = RowStream(table, header_row, width, mapping)
    # Cheap bound first (rows below the header); count exactly only when it is over.
    if table.last_row - header_row > limits.max_rows:
        if rows.count(stop=limits.max_rows) > limits.max_rows:
            raise errors.too_many_rows(limits.max_rows)
    return ParsedSheet(headers=headers, mapping=mapping, rows=rows,
                       header_row=header_row, last_row=table.last_row,
                       sheet_name=table.name, kind=book.kind, filename=filename,
                       present=present)


def _find_header(table, spec):
    """(row number, cells, mapping) of the row naming most spec columns, or None."""
    best, best_score, seen = None, 0, 0
    for number, cells in table.rows():
        if all(is_blank(c) for c in cells):
            continue
        mapping = map_header(cells, spec)
        if len(mapping) > best_score:
            best, best_score = (number, cells, mapping), len(mapping)
        seen += 1
        if seen >= HEADER_SCAN:
            break
    return best


def map_header(cells, spec):
    """File column index → spec key for a header row; first occurrence of a key wins."""
    mapping, used = {}, set()
    for index, cell in enumerate(cells):
        if is_blank(cell):
            continue
        key = spec.match(cell if isinstance(cell, str) else cell_text(cell))
        if key is not None and key not in used:
            mapping[index] = key
            used.add(key)
    return mapping
