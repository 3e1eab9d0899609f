"""Templates and Excel imports of staff and enterprises, end to end through the API and pages."""
from __future__ import annotations

import io
import uuid

import openpyxl
import pytest

from tests.conftest import csrf_from
from tests.integration.imports.helpers import ID_A, ID_B, ID_X, filled_staff_template, new_enterprise, upload


def test_filled_template_imports_valid_rows_and_returns_failures(client, admin, stored):
    """A filled template: valid rows stored (last row wins), bad rows come back with 异常信息."""
    eid = new_enterprise(client, admin)
    existing = client.post("/api/v1/staff/", headers=admin, json={
        "enterprise_id": eid, "name": "已有人员", "id_number": ID_X, "phone": "13600000000"})
    assert existing.status_code == 201, existing.json

    response = upload(client, "/api/v1/staff/import", admin, filled_staff_template(client, admin), enterprise_id=eid)

    assert response.status_code == 200, response.json
    body = response.json
    assert (body["created"], body["updated"], body["failed"]) == (1, 1, 2)
    assert body["duplicates"] == 1 and body["total"] == 5  # the blank row is not a row
    people = stored.staff(eid)
    assert set(people) == {ID_A, ID_X}
    assert people[ID_A][:2] == ("张三", "13500000001")
    assert people[ID_X] == ("张二", "13576266263", "拆件或装卸等人员")

    errors = client.get(body["errors_url"], headers=admin)
    assert errors.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(errors.data)).active
    table = [[c.value for c in row] for row in ws.iter_rows()]
    assert table[0][-1] == "异常信息" and table[0][-2] == "备注"
    by_name = {row[0]: row for row in table[1:]}
    assert set(by_name) == {"张一", "张四"}
    assert by_name["张一"][-1].startswith("列为“身份证号码”，数据格式不正确！")
    assert "文本格式" in by_name["张一"][-1]
    assert by_name["张四"][-1].startswith("列为“手机号码”，数据格式不正确！")
    assert by_name["张四"][2] == ID_B  # original cells kept as text

    audits = stored.audits("Staff", eid)
    assert len(audits) == 1 and audits[0][0] == 2 and audits[0][1]["failed"] == 2


def test_person_repeated_across_write_batches_keeps_the_last_row(client, admin, stored, monkeypatch):
    """New rows are written in batches while the file is still being read; a person
    whose row comes again batches later ends with the last row, counted once."""
    from app.services.imports import store
    from tests.integration import factories as F

    monkeypatch.setattr(store, "BATCH_SIZE", 2)
    eid = new_enterprise(client, admin)
    numbers = [F.id_number() for _ in range(5)]
    phones = [F.phone() for _ in range(6)]
    rows = [("甲一", numbers[0], phones[0])] + [(f"乙{i}", n, phones[i]) for i, n in enumerate(numbers[1:4], 1)]
    rows += [("甲二", numbers[0], phones[4]), ("丙", numbers[4], phones[5])]
    content = "\n".join(["姓名,身份证号码,手机号码"] + [",".join(r) for r in rows]).encode()
    data = {"file": (io.BytesIO(content), "人员.csv"), "enterprise_id": eid}
    body = client.post("/api/v1/staff/import", data=data, headers=admin, content_type="multipart/form-data").json
    assert (body["created"], body["updated"], body["duplicates"], body["failed"]) == (5, 0, 1, 0)
    people = stored.staff(eid)
    assert len(people) == 5 and people[numbers[0]][:2] == ("甲二", phones[4])
    data = {"file": (io.BytesIO(content), "人员.csv"), "enterprise_id": eid}
    again = client.post("/api/v1/staff/import", data=data, headers=admin, content_type="multipart/form-data").json
    assert (again["created"], again["updated"], again["duplicates"]) == (0, 5, 1)
    assert stored.staff(eid) == people


def test_failure_workbook_is_only_for_the_importing_user(client, admin, auth):
    """Another user following the errors link gets 404, not the personal data in it."""
    eid = new_enterprise(client, admin)
    body = upload(client, "/api/v1/staff/import", admin, filled_staff_template(client, admin), enterprise_id=eid).json
    other = auth.token("town_nansha")
    assert client.get(body["errors_url"], headers=other).status_code == 404
    assert client.get(body["errors_url"].replace(body["errors_token"], "0" * 32), headers=admin).status_code == 404


def test_dry_run_reports_the_same_and_writes_nothing(client, admin, stored):
    """A validate-only run gives the same counts and stores no person and no audit row."""
    eid = new_enterprise(client, admin)
    response = upload(client, "/api/v1/staff/import", admin, filled_staff_template(client, admin),
                      enterprise_id=eid, dry_run="1")
    assert response.status_code == 200
    body = response.json
    assert (body["created"], body["updated"], body["failed"], body["dry_run"]) == (2, 0, 2, True)
    assert body["errors_url"]
    assert stored.staff(eid) == {}
    assert stored.audits("Staff", eid) == []


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n" + b"\0" * 64, b"PK\x03\x04 not really a zip"])
def test_not_a_spreadsheet_is_refused_with_one_message(client, admin, stored, content):
    """A picture or a broken file gets one Chinese message (400) and nothing is written."""
    eid = new_enterprise(client, admin)
    response = upload(client, "/api/v1/staff/import", admin, content, enterprise_id=eid)
    assert response.status_code == 400
    assert set(response.json) == {"message"}
    assert "文件" in response.json["message"]
    assert stored.staff(eid) == {} and stored.audits("Staff", eid) == []


@pytest.mark.parametrize("rows", [
    [],  # the template as downloaded: the note, the header and the example row
    [["", "", "", ""]] * 3,  # blank rows only
])
def test_a_file_with_no_rows_to_import_is_refused_with_a_message(client, auth, admin, stored, rows):
    """A template with nothing filled in below the header (or the example row only) is
    refused with one Chinese message, on the API and the page: it was a green 新增 0 条，
    更新 0 条，失败 0 条 that left the user believing the import had worked."""
    eid = new_enterprise(client, admin)
    wb = openpyxl.load_workbook(io.BytesIO(client.get(f"/api/v1/staff/template?enterprise_id={eid}",
                                                      headers=admin).data))
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    response = upload(client, "/api/v1/staff/import", admin, out.getvalue(), enterprise_id=eid)
    assert response.status_code == 400
    assert response.json == {"message": "文件中没有可导入的数据，请在表头下方逐行填写（示例行不会导入）"}
    auth.login("admin")
    page = client.get(f"/import/staff/?enterprise_id={eid}")
    shown = client.post("/import/staff/", data={
        "csrf_token": csrf_from(page.data), "enterprise_id": str(eid),
        "file": (io.BytesIO(out.getvalue()), "人员.xlsx")}, content_type="multipart/form-data")
    text = shown.get_data(as_text=True)
    assert "文件中没有可导入的数据" in text and "新增 0 条" not in text
    assert stored.staff(eid) == {}


def test_import_into_an_enterprise_outside_scope_is_404(client, admin, auth, stored):
    """A town user importing into another town's enterprise gets 404 and nothing is written."""
    eid = new_enterprise(client, admin, town="南沙街")
    huangge = auth.token("town_huangge")
    response = upload(client, "/api/v1/staff/import", huangge, filled_staff_template(client, admin), enterprise_id=eid)
    assert response.status_code == 404
    assert stored.staff(eid) == {}


def test_crash_in_the_middle_leaves_nothing(client, admin, app, stored, monkeypatch):
    """If the database write fails after the first batch, none of the import is stored."""
    from app.security.scope import Scope
    from app.services import imports
    from app.services.imports import store

    eid = new_enterprise(client, admin)
    content = filled_staff_template(client, admin)
    calls = []
    real = store._write_batch

    def failing(session, statement, rows):
        calls.append(len(rows))
        if len(calls) > 1:
            raise RuntimeError("worker died")
        real(session, statement, rows)

    monkeypatch.setattr(store, "BATCH_SIZE", 1)
    monkeypatch.setattr(store, "_write_batch", failing)
    from app.platform.extensions import db

    with app.test_request_context():
        with pytest.raises(RuntimeError):
            imports.run_import(db.session, Scope(everything=True, user_id=1), "staff", content, "a.xlsx", enterprise_id=eid)
    assert calls == [1, 1]
    assert stored.staff(eid) == {} and stored.audits("Staff", eid) == []


def test_people_stored_meanwhile_by_another_import_refuse_this_one_with_a_message(client, admin, stored,
                                                                                monkeypatch):
    """Two imports of the same people into one enterprise at once (a double submit, two
    users): the one that finds them stored meanwhile is refused with a Chinese 409 that
    says to import again, and nothing of it is kept; it was 系统繁忙 (500)."""
    from app.services.imports.importers import StaffImporter

    eid = new_enterprise(client, admin)
    content = filled_staff_template(client, admin)
    first = upload(client, "/api/v1/staff/import", admin, content, enterprise_id=eid)
    assert first.status_code == 200 and first.json["created"] == 2
    before = stored.staff(eid)
    # this import read the enterprise's people before the first one committed them
    monkeypatch.setattr(StaffImporter, "stored", lambda self, with_extras: {})
    second = upload(client, "/api/v1/staff/import", admin, content, enterprise_id=eid)
    assert second.status_code == 409
    assert second.json == {"message": "导入期间有其他导入或新增写入了相同的数据，本次导入未写入任何数据，请重新导入"}
    assert stored.staff(eid) == before
    monkeypatch.undo()
    again = upload(client, "/api/v1/staff/import", admin, content, enterprise_id=eid)
    assert again.status_code == 200 and (again.json["created"], again.json["updated"]) == (0, 2)


def enterprise_sheet(rows) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["企业名称", "所属镇街", "所属网格", "企业地址", "负责人姓名", "负责人电话", "口岸名称"])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_enterprise_import_checks_scope_per_row_and_upserts_by_name_and_town(client, auth, stored):
    """A town user's rows for its own town are stored (last row wins, re-import updates); other towns fail."""
    token = auth.token("town_nansha")
    name = f"批量企业{uuid.uuid4().hex[:6]}"
    content = enterprise_sheet([
        [name, "南沙街", None, "旧地址", "赵六", "13900000002", "南沙港"],
        [name, "南沙街", None, "南沙路1号", "赵六", 13900000003.0, "南沙港"],
        [name + "黄阁", "黄阁镇", None, "黄阁路1号", "钱七", "13900000004", None],
        [name + "坏", "南沙街", None, "南沙路2号", "孙八", "123", None],
    ])
    response = upload(client, "/api/v1/enterprise/import", token, content, enterprise_type="port")
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["created"], body["updated"], body["failed"]) == (1, 0, 2)
    ws = openpyxl.load_workbook(io.BytesIO(client.get(body["errors_url"], headers=token).data)).active
    messages = {row[0].value: row[-1].value for row in ws.iter_rows(min_row=2)}
    assert "管辖范围" in messages[name + "黄阁"]
    assert messages[name + "坏"].startswith("列为“负责人电话”，数据格式不正确！")

    assert stored.enterprises(name) == [(name, "南沙路1号", "13900000003", {"port_name": "南沙港"})]

    again = upload(client, "/api/v1/enterprise/import", token, content, enterprise_type="port").json
    assert (again["created"], again["updated"]) == (0, 1)
    assert len(stored.enterprises(name)) == 1


def test_enterprise_template_lists_only_the_users_towns(client, auth):
    """A town user's enterprise template offers its own town in the 所属镇街 dropdown."""
    response = client.get("/api/v1/enterprise/template?enterprise_type=port", headers=auth.token("town_nansha"))
    assert response.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(response.data)).active
    formulas = [dv.formula1 for dv in ws.data_validations.dataValidation]
    assert '"南沙街"' in formulas
    assert client.get("/api/v1/enterprise/template", headers=auth.token("town_nansha")).status_code == 400


def test_large_file_runs_as_a_job_that_can_run_twice(client, admin, app, stored, monkeypatch):
    """Above the threshold the import is a background job; running it again stores the same rows."""
    from rq import SimpleWorker

    from app.platform.queue import get_queue
    from jobs.imports import import_job

    monkeypatch.setitem(app.config, "IMPORT_BACKGROUND_ROWS", 2)
    eid = new_enterprise(client, admin)
    response = upload(client, "/api/v1/staff/import", admin, filled_staff_template(client, admin), enterprise_id=eid)
    assert response.status_code == 200 and set(response.json) == {"job_id"}
    job_id = response.json["job_id"]
    with app.app_context():
        queue = get_queue()
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
    status = client.get(f"/api/v1/jobs/{job_id}", headers=admin).json
    assert status["status"] == "finished" and status["progress"] == 100
    assert (status["result"]["created"], status["result"]["failed"]) == (2, 2)
    first = stored.staff(eid)
    assert set(first) == {ID_A, ID_X}

    params = stored.job_ids(job_id)
    with app.app_context():
        again = import_job(*params)
    assert (again["created"], again["updated"]) == (0, 2)
    assert stored.staff(eid) == first


def test_import_page_shows_the_summary_and_the_failure_link(client, auth, admin, stored):
    """On the page: 下载模板 and 导入 buttons, then 新增/更新/失败 counts and a link to the failures."""
    eid = new_enterprise(client, admin)
    content = filled_staff_template(client, admin)
    auth.login("admin")
    listing = client.get(f"/staff/?enterprise_id={eid}").get_data(as_text=True)
    assert "下载模板" in listing and "导入" in listing
    page = client.get(f"/import/staff/?enterprise_id={eid}")
    assert page.status_code == 200
    template = client.get(f"/import/staff/template?enterprise_id={eid}")
    assert template.status_code == 200 and template.data[:2] == b"PK"
    response = client.post("/import/staff/", data={
        "csrf_token": csrf_from(page.data), "enterprise_id": str(eid),
        "file": (io.BytesIO(content), "人员.xlsx")}, content_type="multipart/form-data")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "新增 2 条，更新 0 条，失败 2 条" in text
    link = text.split('id="import-errors-link" href="')[1].split('"')[0]
    assert client.get(link).status_code == 200
    assert set(stored.staff(eid)) == {ID_A, ID_X}
    assert '<p id="import-health-note">' not in text  # two people: matched within the import


def test_import_page_says_when_many_new_people_are_matched_in_the_background(client, auth, admin, monkeypatch):
    """Above the inline limit the page tells the user the health data follows shortly."""
    from app.services.health import follow_up

    monkeypatch.setattr(follow_up, "INLINE_MATCH", 1)
    eid = new_enterprise(client, admin)
    content = filled_staff_template(client, admin)
    auth.login("admin")
    page = client.get(f"/import/staff/?enterprise_id={eid}")
    response = client.post("/import/staff/", data={
        "csrf_token": csrf_from(page.data), "enterprise_id": str(eid),
        "file": (io.BytesIO(content), "人员.xlsx")}, content_type="multipart/form-data")
    text = response.get_data(as_text=True)
    assert "新增 2 条" in text and '<p id="import-health-note">新增人员较多，核酸和疫苗数据正在后台匹配' in text


def test_a_small_file_is_read_once_and_imported_from_the_same_cells(client, admin, stored, monkeypatch):
    """Under the background threshold the upload is read once: counted, then imported
    by the same importer from the cells already read."""
    from app.services import imports

    reads = []
    real = imports.read_sheet
    monkeypatch.setattr(imports, "read_sheet", lambda *a, **k: reads.append(1) or real(*a, **k))
    monkeypatch.setitem(client.application.config, "IMPORT_BACKGROUND_ROWS", 1000)
    eid = new_enterprise(client, admin)
    response = upload(client, "/api/v1/staff/import", admin, filled_staff_template(client, admin), enterprise_id=eid)
    assert response.status_code == 200 and response.json["created"] == 2, response.json
    assert len(reads) == 1
