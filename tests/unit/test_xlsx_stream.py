"""The streaming .xlsx writer behind every export: what Excel-compatible readers see."""

import io

import openpyxl
from python_calamine import CalamineWorkbook

from app.sheets import ExportWriter
from app.sheets.xlsx_stream import DEFAULT, HEADER, TEXT, XlsxStream, column_letter

TRICKY = ["a & b <c> \"d\" 'e'", "tab\there", "line\nbreak", "bell\x07 and nul\x00",
          "_x0041_ stays literal", "  padded  ", "emoji 🚚 货车", "x" * 5000]


def _book(rows, **sheet):
    out = io.BytesIO()
    book = XlsxStream(out)
    book.start_sheet(sheet.pop("name", "名单"), **sheet)
    for row in rows:
        book.write_row(row)
    book.close()
    return out.getvalue()


def test_text_comes_back_exactly_as_written():
    """Markup characters, whitespace, emoji, long text and literal _xHHHH_ read back unchanged;
    control characters Excel cannot hold come back as Excel writes them (_x0007_)."""
    data = _book([[(v, DEFAULT) for v in TRICKY]])
    (row,) = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    expected = list(TRICKY)
    read = openpyxl.load_workbook(io.BytesIO(data)).active
    assert [c.value for c in read[1]][:3] == expected[:3]
    assert row[4] == "_x0041_ stays literal" and row[5] == "  padded  " and row[6] == "emoji 🚚 货车"
    assert row[7] == "x" * 5000
    assert row[3].startswith("bell") and "\x00" not in read["D1"].value


def test_numbers_are_numbers_and_gaps_stay_empty():
    """Ints and floats are numeric cells; None and "" leave the cell empty in its column."""
    data = _book([[(1, DEFAULT), (None, DEFAULT), ("", DEFAULT), (2.5, DEFAULT), ("z", DEFAULT)]])
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert [c.value for c in ws[1]] == [1, None, None, 2.5, "z"]
    assert ws["A1"].data_type == "n" and ws["E1"].data_type == "s"


def test_styles_widths_and_frozen_header():
    """The header is bold on a fill, text columns carry '@' (also for what a user types
    later), widths are kept and the first row stays on screen."""
    data = _book([[("姓名", HEADER), ("手机号码", HEADER)], [("张三", DEFAULT), ("13800138000", TEXT)]],
                 widths=[12, 20], column_styles=[DEFAULT, TEXT], freeze_first_row=True)
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws["A1"].font.bold and ws["A1"].fill.fgColor.rgb == "FFDDEBF7"
    assert not ws["A2"].font.bold and ws["B2"].number_format == "@"
    assert ws.column_dimensions["B"].width == 20 and ws.freeze_panes == "A2"


def test_several_sheets_in_order_with_awkward_names():
    """Each sheet keeps its rows and its name, even with XML characters in it."""
    out = io.BytesIO()
    book = XlsxStream(out)
    for name in ("名单 & 说明", "说明<2>"):
        book.start_sheet(name)
        book.write_row([(name, DEFAULT)])
    book.close()
    wb = CalamineWorkbook.from_filelike(io.BytesIO(out.getvalue()))
    assert wb.sheet_names == ["名单 & 说明", "说明<2>"]
    assert wb.get_sheet_by_index(1).to_python() == [["说明<2>"]]


def test_column_letters():
    """Columns past Z are lettered as Excel does."""
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]


def test_an_export_with_notes_has_its_second_sheet():
    """The 说明 sheet added before closing follows the list, one line per row."""
    out = io.BytesIO()
    with ExportWriter(out, ["姓名"], sheet_title="名单") as writer:
        writer.write_row(["张三"])
        writer.add_notes("说明", ["第一行", "=不是公式"])
    wb = CalamineWorkbook.from_filelike(io.BytesIO(out.getvalue()))
    assert wb.sheet_names == ["名单", "说明"]
    assert wb.get_sheet_by_index(1).to_python() == [["第一行"], ["'=不是公式"]]


def test_a_failed_export_leaves_no_workbook_open():
    """An error while rows are written propagates; the half-written target is not a workbook."""
    out = io.BytesIO()
    try:
        with ExportWriter(out, ["姓名"]) as writer:
            writer.write_row(["张三"])
            raise RuntimeError("database went away")
    except RuntimeError:
        pass
    try:
        CalamineWorkbook.from_filelike(io.BytesIO(out.getvalue()))
    except Exception:
        return
    raise AssertionError("a failed export must not read as a complete workbook")


def test_read_only_readers_see_every_column_of_short_rows():
    """A row whose last cells are empty still has the header's width in a read-only reader
    (it trusts the sheet's dimension), as integrators' scripts read exports."""
    out = io.BytesIO()
    with ExportWriter(out, ["姓名", "电话", "地址"]) as writer:
        writer.write_row(["张三", None, None])
        writer.write_row(["李四", "13800138000", "南沙"])
    wb = openpyxl.load_workbook(io.BytesIO(out.getvalue()), read_only=True)
    rows = [list(r) for r in wb.active.iter_rows(values_only=True)]
    wb.close()
    assert rows == [["姓名", "电话", "地址"], ["张三", None, None], ["李四", "13800138000", "南沙"]]


def test_a_row_made_once_reads_back_in_place_in_every_file_it_goes_into():
    """A prepared row (no cell references) lands in its own columns — gaps included — in
    each of two files, after ordinary rows, with the text-column format and the same
    tricky text; the sheet's dimension covers it."""
    from app.sheets.writer import RowCells

    cells = RowCells(5, text_columns=(2,))
    prepared = cells.prepare(["公司", None, "13800138000", "", "=1+1"])
    tricky = cells.prepare([TRICKY[0], "  padded  ", None, None, 7])
    files = []
    for extra in ("甲", "乙"):
        out = io.BytesIO()
        with ExportWriter(out, ["a", "b", "c", "d", "e"], (2,)) as writer:
            writer.write_row([extra, 1, "x", None, None])
            writer.write_row(prepared)
            writer.write_row(tricky)
        files.append(out.getvalue())
    for extra, data in zip(("甲", "乙"), files):
        rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
        assert rows[1][0] == extra
        assert rows[2] == ["公司", "", "13800138000", "", "'=1+1"]
        assert rows[3][:2] == [TRICKY[0], "  padded  "] and rows[3][4] == 7
        sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).active
        assert sheet.max_row == 4 and sheet.max_column == 5
        values = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert values[2] == ["公司", None, "13800138000", None, "'=1+1"]
        full = openpyxl.load_workbook(io.BytesIO(data)).active
        assert full["C3"].number_format == "@" and full["C3"].value == "13800138000"
