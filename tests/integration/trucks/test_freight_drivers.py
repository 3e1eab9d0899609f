"""Drivers of freight enterprises (seed 002 §2.4–2.6): the enterprise head and the transport
bureau (and the district admin) enter them; a town user only views its town's — no add,
edit, move, delete or import on the pages or through the API — while it keeps writing the
staff of its other enterprises as before."""
from __future__ import annotations

import html
import io
import re

import pytest

from app.security import roles as R
from models.staff import Staff
from tests.conftest import api_token, csrf_from, login
from tests.integration import factories as F
from tests.integration.imports.helpers import upload
from tests.integration.security.test_staff_at_rest import filled_template

READ_ONLY = "您只能查看该企业的人员，不能导入"
ROW = re.compile(r'class="row-select" value="(\d+)"')


def text(response, status: int = 200) -> str:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
    return html.unescape(response.get_data(as_text=True))


def person(enterprise_id: int, **changes) -> dict:
    return {"enterprise_id": enterprise_id, "name": "赵司机", "id_type": "居民身份证", "id_number": F.id_number(),
            "phone": F.phone(), **changes}


def people_of(app, enterprise_id: int) -> int:
    return F.count(app, Staff, Staff.enterprise_id == enterprise_id)


def staff_workbook(client, headers, enterprise_id: int, name: str) -> bytes:
    """The enterprise's staff template, downloaded by ``headers``' user, with one new person."""
    return filled_template(client, headers, [(name, F.id_number(), F.phone())], f"enterprise_id={enterprise_id}")


def writes_staff_of(app, client, headers, enterprise_id: int, staff_id: int) -> None:
    """The user of ``headers`` adds, edits, imports and deletes people of the enterprise
    (one added and deleted, ``staff_id`` renamed, one imported)."""
    before = people_of(app, enterprise_id)
    created = client.post("/api/v1/staff/", json=person(enterprise_id), headers=headers)
    assert created.status_code == 201, created.json
    changed = client.put(f"/api/v1/staff/{staff_id}", json={"name": "改名"}, headers=headers)
    assert changed.status_code == 200 and F.staff_row(app, staff_id)[1] == "改名"
    content = staff_workbook(client, headers, enterprise_id, "导入人员")
    imported = upload(client, "/api/v1/staff/import", headers, content, enterprise_id=enterprise_id)
    assert imported.status_code == 200 and imported.json["created"] == 1, imported.json
    assert client.delete(f"/api/v1/staff/{created.json['id']}", headers=headers).status_code == 200
    assert people_of(app, enterprise_id) == before + 1


@pytest.fixture
def world(app):
    """In 南沙街: a freight enterprise (its head's phone known) with a driver, and a port
    enterprise with one person."""
    head = F.phone()
    freight = F.make_enterprise(app, F.tag() + "物流有限公司", town="南沙街", type_code="freight", head_phone=head)
    port = F.make_enterprise(app, F.tag() + "口岸企业", town="南沙街", type_code="port")
    return {"head": head, "freight": freight, "port": port,
            "driver": F.make_staff(app, freight, F.tag() + "司机"),
            "worker": F.make_staff(app, port, F.tag() + "员工")}


@pytest.fixture
def town_page(app):
    client = app.test_client()
    assert login(client, "town_nansha").status_code == 302
    return client


def test_town_sees_its_freight_drivers_without_write_buttons(app, town_page, world):
    """A town user lists and opens its freight enterprise's driver, with no 新增 / 导入 /
    编辑 / 删除 nor a box to select them; its port enterprise's person keeps all of them."""
    listed = text(town_page.get(f"/staff/?enterprise_id={world['freight']}"))
    assert f'href="/staff/{world["driver"]}"' in listed
    assert 'id="btn-add"' not in listed and 'id="btn-import"' not in listed
    assert ROW.findall(listed) == []
    detail = text(town_page.get(f"/staff/{world['driver']}"))
    assert 'id="btn-edit"' not in detail and 'id="btn-delete"' not in detail
    assert town_page.get(f"/staff/{world['driver']}/edit").status_code == 404

    port = text(town_page.get(f"/staff/?enterprise_id={world['port']}"))
    assert 'id="btn-add"' in port and 'id="btn-import"' in port
    assert ROW.findall(port) == [str(world["worker"])]
    detail = text(town_page.get(f"/staff/{world['worker']}"))
    assert 'id="btn-edit"' in detail and 'id="btn-delete"' in detail
    assert town_page.get(f"/staff/{world['worker']}/edit").status_code == 200


def test_town_forms_offer_no_freight_enterprise(town_page, world):
    """The town user's 新增人员 and 导入人员 forms list its port enterprise but not its freight one."""
    for url in ("/staff/add", "/import/staff/"):
        page = text(town_page.get(url))
        assert f'value="{world["port"]}"' in page
        assert f'value="{world["freight"]}"' not in page


def test_town_page_writes_of_freight_drivers_store_nothing(app, town_page, world):
    """A town user's posted add, edit, move and delete of freight drivers change nothing."""
    token = csrf_from(town_page.get("/staff/add").data)
    before = people_of(app, world["freight"])
    assert town_page.post("/staff/add", data={**person(world["freight"]), "csrf_token": token}).status_code == 404
    edited = {**person(world["freight"], name="改名"), "csrf_token": token}
    assert town_page.post(f"/staff/{world['driver']}/edit", data=edited).status_code == 404
    moved = {**person(world["freight"], name="搬走"), "csrf_token": token}
    assert town_page.post(f"/staff/{world['worker']}/edit", data=moved).status_code == 404
    town_page.post("/staff/delete", data={"ids": [world["driver"], world["worker"]], "csrf_token": token,
                                          "back": "/staff/"})
    assert people_of(app, world["freight"]) == before
    assert F.staff_row(app, world["driver"])[1].endswith("司机")
    assert F.staff_row(app, world["worker"]) is None  # the port person of the same batch is deleted


def test_town_api_refuses_freight_driver_writes_as_missing(app, client, world):
    """Through the API a town user reads its freight driver but adds, edits, moves in, moves
    out or deletes none (404, like a row out of its scope); nothing changes."""
    headers = api_token(client, "town_nansha")
    assert client.get(f"/api/v1/staff/{world['driver']}", headers=headers).status_code == 200
    listed = client.get(f"/api/v1/staff/?enterprise_id={world['freight']}", headers=headers).json
    assert [row["id"] for row in listed["result"]] == [world["driver"]]
    driver = F.staff_row(app, world["driver"])

    assert client.post("/api/v1/staff/", json=person(world["freight"]), headers=headers).status_code == 404
    assert client.put(f"/api/v1/staff/{world['driver']}", json={"name": "改名"}, headers=headers).status_code == 404
    out = client.put(f"/api/v1/staff/{world['driver']}", json={"enterprise_id": world["port"]}, headers=headers)
    assert out.status_code == 404
    into = client.put(f"/api/v1/staff/{world['worker']}", json={"enterprise_id": world["freight"]}, headers=headers)
    assert into.status_code == 404
    assert client.delete(f"/api/v1/staff/{world['driver']}", headers=headers).status_code == 404

    assert F.staff_row(app, world["driver"]) == driver
    assert F.staff_row(app, world["worker"])[0] == world["port"]
    assert people_of(app, world["freight"]) == 1


def test_town_import_into_a_freight_enterprise_is_refused(app, client, town_page, world):
    """A town user's staff import into its freight enterprise is refused whole, with a
    Chinese message (API 400 and the page), and stores nobody."""
    content = staff_workbook(client, api_token(client, "admin"), world["freight"], "导入司机")
    answer = upload(client, "/api/v1/staff/import", api_token(client, "town_nansha"), content,
                    enterprise_id=world["freight"])
    assert answer.status_code == 400 and answer.json["message"] == READ_ONLY
    token = csrf_from(town_page.get("/import/staff/").data)
    page = town_page.post("/import/staff/", data={"file": (io.BytesIO(content), "司机.xlsx"),
                                                  "enterprise_id": world["freight"], "csrf_token": token},
                          content_type="multipart/form-data")
    assert READ_ONLY in text(page, 400)
    assert people_of(app, world["freight"]) == 1


def test_town_still_writes_its_port_enterprises_staff(app, client, world):
    """A town user adds, edits, imports and deletes the staff of its port enterprise as before."""
    writes_staff_of(app, client, api_token(client, "town_nansha"), world["port"], world["worker"])


@pytest.mark.parametrize("who", ["head", "bureau_transport", "admin"])
def test_head_bureau_and_admin_write_freight_drivers(app, client, world, who):
    """The freight enterprise's head, the transport bureau and the district admin add, edit,
    import and delete its drivers; the PC pages offer them the buttons."""
    username = F.make_user(app, f"head_{world['head']}", R.ENTERPRISE_HEAD, phone_number=world["head"]) \
        if who == "head" else who
    writes_staff_of(app, client, api_token(client, username), world["freight"], world["driver"])

    page = app.test_client()
    assert login(page, username).status_code == 302
    detail = text(page.get(f"/staff/{world['driver']}"))
    assert 'id="btn-edit"' in detail and 'id="btn-delete"' in detail
    listed = text(page.get(f"/staff/?enterprise_id={world['freight']}"))
    assert 'id="btn-add"' in listed and 'id="btn-import"' in listed and str(world["driver"]) in ROW.findall(listed)


def test_head_phone_pages_offer_writes_only_to_writers(app, town_page, world):
    """The phone 员工管理 of a freight enterprise shows 导入 / 新增 / 删除本页 to its head, not to a town user."""
    username = F.make_user(app, f"head_{world['head']}", R.ENTERPRISE_HEAD, phone_number=world["head"])
    head = app.test_client()
    assert login(head, username).status_code == 302
    for client in (head, town_page):
        token = csrf_from(client.get("/head/select").data)
        client.post("/head/select", data={"enterprise_id": world["freight"], "csrf_token": token})
    mine = text(head.get("/head/staff"))
    assert 'id="btn-add"' in mine and 'id="btn-import"' in mine and 'id="btn-delete-page"' in mine
    theirs = text(town_page.get("/head/staff"))
    assert 'id="btn-add"' not in theirs and 'id="btn-import"' not in theirs and 'id="btn-delete-page"' not in theirs
    assert 'id="btn-edit"' not in text(town_page.get(f"/head/people/{world['driver']}"))
    assert 'id="staff-add-link"' not in text(town_page.get("/head/"))
