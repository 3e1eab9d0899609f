"""Enterprise types (主体类型) as data: the admin defines one in the UI and it is usable at once."""
from __future__ import annotations

import io
import json

import openpyxl
import pytest
from sqlalchemy import select

from models.enterprise_types import EnterpriseType
from models.enterprises import Enterprise
from models.organisations import Bureau
from models.staff import Staff
from tests.conftest import csrf_from
from tests.integration.factories import audits, count, id_number, in_db, last_audit_id, phone, tag

HAZARD = {"key": "hazard_class", "label": "危险品类别", "kind": "choice", "required": True,
          "choices": "易燃液体\n腐蚀品，毒害品"}  # one per line and comma-separated, as users type them
LICENSE = {"key": "license_no", "label": "上岗证号", "kind": "text", "required": False}


TEST_BUREAU = "et_test"  # a bureau of these tests' own: other tests count the types of the demo bureaus


def bureau_id(app, code: str = TEST_BUREAU) -> int:
    def find_or_add(session):
        found = session.execute(select(Bureau.id).where(Bureau.code == code)).scalar_one_or_none()
        if found is None and code.startswith(TEST_BUREAU):
            session.add(Bureau(code=code, name="类型测试委办局" + code))
            session.commit()
            return find_or_add(session)
        return found
    return in_db(app, find_or_add)


def type_row(app, code: str):
    def read(session):
        t = session.execute(select(EnterpriseType).where(EnterpriseType.code == code)).scalar_one_or_none()
        return None if t is None else {"id": t.id, "name": t.name, "active": t.active, "spec": t.spec,
                                       "bureau_id": t.bureau_id}
    return in_db(app, read)


def post_type_form(client, url: str, **values):
    """Submit the type form the way its editor does: lists as text, extra fields as JSON."""
    page = client.get(url)
    assert page.status_code == 200
    data = {"csrf_token": csrf_from(page.data), "active": "1", "categories": "", "worker_kinds": "",
            "residence_types": "", "enterprise_fields": "[]", "staff_fields": "[]"}
    for key, value in values.items():
        data[key] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if values.get("active") is False:
        data.pop("active")
    return client.post(url, data=data)


def api_type(client, headers, **body):
    bureau_id(client.application)  # makes sure the test bureau exists
    body = {"code": "t" + tag()[1:], "name": "类型" + tag(), "bureau": TEST_BUREAU, **body}
    response = client.post("/api/v1/enterprise_type/", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json["result"]


def enterprise_body(type_code: str, **extra) -> dict:
    return {"name": "危化" + tag(), "type_code": type_code, "town": "南沙街", "address": "广州市南沙区测试路9号",
            "head_name": "王五", "head_phone": phone(), **extra}


@pytest.fixture
def admin_api(auth):
    return auth.token("admin")


def test_new_type_from_the_page_is_usable_at_once_for_enterprises_templates_and_imports(app, client, auth):
    """Admin adds 危化品企业 on the page; a town user registers one (extras checked), gets its template, imports staff."""
    auth.login("admin")
    response = post_type_form(
        client, "/enterprise_types/add", code="hazchem", name="危化品企业", bureau_id=str(bureau_id(app)),
        categories="作业人员\n管理人员", enterprise_fields=[HAZARD], staff_fields=[LICENSE])
    assert response.status_code == 302, response.get_data(as_text=True)
    listing = client.get("/enterprise_types/").get_data(as_text=True)
    assert "危化品企业" in listing and "危险品类别" in listing and "上岗证号" in listing
    saved = type_row(app, "hazchem")
    assert saved["spec"]["enterprise_fields"][0]["choices"] == ["易燃液体", "腐蚀品", "毒害品"]

    town = auth.token("town_nansha")
    missing = client.post("/api/v1/enterprise/", json=enterprise_body("hazchem"), headers=town)
    assert missing.status_code == 400
    assert missing.json["errors"]["hazard_class"] == "“危险品类别”为必填项"
    wrong = client.post("/api/v1/enterprise/", json=enterprise_body("hazchem", extras={"hazard_class": "放射性物品"}),
                        headers=town)
    assert wrong.status_code == 400
    assert wrong.json["errors"]["hazard_class"] == "“危险品类别”只能是：易燃液体、腐蚀品、毒害品"
    created = client.post("/api/v1/enterprise/", json=enterprise_body("hazchem", extras={"hazard_class": "腐蚀品"}),
                          headers=town)
    assert created.status_code == 201, created.json
    assert created.json["result"]["extras"] == {"hazard_class": "腐蚀品"}
    eid = created.json["id"]

    template = client.get("/api/v1/staff/template?enterprise_type=hazchem", headers=town)
    assert template.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(template.data))
    ws = wb.active
    header_row = next(r for r in range(1, 5) if str(ws.cell(row=r, column=1).value).startswith("姓名"))
    headers = [c.value for c in ws[header_row]]
    assert "上岗证号(可选填)" in headers
    number = id_number()
    values = {"姓名": "危化员工", "身份证号码": number, "手机号码": phone(), "人员类别": "作业人员", "上岗证号": "SG-2026-01"}
    for col, header in enumerate(headers, 1):
        label = str(header).split("(")[0]
        if label in values:
            ws.cell(row=header_row + 2, column=col, value=values[label])
    out = io.BytesIO()
    wb.save(out)
    imported = client.post("/api/v1/staff/import", headers=town, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(out.getvalue()), "危化人员.xlsx"), "enterprise_id": str(eid)})
    assert imported.status_code == 200, imported.json
    assert (imported.json["created"], imported.json["failed"]) == (1, 0)
    stored = in_db(app, lambda s: [(p.name, p.category, p.extras) for p in
                                   s.execute(select(Staff).where(Staff.enterprise_id == eid)).scalars()])
    assert stored == [("危化员工", "作业人员", {"license_no": "SG-2026-01"})]


BAD_DECLARATIONS = [
    ("enterprise_fields", [{"key": "grade", "label": "等级"}, {"key": "grade", "label": "等级二"}], "字段标识“grade”重复"),
    ("staff_fields", [{"key": "Bad-Key", "label": "坏标识"}], "字段标识“Bad-Key”不正确"),
    ("enterprise_fields", [{"key": "grade", "label": "等级", "kind": "choice", "choices": ""}],
     "选择类字段“等级”需要至少一个选项"),
    ("staff_fields", [{"key": "mobile", "label": "手机号码"}], "字段名称“手机号码”与其他列重名"),
    ("staff_fields", [{"key": "phone", "label": "电话2"}], "字段标识“phone”与内置字段重复"),
    ("enterprise_fields", "[{\"key\": ", "企业扩展字段格式不正确"),
]


@pytest.mark.parametrize("side, fields, message", BAD_DECLARATIONS)
def test_bad_declaration_is_refused_with_a_clear_message_and_nothing_saved(app, client, auth, admin_api,
                                                                           side, fields, message):
    """A broken declaration (duplicate key, bad key, choice without choices…) is refused in Chinese; nothing saved."""
    auth.login("admin")
    code, before = "bad" + tag()[1:], last_audit_id(app)
    page = post_type_form(client, "/enterprise_types/add", code=code, name="坏类型" + code,
                          bureau_id=str(bureau_id(app)), **{side: fields})
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert message in text and 'id="error-' + side + '"' in text
    assert "坏类型" + code in text  # what the admin typed is kept

    body = {"code": code, "name": "坏类型" + code, "bureau": "port", side: fields}
    api = client.post("/api/v1/enterprise_type/", json=body, headers=admin_api)
    assert api.status_code == 400 and message in api.json["message"]
    assert type_row(app, code) is None
    assert audits(app, "create", "EnterpriseType", before) == []


def test_duplicate_code_or_name_is_a_409_with_a_message(client, auth, admin_api, app):
    """Reusing an existing code (or name) is refused with 已存在, on the API (409) and next to the form field."""
    api = client.post("/api/v1/enterprise_type/", json={"code": "port", "name": "新口岸" + tag(), "bureau": "port"},
                      headers=admin_api)
    assert api.status_code == 409 and api.json["message"] == "主体类型编码“port”已存在"
    by_name = client.post("/api/v1/enterprise_type/", json={"code": "port2", "name": "口岸企业", "bureau": "port"},
                          headers=admin_api)
    assert by_name.status_code == 409 and by_name.json["message"] == "主体类型名称“口岸企业”已存在"
    auth.login("admin")
    page = post_type_form(client, "/enterprise_types/add", code="freight", name="另一个" + tag(),
                          bureau_id=str(bureau_id(app)))
    assert page.status_code == 409
    assert 'id="error-code"' in page.get_data(as_text=True) and "主体类型编码“freight”已存在" in page.get_data(as_text=True)
    assert type_row(app, "port2") is None


@pytest.mark.parametrize("username", ["town_nansha", "bureau_port", "taskforce"])
def test_only_the_district_admin_reaches_type_pages_and_api(app, client, auth, username):
    """Town, bureau and task-force users are refused the type pages (403/redirect) and get 403 on the API."""
    admin_page = client.get("/login/")  # a form token of an anonymous session, reused after login
    auth.login(username)
    for url in ("/enterprise_types/", "/enterprise_types/1/edit", "/enterprise_types/add"):
        response = client.get(url)
        assert response.status_code in (302, 403) and "enterprise-type" not in response.get_data(as_text=True)
    code = "nope" + tag()[1:]
    posted = client.post("/enterprise_types/add", data={
        "csrf_token": csrf_from(admin_page.data), "code": code, "name": code, "bureau_id": "1"})
    assert posted.status_code in (302, 400, 403)
    assert client.post("/enterprise_types/1/active", data={"active": "0"}).status_code in (302, 400, 403)
    headers = auth.token(username)
    assert client.get("/api/v1/enterprise_type/", headers=headers).status_code == 403
    assert client.get("/api/v1/enterprise_type/1", headers=headers).status_code == 403
    assert client.post("/api/v1/enterprise_type/", json={"code": code, "name": code, "bureau": "port"},
                       headers=headers).status_code == 403
    assert client.put("/api/v1/enterprise_type/1", json={"name": "改名"}, headers=headers).status_code == 403
    assert type_row(app, code) is None and type_row(app, "port")["name"] == "口岸企业"
    assert type_row(app, "port")["active"] is True


def test_edit_is_audited_and_removing_a_field_keeps_stored_values(app, client, auth, admin_api):
    """Editing a type is audited with before/after; removed fields keep their stored values, even across edits."""
    site = {"key": "site_no", "label": "场所编号", "kind": "text", "required": False}
    badge = {"key": "badge", "label": "工牌号", "kind": "text", "required": False}
    etype = api_type(client, admin_api, enterprise_fields=[site], staff_fields=[badge], categories=["甲类"])
    eid = client.post("/api/v1/enterprise/", json=enterprise_body(etype["code"], extras={"site_no": "S-9"}),
                      headers=admin_api).json["id"]
    sid = client.post("/api/v1/staff/", json={"enterprise_id": eid, "name": "工牌员工", "id_number": id_number(),
                                              "phone": phone(), "extras": {"badge": "B-7"}}, headers=admin_api).json["id"]
    before_id = last_audit_id(app)

    auth.login("admin")
    edit_url = f"/enterprise_types/{etype['id']}/edit"
    assert "site_no" in client.get(edit_url).get_data(as_text=True)  # the editor is filled with the fields
    response = post_type_form(client, edit_url, code=etype["code"], name=etype["name"] + "改", staff_fields=[],
                              bureau_id=str(bureau_id(app, TEST_BUREAU + "2")), categories="甲类\n乙类")
    assert response.status_code == 302

    rows = audits(app, "update", "EnterpriseType", before_id)
    assert len(rows) == 1 and rows[0]["username"] == "admin" and rows[0]["entity_id"] == str(etype["id"])
    assert rows[0]["before"]["spec"]["enterprise_fields"][0]["key"] == "site_no"
    assert rows[0]["after"]["spec"]["enterprise_fields"] == []
    assert rows[0]["before"]["name"] == etype["name"] and rows[0]["after"]["name"] == etype["name"] + "改"
    assert rows[0]["after"]["spec"]["categories"] == ["甲类", "乙类"]
    assert (rows[0]["before"]["bureau_id"], rows[0]["after"]["bureau_id"]) == (bureau_id(app), bureau_id(app, TEST_BUREAU + "2"))
    assert "S-9" not in client.get(f"/enterprises/{eid}").get_data(as_text=True)
    # later edits of the enterprise and the person keep the values of the removed fields
    assert client.put(f"/api/v1/enterprise/{eid}", json={"address": "广州市南沙区新地址1号"},
                      headers=admin_api).status_code == 200
    assert client.put(f"/api/v1/staff/{sid}", json={"name": "工牌员工改"}, headers=admin_api).status_code == 200
    assert in_db(app, lambda s: s.get(Enterprise, eid).extras) == {"site_no": "S-9"}
    assert in_db(app, lambda s: s.get(Staff, sid).extras) == {"badge": "B-7"}

    again = client.put(f"/api/v1/enterprise_type/{etype['id']}", json={"enterprise_fields": [site], "staff_fields": [badge]},
                       headers=admin_api)
    assert again.status_code == 200 and again.json["result"]["name"] == etype["name"] + "改"  # partial update
    assert again.json["result"]["spec"]["categories"] == ["甲类", "乙类"]
    assert "S-9" in client.get(f"/enterprises/{eid}").get_data(as_text=True)
    assert "B-7" in client.get(f"/staff/{sid}").get_data(as_text=True)


def test_code_is_fixed_once_created(client, admin_api, app):
    """Changing a type's code is refused (integrators rely on it); the type is unchanged."""
    etype = api_type(client, admin_api)
    response = client.put(f"/api/v1/enterprise_type/{etype['id']}", json={"code": "renamed"}, headers=admin_api)
    assert response.status_code == 400 and "创建后不能修改" in response.json["message"]
    assert type_row(app, etype["code"]) is not None and type_row(app, "renamed") is None


def test_type_in_use_is_deactivated_not_deleted(app, client, auth, admin_api):
    """A type with enterprises can't be deleted, only deactivated: it leaves the choices, its enterprises stay."""
    etype = api_type(client, admin_api)
    eid = client.post("/api/v1/enterprise/", json=enterprise_body(etype["code"]), headers=admin_api).json["id"]
    listed = client.get("/api/v1/enterprise_type/", query_string={"q": etype["name"]}, headers=admin_api).json["result"]
    assert next(t for t in listed if t["id"] == etype["id"])["enterprises"] == 1

    refused = client.delete(f"/api/v1/enterprise_type/{etype['id']}", headers=admin_api)
    assert refused.status_code == 409 and "不能删除，可以停用" in refused.json["message"]
    auth.login("admin")
    page = client.get("/enterprise_types/")
    client.post(f"/enterprise_types/{etype['id']}/delete", data={"csrf_token": csrf_from(page.data)})
    assert "不能删除" in client.get("/enterprise_types/").get_data(as_text=True)
    assert type_row(app, etype["code"]) is not None

    before_id = last_audit_id(app)
    page = client.get("/enterprise_types/")
    assert client.post(f"/enterprise_types/{etype['id']}/active",
                       data={"csrf_token": csrf_from(page.data), "active": "0"}).status_code == 302
    assert type_row(app, etype["code"])["active"] is False
    rows = audits(app, "deactivate", "EnterpriseType", before_id)
    assert len(rows) == 1 and rows[0]["before"]["active"] is True and rows[0]["after"]["active"] is False
    town = auth.token("town_nansha")
    offered = [t["code"] for t in client.get("/api/v1/enterprise/_info", headers=town).json["types"]]
    assert etype["code"] not in offered and "port" in offered
    assert client.get(f"/api/v1/enterprise/{eid}", headers=town).status_code == 200


def test_unused_type_can_be_deleted_and_the_deletion_is_audited(app, client, admin_api):
    """An unused type is deleted for good, with its last state in the audit log."""
    etype = api_type(client, admin_api)
    before_id = last_audit_id(app)
    assert client.delete(f"/api/v1/enterprise_type/{etype['id']}", headers=admin_api).status_code == 200
    assert type_row(app, etype["code"]) is None
    rows = audits(app, "delete", "EnterpriseType", before_id)
    assert len(rows) == 1 and rows[0]["before"]["code"] == etype["code"]
    assert client.get(f"/api/v1/enterprise_type/{etype['id']}", headers=admin_api).status_code == 404
    assert count(app, EnterpriseType, EnterpriseType.code == etype["code"]) == 0


def test_a_line_break_pasted_into_a_name_becomes_a_space(app, client, auth):
    """A type or enterprise name typed with a line break (pasted from an Excel cell) is
    stored on one line: a type so named made its 下载模板 a 系统繁忙 (500, a line break
    in the file name's header), and an enterprise so named was never found again by an
    import's name."""
    admin = auth.token("admin")
    made = api_type(client, admin, name="换行\r\n" + tag() + "类型", spec={"categories": ["管理人员"]})
    code = made["code"]
    assert "\n" not in made["name"] and made["name"].startswith("换行 ")
    template = client.get(f"/api/v1/staff/template?enterprise_type={code}", headers=admin)
    assert template.status_code == 200 and template.data[:2] == b"PK"
    enterprise = client.post("/api/v1/enterprise/", headers=admin, json={
        "name": f"{code}企业\n甲", "type_code": code, "town": "南沙街", "address": "广州市南沙区\t测试路1号",
        "head_name": "王五", "head_phone": phone()})
    assert enterprise.status_code == 201
    assert (enterprise.json["result"]["name"], enterprise.json["result"]["address"]) == (
        f"{code}企业 甲", "广州市南沙区 测试路1号")
