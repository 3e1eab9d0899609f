"""Declared fields and list requests without an app: values cleaned with Chinese
reasons, the keyword form and FAB's rison form read alike, bad requests refused."""
from __future__ import annotations

from datetime import date

import pytest

from app.domain.errors import RuleError, ServiceError
from app.domain.fields import Field, clean_record, clean_value
from app.services.listing import parse_list_args

FIELDS = [
    Field("code", "编码", required=True, max_length=4, search=True, filters=("eq", "sw"), sortable=True),
    Field("name", "名称", search=True, filters=("ct",)),
    Field("doses", "针次", kind="int", minimum=1, maximum=3, filters=("eq", "gt", "lt", "in"), sortable=True),
    Field("active", "启用", kind="bool", default=True, filters=("eq",)),
    Field("kind", "类别", kind="choice", choices=[("a", "甲"), ("b", "乙")], filters=("eq",)),
    Field("since", "日期", kind="date"),
    Field("town", "镇街", attr="town.name"),
]


def test_every_error_of_a_record_at_once_in_chinese():
    values, errors = clean_record(FIELDS, {"code": "", "doses": "9", "kind": "c", "since": "2022-13-01"})
    assert {e.field for e in errors} == {"code", "doses", "kind", "since"}
    assert "“编码”不能为空" in [str(e) for e in errors]
    assert "“针次”不能大于3" in [str(e) for e in errors]


def test_values_are_typed_and_display_only_fields_ignored():
    values, errors = clean_record(FIELDS, {"code": " ab ", "doses": "2", "active": "否", "since": "2022-04-20",
                                           "town": "南沙街", "kind": "b"})
    assert not errors
    assert values == {"code": "ab", "name": None, "doses": 2, "active": False, "kind": "b", "since": date(2022, 4, 20)}


def test_an_update_leaves_absent_keys_alone():
    values, errors = clean_record(FIELDS, {"name": "新名"}, partial=True, creating=False)
    assert values == {"name": "新名"} and not errors


@pytest.mark.parametrize("raw", [True, {"a": 1}, ["x"]])
def test_text_refuses_non_text(raw):
    with pytest.raises(RuleError):
        clean_value(FIELDS[0], raw)


def test_keyword_form_pages_from_one():
    q = parse_list_args({"q": "张三", "page": "3", "page_size": "50", "kind": "a"}, FIELDS)
    assert (q.keyword, q.page, q.size) == ("张三", 3, 50)
    assert [(f.key, op, v) for f, op, v in q.filters] == [("kind", "eq", "a")]


def test_rison_form_pages_from_zero_with_typed_filters_and_order():
    q = parse_list_args({"q": "(filters:!((col:doses,opr:in,value:!(1,'2')),(col:code,opr:sw,value:AB)),"
                              "order_column:doses,order_direction:desc,page:0,page_size:100)"}, FIELDS)
    assert q.rison and q.page == 1 and q.size == 100 and q.keyword == ""
    assert [(f.key, op, v) for f, op, v in q.filters] == [("doses", "in", [1, 2]), ("code", "sw", "AB")]
    assert (q.order[0].key, q.order[1]) == ("doses", "desc")


def test_page_size_is_capped():
    assert parse_list_args({"page_size": "100000"}, FIELDS, max_size=100).size == 100
    assert parse_list_args({"size": "7"}, FIELDS, strict_sizes=True).size == 20


@pytest.mark.parametrize("q, message", [
    ("(filters:!((col:nope,opr:eq,value:1)))", "不能按“nope”过滤"),
    ("(filters:!((col:code,opr:gt,value:1)))", "不支持过滤方式 gt"),
    ("(filters:!((col:doses,opr:eq,value:abc)))", "应为整数"),
    ("(order_column:name)", "不能按“name”排序"),
    ("(order_column:code,order_direction:up)", "asc 或 desc"),
    ("(filters:!((col:code",  "rison"),
    ("(page:x)", "整数"),
])
def test_bad_list_requests_are_refused_with_a_reason(q, message):
    with pytest.raises(ServiceError) as err:
        parse_list_args({"q": q}, FIELDS)
    assert message in str(err.value.message)


def test_row_ids_keep_only_what_a_row_can_have():
    """Posted ids become row ids only as whole ASCII numbers within INTEGER: ``²`` (which
    ``str.isdigit`` accepts and ``int`` refuses) and ids past 2**31 - 1 are dropped."""
    from app.domain.fields import row_id, row_ids

    assert row_ids(["3", " 4 ", 5, "²", "٣", "-1", "0", "2147483647", "2147483648", "9" * 30, True, None, "7x"]) \
        == {3, 4, 5, 2147483647}
    assert row_id("2147483648") is None and row_id(12) == 12
