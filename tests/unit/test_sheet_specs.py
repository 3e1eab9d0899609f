"""Import templates follow the enterprise type's declaration (sheet_specs)."""

import io

import openpyxl

from app.domain.enterprise_types import parse_declaration
from app.domain.records import clean_staff
from app.services.sheet_specs import (
    EXAMPLE_ID, enterprise_spec, enterprise_template, split_extras, staff_spec, staff_template,
)
from app.sheets import read_sheet

PORT = parse_declaration({
    "categories": ["高风险人员", "管理人员"], "worker_kinds": ["拆件或装卸等人员"],
    "residence_types": ["工地集中居住"],
    "enterprise_fields": [{"key": "port_name", "label": "口岸名称", "kind": "choice", "choices": ["南沙港"]}],
    "staff_fields": [{"key": "plate", "label": "车牌号", "kind": "text", "required": True}],
})
MEDICAL = parse_declaration({"categories": ["医务人员"]})


def header(content, row=2):
    ws = openpyxl.load_workbook(io.BytesIO(content)).active
    return [c.value for c in ws[row]], [c.value for c in ws[row + 1]]


def test_staff_template_has_the_manual_columns_and_the_types_extras():
    """The staff template names 姓名, 身份证号码, 手机号码 … and the type's extra field, required ones marked."""
    labels, example = header(staff_template(PORT))
    assert labels == ["姓名(必填项)", "证件类型(可选填)", "身份证号码(必填项)", "手机号码(必填项)",
                      "工作人员种类(可选填)", "人员类别(可选填)", "居住类型(可选填)", "居住地址(可选填)",
                      "车牌号(必填项)"]
    assert example[2] == "示例：" + EXAMPLE_ID


def test_types_without_worker_kinds_get_no_such_column():
    """A type declaring no worker kinds or residence types gets a shorter template."""
    keys = staff_spec(MEDICAL).keys
    assert "worker_kind" not in keys and "residence_type" not in keys and "category" in keys


def test_example_row_is_a_valid_person_and_is_skipped_on_import():
    """The example row passes the ID checksum (unlike the manual's) and is never imported."""
    spec = staff_spec(MEDICAL)
    values = {c.key: c.example for c in spec.columns}
    clean, errors = clean_staff(split_extras(values), MEDICAL)
    assert errors == [] and clean["id_number"] == EXAMPLE_ID
    parsed = read_sheet(staff_template(MEDICAL), "t.xlsx", spec)
    assert list(parsed.rows) == []


def test_headers_users_write_are_recognised():
    """证件号码, 手机号, 企业名称, 企业地址 and notes like (必填项) match the right columns."""
    staff = staff_spec(PORT)
    assert staff.match("证件号码（必填项）") == "id_number"
    assert staff.match(" 手机号 ") == "phone"
    assert staff.match("车牌号") == "extras.plate"
    ent = enterprise_spec(PORT, "口岸企业", ("南沙街",))
    assert ent.match("企业名称") == "name"
    assert ent.match("企业地址") == "address"
    assert ent.match("口岸名称") == "extras.port_name"


def test_enterprise_template_without_a_type_requires_the_type_column():
    """Without a chosen type each row must name its 主体类型; with one, the column is optional."""
    assert enterprise_spec(PORT, None).column("type_code").required
    assert not enterprise_spec(PORT, "口岸企业").column("type_code").required
    labels, example = header(enterprise_template(PORT, "口岸企业", ("南沙街", "黄阁镇")))
    assert labels[:3] == ["主体名称(必填项)", "主体类型(可选填)", "所属镇街(必填项)"]
    assert example[1] == "示例：口岸企业" and example[2] == "示例：南沙街"
