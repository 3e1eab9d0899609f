"""build_template: the template a user downloads before importing."""

import io

import openpyxl
import pytest

from app.sheets import Column, Limits, SheetSpec, build_template, read_sheet
from app.sheets.template import CHOICES_SHEET, FORMATTED_ROWS

KINDS = tuple(f"工种{i:03d}" for i in range(80))  # too long for an inline list
SPEC = SheetSpec(columns=(
    Column("name", "姓名", required=True, example="李XX"),
    Column("id_number", "身份证号码", required=True, as_text=True),
    Column("phone", "手机号码", required=True, as_text=True),
    Column("worker_kind", "工作人员种类", kind="choice", choices=KINDS),
    Column("category", "人员类别", kind="choice", required=True,
           choices=("高风险人员", "管理人员")),
    Column("address", "居住地址", width=40),
), sheet_title="人员信息")
EXAMPLE = {"id_number": "44011519900723765X", "phone": "13576266263",
           "category": "高风险人员", "address": "广州市南沙区XX镇"}


def load(data):
    return openpyxl.load_workbook(io.BytesIO(data))


def validations(ws):
    return {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}


def test_header_marks_required_and_optional_columns():
    """The header says which columns are 必填项 and which 可选填, in bold."""
    ws = load(build_template(SPEC, EXAMPLE))["人员信息"]
    assert [c.value for c in ws[1]] == [
        "姓名(必填项)", "身份证号码(必填项)", "手机号码(必填项)", "工作人员种类(可选填)",
        "人员类别(必填项)", "居住地址(可选填)"]
    assert all(c.font.bold for c in ws[1])


def test_example_row_shows_prefixed_examples():
    """Row 2 shows 示例：李XX, 示例：44011519900723765X, 示例：13576266263 …"""
    ws = load(build_template(SPEC, EXAMPLE))["人员信息"]
    assert [c.value for c in ws[2]] == [
        "示例：李XX", "示例：44011519900723765X", "示例：13576266263", None,
        "示例：高风险人员", "示例：广州市南沙区XX镇"]


def test_id_and_phone_columns_are_text_formatted():
    """ID and phone cells typed into the template stay text (no 4.40115E+17)."""
    ws = load(build_template(SPEC, EXAMPLE))["人员信息"]
    last = 1 + FORMATTED_ROWS
    for col in "BC":
        assert ws[f"{col}2"].number_format == "@"
        assert ws[f"{col}{last}"].number_format == "@"
    assert ws["A2"].number_format == "General"
    assert ws["D3"].number_format == "General"


def test_choice_columns_have_dropdowns():
    """Choice columns offer a dropdown; long lists live on a hidden sheet."""
    wb = load(build_template(SPEC, EXAMPLE))
    ws = wb["人员信息"]
    dvs = validations(ws)
    last = 1 + FORMATTED_ROWS
    short = dvs[f"E2:E{last}"]
    assert short.type == "list" and short.formula1 == '"高风险人员,管理人员"'
    long = dvs[f"D2:D{last}"]
    assert long.formula1 == f"'{CHOICES_SHEET}'!$D$1:$D${len(KINDS)}"
    hidden = wb[CHOICES_SHEET]
    assert hidden.sheet_state == "hidden"
    assert [hidden.cell(row=i + 1, column=4).value for i in range(len(KINDS))] == list(KINDS)
    assert len(dvs) == 2


def test_frozen_header_and_widths():
    """The header stays visible while scrolling and columns are wide enough to read."""
    ws = load(build_template(SPEC, EXAMPLE))["人员信息"]
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["F"].width == 40
    assert ws.column_dimensions["B"].width >= len("示例：44011519900723765X")


def test_note_row_above_header():
    """An optional note sits above the header; the header below it is still frozen."""
    wb = load(build_template(SPEC, EXAMPLE, note="请勿修改表头"))
    ws = wb["人员信息"]
    assert ws["A1"].value == "请勿修改表头" and "A1:F1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["A2"].value == "姓名(必填项)" and ws.freeze_panes == "A3"
    assert ws["A3"].value == "示例：李XX" and ws["B3"].number_format == "@"
    assert f"E3:E{2 + FORMATTED_ROWS}" in validations(ws)


@pytest.mark.parametrize("note", [None, "说明：带*为必填"])
def test_template_round_trip_has_no_data_rows(note):
    """Uploading the untouched template maps every column and imports nothing."""
    parsed = read_sheet(build_template(SPEC, EXAMPLE, note=note), "t.xlsx", SPEC, Limits())
    assert sorted(parsed.mapping.values()) == sorted(SPEC.keys)
    assert list(parsed.rows) == []
    assert parsed.sheet_name == "人员信息"


def test_filled_template_reads_back_as_text():
    """Rows typed into the template come back with IDs and phones as text."""
    wb = load(build_template(SPEC, EXAMPLE))
    ws = wb["人员信息"]
    ws["A3"], ws["B3"], ws["C3"], ws["E3"] = "张三", "440115199007237658", "13576266263", "管理人员"
    ws["B3"].number_format = ws["C3"].number_format = "@"
    out = io.BytesIO()
    wb.save(out)
    (row,) = read_sheet(out.getvalue(), "t.xlsx", SPEC, Limits()).rows
    assert row.number == 3
    assert row.values["id_number"] == "440115199007237658"
    assert row.values["phone"] == "13576266263" and row.values["category"] == "管理人员"


def test_example_falls_back_to_column_example():
    """Columns without a caller example use the declared one; none leaves it blank."""
    ws = load(build_template(SPEC))["人员信息"]
    assert ws["A2"].value == "示例：李XX" and ws["B2"].value is None


def test_choices_with_commas_go_to_hidden_sheet():
    """A choice containing a comma still appears whole in the dropdown."""
    spec = SheetSpec((Column("k", "类型", kind="choice", choices=("A,B", "C")),))
    wb = load(build_template(spec))
    (dv,) = wb.active.data_validations.dataValidation
    assert dv.formula1 == f"'{CHOICES_SHEET}'!$A$1:$A$2"
    assert wb[CHOICES_SHEET]["A1"].value == "A,B"
