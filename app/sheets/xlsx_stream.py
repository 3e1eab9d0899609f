"""A lean, streaming .xlsx (SpreadsheetML) writer for exports: rows go straight into the
deflated sheet entry of the zip as they come, so memory stays flat at any row count.

Why not XlsxWriter here: an export cell is almost always a short string, and XlsxWriter
spends ~5 µs on each (A1 reference, three regex passes, an attribute writer); this one
builds a row as one f-string (~1 µs a cell) — measured 4.4× faster on the 9 o'clock alert
files (72,000 rows × 6 cells: 4.8 s → 1.1 s), PyExcelerate was slower than XlsxWriter.
It writes only what exports use: inline strings, numbers, three cell styles (default,
text ``@``, bold header on a fill), column widths with a column style, a frozen first
row, several sheets. Values arrive already converted (``ExportWriter`` decides types).
Cells carry no references (readers place them in order, an empty one before a filled
one is ``<c/>``), so a row made once can go into several sheets (``row_xml``).
"""
from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from typing import IO, Iterable, NamedTuple, Optional, Union

__all__ = ["XlsxStream", "RowXml", "row_xml", "DEFAULT", "TEXT", "HEADER"]

DEFAULT, TEXT, HEADER = 0, 1, 2  # cellXfs indexes of STYLES
_FLUSH_ROWS = 500
# what cannot go into XML text as is: markup characters, control characters (written as
# Excel's _xHHHH_ escapes), and literal _xHHHH_ text (its underscore escaped, or Excel
# would decode it)
_NEEDS_ESCAPE = re.compile(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f]|_x[0-9A-Fa-f]{4}_")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_LITERAL_ESCAPE = re.compile(r"(_x[0-9A-Fa-f]{4}_)")

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '{sheets}</Types>')
SHEET_TYPE = ('<Override PartName="/xl/worksheets/sheet{n}.xml" '
              'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<bookViews><workbookView/></bookViews><sheets>{sheets}</sheets></workbook>')
WORKBOOK_SHEET = '<sheet name="{name}" sheetId="{n}" r:id="rId{n}"/>'
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}'
    '<Relationship Id="rId{styles}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/styles" Target="styles.xml"/></Relationships>')
WORKBOOK_REL = ('<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                'relationships/worksheet" Target="worksheets/sheet{n}.xml"/>')
STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/></patternFill></fill>'
    '</fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="49" fontId="1" fillId="2" borderId="0" xfId="0" applyNumberFormat="1" '
    'applyFont="1" applyFill="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>')
SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<dimension ref="{dimension}"/>'
    '<sheetViews><sheetView{selected} workbookViewId="0">{pane}</sheetView></sheetViews>'
    '<sheetFormatPr defaultRowHeight="15"/>{cols}<sheetData>')
FROZEN_ROW = '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
SHEET_TAIL = '</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'

Value = Union[str, int, float, None]


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters, n = "", index + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def escape(text: str) -> str:
    """XML text as Excel reads it back unchanged."""
    if not _NEEDS_ESCAPE.search(text):
        return text
    text = _LITERAL_ESCAPE.sub(r"_x005F\1", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _CONTROL.sub(lambda m: "_x%04X_" % ord(m.group()), text)


def _attribute(text: str) -> str:
    return escape(text).replace('"', "&quot;")


class RowXml(NamedTuple):
    """A row's cells as XML, without their references, and how many columns they span."""

    xml: str
    width: int


def row_xml(cells: Iterable[tuple[Value, int]]) -> RowXml:
    """A row of ``(value, style)`` pairs as ``write_row`` writes it, but with no cell
    references: readers (Excel, openpyxl, calamine) place unreferenced cells one after the
    other, an empty cell before a filled one is an empty ``<c/>``. Made once, a row can be
    written into any number of sheets (the 9 o'clock files share most of their rows)."""
    out: list[str] = []
    gap = width = 0
    for value, style in cells:
        if value is None or value == "":
            gap += 1
            continue
        if gap:
            out.append("<c/>" * gap)
            width += gap
            gap = 0
        s = f' s="{style}"' if style else ""
        if type(value) is str:
            space = ' xml:space="preserve"' if value[0].isspace() or value[-1].isspace() else ""
            out.append(f'<c{s} t="inlineStr"><is><t{space}>{escape(value)}</t></is></c>')
        else:
            out.append(f'<c{s}><v>{value!r}</v></c>')
        width += 1
    return RowXml("".join(out), width)


class XlsxStream:
    """Sheets written one after the other, rows in order, into ``target`` (path or binary
    file object). ``start_sheet`` opens a sheet (the previous one is finished),
    ``write_row`` adds a row of (value, style) pairs, ``close`` writes the workbook parts.

    A sheet's rows are spooled to a temporary file and deflated into the zip when the
    sheet is finished, so its ``<dimension>`` (which read-only readers such as openpyxl's
    rely on to pad short rows) is exact."""

    def __init__(self, target: Union[str, IO[bytes]]):
        self._zip = zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6)
        self._names: list[str] = []
        self._entry: Optional[IO[bytes]] = None  # the current sheet's spooled rows
        self._head: dict = {}
        self._width = 0
        self._buffer: list[str] = []
        self._row = 0

    def start_sheet(self, name: str, widths: Iterable[float] = (), column_styles: Iterable[int] = (),
                    freeze_first_row: bool = False) -> None:
        self._finish_sheet()
        self._names.append(name)
        widths, styles = list(widths), list(column_styles)
        cols = "".join(
            f'<col min="{i + 1}" max="{i + 1}" width="{w:.2f}" customWidth="1"'
            + (f' style="{styles[i]}"' if i < len(styles) and styles[i] else "") + "/>"
            for i, w in enumerate(widths))
        self._head = dict(selected=' tabSelected="1"' if len(self._names) == 1 else "",
                          pane=FROZEN_ROW if freeze_first_row else "",
                          cols=f"<cols>{cols}</cols>" if cols else "")
        self._entry = tempfile.TemporaryFile(prefix="sentinel-sheet-")
        self._row = self._width = 0

    def write_row(self, cells: Iterable[tuple[Value, int]]) -> None:
        """One row: ``(value, style)`` per column, in order; None or "" leaves the cell empty.
        Strings go in as inline strings, ints and floats as numbers."""
        self.write_row_xml(row_xml(cells))

    def write_row_xml(self, row: "RowXml") -> None:
        """One row made beforehand by :func:`row_xml` (the same row may go into many sheets)."""
        self._row += 1
        if row.width > self._width:
            self._width = row.width
        self._buffer.append(f'<row r="{self._row}">{row.xml}</row>')
        if len(self._buffer) >= _FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            self._entry.write("".join(self._buffer).encode())
            self._buffer.clear()

    def _finish_sheet(self) -> None:
        if self._entry is None:
            return
        self._flush()
        body, self._entry = self._entry, None
        with body:
            body.seek(0)
            last = f"{column_letter(max(self._width, 1) - 1)}{max(self._row, 1)}"
            head = SHEET_HEAD.format(dimension="A1" if last == "A1" else f"A1:{last}", **self._head)
            with self._zip.open(f"xl/worksheets/sheet{len(self._names)}.xml", "w") as entry:
                entry.write(head.encode())
                shutil.copyfileobj(body, entry, 1 << 20)
                entry.write(SHEET_TAIL.encode())

    def close(self) -> None:
        """Finish the last sheet and write the workbook's parts; the file is complete."""
        if self._zip is None:
            return
        if not self._names:
            self.start_sheet("Sheet1")
        self._finish_sheet()
        n = len(self._names)
        numbers = range(1, n + 1)
        self._zip.writestr("[Content_Types].xml", CONTENT_TYPES.format(
            sheets="".join(SHEET_TYPE.format(n=i) for i in numbers)))
        self._zip.writestr("_rels/.rels", ROOT_RELS)
        self._zip.writestr("xl/workbook.xml", WORKBOOK.format(sheets="".join(
            WORKBOOK_SHEET.format(name=_attribute(name), n=i) for i, name in zip(numbers, self._names))))
        self._zip.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS.format(
            rels="".join(WORKBOOK_REL.format(n=i) for i in numbers), styles=n + 1))
        self._zip.writestr("xl/styles.xml", STYLES)
        self._zip.close()
        self._zip = None

    def abort(self) -> None:
        """Close the underlying zip after a failure (the file is not a workbook)."""
        if self._entry is not None:
            self._entry.close()
            self._entry = None
        if self._zip is not None:
            self._zip.close()
            self._zip = None
