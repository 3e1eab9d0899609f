"""A declared resource gets its REST API in both list forms, its pages and export, with
Chinese refusals (shown on 系统管理 → 疫苗产品 / 镇街 / 委办局, held by the district admin)."""
from __future__ import annotations

from tests.conftest import csrf_from, login
from tests.integration.factories import audits, last_audit_id, read_xlsx, tag


def _product(**values):
    code = "r" + tag()[1:]
    return {"code": code, "name": "资源疫苗" + code, "primary_doses": 2, "primary_interval_days": 21,
            "booster_doses": 1, "booster_interval_days": 90, **values}


def test_crud_through_the_api_with_audit(client, auth):
    """POST creates (201), GET reads, PUT changes part, DELETE removes; each write audited."""
    headers = auth.token("admin")
    body = _product()
    created = client.post("/api/v1/vaccine_product/", json=body, headers=headers)
    assert created.status_code == 201, created.json
    pk = created.json["id"]
    assert client.get(f"/api/v1/vaccine_product/{pk}", headers=headers).json["result"]["code"] == body["code"]
    changed = client.put(f"/api/v1/vaccine_product/{pk}", json={"primary_interval_days": 28}, headers=headers)
    assert changed.json["result"]["primary_interval_days"] == 28 and changed.json["result"]["name"] == body["name"]
    assert client.delete(f"/api/v1/vaccine_product/{pk}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/vaccine_product/{pk}", headers=headers).status_code == 404


def test_list_answers_the_keyword_and_the_rison_form_alike(client, auth):
    headers = auth.token("admin")
    body = _product()
    client.post("/api/v1/vaccine_product/", json=body, headers=headers)
    plain = client.get(f"/api/v1/vaccine_product/?q={body['code']}&page=1&page_size=10", headers=headers).json
    rison = client.get(f"/api/v1/vaccine_product/?q=(filters:!((col:code,opr:eq,value:{body['code']})),"
                       f"page:0,page_size:10)", headers=headers).json
    assert plain["count"] == rison["count"] == 1
    assert plain["ids"] == rison["ids"] and plain["result"] == rison["result"]


def test_bad_input_is_a_chinese_400_and_nothing_is_stored(app, client, auth):
    headers = auth.token("admin")
    since = last_audit_id(app)
    bad = client.post("/api/v1/vaccine_product/", json=_product(primary_doses="两"), headers=headers)
    assert bad.status_code == 400 and bad.json["errors"]["primary_doses"] == "“基础免疫针次”应为整数"
    assert client.post("/api/v1/vaccine_product/", data="x", headers=headers).status_code == 400
    assert client.get("/api/v1/vaccine_product/?q=(filters:!((col:nope,opr:eq,value:1)))",
                      headers=headers).json["message"] == "不能按“nope”过滤"
    assert not audits(app, "create", "VaccineProduct", since)


def test_duplicate_code_is_409(client, auth):
    headers = auth.token("admin")
    body = _product()
    assert client.post("/api/v1/vaccine_product/", json=body, headers=headers).status_code == 201
    again = client.post("/api/v1/vaccine_product/", json={**body, "name": body["name"] + "2"}, headers=headers)
    assert again.status_code == 400 and "已存在" in again.json["message"]


def test_other_roles_get_403_on_the_api_and_pages(client, auth):
    for user in ("town_nansha", "taskforce", "bureau_port"):
        assert client.get("/api/v1/town/", headers=auth.token(user)).status_code == 403
        assert client.post("/api/v1/bureau/", json={"code": "x", "name": "x"}, headers=auth.token(user)).status_code == 403


def test_pages_add_edit_delete_and_export(app, client):
    """The admin adds a town on the page, edits it, exports the filtered list, deletes it."""
    login(client, "admin")
    name = tag() + "镇"
    token = csrf_from(client.get("/towns/add").data)
    page = client.post("/towns/add", data={"csrf_token": token, "name": name, "sort_order": "900"},
                       follow_redirects=True)
    assert page.status_code == 200 and name in page.get_data(as_text=True)
    listing = client.get(f"/towns/?q={name}").get_data(as_text=True)
    assert name in listing and "删除选中" in listing
    sheet = read_xlsx(client.get(f"/towns/export?q={name}").data)
    assert sheet == [["镇街", "排序"], [name, 900]]
    pk = int(client.get(f"/api/v1/town/?q={name}", headers={"Authorization": _bearer(client)}).json["ids"][0])
    edit = client.get(f"/towns/{pk}/edit").get_data(as_text=True)
    assert "取消" in edit
    client.post(f"/towns/{pk}/edit", data={"csrf_token": token, "name": name + "改", "sort_order": "901"})
    assert name + "改" in client.get(f"/towns/{pk}").get_data(as_text=True)
    client.post("/towns/delete", data={"csrf_token": token, "ids": str(pk)})
    assert client.get(f"/towns/{pk}").status_code == 404


def test_a_town_in_use_is_not_deleted(client, auth):
    """Deleting a town that enterprises use answers 409 and keeps it."""
    headers = auth.token("admin")
    pk = client.get("/api/v1/town/?q=南沙街", headers=headers).json["ids"][0]
    refused = client.delete(f"/api/v1/town/{pk}", headers=headers)
    assert refused.status_code == 409
    assert client.get(f"/api/v1/town/{pk}", headers=headers).status_code == 200


def _bearer(client):
    token = client.post("/api/v1/security/login", json={"username": "admin", "password": "Sentinel#2026",
                                                         "provider": "db"}).json["access_token"]
    return f"Bearer {token}"


def test_a_page_far_past_the_end_is_empty_not_an_error(client, auth):
    """?page=10^25 (keyword and rison form, API, page and the staff ledger) answers an empty
    page — the number once overflowed the database's OFFSET into a 500."""
    headers = auth.token("admin")
    huge = "1" + "0" * 25
    plain = client.get(f"/api/v1/vaccine_product/?page={huge}&page_size=10", headers=headers)
    rison = client.get(f"/api/v1/vaccine_product/?q=(page:{huge},page_size:10)", headers=headers)
    staff = client.get(f"/api/v1/staff/?page={huge}", headers=headers)
    assert plain.status_code == rison.status_code == staff.status_code == 200, (plain.json, rison.json)
    assert plain.json["result"] == rison.json["result"] == staff.json["result"] == []
    assert plain.json["count"] == rison.json["count"] > 0
    login(client, "admin")
    assert client.get(f"/staff/?page={huge}").status_code == 200
    assert client.get(f"/vaccine_products/?page={huge}").status_code == 200
