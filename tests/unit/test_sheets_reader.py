"""read_sheet: how the rows of an uploaded staff spreadsheet come through."""

import csv
import datetime
import io

import openpyxl
import pytest
import xlsxwriter
from flask_babel import lazy_gettext

from app.sheets import Column, Limits, SheetError, SheetSpec, cell_text, read_sheet

SPEC = SheetSpec(columns=(
    Column("name", "姓名", required=True, example="李XX"),
    Column("id_number", "身份证号码", required=True, as_text=True, aliases=("证件号码",)),
    Column("phone", "手机号码", required=True, as_text=True, aliases=("电话",)),
    Column("worker_kind", "工作人员种类", kind="choice", choices=("拆件或装卸等人员",)),
    Column("category", "人员类别", kind="choice", choices=("高风险人员", "管理人员")),
    Column("address", "居住地址"),
), sheet_title="人员信息")
HEADER = ["姓名", "身份证号码", "手机号码", "工作人员种类", "人员类别", "居住地址"]
ID = "44011519900723765X"


def xlsx(rows, title="Sheet1", merge=None, extra_sheets=()):
    """An .xlsx (openpyxl) with ``rows`` from A1; None cells stay empty."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for r, row in enumerate(rows, 1):
        for c, value in enumerate(row, 1):
            if value is not None:
                ws.cell(row=r, column=c, value=value)
    if merge:
        ws.merge_cells(merge)
    for name, state, sheet_rows in extra_sheets:
        extra = wb.create_sheet(name, 0)
        extra.sheet_state = state
        for row in sheet_rows:
            extra.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def read(data, limits=None, filename="staff.xlsx"):
    return read_sheet(data, filename, SPEC, limits or Limits())


def error_of(data, limits=None, filename="staff.xlsx"):
    with pytest.raises(SheetError) as info:
        read(data, limits, filename)
    return info.value


def test_id_stored_as_number_and_in_scientific_notation_arrives_raw():
    """An ID Excel turned into 4.40115E+17 reaches the validator as the raw float."""
    data = xlsx([HEADER, ["张三", 440115199007237000, 13576266263],
                 ["李四", 4.40115199007237e17, 13576266264]])
    rows = list(read(data).rows)
    assert [type(r.values["id_number"]) for r in rows] == [float, float]
    assert rows[1].values["id_number"] >= 1e15
    assert cell_text(rows[1].values["id_number"]) == "440115199007237000"


def test_phone_stored_as_float_reads_as_digits():
    """A phone saved as 13576266263.0 is 13576266263 to the user, raw for the validator."""
    data = xlsx([HEADER, ["张三", ID, 13576266263.0]])
    (row,) = read(data).rows
    assert row.values["phone"] == 13576266263.0
    assert cell_text(row.values["phone"]) == "13576266263"
    assert row.values["id_number"] == ID


def test_blank_rows_are_skipped_and_row_numbers_match_excel():
    """Blank rows vanish, and each error still points at the row number Excel shows."""
    data = xlsx([HEADER, ["张三", ID, "13576266263"], [], [None, "  ", None],
                 ["李四", ID, "13576266264"]])
    rows = list(read(data).rows)
    assert [(r.number, r.values["name"]) for r in rows] == [(2, "张三"), (5, "李四")]


def test_extra_and_reordered_columns():
    """Columns in any order map by name; unknown columns are kept for the failure file."""
    header = ["备注", "手机号码", "姓名", "身份证号码", "籍贯"]
    data = xlsx([header, ["vip", "13576266263", "张三", ID, "广东"]])
    parsed = read(data)
    assert parsed.headers == header
    assert parsed.mapping == {1: "phone", 2: "name", 3: "id_number"}
    (row,) = parsed.rows
    assert row.values == {"phone": "13576266263", "name": "张三", "id_number": ID}
    assert row.original == ["vip", "13576266263", "张三", ID, "广东"]


def test_messy_header_names_still_match():
    """Headers with spaces, full-width brackets, (必填项), '*' and line breaks match."""
    header = ["姓 名（必填项）", "*身份证号码 (必填)", "手机号码\n(示例：135…)",
              "【工作人员种类】", " 人员类别＊", "居住地址（可选填）"]
    parsed = read(xlsx([header, ["张三", ID, "13576266263", "x", "y", "z"]]))
    assert sorted(parsed.mapping.values()) == sorted(SPEC.keys)
    assert parsed.headers[0] == "姓 名（必填项）"


def test_aliases_match():
    """A sheet saying 证件号码 / 电话 instead of the template's labels is accepted."""
    parsed = read(xlsx([["姓名", "证件号码", "电话"], ["张三", ID, "13576266263"]]))
    assert parsed.mapping == {0: "name", 1: "id_number", 2: "phone"}


def test_merged_title_row_above_header():
    """A merged title like 'XX企业员工信息表' above the header is skipped."""
    data = xlsx([["XX企业员工信息表"], HEADER, ["张三", ID, "13576266263"]], merge="A1:F1")
    parsed = read(data)
    assert parsed.header_row == 2
    assert [r.number for r in parsed.rows] == [3]


def test_table_not_starting_at_a1():
    """A table placed at C3 keeps Excel's row numbers and column positions."""
    wb = openpyxl.Workbook()
    ws = wb.active
    for c, h in enumerate(HEADER[:3], 3):
        ws.cell(row=3, column=c, value=h)
        ws.cell(row=4, column=c, value=["张三", ID, "13576266263"][c - 3])
    out = io.BytesIO()
    wb.save(out)
    parsed = read(out.getvalue())
    assert parsed.header_row == 3 and parsed.mapping == {2: "name", 3: "id_number", 4: "phone"}
    (row,) = parsed.rows
    assert row.number == 4 and row.original[:2] == [None, None]


def test_seed_style_example_row_is_skipped():
    """The manual's example row '(必填项) 示例：李XX' is never imported."""
    data = xlsx([HEADER, ["(必填项) 示例：李XX", "(必填项) 示例：" + ID, "13576266263"],
                 ["张三", ID, "13576266263"]])
    assert [r.values["name"] for r in read(data).rows] == ["张三"]


def test_dates_and_booleans_keep_raw_types():
    """Dates arrive as dates for validators and print as YYYY-MM-DD."""
    day, when = datetime.datetime(2022, 6, 7), datetime.datetime(2022, 6, 7, 8, 30)
    spec = SheetSpec((Column("name", "姓名", required=True), Column("day", "日期", kind="date"),
                      Column("at", "时间", kind="date"), Column("flag", "标记")))
    data = xlsx([["姓名", "日期", "时间", "标记"], ["张三", day, when, True]])
    (row,) = read_sheet(data, "x.xlsx", spec, Limits()).rows
    assert row.values["day"] == day.date() and cell_text(row.values["day"]) == "2022-06-07"
    assert row.values["at"] == when and cell_text(row.values["at"]) == "2022-06-07 08:30:00"
    assert row.values["flag"] is True and cell_text(True) == "是"


def test_xlsxwriter_files_and_path_and_fileobj_inputs(tmp_path):
    """Workbooks from other tools (inline/shared strings), paths and uploads all read."""
    path = tmp_path / "staff.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, HEADER)
    ws.write_row(1, 0, ["张三", ID, 13576266263])
    wb.close()
    for source in (path, str(path), io.BytesIO(path.read_bytes())):
        (row,) = read(source).rows
        assert row.values["phone"] == 13576266263


def test_rows_can_be_iterated_twice():
    """The import can validate and then write from the same parsed sheet."""
    parsed = read(xlsx([HEADER, ["张三", ID, "1"], ["李四", ID, "2"]]))
    assert [r.number for r in parsed.rows] == [r.number for r in parsed.rows] == [2, 3]


def test_hidden_and_note_sheets_are_skipped():
    """A hidden lookup sheet or a leading notes sheet does not hide the data sheet."""
    data = xlsx([HEADER, ["张三", ID, "1"]], extra_sheets=[
        ("lists", "hidden", [["姓名", "身份证号码", "手机号码"]]),
        ("填表说明", "visible", [["请按模板填写"]])])
    parsed = read(data)
    assert parsed.sheet_name == "Sheet1" and [r.values["name"] for r in parsed.rows] == ["张三"]


def csv_bytes(rows, encoding, delimiter=","):
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter).writerows(rows)
    return buf.getvalue().encode(encoding)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_in_common_encodings(encoding):
    """CSV saved by Excel (UTF-8 with BOM or GBK/GB18030) reads with Chinese intact."""
    data = csv_bytes([HEADER, ["张三", ID, "13576266263", "", "高风险人员", "南沙街"]], encoding)
    parsed = read(data, filename="staff.csv")
    (row,) = parsed.rows
    assert parsed.kind == "csv" and row.values["name"] == "张三"
    assert row.values["category"] == "高风险人员" and row.values["worker_kind"] is None


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_csv_delimiter_is_sniffed(delimiter):
    """Semicolon- or tab-separated exports read like comma-separated ones."""
    data = csv_bytes([HEADER, ["张三", ID, "13576266263", "", "", "广州市,南沙区"]],
                      "utf-8", delimiter)
    (row,) = read(data, filename="staff.csv").rows
    assert row.values["address"] == "广州市,南沙区"


def test_csv_with_xlsx_name_is_judged_by_content():
    """A CSV renamed to .xlsx is still read (content decides, not the extension)."""
    data = csv_bytes([HEADER, ["张三", ID, "1"]], "utf-8")
    assert read(data, filename="staff.xlsx").kind == "csv"


def test_missing_required_columns_are_listed():
    """The message names every missing required column, joined with 、."""
    err = error_of(xlsx([["姓名", "居住地址"], ["张三", "南沙"]]))
    assert err.code == "missing_columns"
    assert str(err) == "缺少必填列：身份证号码、手机号码"


def test_no_header_at_all():
    """A sheet without any known column tells the user to use the template."""
    for data in (xlsx([["a", "b"], [1, 2]]), xlsx([]), b""):
        err = error_of(data)
        assert err.code == "no_header" and str(err) == "未找到表头，请使用下载的模板填写"


def test_header_below_ten_rows_is_not_searched():
    """Only the first 10 non-blank rows are considered as header."""
    rows = [[f"说明{i}"] for i in range(10)] + [HEADER]
    assert error_of(xlsx(rows)).code == "no_header"


def test_lazy_labels_match_their_msgid():
    """Headers written in Chinese match columns whose labels are translatable strings."""
    spec = SheetSpec((Column("name", lazy_gettext("姓名"), required=True),))
    parsed = read_sheet(xlsx([["姓名（必填项）"], ["张三"]]), "a.xlsx", spec, Limits())
    assert parsed.mapping == {0: "name"}
