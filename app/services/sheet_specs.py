"""Import templates of the registry, built from an enterprise type's declaration.

One ``SheetSpec`` for staff and one for enterprises: the base columns with the labels
and header aliases of the manuals (seed 000 §2.2, seed 001 §2.1–2.2), then the type's
extra fields as columns keyed ``extras.<key>``. The same spec drives the template
(``build_template``), the header matching of an upload (``read_sheet``) and the
column names in the failure workbook's messages.

Staff: 人员类别 is always a column (a dropdown when the type declares categories);
工作人员种类 and 居住类型 only when the type declares them, as the manual's templates
differ per type.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _

from app.domain.enterprise_types import FieldDecl, TypeDecl
from app.domain.identity import ID_TYPES
from app.sheets import Column, SheetSpec, build_template

EXTRA_PREFIX = "extras."
# The manual's example ID (44011519900723765X) fails the GB 11643 check digit; this
# one is the same person with the right check digit, so the example itself validates.
EXAMPLE_ID = "440115199007237653"
EXAMPLE_PHONE = "13576266263"
STAFF_SHEET = "人员信息"
ENTERPRISE_SHEET = "企业信息"


def extra_key(key: str) -> str:
    return EXTRA_PREFIX + key


def split_extras(values: dict) -> dict:
    """Row values keyed by spec key → cleaner payload: base keys plus ``extras`` dict."""
    raw, extras = {}, {}
    for key, value in values.items():
        if key.startswith(EXTRA_PREFIX):
            extras[key[len(EXTRA_PREFIX):]] = value
        else:
            raw[key] = value
    raw["extras"] = extras
    return raw


def _extra_columns(fields: tuple[FieldDecl, ...]) -> list[Column]:
    return [
        Column(extra_key(f.key), f.label, required=f.required, kind=f.kind, choices=f.choices,
               example=f.choices[0] if f.choices else "")
        for f in fields
    ]


def _choice_or_text(key, label, choices, **kw) -> Column:
    if choices:
        return Column(key, label, kind="choice", choices=choices, example=choices[0], **kw)
    return Column(key, label, **kw)


def staff_spec(decl: TypeDecl) -> SheetSpec:
    """Columns of the staff template for an enterprise type."""
    columns = [
        Column("name", _("姓名"), required=True, example="李XX", aliases=("员工姓名", "人员姓名")),
        Column("id_type", _("证件类型"), kind="choice", choices=ID_TYPES, example=ID_TYPES[0]),
        Column("id_number", _("身份证号码"), required=True, as_text=True, example=EXAMPLE_ID,
               aliases=("证件号码", "身份证号", "身份证", "证件号", "居民身份证号码")),
        Column("phone", _("手机号码"), required=True, as_text=True, example=EXAMPLE_PHONE,
               aliases=("手机号", "联系电话", "电话号码", "电话", "手机")),
    ]
    if decl.worker_kinds:
        columns.append(_choice_or_text("worker_kind", _("工作人员种类"), decl.worker_kinds))
    columns.append(_choice_or_text("category", _("人员类别"), decl.categories, aliases=("岗位类型",)))
    if decl.residence_types:
        columns.append(_choice_or_text("residence_type", _("居住类型"), decl.residence_types))
    columns.append(Column("address", _("居住地址"), example="广州市南沙区XX镇",
                          aliases=("居住住址", "住址", "现住址", "地址"), width=40))
    columns.extend(_extra_columns(decl.staff_fields))
    return SheetSpec(columns, sheet_title=STAFF_SHEET)


def enterprise_spec(decl: TypeDecl, type_name: str | None = None, towns: tuple = ()) -> SheetSpec:
    """Columns of the enterprise template; ``type_name`` None means the file must name
    each row's 主体类型 (then only the base columns are known)."""
    towns = tuple(towns)
    columns = [
        Column("name", _("主体名称"), required=True, example="南沙XX口岸企业",
               aliases=("企业名称", "名称", "单位名称", "主体")),
        Column("type_code", _("主体类型"), required=type_name is None,
               kind="choice" if type_name else "text",
               choices=(type_name,) if type_name else (), example=type_name or "",
               aliases=("企业类型", "类型")),
        _choice_or_text("town", _("所属镇街"), towns, required=True,
                        aliases=("镇街", "所属街镇", "所属街道", "街镇")),
        Column("grid", _("所属网格"), aliases=("网格",)),
        Column("address", _("主体地址"), required=True, example="广州市南沙区XX路1号",
               aliases=("企业地址", "地址", "单位地址"), width=40),
        Column("head_name", _("负责人姓名"), required=True, example="王XX", aliases=("负责人",)),
        Column("head_phone", _("负责人电话"), required=True, as_text=True, example=EXAMPLE_PHONE,
               aliases=("负责人手机号码", "负责人手机", "负责人联系电话")),
        Column("credit_code", _("统一社会信用代码"), as_text=True, aliases=("信用代码", "社会信用代码")),
    ]
    if type_name is not None:
        columns.extend(_extra_columns(decl.enterprise_fields))
    return SheetSpec(columns, sheet_title=ENTERPRISE_SHEET)


TEMPLATE_NOTE = _("注：请勿修改表头；带(必填项)的列必须填写；示例行可保留，导入时会自动跳过；"
                  "身份证号码、手机号码请以文本格式填写。")


def staff_template(decl: TypeDecl) -> bytes:
    return build_template(staff_spec(decl), note=TEMPLATE_NOTE)


def enterprise_template(decl: TypeDecl, type_name: str, towns: tuple = ()) -> bytes:
    return build_template(enterprise_spec(decl, type_name, towns), note=TEMPLATE_NOTE)
