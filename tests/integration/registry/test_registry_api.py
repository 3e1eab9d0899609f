"""The registry REST API (SPEC §9): enterprises and staff, their rules, errors in
Chinese, masking, and the .xlsx export."""
from __future__ import annotations

import io
import re
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from models.enterprises import Enterprise
from models.staff import Staff
from tests.conftest import csrf_from
from tests.integration import factories as F

CJK = re.compile(r"[\u4e00-\u9fff]")
DUPLICATE = "同一企业同一身份证号码的人员已存在"
# The ledger of seed 001 §2.3 (its labels, its order), then 证件类型, 人员类别 and the sampling time.
STAFF_EXPORT_HEADERS = [
    "企业名称", "姓名", "所属镇街", "手机号码", "身份证号码", "负责人姓名", "负责人电话", "居住地址",
    "最近一次核酸检测结果", "最近一次核酸检测时间", "第一针疫苗接种时间", "第二针疫苗接种时间", "第三针疫苗接种时间",
    "证件类型", "人员类别", "最近一次核酸采样时间",
]


@pytest.fixture
def admin(auth):
    return auth.token("admin")


@pytest.fixture
def enterprise(app):
    return F.make_enterprise(app, F.tag() + "接口企业", town="南沙街", type_code="port")


def enterprise_body(**changes) -> dict:
    body = {"name": F.tag() + "新企业", "type_code": "port", "town": "南沙街", "grid": "南沙街第1网格",
            "address": "广州市南沙区测试路1号", "head_name": "王五", "head_phone": "13900000001",
            "extras": {"port_name": "南沙港"}}
    body.update(changes)
    return body


def staff_body(enterprise_id, **changes) -> dict:
    body = {"enterprise_id": enterprise_id, "name": "李四", "id_type": "居民身份证", "id_number": F.id_number(),
            "phone": "13576266263", "category": "高风险人员", "worker_kind": "引航员",
            "residence_type": "集中居住", "address": "广州市南沙区南沙街"}
    body.update(changes)
    return body


# --- enterprises -----------------------------------------------------------------

def test_enterprise_create_read_update_delete(app, client, admin):
    """An enterprise registered through the API can be read, changed and deleted (with its staff)."""
    body = enterprise_body()
    created = client.post("/api/v1/enterprise/", json=body, headers=admin)
    assert created.status_code == 201
    pk = created.json["id"]
    read = client.get(f"/api/v1/enterprise/{pk}", headers=admin).json["result"]
    assert (read["name"], read["type_code"], read["town"], read["grid"]) == (body["name"], "port", "南沙街", "南沙街第1网格")
    assert read["head_phone"] == "13900000001" and read["extras"] == {"port_name": "南沙港"}

    changed = client.put(f"/api/v1/enterprise/{pk}", json={"head_name": "赵六"}, headers=admin)
    assert changed.status_code == 200 and changed.json["result"]["head_name"] == "赵六"
    assert changed.json["result"]["address"] == body["address"]  # a partial payload keeps the rest

    F.make_staff(app, pk, "随企业删除")
    assert client.delete(f"/api/v1/enterprise/{pk}", headers=admin).status_code == 200
    assert client.get(f"/api/v1/enterprise/{pk}", headers=admin).status_code == 404
    assert F.count(app, Staff, Staff.enterprise_id == pk) == 0


@pytest.mark.parametrize("changes, fields", [
    ({"name": "", "address": ""}, {"name", "address"}),
    ({"town": "火星镇"}, {"town"}),
    ({"type_code": "no_such_type"}, {"type_code"}),
    ({"head_phone": "12345"}, {"head_phone"}),
    ({"credit_code": "91440101MA5ABCDE1X"}, {"credit_code"}),
    ({"grid": "不存在的网格"}, {"grid"}),
])
def test_bad_enterprise_values_are_400_with_chinese_field_errors(app, client, admin, changes, fields):
    """Wrong enterprise values are refused with a Chinese message per field, and nothing is stored."""
    body = enterprise_body(**changes)
    response = client.post("/api/v1/enterprise/", json=body, headers=admin)
    assert response.status_code == 400
    assert fields <= set(response.json["errors"])
    assert all(CJK.search(message) for message in response.json["errors"].values())
    assert F.count(app, Enterprise, Enterprise.name == body["name"]) == 0


# --- staff -----------------------------------------------------------------------

def test_staff_create_read_update_delete(app, client, admin, enterprise):
    """A person added through the API is stored normalised, can be changed and deleted."""
    number = F.id_number()
    typed = " " + number[:-1] + ("ｘ" if number[-1] == "X" else chr(ord(number[-1]) + 0xFEE0)) + " "
    created = client.post("/api/v1/staff/", json=staff_body(enterprise, id_number=typed), headers=admin)
    assert created.status_code == 201, created.json
    pk = created.json["id"]
    assert F.staff_row(app, pk)[3] == number  # trimmed, half-width, X upper case

    read = client.get(f"/api/v1/staff/{pk}", headers=admin).json["result"]
    assert read["id_number"] == number and read["worker_kind"] == "引航员"

    changed = client.put(f"/api/v1/staff/{pk}", json={"phone": "139 0000 0005"}, headers=admin)
    assert changed.status_code == 200 and changed.json["result"]["phone"] == "13900000005"
    assert changed.json["result"]["name"] == "李四"

    assert client.delete(f"/api/v1/staff/{pk}", headers=admin).status_code == 200
    assert F.staff_row(app, pk) is None
    assert client.delete(f"/api/v1/staff/{pk}", headers=admin).status_code == 404


def test_duplicate_id_in_one_enterprise_is_409(app, client, admin, enterprise):
    """The same ID number twice in one enterprise is refused with the manual's message; another enterprise may have it."""
    number = F.id_number()
    assert client.post("/api/v1/staff/", json=staff_body(enterprise, id_number=number), headers=admin).status_code == 201
    again = client.post("/api/v1/staff/", json=staff_body(enterprise, id_number=number.lower(), name="王二"),
                        headers=admin)
    assert again.status_code == 409 and again.json["message"] == DUPLICATE
    numbers = F.in_db(app, lambda s: list(s.execute(select(Staff.id_number).where(Staff.enterprise_id == enterprise))
                                          .scalars()))
    assert numbers.count(number) == 1

    elsewhere = F.make_enterprise(app, F.tag() + "另一企业")
    assert client.post("/api/v1/staff/", json=staff_body(elsewhere, id_number=number), headers=admin).status_code == 201


def test_update_into_a_duplicate_is_409(app, client, admin, enterprise):
    """Changing a person's ID number to a colleague's is refused and changes nothing."""
    first, second = F.id_number(), F.id_number()
    F.make_staff(app, enterprise, "甲", first)
    pk = F.make_staff(app, enterprise, "乙", second)
    response = client.put(f"/api/v1/staff/{pk}", json={"id_number": first}, headers=admin)
    assert response.status_code == 409 and response.json["message"] == DUPLICATE
    assert F.staff_row(app, pk)[3] == second


@pytest.mark.parametrize("changes, fields", [
    ({"id_number": "44011519900723765"}, {"id_number"}),        # 17 digits
    ({"id_number": "440115199007237654"}, {"id_number"}),       # wrong check digit
    ({"id_number": "440115199013327659"}, {"id_number"}),       # month 13
    ({"id_number": ""}, {"id_number"}),
    ({"phone": "1234"}, {"phone"}),
    ({"phone": "23576266263"}, {"phone"}),
    ({"id_number": "abc", "phone": "1", "name": ""}, {"id_number", "phone", "name"}),
    ({"category": "不存在的类别"}, {"category"}),
])
def test_bad_staff_values_are_400_with_chinese_field_errors(app, client, admin, enterprise, changes, fields):
    """Wrong ID numbers, phones or choices are refused with a Chinese message per field; nothing is stored."""
    response = client.post("/api/v1/staff/", json=staff_body(enterprise, **changes), headers=admin)
    assert response.status_code == 400
    assert set(response.json["errors"]) == fields
    assert all(CJK.search(message) for message in response.json["errors"].values())
    assert CJK.search(response.json["message"])
    assert F.count(app, Staff, Staff.enterprise_id == enterprise) == 0


@pytest.mark.parametrize("method, url", [
    ("post", "/api/v1/staff/"), ("post", "/api/v1/enterprise/"),
    ("put", "/api/v1/staff/1"), ("put", "/api/v1/enterprise/1"),
])
@pytest.mark.parametrize("payload", [{"data": "name=李四", "content_type": "application/x-www-form-urlencoded"},
                                     {"data": "{not json", "content_type": "application/json"}])
def test_non_json_body_is_400_in_chinese(client, admin, method, url, payload):
    """A body that is not JSON gets a 400 saying so in Chinese, never a 500."""
    response = getattr(client, method)(url, headers=admin, **payload)
    assert response.status_code == 400
    assert "JSON" in response.json["message"] and CJK.search(response.json["message"])


def test_api_needs_a_token(client):
    """Without a token the API answers 401 in Chinese."""
    for url in ("/api/v1/staff/", "/api/v1/enterprise/", "/api/v1/staff/export"):
        response = client.get(url)
        assert response.status_code == 401 and CJK.search(response.json["message"])


def test_list_masks_ids_while_detail_shows_the_full_number(app, client, admin, enterprise):
    """The staff list shows 440115********765X-style numbers and masked phones; one person's record shows them in full."""
    number = F.id_number()
    pk = F.make_staff(app, enterprise, "掩码", number, phone="13576266263")
    listed = client.get(f"/api/v1/staff/?enterprise_id={enterprise}", headers=admin).json
    assert listed["count"] == 1
    row = listed["result"][0]
    assert row["id_number"] == number[:6] + "*" * 8 + number[-4:]
    assert row["phone"] == "135****6263"
    assert number not in str(listed)
    full = client.get(f"/api/v1/staff/{pk}", headers=admin).json["result"]
    assert full["id_number"] == number and full["phone"] == "13576266263"


def test_list_pages_and_filters(app, client, admin, enterprise):
    """The list pages through a filter's rows (page, page_size), newest first, capped at 100 per page."""
    tag = F.tag()
    ids = [F.make_staff(app, enterprise, f"{tag}{n}") for n in range(5)]
    first = client.get(f"/api/v1/staff/?q={tag}&page_size=2", headers=admin).json
    second = client.get(f"/api/v1/staff/?q={tag}&page_size=2&page=2", headers=admin).json
    assert first["count"] == 5 and first["ids"] == ids[::-1][:2] and second["ids"] == ids[::-1][2:4]
    assert client.get("/api/v1/staff/?page_size=1000", headers=admin).json["page_size"] == 100
    by_enterprise = client.get(f"/api/v1/staff/?enterprise_id={enterprise}", headers=admin).json
    assert sorted(by_enterprise["ids"]) == sorted(ids)


# --- export ----------------------------------------------------------------------

def test_staff_export_columns_text_cells_and_formula_neutralised(app, client, admin):
    """The export has the manual's columns, IDs/phones as text (no 4.4E+17), formulas neutralised, a Chinese file name."""
    tag = F.tag()
    company = F.make_enterprise(app, tag + "导出企业", type_code="freight", head_phone="13800000001")
    number = F.id_number()
    F.make_staff(app, company, f"{tag}司机", number, phone="13576266263", category="货车司机",
                 address="=HYPERLINK(\"http://evil\")", extras={"plate_number": "粤A12345"})
    F.make_staff(app, company, f"{tag}押运", F.id_number(), address="@SUM(A1)")
    response = client.get(f"/api/v1/staff/export?enterprise_id={company}", headers=admin)
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    disposition = response.headers["Content-Disposition"]
    assert "filename*=UTF-8''" in disposition and "人员信息" in unquote(disposition)
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[0] == STAFF_EXPORT_HEADERS + ["车牌号"]
    assert len(rows) == 3 and response.headers["X-Export-Rows"] == "2"
    driver = next(r for r in rows if r[1] == f"{tag}司机")
    assert driver[:5] == [tag + "导出企业", f"{tag}司机", "南沙街", "13576266263", number]
    assert driver[5:7] == ["王五", "13800000001"] and driver[13:15] == ["居民身份证", "货车司机"]
    assert driver[7] == "'=HYPERLINK(\"http://evil\")" and driver[-1] == "粤A12345"
    assert all(v is None for v in driver[8:13] + driver[15:16])  # health columns: filled by the health module
    cell = sheet.cell(row=rows.index(driver) + 1, column=5)
    assert cell.data_type == "s" and cell.number_format == "@"
    assert any(r[7] == "'@SUM(A1)" for r in rows)
    assert all(c.data_type != "f" for r in sheet.iter_rows() for c in r)


def test_staff_export_follows_the_search_filter(app, client, admin, enterprise):
    """Exporting with a keyword exports exactly the rows the search shows."""
    tag = F.tag()
    F.make_staff(app, enterprise, f"{tag}甲")
    F.make_staff(app, enterprise, f"{tag}乙")
    F.make_staff(app, enterprise, "别人")
    listed = client.get(f"/api/v1/staff/?q={tag}", headers=admin).json
    exported = F.read_xlsx(client.get(f"/api/v1/staff/export?q={tag}", headers=admin).data)
    assert sorted(r[1] for r in exported[1:]) == sorted(r["name"] for r in listed["result"]) == [f"{tag}乙", f"{tag}甲"]
    everyone = F.read_xlsx(client.get("/api/v1/staff/export", headers=admin).data)
    assert len(everyone) - 1 == F.count(app, Staff)
    assert len(everyone[0]) == len(STAFF_EXPORT_HEADERS)  # no extra columns across enterprise types


def test_enterprise_export(app, client, admin):
    """The enterprise export lists the filtered enterprises with their head phone as text and staff count."""
    tag = F.tag()
    pk = F.make_enterprise(app, tag + "企业甲", town="黄阁镇", type_code="port", head_phone="13800000002")
    F.make_staff(app, pk, "员工一")
    F.make_staff(app, pk, "员工二")
    rows = F.read_xlsx(client.get(f"/api/v1/enterprise/export?q={tag}", headers=admin).data)
    assert rows[0][:3] == ["主体名称", "主体类型", "所属镇街"]
    assert rows[1:] == [[tag + "企业甲", "口岸企业", "黄阁镇", None, "广州市南沙区测试路1号", "王五",
                         "13800000002", None, 2]]
    type_id = F.enterprise_row(app, pk)[2]
    one_type = F.read_xlsx(client.get(f"/api/v1/enterprise/export?q={tag}&type_id={type_id}", headers=admin).data)
    assert one_type[0][-1] == "口岸名称" and len(one_type) == 2  # the type's own fields follow


def test_enterprise_search_takes_percent_and_underscore_literally(app, client, admin):
    """Searching enterprises for "企业_" or "100%" finds the names holding those very
    characters: they were SQL wildcards, so "企业_" also listed 企业1, 企业2 … and "%"
    every enterprise."""
    tag = F.tag()
    literal = F.make_enterprise(app, tag + "企业_甲")
    F.make_enterprise(app, tag + "企业1甲")
    percent = F.make_enterprise(app, tag + "达标100%企业")
    F.make_enterprise(app, tag + "达标1000企业")

    def found(q):
        return client.get("/api/v1/enterprise/", query_string={"q": q, "page_size": 100}, headers=admin).json["ids"]

    assert found(tag + "企业_") == [literal]
    assert found(tag + "达标100%") == [percent]
    assert percent in found("%") and literal not in found("%")


@pytest.mark.parametrize("resource", ["enterprise", "staff"])
def test_lists_answer_the_keyword_form_and_fab_rison_form_within_scope(app, client, auth, resource):
    """``?q=<keyword>&page=&page_size=`` and ``?q=(filters:!((col:…,opr:…,value:…)),page:0,
    page_size:100)`` find the same rows; a town user gets only their town's through either
    (the same name in another town stays out); an unknown column is a Chinese 400."""
    marker = F.tag()
    here = F.make_enterprise(app, f"{marker}甲", town="南沙街")
    there = F.make_enterprise(app, f"{marker}乙", town="黄阁镇")
    if resource == "staff":
        inside = {F.make_staff(app, here, f"{marker}张")}
        F.make_staff(app, there, f"{marker}张")
    else:
        inside = {here}
    admin, town = auth.token("admin"), auth.token("town_nansha")
    base = f"/api/v1/{resource}/"
    plain = client.get(f"{base}?q={marker}&page=1&page_size=10", headers=town)
    rison = client.get(f"{base}?q=(filters:!((col:name,opr:sw,value:'{marker}')),page:0,page_size:100)",
                       headers=town)
    assert plain.status_code == rison.status_code == 200
    assert set(plain.json["ids"]) == set(rison.json["ids"]) == inside
    assert plain.json["count"] == rison.json["count"] == 1
    # the district admin sees both towns' rows through the same filter
    assert client.get(f"{base}?q=(filters:!((col:name,opr:sw,value:'{marker}')),page:0,page_size:100)",
                      headers=admin).json["count"] == 2
    wrong = client.get(f"{base}?q=(filters:!((col:nope,opr:eq,value:1)))", headers=town)
    assert wrong.status_code == 400 and CJK.search(wrong.json["message"])


BIG = "99999999999999999999999"  # past 64 bits (SQLite overflows); 2147483648 is past PostgreSQL's INTEGER


@pytest.mark.parametrize("too_big", [BIG, "9223372036854775808", "2147483648"])
def test_ids_no_row_can_have_are_not_found_instead_of_a_server_error(app, client, auth, admin, enterprise, too_big):
    """An id too large for any row, in a path, a body, a filter or a delete form, answers
    404 (or a Chinese 400 for a filter): it was 系统繁忙 (500) on SQLite past 64 bits and
    on PostgreSQL past its INTEGER."""
    answers = {
        "get staff": client.get(f"/api/v1/staff/{too_big}", headers=admin),
        "get health": client.get(f"/api/v1/staff/{too_big}/health", headers=admin),
        "put staff": client.put(f"/api/v1/staff/{too_big}", json={"name": "某"}, headers=admin),
        "delete staff": client.delete(f"/api/v1/staff/{too_big}", headers=admin),
        "get enterprise": client.get(f"/api/v1/enterprise/{too_big}", headers=admin),
        "get type": client.get(f"/api/v1/enterprise_type/{too_big}", headers=admin),
        "post staff": client.post("/api/v1/staff/", json=staff_body(int(too_big)), headers=admin),
    }
    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(answers, 404)
    for url in (f"/api/v1/staff/?enterprise_id={too_big}", f"/api/v1/enterprise/?type_id={too_big}",
                "/api/v1/staff/?q=(filters:!((col:enterprise_id,opr:eq,value:%s)))" % too_big):
        listed = client.get(url, headers=admin)
        assert listed.status_code == 400 and CJK.search(listed.json["message"]), url
    person = F.make_staff(app, enterprise, F.tag())
    auth.login("admin")
    token = csrf_from(client.get("/staff/").data)
    for path in ("/staff/delete", "/enterprises/delete", "/enterprise_types/delete"):
        deleted = client.post(path, data={"csrf_token": token, "ids": [too_big, "²", str(person) + "x"]})
        assert deleted.status_code == 302, path
    assert F.count(app, Staff, Staff.id == person) == 1


def test_the_same_person_added_twice_at_once_is_a_duplicate_not_a_server_error(app, client, admin, enterprise,
                                                                             monkeypatch):
    """Two requests adding (or changing to) the same ID number at once both pass the
    duplicate check; the second to write gets 409 同一企业同一身份证号码的人员已存在, as the
    check would have said, not 系统繁忙 (500)."""
    from app.services import staff as staff_service

    body = staff_body(enterprise)
    assert client.post("/api/v1/staff/", json=body, headers=admin).status_code == 201
    other = client.post("/api/v1/staff/", json=staff_body(enterprise), headers=admin).json["id"]
    monkeypatch.setattr(staff_service, "_duplicate", lambda *args, **kwargs: False)  # both checked before either wrote
    again = client.post("/api/v1/staff/", json=body, headers=admin)
    assert again.status_code == 409 and again.json["message"] == DUPLICATE
    changed = client.put(f"/api/v1/staff/{other}", json={"id_number": body["id_number"]}, headers=admin)
    assert changed.status_code == 409 and changed.json["message"] == DUPLICATE
    assert F.count(app, Staff, Staff.enterprise_id == enterprise) == 2
