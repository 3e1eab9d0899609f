"""Helpers of the import tests (also used by other tests that import files)."""
from __future__ import annotations

import io
import uuid

import openpyxl
from sqlalchemy import select
from stdnum.cn import ric

from models.audit import AuditLog
from models.enterprises import Enterprise
from models.staff import Staff

ID_A = "440115199007237653"  # the manual's example with the right check digit


def id_with_x() -> str:
    for seq in range(1000):
        body = f"44011519850101{seq:03d}"
        if ric.calc_check_digit(body + "0") == "X":  # stdnum expects a placeholder check digit
            return body + "X"
    raise AssertionError("no X check digit found")


ID_X = id_with_x()
ID_B = "44011519850101001" + ric.calc_check_digit("440115198501010010")


def new_enterprise(client, headers, town="南沙街", type_code="port") -> int:
    body = {"name": f"导入测试{uuid.uuid4().hex[:8]}", "type_code": type_code, "town": town,
            "address": "广州市南沙区测试路1号", "head_name": "王五", "head_phone": "13900000001"}
    response = client.post("/api/v1/enterprise/", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json["id"]


def upload(client, url, headers, content, **form):
    data = {"file": (io.BytesIO(content), "人员.xlsx"), **form}
    return client.post(url, data=data, headers=headers, content_type="multipart/form-data")


class Stored:
    """Reads the database in its own app context: the requests of a test must not share
    ``g`` (and its cached scope) with an app context the test keeps open."""

    def __init__(self, app):
        self.app = app

    def _run(self, fn):
        from app.platform.extensions import db

        with self.app.app_context():
            try:
                return fn(db.session)
            finally:
                db.session.remove()

    def staff(self, enterprise_id) -> dict[str, tuple]:
        def read(session):
            rows = session.execute(select(Staff).where(Staff.enterprise_id == enterprise_id)).scalars()
            return {s.id_number: (s.name, s.phone, s.worker_kind) for s in rows}
        return self._run(read)

    def audits(self, entity, entity_id=None) -> list[tuple]:
        def read(session):
            stmt = select(AuditLog).where(AuditLog.action == "import", AuditLog.entity == entity)
            if entity_id is not None:
                stmt = stmt.where(AuditLog.entity_id == str(entity_id))
            return [(a.rows, a.after) for a in session.execute(stmt).scalars()]
        return self._run(read)

    def enterprises(self, prefix) -> list[tuple]:
        def read(session):
            stmt = select(Enterprise).where(Enterprise.name.like(f"{prefix}%"))
            return [(e.name, e.address, e.head_phone, e.extras) for e in session.execute(stmt).unique().scalars()]
        return self._run(read)

    def job_ids(self, job_id) -> list:
        from models.jobs import JobRecord

        return self._run(lambda session: session.get(JobRecord, job_id).params["ids"])


def filled_staff_template(client, headers) -> bytes:
    """The downloaded template filled the way real users fill it."""
    response = client.get("/api/v1/staff/template?enterprise_type=port", headers=headers)
    assert response.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    ws = wb.active
    assert [c.value for c in ws[2]][:4] == ["姓名(必填项)", "证件类型(可选填)", "身份证号码(必填项)", "手机号码(必填项)"]
    ws.cell(row=2, column=9, value="备注")  # an extra column of the user's own
    rows = [
        ["张一", None, float(ID_A), "13576266263", None, "高风险人员", None, "南沙街", "Excel 把号码变成了数字"],
        ["张二", None, ID_X.lower(), 13576266263.0, "拆件或装卸等人员", "管理人员", "集中居住", None, None],
        [None] * 9,  # a blank row
        ["旧名", None, ID_A, "13500000000", None, None, None, None, None],
        ["张三", "身份证", ID_A, "13500000001", None, None, None, "广州市南沙区", "重复，最后一行为准"],
        ["张四", None, ID_B, "1234", None, None, None, None, "错误的手机号码"],
    ]
    for offset, values in enumerate(rows):
        for col, value in enumerate(values, 1):
            ws.cell(row=4 + offset, column=col, value=value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
