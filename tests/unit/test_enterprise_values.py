"""Values of an enterprise as forms, API and import check them: the fleet size (车辆数) of
a freight enterprise and the field names the messages use."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.domain.enterprise_types import parse_declaration
from app.domain.errors import RuleError
from app.domain.records import clean_enterprise

TYPES = json.loads((Path(__file__).resolve().parents[2] / "data" / "enterprise_types.json").read_text("utf-8"))
FREIGHT = parse_declaration(next(t["spec"] for t in TYPES["types"] if t["code"] == "freight"))
BASE = {"name": "货运公司", "address": "南沙路1号", "head_name": "王五", "head_phone": "13900000001"}


def fleet(value):
    return clean_enterprise({**BASE, "extras": {"fleet_size": value}}, FREIGHT)


@pytest.mark.parametrize("value, stored", [("0", 0), ("12", 12), (100000, 100000), ("3.0", 3), ("", None)])
def test_fleet_size_takes_whole_numbers_in_range(value, stored):
    """车辆数 0, 12, 100000 (or left empty) are stored as whole numbers."""
    values, errors = fleet(value)
    assert errors == [] and values["extras"].get("fleet_size") == stored


@pytest.mark.parametrize("value, message", [
    ("-5", "“车辆数”应在 0 到 100000 之间"),
    ("1.5", "“车辆数”应为整数"),
    ("1000000000000000000000", "“车辆数”应在 0 到 100000 之间"),
    ("很多", "“车辆数”应为数字"),
])
def test_fleet_size_refuses_what_is_no_fleet(value, message):
    """车辆数 -5, 1.5, 10^21 or a word are refused with a message naming the field."""
    _values, errors = fleet(value)
    assert [str(e.message) for e in errors] == [message]


def test_declared_bounds_survive_a_round_trip():
    """A field's whole/min/max are kept when a declaration is stored and read again."""
    assert parse_declaration(FREIGHT.to_dict()) == FREIGHT


def test_reversed_bounds_are_refused():
    """A declaration whose minimum is above its maximum is refused."""
    with pytest.raises(RuleError):
        parse_declaration({"enterprise_fields": [{"key": "n", "label": "数", "kind": "number", "min": 5, "max": 1}]})


def test_missing_name_and_address_use_the_forms_labels():
    """An empty 主体名称 / 主体地址 is named as the form labels it."""
    _values, errors = clean_enterprise({**BASE, "name": "", "address": ""}, FREIGHT)
    assert {str(e.message) for e in errors} == {"“主体名称”为必填项", "“主体地址”为必填项"}
