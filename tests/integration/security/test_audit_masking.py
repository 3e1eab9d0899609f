"""The audit log never holds a full ID number or phone (issue 11): not in the
before/after snapshots of staff and enterprises, not in an export's filter, not in an
import's file name — whatever wrote the row."""
from __future__ import annotations

import io

import openpyxl
from sqlalchemy import text

from app.domain.identity import mask_id, mask_phone
from tests.conftest import login
from tests.integration import factories as F


def audit_text_since(app, since: int) -> str:
    """Everything the audit rows written after ``since`` hold, read with plain SQL."""
    def read(session):
        rows = session.execute(text(
            "SELECT action, entity, detail, CAST(before AS TEXT), CAST(after AS TEXT) FROM audit_log WHERE id > :since"
        ), {"since": since}).all()
        return "\n".join(" ".join(str(v) for v in row) for row in rows)

    return F.in_db(app, read)


def filled_template(client, headers, number: str, phone: str) -> bytes:
    response = client.get("/api/v1/staff/template?enterprise_type=port", headers=headers)
    assert response.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    for col, value in enumerate([F.tag() + "导入", None, number, phone], 1):
        wb.active.cell(row=4, column=col, value=value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_no_full_id_or_phone_reaches_the_audit_log(app, client, auth):
    """Creating, changing, reading, exporting, importing and deleting staff and enterprises
    leaves audit rows in which none of the ID numbers and phones used appears in full."""
    admin = auth.token("admin")
    numbers = {name: F.id_number() for name in ("staff", "changed", "imported")}
    phones = {name: F.phone() for name in ("head", "head2", "staff", "changed", "imported", "file")}
    since = F.last_audit_id(app)

    enterprise = client.post("/api/v1/enterprise/", headers=admin, json={
        "name": F.tag() + "审计脱敏", "type_code": "port", "town": "南沙街", "address": "广州市南沙区审计路1号",
        "head_name": "王五", "head_phone": phones["head"]})
    assert enterprise.status_code == 201, enterprise.json
    enterprise_id = enterprise.json["id"]
    assert client.put(f"/api/v1/enterprise/{enterprise_id}", headers=admin,
                      json={"head_phone": phones["head2"]}).status_code == 200

    person = client.post("/api/v1/staff/", headers=admin, json={
        "enterprise_id": enterprise_id, "name": "审计脱敏甲", "id_number": numbers["staff"], "phone": phones["staff"]})
    assert person.status_code == 201, person.json
    staff_id = person.json["id"]
    assert client.put(f"/api/v1/staff/{staff_id}", headers=admin, json={
        "id_number": numbers["changed"], "phone": phones["changed"]}).status_code == 200
    assert client.get(f"/api/v1/staff/{staff_id}", headers=admin).status_code == 200

    content = filled_template(client, admin, numbers["imported"], phones["imported"])
    imported = client.post("/api/v1/staff/import", headers=admin, content_type="multipart/form-data", data={
        "file": (io.BytesIO(content), f"名单{phones['file']}.xlsx"), "enterprise_id": enterprise_id})
    assert imported.status_code == 200 and imported.json["created"] == 1, imported.json

    login(client, "admin")
    assert client.get(f"/staff/{staff_id}").status_code == 200
    for url, q in [("/staff/export", numbers["changed"]), ("/staff/export", phones["changed"]),
                   ("/api/v1/staff/export", numbers["imported"]), ("/enterprises/export", phones["head2"])]:
        response = client.get(url, query_string={"q": q})
        assert response.status_code == 200 and response.headers["X-Export-Rows"] == "1", (url, q)

    assert client.delete(f"/api/v1/staff/{staff_id}", headers=admin).status_code == 200
    assert client.delete(f"/api/v1/enterprise/{enterprise_id}", headers=admin).status_code == 200

    logged = audit_text_since(app, since)
    for action in ("create", "update", "delete", "view", "export", "import"):
        assert action in logged
    leaked = [value for value in [*numbers.values(), *phones.values()] if value in logged]
    assert leaked == []
    # masked, not dropped: an auditor still sees which number it was, roughly
    assert mask_id(numbers["changed"]) in logged and mask_phone(phones["head2"]) in logged
