"""Exports and failure workbooks: what a user sees when opening them in Excel."""

import datetime
import io
import zoneinfo

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from app.sheets import (Column, ExportWriter, Limits, SheetSpec, neutralise, read_sheet,
                        stream_xlsx, write_failures)

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
HEADERS = ["企业名称", "姓名", "所属镇街", "证件类型", "手机号码", "证件号码", "人员类别",
           "最近一次核酸采样时间"]
TEXT = {4, 5}
ID = "440115199007237658"


def sheet(data):
    return openpyxl.load_workbook(io.BytesIO(data)).active


def export(rows, headers=HEADERS, text=TEXT, **options):
    out = io.BytesIO()
    count = stream_xlsx(out, headers, rows, text, **options)
    return out.getvalue(), count


@pytest.mark.parametrize("value, expected", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1+1", "'+1+1"),
    ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("张三", "张三"), ("", ""), (42, 42), (None, None), ("a=b", "a=b"),
])
def test_neutralise(value, expected):
    """Text that Excel would run as a formula is defused with a leading apostrophe."""
    assert neutralise(value) == expected


def test_every_column_of_every_row_is_written():
    """A multi-column export contains every column (pandas+constant_memory lost all but one)."""
    rows = [[f"企业{i}", f"姓名{i}", "南沙街", "居民身份证", 13576266000 + i, ID, "管理人员",
             datetime.datetime(2022, 6, 7, 1, 2, 3)] for i in range(200)]
    data, count = export(rows)
    assert count == 200
    ws = sheet(data)
    assert [c.value for c in ws[1]] == HEADERS
    for r in (2, 3, 101, 201):
        i = r - 2
        assert [c.value for c in ws[r]] == [
            f"企业{i}", f"姓名{i}", "南沙街", "居民身份证", str(13576266000 + i), ID,
            "管理人员", "2022-06-07 01:02:03"]
    assert ws.max_row == 201 and ws.max_column == len(HEADERS)


def test_id_and_phone_stay_text():
    """An 18-digit ID never shows as 4.40115E+17 and a phone stays text, even as numbers."""
    data, _ = export([["A", "B", None, None, 13576266263.0, 440115199007237658]])
    ws = sheet(data)
    for cell, value in ((ws["E2"], "13576266263"), (ws["F2"], "440115199007237658")):
        assert cell.data_type == "s" and cell.value == value and cell.number_format == "@"


def test_big_numbers_outside_text_columns_are_text_too():
    """A long number in a column not declared as text is still not mangled."""
    data, _ = export([[123456789012345678, 12.5, 7]], headers=["x", "y", "z"], text=set())
    ws = sheet(data)
    assert ws["A2"].value == "123456789012345678" and ws["B2"].value == 12.5
    assert ws["C2"].value == 7 and ws["C2"].data_type == "n"


def test_datetimes_shown_in_district_time():
    """Times stored in UTC are exported as Asia/Shanghai wall-clock strings."""
    utc = datetime.datetime(2022, 6, 7, 16, 30)  # naive = UTC as stored
    aware = datetime.datetime(2022, 6, 7, 16, 30, tzinfo=datetime.timezone.utc)
    rows = [[utc, aware, "2022-06-08 00:30:00", datetime.date(2022, 6, 7), None]]
    data, _ = export(rows, headers=list("abcde"), text=set(), tz=SHANGHAI)
    assert [c.value for c in sheet(data)[2]] == [
        "2022-06-08 00:30:00", "2022-06-08 00:30:00", "2022-06-08 00:30:00", "2022-06-07",
        None]


def test_formulas_in_export_are_neutralised():
    """A name like =cmd|'/c calc'!A1 exports as harmless text."""
    data, _ = export([["=cmd|'/c calc'!A1", "@x", "-1", "+86", "13576266263", "=1"]],
                     headers=list("abcdef"), text={4, 5})
    ws = sheet(data)
    assert [c.value for c in ws[2]] == [
        "'=cmd|'/c calc'!A1", "'@x", "'-1", "'+86", "13576266263", "'=1"]
    assert all(c.data_type == "s" for c in ws[2])


def test_header_bold_and_frozen():
    """The export header is bold and stays on screen while scrolling."""
    data, _ = export([])
    ws = sheet(data)
    assert ws.freeze_panes == "A2" and all(c.font.bold for c in ws[1])


def test_booleans_and_blanks():
    """Yes/no values read 是/否; missing values are empty cells, not 'None'."""
    data, _ = export([[True, False, None, ""]], headers=list("abcd"), text=set())
    assert [c.value for c in sheet(data)[2]] == ["是", "否", None, None]


def test_export_writer_to_path(tmp_path):
    """An export streamed to disk row by row opens with all rows in order."""
    path = tmp_path / "export.xlsx"
    with ExportWriter(str(path), ["姓名", "证件号码"], {1}, sheet_title="人员[导出]") as w:
        for i in range(5000):
            w.write_row([f"n{i}", f"{440115199007230000 + i}"])
    assert w.rows_written == 5000
    wb = CalamineWorkbook.from_path(str(path))
    assert wb.sheet_names == ["人员_导出_"]
    rows = wb.get_sheet_by_index(0).to_python()
    assert len(rows) == 5001 and rows[5000] == ["n4999", "440115199007234999"]


FAIL_HEADERS = ["姓名", "身份证号码", "手机号码", "企业名称", "人员类别", "居住类型", "居住地址"]


def test_failure_workbook_matches_the_manual():
    """The failure file repeats the user's columns plus 异常信息 with the reason per row."""
    rows = [(["张三", "567834444", 13327897678.0, None, "管理人员", "工地集中居住",
              "广州市南沙区南沙街南沙碧桂园"], "列为“身份证号码”，数据格式不正确！"),
            (["=HACK()", 4.40115199007237e17, "13576266263", None, None, None, None],
             "列为“身份证号码”，数据格式不正确！")]
    ws = sheet(write_failures(FAIL_HEADERS, rows))
    assert [c.value for c in ws[1]] == FAIL_HEADERS + ["异常信息"]
    assert [c.value for c in ws[2]] == [
        "张三", "567834444", "13327897678", None, "管理人员", "工地集中居住",
        "广州市南沙区南沙街南沙碧桂园", "列为“身份证号码”，数据格式不正确！"]
    assert ws["A3"].value == "'=HACK()" and ws["B3"].value == "440115199007237000"
    assert all(c.data_type == "s" for c in ws[2] if c.value is not None)
    assert ws["C2"].number_format == "@"
    assert ws.freeze_panes == "A2" and all(c.font.bold for c in ws[1])


def test_failure_rows_shorter_or_longer_than_header():
    """Ragged original rows are padded or cut to the header width."""
    ws = sheet(write_failures(["a", "b"], [(["x"], "m1"), (["x", "y", "z"], "m2")]))
    assert [c.value for c in ws[2]] == ["x", None, "m1"]
    assert [c.value for c in ws[3]] == ["x", "y", "m2"]


def test_fixed_failure_workbook_can_be_reimported():
    """A user can correct the failure file and upload it again as is."""
    spec = SheetSpec((Column("name", "姓名", required=True),
                      Column("id_number", "身份证号码", required=True, as_text=True),
                      Column("phone", "手机号码", required=True, as_text=True)))
    data = write_failures(FAIL_HEADERS, [(["张三", "440115199007237658", 13327897678.0],
                                          "错误")])
    parsed = read_sheet(data, "failures.xlsx", spec, Limits())
    (row,) = parsed.rows
    assert row.values == {"name": "张三", "id_number": "440115199007237658",
                          "phone": "13327897678"}
    assert parsed.headers[-1] == "异常信息"
