"""The audit trail (SPEC §8): every change with before/after, every read of a person's
detail, every export with its row count; only the district admin browses it."""
from __future__ import annotations

import pytest

from app.domain.identity import mask_id
from models.audit import AuditLog
from tests.conftest import csrf_from
from tests.integration import factories as F


@pytest.fixture
def admin(auth):
    return auth.token("admin")


def only(rows: list) -> dict:
    assert len(rows) == 1, rows
    return rows[0]


def test_enterprise_create_update_delete_are_audited_with_before_and_after(app, client, admin):
    """Registering, changing and deleting an enterprise each leave a row naming who and what changed."""
    since = F.last_audit_id(app)
    name = F.tag() + "审计企业"
    body = {"name": name, "type_code": "port", "town": "南沙街", "address": "广州市南沙区审计路1号",
            "head_name": "王五", "head_phone": "13900000001"}
    enterprise_id = client.post("/api/v1/enterprise/", json=body, headers=admin).json["id"]
    created = only(F.audits(app, "create", "Enterprise", since))
    assert created["entity_id"] == str(enterprise_id) and created["username"] == "admin"
    assert created["before"] is None and created["after"]["name"] == name

    assert client.put(f"/api/v1/enterprise/{enterprise_id}", json={"address": "广州市南沙区审计路2号"},
                      headers=admin).status_code == 200
    updated = only(F.audits(app, "update", "Enterprise", since))
    assert updated["before"]["address"] == "广州市南沙区审计路1号"
    assert updated["after"]["address"] == "广州市南沙区审计路2号"

    assert client.delete(f"/api/v1/enterprise/{enterprise_id}", headers=admin).status_code == 200
    deleted = only(F.audits(app, "delete", "Enterprise", since))
    assert deleted["entity_id"] == str(enterprise_id) and deleted["before"]["name"] == name


def test_staff_create_update_delete_are_audited_with_before_and_after(app, client, admin):
    """Adding, changing and deleting a person each leave a row with the values before and after
    (ID number and phone masked)."""
    enterprise_id = F.make_enterprise(app, F.tag() + "审计")
    since = F.last_audit_id(app)
    number = F.id_number()
    body = {"enterprise_id": enterprise_id, "name": "审计甲", "id_number": number, "phone": "13900000002"}
    staff_id = client.post("/api/v1/staff/", json=body, headers=admin).json["id"]
    created = only(F.audits(app, "create", "Staff", since))
    assert created["entity_id"] == str(staff_id) and created["after"]["id_number"] == mask_id(number)

    assert client.put(f"/api/v1/staff/{staff_id}", json={"phone": "13900000003"}, headers=admin).status_code == 200
    updated = only(F.audits(app, "update", "Staff", since))
    assert (updated["before"]["phone"], updated["after"]["phone"]) == ("139****0002", "139****0003")

    assert client.delete(f"/api/v1/staff/{staff_id}", headers=admin).status_code == 200
    deleted = only(F.audits(app, "delete", "Staff", since))
    assert deleted["before"]["name"] == "审计甲" and deleted["username"] == "admin"


def test_refused_change_writes_no_audit_row(app, client, admin):
    """A change that fails validation leaves no trace as if it had happened."""
    enterprise_id = F.make_enterprise(app, F.tag() + "审计")
    since = F.last_audit_id(app)
    body = {"enterprise_id": enterprise_id, "name": "审计乙", "id_number": "123", "phone": "13900000002"}
    assert client.post("/api/v1/staff/", json=body, headers=admin).status_code == 400
    assert F.audits(app, "create", "Staff", since) == []


def test_viewing_a_persons_detail_is_audited(app, client, auth):
    """Opening a person's full record, on the page or through the API, is logged as a view."""
    enterprise_id = F.make_enterprise(app, F.tag() + "审计", town="南沙街")
    staff_id = F.make_staff(app, enterprise_id, "审计丙")
    since = F.last_audit_id(app)
    auth.login("town_nansha")
    assert client.get(f"/staff/{staff_id}").status_code == 200
    page_view = only(F.audits(app, "view", "Staff", since))
    assert page_view["entity_id"] == str(staff_id) and page_view["username"] == "town_nansha"

    since = F.last_audit_id(app)
    assert client.get(f"/api/v1/staff/{staff_id}", headers=auth.token("town_nansha")).status_code == 200
    assert only(F.audits(app, "view", "Staff", since))["entity_id"] == str(staff_id)


def test_list_reads_are_not_logged_as_views(app, client, auth):
    """Browsing the (masked) list writes no per-person view rows."""
    since = F.last_audit_id(app)
    auth.login("town_nansha")
    assert client.get("/staff/").status_code == 200
    assert F.audits(app, "view", "Staff", since) == []


@pytest.mark.parametrize("url, entity", [
    ("/staff/export", "Staff"), ("/api/v1/staff/export", "Staff"),
    ("/enterprises/export", "Enterprise"), ("/api/v1/enterprise/export", "Enterprise"),
])
def test_export_is_audited_with_its_row_count(app, client, auth, url, entity):
    """Every export is logged with who ran it, the filter and how many rows left the system."""
    tag = F.tag()
    enterprise_id = F.make_enterprise(app, tag + "导出", town="南沙街")
    for n in range(3):
        F.make_staff(app, enterprise_id, f"{tag}员工{n}")
    since = F.last_audit_id(app)
    auth.login("town_nansha")
    response = client.get(url, query_string={"q": tag}, headers=auth.token("town_nansha"))
    assert response.status_code == 200
    rows = len(F.read_xlsx(response.data)) - 1
    assert rows == (3 if entity == "Staff" else 1)
    entry = only(F.audits(app, "export", entity, since))
    assert entry["rows"] == rows and entry["username"] == "town_nansha" and tag in entry["detail"]


def test_admin_browses_the_audit_log(client, auth):
    """The district admin opens 审计日志 and sees the recorded actions."""
    auth.login("admin")
    response = client.get("/audit_log/")
    assert response.status_code == 200
    assert "审计日志".encode() in response.data and "操作".encode() in response.data
    assert "登录".encode() in response.data  # the admin's own login was recorded, by its Chinese name


@pytest.mark.parametrize("username", ["town_nansha", "bureau_port", "taskforce"])
def test_other_roles_cannot_open_the_audit_log(client, auth, username):
    """A town, bureau or task-force user is refused the audit log."""
    auth.login(username)
    assert client.get("/audit_log/").status_code == 403
    assert client.get("/audit_log/1").status_code == 403
    assert client.get("/api/v1/audit_log/", headers=auth.token(username)).status_code == 403


def test_audit_rows_cannot_be_edited_or_deleted(app, client, auth):
    """Not even the district admin can change or delete an audit row."""
    entry_id = F.last_audit_id(app)
    auth.login("admin")
    token = csrf_from(client.get("/audit_log/").data)
    assert client.get(f"/audit_log/{entry_id}/edit").status_code == 404  # no such page
    assert client.post("/audit_log/delete", data={"csrf_token": token, "ids": str(entry_id)}).status_code == 404
    headers = auth.token("admin")
    assert client.delete(f"/api/v1/audit_log/{entry_id}", headers=headers).status_code in (404, 405)
    assert client.put(f"/api/v1/audit_log/{entry_id}", json={"detail": "x"}, headers=headers).status_code in (404, 405)
    assert F.in_db(app, lambda s: s.get(AuditLog, entry_id)) is not None
