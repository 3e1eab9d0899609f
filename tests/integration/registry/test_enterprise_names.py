"""An enterprise's name is unique within its town (the importer's key): add and edit,
pages and API, refuse a second one with the name said; the freight type's 车辆数 is
checked on the form too."""
from __future__ import annotations

import html
import uuid

import pytest

from tests.conftest import csrf_from
from tests.integration import factories as F


def body(name: str, town: str = "南沙街", type_code: str = "port", **extra) -> dict:
    return {"name": name, "type_code": type_code, "town": town, "address": "广州市南沙区测试路1号",
            "head_name": "王五", "head_phone": "13900000001", **extra}


@pytest.fixture
def name():
    return f"同名企业{uuid.uuid4().hex[:8]}"


def test_api_refuses_a_second_enterprise_of_the_same_name_in_a_town(app, client, auth, name):
    """Adding (any type) or renaming into a name the town already has is 400 with the name; another town may use it."""
    F.make_enterprise(app, name, town="南沙街", type_code="port")
    headers = auth.token("admin")
    refused = client.post("/api/v1/enterprise/", json=body(name, type_code="freight"), headers=headers)
    assert refused.status_code == 400
    assert refused.json["errors"]["name"] == f"所属镇街已有同名企业：{name}"
    assert client.post("/api/v1/enterprise/", json=body(name, town="黄阁镇"), headers=headers).status_code == 201
    other = client.post("/api/v1/enterprise/", json=body(name + "乙"), headers=headers).json["id"]
    renamed = client.put(f"/api/v1/enterprise/{other}", json={"name": name}, headers=headers)
    assert renamed.status_code == 400 and renamed.json["errors"]["name"] == f"所属镇街已有同名企业：{name}"
    assert client.put(f"/api/v1/enterprise/{other}", json={"address": "新地址"}, headers=headers).status_code == 200


def test_add_page_says_the_name_is_taken(app, client, auth, name):
    """The add form keeps its values and says the town already has an enterprise of that name."""
    F.make_enterprise(app, name, town="南沙街", type_code="port")
    auth.login("admin")
    token = csrf_from(client.get("/enterprises/add").data)
    answer = client.post("/enterprises/add", data={**body(name), "csrf_token": token})
    page = html.unescape(answer.get_data(as_text=True))
    assert f"所属镇街已有同名企业：{name}" in page


def test_fleet_size_on_the_form_must_be_a_sane_whole_number(client, auth, name):
    """车辆数 -5 on the freight form is refused with the range; 12 is stored."""
    auth.login("bureau_transport")
    token = csrf_from(client.get("/enterprises/add?type_code=freight").data)
    data = {**body(name, type_code="freight"), "csrf_token": token}
    refused = client.post("/enterprises/add", data={**data, "extras.fleet_size": "-5"})
    assert "“车辆数”应在 0 到 100000 之间" in html.unescape(refused.get_data(as_text=True))
    stored = client.post("/enterprises/add", data={**data, "extras.fleet_size": "12"})
    assert stored.status_code == 302
