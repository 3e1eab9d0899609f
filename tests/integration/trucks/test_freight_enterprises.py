"""货车企业管理 (seed 002 §2.5): the transport bureau and the district admin import, add and
edit freight enterprises; a town user only views its town's (other types unchanged)."""
from __future__ import annotations

import html
import io
import uuid

import openpyxl
import pytest

from tests.conftest import csrf_from
from tests.integration import factories as F
from tests.integration.imports.helpers import upload


def body(type_code: str, **extra) -> dict:
    return {"name": f"货运{uuid.uuid4().hex[:8]}", "type_code": type_code, "town": "南沙街",
            "address": "广州市南沙区测试路1号", "head_name": "王五", "head_phone": "13900000001", **extra}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def freight(app):
    return F.make_enterprise(app, F.tag() + "货运企业", town="南沙街", type_code="freight")


def test_town_list_of_freight_offers_no_add_nor_import(client, auth):
    """A town user's 货车企业管理 shows no 新增 / 批量新增; its port list still does."""
    auth.login("town_nansha")
    page = text(client.get("/enterprises/?type=freight"))
    assert "货车企业管理" in page
    assert 'id="btn-add"' not in page and 'id="btn-import"' not in page
    port = text(client.get("/enterprises/?type=port"))
    assert 'id="btn-add"' in port and 'id="btn-import"' in port


def test_town_cannot_add_or_edit_a_freight_enterprise(client, auth, freight):
    """A town user's POST of a freight enterprise stores nothing; its freight enterprise has no 编辑."""
    auth.login("town_nansha")
    token = csrf_from(client.get("/enterprises/add").data)
    data = {**body("freight"), "csrf_token": token}
    assert client.post("/enterprises/add?type_code=freight", data=data).status_code == 404
    assert "暂无数据" in text(client.get(f"/enterprises/?type=freight&q={data['name']}"))
    detail = client.get(f"/enterprises/{freight}")
    assert detail.status_code == 200 and 'id="btn-edit"' not in text(detail)
    assert client.get(f"/enterprises/{freight}/edit").status_code == 404
    assert "货运企业" not in text(client.get("/enterprises/add"))


def test_town_api_refuses_freight_writes_but_not_port(client, auth, freight):
    """Through the API a town user adds a port enterprise but no freight one, nor edits one."""
    headers = auth.token("town_nansha")
    assert client.post("/api/v1/enterprise/", json=body("freight"), headers=headers).status_code == 404
    assert client.put(f"/api/v1/enterprise/{freight}", json={"address": "新地址"}, headers=headers).status_code == 404
    assert client.get(f"/api/v1/enterprise/{freight}", headers=headers).status_code == 200
    assert client.post("/api/v1/enterprise/", json=body("port"), headers=headers).status_code == 201
    # nor by first making it another type: the row as it is must be the town's to write too
    assert client.put(f"/api/v1/enterprise/{freight}", json={"type_code": "port"}, headers=headers).status_code == 404
    assert client.get(f"/api/v1/enterprise/{freight}", headers=headers).json["result"]["type_code"] == "freight"


def test_bureau_adds_and_edits_freight_enterprises(client, auth, freight):
    """The transport bureau adds and edits freight enterprises."""
    headers = auth.token("bureau_transport")
    assert client.post("/api/v1/enterprise/", json=body("freight"), headers=headers).status_code == 201
    assert client.put(f"/api/v1/enterprise/{freight}", json={"address": "新地址"}, headers=headers).status_code == 200


def test_town_import_of_freight_rows_fails_them(client, auth):
    """A town user's import of freight enterprises stores none: each row fails as out of its reach."""
    name = f"导入货运{uuid.uuid4().hex[:6]}"
    wb = openpyxl.Workbook()
    wb.active.append(["企业名称", "所属镇街", "所属网格", "企业地址", "负责人姓名", "负责人电话"])
    wb.active.append([name, "南沙街", None, "南沙路1号", "赵六", "13900000002"])
    out = io.BytesIO()
    wb.save(out)
    answer = upload(client, "/api/v1/enterprise/import", auth.token("town_nansha"), out.getvalue(),
                    enterprise_type="freight")
    assert answer.status_code == 200, answer.json
    assert (answer.json["created"], answer.json["failed"]) == (0, 1)
