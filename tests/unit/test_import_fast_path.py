"""The import's fast path for staff rows never disagrees with the full cleaner."""
from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from app.domain.enterprise_types import parse_declaration
from app.domain.records import clean_staff
from app.services.imports.base import Importer
from app.services.imports.staff_rows import FastStaffRows

TODAY = date(2026, 11, 22)
PORT = parse_declaration({
    "categories": ["高风险人员", "管理人员", "其他人员"], "worker_kinds": ["拆件或装卸等人员", "引航员"],
    "residence_types": ["集中居住", "分散居住"], "enterprise_fields": [], "staff_fields": []})
WITH_EXTRAS = parse_declaration({
    "categories": [], "worker_kinds": [], "residence_types": [], "enterprise_fields": [],
    "staff_fields": [{"key": "badge", "label": "工牌号", "kind": "text"},
                     {"key": "shifts", "label": "班次数", "kind": "number"},
                     {"key": "since", "label": "入职日期", "kind": "date"},
                     {"key": "team", "label": "班组", "kind": "choice", "choices": ["甲", "乙"], "required": True}]})


def id_card(birth: str = "19900723", seq: str = "765") -> str:
    body = "440115" + birth + seq
    return body + ric.calc_check_digit(body + "0")


VALID_ID = id_card()
X_ID = next(i for i in (id_card("19850101", f"{n:03d}") for n in range(1000)) if i.endswith("X"))


def full(values: dict, decl=PORT):
    """What the importer did before the fast path: _raw, then clean_staff."""
    return clean_staff(Importer.raw(values, decl.staff_fields), decl)


texts = st.one_of(
    st.none(), st.just(""), st.just("  "), st.sampled_from(["张三", " 李四 ", "王五\u200b", "\u200b", "赵\t六"]),
    st.text(max_size=8), st.text(min_size=60, max_size=70, alphabet="张李王"),
    st.integers(-10, 10**12), st.floats(allow_nan=True), st.booleans(), st.just(date(2020, 1, 2)))
ids = st.one_of(
    st.sampled_from([VALID_ID, X_ID, X_ID.lower(), " " + VALID_ID, VALID_ID[:-1] + "0", VALID_ID[:-1] + "1",
                     id_card("18991231"), id_card("20301231"), id_card("19900230"), VALID_ID[:17],
                     "４４０１１５１９９００７２３７６５３", "H12345678", "E1234567", VALID_ID + "1", "",
                     "44011519900723765３", "4401151990072376 53"]),
    st.builds(lambda y, m, d, s: id_card(f"{y:04d}{m:02d}{d:02d}", f"{s:03d}"),
              st.integers(1890, 2030), st.integers(0, 13), st.integers(0, 32), st.integers(0, 999)),
    st.integers(0, 10**18), st.floats(), st.none(), st.text(max_size=20))
phones = st.one_of(
    st.sampled_from(["13576266263", "+8613576266263", "135 7626 6263", "135-7626-6263", "1234", "23576266263",
                     "１３５７６２６６２６３", "13576266263\u200b", "", "8613576266263"]),
    st.integers(0, 3 * 10**10), st.floats(0, 3e10), st.just(13576266263.0), st.just(13576266263.5),
    st.none(), st.text(max_size=12))
choice = st.one_of(st.none(), st.sampled_from(["高风险人员", "管理人员", " 管理人员 ", "引航员", "集中居住",
                                               "其他", "", "\u200b管理人员", "甲", "乙"]), texts)
id_types = st.one_of(st.none(), st.sampled_from(["居民身份证", "身份证", " 身份证 ", "二代身份证", "护照",
                                                 "台胞证", "居民 身份证", "\u200b身份证", "身分证", ""]), texts)


@settings(max_examples=3000, deadline=None)
@given(name=texts, id_type=id_types, number=ids, phone=phones, category=choice, kind=choice,
       residence=choice, address=texts)
def test_fast_path_agrees_with_the_full_cleaner(name, id_type, number, phone, category, kind, residence, address):
    """Whatever the cells hold, a row the fast path accepts is cleaned exactly as the full cleaner does."""
    values = {"name": name, "id_type": id_type, "id_number": number, "phone": phone, "category": category,
              "worker_kind": kind, "residence_type": residence, "address": address}
    fast = FastStaffRows(PORT, today=date.today())(values)
    if fast is not None:
        clean, errors = full(values)
        assert errors == [] and fast == clean


@settings(max_examples=1000, deadline=None)
@given(badge=texts, shifts=st.one_of(st.none(), st.integers(-5, 50), st.floats(), st.text(max_size=4)),
       since=st.one_of(st.none(), st.dates(), st.text(max_size=10), st.integers(0, 50000)),
       team=choice)
def test_fast_path_agrees_on_extra_fields(badge, shifts, since, team):
    """Declared extra fields (text, number, date, required choice) come out as the full cleaner makes them."""
    values = {"name": "张三", "id_number": VALID_ID, "phone": "13576266263", "extras.badge": badge,
              "extras.shifts": shifts, "extras.since": since, "extras.team": team}
    fast = FastStaffRows(WITH_EXTRAS, today=date.today())(values)
    clean, errors = full(values, WITH_EXTRAS)
    if fast is not None:
        assert errors == [] and fast == clean
    elif not errors:
        assert fast is None  # allowed: the full cleaner handled it


def test_the_usual_rows_take_the_fast_path():
    """Plain rows as templates hold them (phones as text or as numbers, lowercase x) are cleaned without the slow path."""
    fast = FastStaffRows(PORT, today=TODAY)
    rows = [
        {"name": "张三", "id_type": "居民身份证", "id_number": VALID_ID, "phone": "13576266263",
         "category": "管理人员", "worker_kind": "引航员", "residence_type": "集中居住", "address": "广州市南沙区"},
        {"name": " 李四", "id_number": X_ID.lower(), "phone": 13576266263, "category": None, "address": None},
        {"name": "王五", "id_type": "身份证", "id_number": VALID_ID, "phone": 13576266263.0},
    ]
    for values in rows:
        cleaned = fast(values)
        assert cleaned is not None and cleaned == full(values)[0]
    assert fast(rows[1])["id_number"] == X_ID


def test_unusual_rows_are_left_to_the_full_cleaner():
    """A wrong check digit, another ID type, a choice outside the list or a mangled phone is never decided here."""
    fast = FastStaffRows(PORT, today=TODAY)
    base = {"name": "张三", "id_number": VALID_ID, "phone": "13576266263"}
    for change in ({"id_number": VALID_ID[:-1] + "0"}, {"id_type": "护照", "id_number": "E1234567"},
                   {"category": "临时工"}, {"phone": "135 7626 6263"}, {"id_number": float(VALID_ID)},
                   {"name": "  "}, {"id_number": id_card("20301231")}, {"name": "赵\t六"},
                   {"address": "南沙街\r\n1号"}):
        assert fast({**base, **change}) is None


def test_a_number_field_refuses_nan_and_infinity():
    """"nan" or "inf" typed in a number column is 应为数字, never stored (it is not JSON either)."""
    for value in ("nan", "inf", "-Infinity", float("nan")):
        clean, errors = full({"name": "张三", "id_number": VALID_ID, "phone": "13576266263", "extras.shifts": value,
                              "extras.team": "甲"}, WITH_EXTRAS)
        assert [str(e.message) for e in errors] == ["“班次数”应为数字"]
