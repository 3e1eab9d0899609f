"""Registry upkeep: shipped types reloaded on restart without undoing the admin's edits,
deactivated types closed to new enterprises, old import files cleaned up every day."""
from __future__ import annotations

import io
import json
import os
import time

import openpyxl
from sqlalchemy import select

from models.enterprise_types import EnterpriseType
from models.enterprises import Enterprise
from tests.conftest import csrf_from
from tests.integration.factories import id_number, in_db, phone, tag

INACTIVE_MESSAGE = "已停用，不能新增该类型的企业"


def shipped_file(tmp_path, *types) -> str:
    """A declarative types file like data/enterprise_types.json with the given types."""
    data = {"bureaus": [{"code": "port", "name": "口岸办"}],
            "types": [{"code": code, "name": name, "bureau": "port",
                       "spec": {"categories": ["甲类"], "worker_kinds": [], "residence_types": [],
                                "enterprise_fields": [], "staff_fields": []}} for code, name in types]}
    path = tmp_path / "types.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def load_types(app, path) -> int:
    from app.cli.bootstrap import load_enterprise_types

    with app.app_context():
        return load_enterprise_types(path)


def type_state(app, code: str):
    def read(session):
        t = session.execute(select(EnterpriseType).where(EnterpriseType.code == code)).scalar_one_or_none()
        return None if t is None else (t.name, t.active, t.spec["categories"])
    return in_db(app, read)


def test_admin_edits_to_shipped_types_survive_a_restart(app, client, auth, tmp_path):
    """Renamed, re-declared, deactivated or deleted shipped types stay as the admin left them; new ones are added."""
    first, second, gone = ("s" + tag()[1:] for _ in range(3))
    path = shipped_file(tmp_path, (first, "出厂类型" + first), (gone, "出厂类型" + gone))
    assert load_types(app, path) == 2
    admin = auth.token("admin")
    ids = in_db(app, lambda s: {t.code: t.id for t in s.execute(select(EnterpriseType)).scalars()})
    edited = client.put(f"/api/v1/enterprise_type/{ids[first]}", headers=admin,
                        json={"name": "改过的类型" + first, "categories": ["乙类", "丙类"]})
    assert edited.status_code == 200, edited.json
    auth.login("admin")
    page = client.get("/enterprise_types/")
    assert client.post(f"/enterprise_types/{ids[first]}/active",
                       data={"csrf_token": csrf_from(page.data), "active": "0"}).status_code == 302
    assert client.delete(f"/api/v1/enterprise_type/{ids[gone]}", headers=admin).status_code == 200

    # the next `make run` loads the file again, now with one more type
    path = shipped_file(tmp_path, (first, "出厂类型" + first), (gone, "出厂类型" + gone),
                        (second, "出厂类型" + second))
    assert load_types(app, path) == 1
    assert type_state(app, first) == ("改过的类型" + first, False, ["乙类", "丙类"])
    assert type_state(app, gone) is None
    assert type_state(app, second) == ("出厂类型" + second, True, ["甲类"])


def test_demo_load_keeps_the_admins_edit_of_a_shipped_type(app, client, auth):
    """Running `demo load` again (as `make run` does) leaves an admin's new name of 口岸企业's categories in place."""
    from app.cli.demo import load_demo

    admin = auth.token("admin")
    port_id = in_db(app, lambda s: s.execute(select(EnterpriseType.id).where(EnterpriseType.code == "port")).scalar_one())
    before = client.get(f"/api/v1/enterprise_type/{port_id}", headers=admin).json["result"]["spec"]["categories"]
    changed = before + ["临时类别" + tag()]
    try:
        assert client.put(f"/api/v1/enterprise_type/{port_id}", headers=admin,
                          json={"categories": changed}).status_code == 200
        with app.app_context():
            load_demo()
        assert type_state(app, "port") == ("口岸企业", True, changed)
    finally:
        client.put(f"/api/v1/enterprise_type/{port_id}", headers=admin, json={"categories": before})


def _deactivated_type_with_an_enterprise(app, client, admin) -> tuple[str, str, int]:
    """(code, name, id of an enterprise registered before) of a type then deactivated."""
    code, name = "d" + tag()[1:], "停用类型" + tag()
    created = client.post("/api/v1/enterprise_type/", headers=admin,
                          json={"code": code, "name": name, "bureau": "port", "categories": ["甲类"]})
    assert created.status_code == 201, created.json
    eid = client.post("/api/v1/enterprise/", headers=admin, json=enterprise_body(code)).json["id"]
    off = client.put(f"/api/v1/enterprise_type/{created.json['id']}", headers=admin, json={"active": False})
    assert off.status_code == 200 and off.json["result"]["active"] is False, off.json
    return code, name, eid


def enterprise_body(type_code: str, **extra) -> dict:
    return {"name": "停用测试" + tag(), "type_code": type_code, "town": "南沙街",
            "address": "广州市南沙区测试路9号", "head_name": "王五", "head_phone": phone(), **extra}


def test_deactivated_type_takes_no_new_enterprises_in_the_api(app, client, auth):
    """Creating an enterprise of a deactivated type is a 400 in Chinese; its existing enterprise is still edited."""
    admin = auth.token("admin")
    code, name, eid = _deactivated_type_with_an_enterprise(app, client, admin)
    refused = client.post("/api/v1/enterprise/", headers=admin, json=enterprise_body(code))
    assert refused.status_code == 400
    assert refused.json["errors"]["type_code"] == f"主体类型“{name}”{INACTIVE_MESSAGE}"
    moved = client.put(f"/api/v1/enterprise/{eid}", headers=admin, json={"type_code": "port"})
    assert moved.status_code == 200  # leaving the type is allowed …
    back = client.put(f"/api/v1/enterprise/{eid}", headers=admin, json={"type_code": code})
    assert back.status_code == 400 and INACTIVE_MESSAGE in back.json["message"]  # … coming back is not

    code, name, eid = _deactivated_type_with_an_enterprise(app, client, admin)
    kept = client.put(f"/api/v1/enterprise/{eid}", headers=admin, json={"address": "广州市南沙区新地址2号"})
    assert kept.status_code == 200 and kept.json["result"]["type_code"] == code
    person = client.post("/api/v1/staff/", headers=admin, json={
        "enterprise_id": eid, "name": "老企业员工", "id_number": id_number(), "phone": phone()})
    assert person.status_code == 201, person.json


def test_deactivated_type_takes_no_new_enterprises_on_the_form(app, client, auth):
    """The add form refuses a deactivated type with the message; the edit form of its enterprise still saves."""
    code, name, eid = _deactivated_type_with_an_enterprise(app, client, auth.token("admin"))
    auth.login("admin")
    page = client.get("/enterprises/add")
    assert f'value="{code}"' not in page.get_data(as_text=True)  # not offered
    body = enterprise_body(code)
    refused = client.post("/enterprises/add", data={**body, "csrf_token": csrf_from(page.data)})
    assert refused.status_code == 200 and INACTIVE_MESSAGE in refused.get_data(as_text=True)
    assert in_db(app, lambda s: s.execute(select(Enterprise.id).where(Enterprise.name == body["name"])).first()) is None

    edit = client.get(f"/enterprises/{eid}/edit")
    assert f'value="{code}" selected' in edit.get_data(as_text=True)  # its own type stays selected
    data = {**enterprise_body(code), "name": "停用类型老企业" + tag(), "csrf_token": csrf_from(edit.data)}
    saved = client.post(f"/enterprises/{eid}/edit", data=data)
    assert saved.status_code == 302
    assert in_db(app, lambda s: s.get(Enterprise, eid).name) == data["name"]


def test_deactivated_type_takes_no_new_enterprises_by_import(app, client, auth):
    """An import row creating an enterprise of a deactivated type fails with the message; updating one of it works."""
    admin = auth.token("admin")
    code, name, eid = _deactivated_type_with_an_enterprise(app, client, admin)
    existing = in_db(app, lambda s: s.get(Enterprise, eid).name)
    new_name = "停用导入" + tag()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["企业名称", "主体类型", "所属镇街", "企业地址", "负责人姓名", "负责人电话"])
    ws.append([existing, name, "南沙街", "广州市南沙区改过的地址1号", "王五", "13900000005"])
    ws.append([new_name, code, "南沙街", "广州市南沙区测试路3号", "赵六", "13900000006"])
    out = io.BytesIO()
    wb.save(out)
    response = client.post("/api/v1/enterprise/import", headers=admin, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(out.getvalue()), "企业.xlsx")})
    assert response.status_code == 200, response.json
    assert (response.json["created"], response.json["updated"], response.json["failed"]) == (0, 1, 1)
    errors = openpyxl.load_workbook(io.BytesIO(client.get(response.json["errors_url"], headers=admin).data)).active
    messages = {row[0].value: row[-1].value for row in errors.iter_rows(min_row=2)}
    assert messages == {new_name: f"主体类型“{name}”{INACTIVE_MESSAGE}"}
    assert in_db(app, lambda s: s.get(Enterprise, eid).address) == "广州市南沙区改过的地址1号"


def test_old_import_files_are_removed_by_the_daily_job(app, tmp_path):
    """Uploads and failure workbooks older than IMPORT_FILE_HOURS go; newer ones (and other files) stay."""
    from app.services.imports import files
    from jobs.runner import run_scheduled

    saved = {k: app.config.get(k) for k in ("IMPORT_DIR", "IMPORT_FILE_HOURS")}
    with app.app_context():
        app.config["IMPORT_DIR"] = str(tmp_path / "imports")
        try:
            _old, old_path = files.save_failures(b"old", 1, "staff")
            new_token, new_path = files.save_failures(b"new", 1, "staff")
            old_upload, new_upload = files.save_upload(b"old"), files.save_upload(b"new")
            other = tmp_path / "imports" / "README.txt"
            other.write_text("not ours")
            day_ago = time.time() - 25 * 3600
            for path in (old_path, old_path.with_suffix(".json"), old_upload, other):
                os.utime(path, (day_ago, day_ago))

            assert run_scheduled("maintenance.purge_import_files") == {"deleted": 3}
            assert not old_path.exists() and not old_path.with_suffix(".json").exists() and not old_upload.exists()
            assert new_path.exists() and new_upload.exists() and other.exists()
            assert files.failures_path(new_token, 1) == new_path

            app.config["IMPORT_FILE_HOURS"] = 0.0001  # an operator's shorter setting is honoured
            time.sleep(0.5)
            assert run_scheduled("maintenance.purge_import_files")["deleted"] == 3
        finally:
            app.config.update(saved)


def test_import_file_cleanup_is_scheduled_daily(app):
    """The cleanup is a daily scheduled job, listed by `jobs list`."""
    from jobs.registry import JOBS

    job = JOBS["maintenance.purge_import_files"]
    minute, hour, *rest = job.cron.split()
    assert minute.isdigit() and hour.isdigit() and rest == ["*", "*", "*"]
    listing = app.test_cli_runner().invoke(args=["jobs", "list"])
    assert "maintenance.purge_import_files" in listing.output


def test_big_upload_goes_to_a_job_at_once_and_a_bad_one_fails_there_with_the_message(app, client, auth, monkeypatch):
    """Above IMPORT_BACKGROUND_MB: a job without counting rows first; no header → the job fails in Chinese, nothing stored."""
    from rq import SimpleWorker

    from app.platform.queue import get_queue
    from models.staff import Staff
    from tests.integration.imports.helpers import filled_staff_template, new_enterprise, upload

    admin = auth.token("admin")
    monkeypatch.setitem(app.config, "IMPORT_BACKGROUND_MB", 0.001)  # 1 KB: every real workbook is "big"
    eid = new_enterprise(client, admin)
    good = upload(client, "/api/v1/staff/import", admin, filled_staff_template(client, admin), enterprise_id=eid)
    wb = openpyxl.Workbook()
    wb.active.append(["这不是表头", "也不是"])
    wb.active.append(["张三", "13500000000"])
    out = io.BytesIO()
    wb.save(out)
    headless = upload(client, "/api/v1/staff/import", admin, out.getvalue(), enterprise_id=eid)
    junk = upload(client, "/api/v1/staff/import", admin, b"%PDF-1.4" + b"x" * 4000, enterprise_id=eid)
    other = new_enterprise(client, auth.token("town_huangge"), town="黄阁镇")
    outside = upload(client, "/api/v1/staff/import", auth.token("town_nansha"),
                     filled_staff_template(client, admin), enterprise_id=other)
    assert set(good.json) == {"job_id"} and set(headless.json) == {"job_id"}
    assert junk.status_code == 400 and junk.json["message"] == "文件格式不正确，请上传 .xlsx 或 .csv 文件"  # judged at once
    assert outside.status_code == 404

    with app.app_context():
        queue = get_queue()
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
    done = client.get(f"/api/v1/jobs/{good.json['job_id']}", headers=admin).json
    assert done["status"] == "finished" and (done["result"]["created"], done["result"]["failed"]) == (2, 2)
    failed = client.get(f"/api/v1/jobs/{headless.json['job_id']}", headers=admin).json
    assert failed["status"] == "failed" and failed["result"] == {"error": "未找到表头，请使用下载的模板填写"}
    assert in_db(app, lambda s: s.query(Staff).filter(Staff.enterprise_id == eid).count()) == 2
