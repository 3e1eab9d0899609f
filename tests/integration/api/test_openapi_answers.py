"""What the API really answers matches the OpenAPI document: each answer below is
validated against the schema the document declares for its path, method and status,
strictly (an object may carry no key its schema does not name, formats are checked)."""
from __future__ import annotations

import copy
import io
import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from stdnum.cn import ric

from tests.conftest import api_token
from tests.integration import factories as F
from tests.integration.trucks.factories import make_booking

TZ = ZoneInfo("Asia/Shanghai")
_seq = iter(range(10**6))


def strict(schema):
    """``schema`` with ``additionalProperties: false`` wherever properties are named."""
    if isinstance(schema, dict):
        out = {key: strict(value) for key, value in schema.items()}
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    return schema


def pointer(*parts: str) -> str:
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class Answers:
    """Checks answers against the document (templates matched like the router would)."""

    def __init__(self, document: dict):
        self.document = strict(copy.deepcopy(document))
        self.templates = sorted(document["paths"], key=lambda t: t.count("{"))

    def template(self, url: str) -> str:
        path = url.split("?", 1)[0]
        for template in self.templates:  # literal paths before parametrised ones
            if re.fullmatch(re.sub(r"\\{\w+\\}", "[^/]+", re.escape(template)), path):
                return template
        raise AssertionError(f"{path} is not in the document")

    def check(self, response, method: str, url: str):
        template = self.template(url)
        op = self.document["paths"][template][method.lower()]
        status = str(response.status_code)
        assert status in op["responses"], f"{method} {template} answered {status}, not declared"
        answer = op["responses"][status]
        assert "$ref" not in answer
        media = response.mimetype
        assert media in answer["content"], f"{method} {template} {status} answered {media}"
        if media == "application/json":
            root = {**self.document, "$ref": pointer("paths", template, method.lower(), "responses", status,
                                                     "content", media, "schema")}
            errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                      for e in OAS30Validator(root, format_checker=oas30_format_checker).iter_errors(response.json)]
            assert errors == [], f"{method} {template} {status}"
        return response


@pytest.fixture(scope="module")
def answers(app):
    client = app.test_client()
    return Answers(client.get("/api/v1/_openapi", headers=api_token(client, "admin")).json)


@pytest.fixture
def call(client, answers):
    """``call(method, url, headers, **kwargs)``: the request, its answer checked."""
    def run(method, url, headers=None, **kwargs):
        return answers.check(client.open(url, method=method, headers=headers, **kwargs), method, url)
    return run


@pytest.fixture
def admin(auth):
    return auth.token("admin")


def id_number() -> str:
    body = f"4401151990{(next(_seq) % 12) + 1:02d}{uuid.uuid4().int % 28 + 1:02d}{uuid.uuid4().int % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def local(hours_ago: float) -> str:
    return (datetime.now(TZ) - timedelta(hours=hours_ago)).replace(tzinfo=None, microsecond=0).isoformat()


def new_enterprise(call, headers) -> int:
    body = {"name": f"接口文档{uuid.uuid4().hex[:8]}", "type_code": "port", "town": "南沙街",
            "grid": "南沙街第1网格", "address": "广州市南沙区测试路1号", "head_name": "王五",
            "head_phone": "13900000001", "extras": {"port_name": "南沙港"}}
    return call("POST", "/api/v1/enterprise/", headers, json=body).json["id"]


def test_registry_answers_match_the_document(call, admin):
    """Enterprises and staff: create, list, one, change, delete, form choices and the
    errors (400 with field reasons, 401, 404, 409) as the document says."""
    eid = new_enterprise(call, admin)
    assert call("GET", f"/api/v1/enterprise/{eid}", admin).status_code == 200
    assert call("GET", "/api/v1/enterprise/?q=接口文档&page=1&page_size=5", admin).json["count"] >= 1
    assert call("PUT", f"/api/v1/enterprise/{eid}", admin, json={"address": "广州市南沙区测试路2号"}).status_code == 200
    assert call("GET", "/api/v1/enterprise/_info", admin).json["towns"]

    number = id_number()
    body = {"enterprise_id": eid, "name": "李四", "id_number": number, "phone": "13576266263",
            "category": "高风险人员"}
    pk = call("POST", "/api/v1/staff/", admin, json=body).json["id"]
    assert call("POST", "/api/v1/staff/", admin, json=body).status_code == 409
    bad = call("POST", "/api/v1/staff/", admin, json={**body, "id_number": "123", "phone": "1"})
    assert bad.status_code == 400 and set(bad.json["errors"]) >= {"id_number", "phone"}
    listed = call("GET", f"/api/v1/staff/?enterprise_id={eid}", admin).json
    assert listed["ids"] == [pk] and "*" in listed["result"][0]["id_number"]
    assert call("GET", f"/api/v1/staff/{pk}", admin).json["result"]["id_number"] == number
    assert call("PUT", f"/api/v1/staff/{pk}", admin, json={"address": "南沙街1号"}).status_code == 200
    assert call("GET", "/api/v1/staff/999999999", admin).status_code == 404
    assert call("GET", "/api/v1/staff/").status_code == 401
    assert call("DELETE", f"/api/v1/staff/{pk}", admin).status_code == 200
    assert call("DELETE", f"/api/v1/enterprise/{eid}", admin).status_code == 200


def test_feeds_health_and_statistics_answers_match_the_document(call, admin, auth):
    """A feed push (JSON and CSV), one person's health with its history and doses, and
    both statistics tables answer what the document declares."""
    eid = new_enterprise(call, admin)
    number = id_number()
    pk = call("POST", "/api/v1/staff/", admin, json={"enterprise_id": eid, "name": "王六", "id_number": number,
                                                      "phone": "13576266264"}).json["id"]
    feed = auth.token("feed")
    rows = [{"id_number": number, "sampled_at": local(30), "tested_at": local(29), "result": "negative",
             "institution": "南沙区人民医院"},
            {"id_number": number, "sampled_at": local(2), "result": "pending", "institution": "南沙区人民医院"},
            {"id_number": "bad", "sampled_at": local(2), "result": "negative", "institution": "x"}]
    pushed = call("POST", "/api/v1/feeds/tests", feed, json=rows).json
    assert (pushed["stored"], pushed["rejected"][0]["row"]) == (2, 3)
    csv = f"id_number,dose,vaccinated_at,product\n{number},1,{local(24 * 40)[:10]},科兴\n"
    assert call("POST", "/api/v1/feeds/vaccinations", feed, data=csv.encode(),
                content_type="text/csv").json["stored"] == 1
    assert call("POST", "/api/v1/feeds/tests", feed, data=b" ", content_type="application/json").status_code == 400

    health = call("GET", f"/api/v1/staff/{pk}/health", admin).json["result"]
    assert health["latest"]["result"] == "pending" and len(health["history"]) == 2
    assert health["vaccination"]["doses"][0]["done"] is True

    tests = call("GET", "/api/v1/stats/tests", admin).json
    assert tests["total"]["town_id"] is None and tests["rows"]
    assert call("GET", "/api/v1/stats/tests?start=2020-13-01", admin).status_code == 400
    assert call("GET", "/api/v1/stats/vaccines", admin).json["rows"]


def filled_template(call, headers, eid: int) -> bytes:
    template = call("GET", f"/api/v1/staff/template?enterprise_id={eid}", headers)
    book = openpyxl.load_workbook(io.BytesIO(template.data))
    for row, name in enumerate(("张一", "张二"), 4):
        for col, value in enumerate((name, None, id_number(), f"1357626{6300 + row}"), 1):
            book.active.cell(row=row, column=col, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_import_and_job_answers_match_the_document(app, call, admin, monkeypatch):
    """A template, a synchronous import, a large one as a job, and the job's status
    while queued and when finished answer what the document declares."""
    from rq import SimpleWorker

    from app.platform.queue import get_queue

    eid = new_enterprise(call, admin)
    content = filled_template(call, admin, eid)

    def upload(**form):
        data = {"file": (io.BytesIO(content), "人员.xlsx"), "enterprise_id": str(eid), **form}
        return call("POST", "/api/v1/staff/import", admin, data=data, content_type="multipart/form-data")

    assert upload(dry_run="true").json["created"] == 2
    monkeypatch.setitem(app.config, "IMPORT_BACKGROUND_ROWS", 1)
    job_id = upload().json["job_id"]
    assert call("GET", f"/api/v1/jobs/{job_id}", admin).json["status"] == "queued"
    with app.app_context():
        queue = get_queue()
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
    done = call("GET", f"/api/v1/jobs/{job_id}", admin).json
    assert (done["status"], done["result"]["created"]) == ("finished", 2)
    assert call("GET", "/api/v1/jobs/no-such-job", admin).status_code == 404
    refused = call("POST", "/api/v1/staff/import", admin, content_type="multipart/form-data",
                   data={"file": (io.BytesIO(b"not a sheet"), "x.xlsx"), "enterprise_id": str(eid)})
    assert refused.status_code == 400


def test_every_declared_resource_answers_as_declared(app, call, admin):
    """The list, one row and export of every declared resource, as the district admin.
    The truck ledgers get rows of their own first (a freight driver, a booking with a
    decided pass and a passenger; 告警设置 makes its rows on the first read), so their
    rows are checked whatever ran before."""
    from views.resources import registered_resources

    freight = F.make_enterprise(app, F.tag() + "货运公司", type_code="freight")
    driver = F.make_staff(app, freight, "文档司机")
    make_booking(app, enterprise_id=freight, staff_id=driver, state="denied", reason="健康码红码", passengers=1)
    with app.app_context():
        resources = list(registered_resources(app).values())
    assert resources
    seen = set()
    for resource in resources:
        base = f"/api/v1/{resource.name}"
        page = call("GET", f"{base}/?page_size=3", admin).json
        if page["ids"]:
            seen.add(resource.name)
            call("GET", f"{base}/{page['ids'][0]}", admin)
        assert call("GET", f"{base}/export", admin).status_code == 200
        assert call("GET", f"{base}/999999999", admin).status_code == 404
    assert {"truck_driver", "booking_record", "checkpoint_recipients"} <= seen


def test_compliance_answers_match_the_document(app, call, admin, auth):
    """未按规定检测 (its list, bad date, export) and a checked person's health with compliance."""
    from app.platform.extensions import db
    from app.services.rules.evaluate import evaluate

    code = "port"
    body = {"enterprise_type": code, "category": "其他人员", "rule": "七天三检", "recipients": []}
    setting = call("POST", "/api/v1/alert_settings/", admin, json=body)
    assert setting.status_code in (201, 409)
    staff_id = call("POST", "/api/v1/staff/", admin, json={
        "enterprise_id": new_enterprise(call, admin), "name": "文档人员", "id_type": "居民身份证",
        "id_number": id_number(), "phone": "13800138000", "category": "其他人员"}).json["id"]
    with app.app_context():
        evaluate(db.session)
        db.session.remove()
    assert call("GET", "/api/v1/compliance/?page_size=5", admin).status_code == 200
    assert call("GET", "/api/v1/compliance/?date=2022-13-01", admin).status_code == 400
    assert call("GET", "/api/v1/compliance/export", admin).status_code == 200
    health = call("GET", f"/api/v1/staff/{staff_id}/health", admin).json["result"]
    assert health["compliance"]["rule"] == "七天三检" and health["compliance"]["compliant"] is None  # new today


def test_booking_and_checkpoint_answers_match_the_document(app, call, admin, auth):
    """预约 (created, bad input), its detail, the scan, the decision (and its 409), the keys, the recipients."""
    body = {"driver_name": "李某某", "id_number": id_number(), "phone": "17000000001", "plate_number": "粤B12345D",
            "origin": "广州", "destination_town": "黄阁镇", "destination_address": "测试路1号",
            "expected_arrival": local(-2), "company": None,
            "passengers": [{"name": "王乘客", "id_number": id_number(), "phone": None}]}
    booking = call("POST", "/api/v1/bookings/", None, json=body, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert booking.status_code == 201
    assert call("POST", "/api/v1/bookings/", None, json={**body, "plate_number": "x"},
                environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 400
    assert call("GET", f"/api/v1/bookings/{booking.json['id']}", admin).status_code == 200
    checkpoint = auth.token("checkpoint")
    code = booking.json["code"]
    assert call("POST", "/api/v1/checkpoint/scan", checkpoint, json={"code": code}).status_code == 200
    assert call("POST", "/api/v1/checkpoint/decide", checkpoint, json={"code": code, "allow": False,
                                                                        "reason": "健康码红码"}).status_code == 200
    assert call("POST", "/api/v1/checkpoint/decide", checkpoint, json={"code": code, "allow": True}).status_code == 409
    assert call("GET", "/api/v1/checkpoint/keys", None).status_code == 200
    assert call("GET", "/api/v1/checkpoint/recipients/", admin).status_code == 200
    assert call("PUT", "/api/v1/checkpoint/recipients/", admin,
                json={"scope": "taskforce", "recipients": []}).status_code == 200
