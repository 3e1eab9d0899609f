"""Health feeds (SPEC §3, §9): POST /api/v1/feeds/tests and /vaccinations — counts,
idempotence, per-row errors, whole-request refusals, the feed role, and the per-person
summary and daily tallies kept for registered staff only."""
from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.security import roles as R
from tests.integration import factories as F

TZ = ZoneInfo("Asia/Shanghai")
TESTS_URL, VACCINES_URL = "/api/v1/feeds/tests", "/api/v1/feeds/vaccinations"


def local(delta: timedelta) -> str:
    """District wall time ``now - delta`` as ISO text without offset (what feeds send)."""
    return (datetime.now(TZ) - delta).replace(tzinfo=None, microsecond=0).isoformat()


def trow(number: str, hours_ago: float, result: str = "negative", institution: str = "南沙区人民医院",
             **extra) -> dict:
    row = {"id_number": number, "sampled_at": local(timedelta(hours=hours_ago)), "result": result,
           "institution": institution}
    if result not in ("pending", "待出结果"):
        row["tested_at"] = local(timedelta(hours=hours_ago - 1))
    row.update(extra)
    return row


def post(client, headers, rows, url=TESTS_URL):
    response = client.post(url, json=rows, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def summary_of(app, number: str):
    """(last_sampled_at, last_result, max_dose, product) of a staff number's summary, or None."""
    from app.services.health.feeds.keys import staff_keys
    from models.health import HealthSummary

    def read(session):
        key = staff_keys(number)[0]
        row = session.get(HealthSummary, key)
        return None if row is None else (row.last_sampled_at, row.last_result, row.max_dose, row.product,
                                         row.dose1_at, row.dose2_at, row.dose3_at)

    return F.in_db(app, read)


def tallies_of(app, number: str) -> list[tuple]:
    """[(day, tests, negative, positive, pending)] of a number's daily tallies."""
    from app.services.health.feeds.keys import staff_keys
    from models.health import SamplingDaily

    def read(session):
        key = staff_keys(number)[0]
        rows = session.execute(select(SamplingDaily).where(SamplingDaily.id_key == key).order_by(SamplingDaily.day)).scalars()
        return [(r.day, r.tests, r.negative, r.positive, r.pending) for r in rows]

    return F.in_db(app, read)


def records_of(app, number: str) -> list[tuple]:
    from app.services.health.feeds.keys import staff_keys
    from models.health import SamplingRecord

    def read(session):
        key = staff_keys(number)[0]
        rows = session.execute(select(SamplingRecord).where(SamplingRecord.id_key == key)
                               .order_by(SamplingRecord.sampled_at)).scalars()
        return [(r.sampled_at, r.result, r.institution) for r in rows]

    return F.in_db(app, read)


def test_good_rows_stored_and_resend_says_duplicates(app, client, feed):
    """A batch is stored once; sending it again stores nothing and says every row is a duplicate."""
    rows = [trow(F.id_number(), h) for h in (1, 5, 30)] + [
        trow(F.id_number(), 2, "阴性"), trow(F.id_number(), 3, "待出结果")]
    first = post(client, feed, rows)
    assert (first["received"], first["stored"], first["duplicates"], first["rejected"]) == (5, 5, 0, [])
    again = post(client, feed, rows)
    assert (again["received"], again["stored"], again["duplicates"], again["rejected"]) == (5, 0, 5, [])


def test_rows_repeated_in_one_batch_count_as_duplicates(app, client, feed):
    """The same record twice in one request is stored once; record_id alone identifies a record."""
    number = F.id_number()
    row = trow(number, 4)
    source_id = "SRC-" + F.tag()
    same_id = [trow(number, 6, record_id=source_id) for _ in range(2)]
    same_id[1]["institution"] = "另一家检测机构"  # same record_id and sampling time: the same record
    answer = post(client, feed, [row, dict(row), *same_id])
    assert (answer["stored"], answer["duplicates"]) == (2, 2)
    assert len(records_of(app, number)) == 2


def test_bad_rows_are_reported_with_row_numbers_and_chinese_reasons(app, client, feed):
    """Each bad row names its position and a Chinese reason; the good rows are stored."""
    good = trow(F.id_number(), 2)
    number = F.id_number()
    wrong_check = number[:-1] + ("1" if number[-1] != "1" else "2")
    rows = [
        good,
        trow(wrong_check, 2),
        trow(F.id_number(), 2, result="maybe"),
        trow(F.id_number(), -5),  # sampled five hours in the future
        {"id_number": F.id_number(), "result": "negative", "institution": "X"},  # no sampling time
        "not an object",
    ]
    answer = post(client, feed, rows)
    assert answer["received"] == 6 and answer["stored"] == 1
    errors = {e["row"]: e["error"] for e in answer["rejected"]}
    assert sorted(errors) == [2, 3, 4, 5, 6]
    assert "校验位" in errors[2]
    assert "检测结果" in errors[3]
    assert "不能晚于当前时间" in errors[4]
    assert "采样时间不能为空" in errors[5]
    assert "JSON对象" in errors[6]


def test_csv_body_is_accepted_with_line_numbers(app, client, feed):
    """A text/csv body with Chinese or English headers is ingested; errors carry the CSV line number."""
    a, b = F.id_number(), F.id_number()
    text = ("证件号码,采样时间,检测时间,检测结果,检测机构\n"
            f"{a},{local(timedelta(hours=3))},{local(timedelta(hours=2))},阴性,南沙区人民医院\n"
            f"{b},{local(timedelta(hours=3))},,阳性,南沙区人民医院\n")
    response = client.post(TESTS_URL, data=text.encode(), headers={**feed, "Content-Type": "text/csv"})
    assert response.status_code == 200, response.json
    assert response.json["stored"] == 1
    assert response.json["rejected"][0]["row"] == 3 and "检测时间不能为空" in response.json["rejected"][0]["error"]


@pytest.mark.parametrize("body, content_type, words", [
    (b'[{"id_number": "1"', "application/json", "JSON格式不正确"),
    (b'{"id_number": "1"}', "application/json", "JSON数组"),
    ("姓名,电话\n张三,1\n".encode(), "text/csv", "缺少必需的列"),
    (b"id_number,sampled_at\n\xff\xfe,1\n", "text/csv", "UTF-8"),
    (b"", "application/json", "请求内容为空"),
])
def test_malformed_request_is_400_in_chinese_and_stores_nothing(app, client, feed, body, content_type, words):
    """Malformed JSON or CSV is refused whole with a Chinese message."""
    from models.health import FeedBatch

    before = F.count(app, FeedBatch)
    response = client.post(TESTS_URL, data=body, headers={**feed, "Content-Type": content_type})
    assert response.status_code == 400
    assert words in response.json["message"]
    assert F.count(app, FeedBatch) == before


def test_100001_rows_refused_whole_with_nothing_stored(app, client, feed):
    """More than 100,000 rows: 413 with a Chinese message, not one row stored."""
    from models.health import FeedBatch, SamplingRecord

    number = F.id_number()
    rows = [trow(number, 1 + i / 10000) for i in range(100_001)]
    before = F.count(app, SamplingRecord)
    batches = F.count(app, FeedBatch)
    response = client.post(TESTS_URL, data=json.dumps(rows), headers={**feed, "Content-Type": "application/json"})
    assert response.status_code == 413
    assert "100000" in response.json["message"] and "分批" in response.json["message"]
    assert F.count(app, SamplingRecord) == before and F.count(app, FeedBatch) == batches


def test_only_the_feed_role_and_admin_may_push(app, client, auth):
    """Without a token 401; a town user 403 in Chinese; the feed account and the admin are accepted."""
    rows = [trow(F.id_number(), 1)]
    assert client.post(TESTS_URL, json=rows).status_code == 401
    town = client.post(TESTS_URL, json=rows, headers=auth.token("town_nansha"))
    assert town.status_code == 403 and town.json["message"] == "没有权限执行此操作"
    assert client.post(VACCINES_URL, json=[], headers=auth.token("taskforce")).status_code == 403
    assert client.post(TESTS_URL, json=rows, headers=auth.token("feed")).status_code == 200
    assert client.post(TESTS_URL, json=[trow(F.id_number(), 1)], headers=auth.token("admin")).status_code == 200


def test_staff_summary_and_tallies_follow_the_feed(app, client, feed, enterprise):
    """A registered person's latest sampling, result and daily counts come from the feed."""
    number = F.id_number()
    F.make_staff(app, enterprise, F.tag(), number)
    post(client, feed, [trow(number, 50), trow(number, 30, "positive"), trow(number, 26)])
    latest = summary_of(app, number)
    assert latest[1] == "negative"
    expected_latest = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0) - timedelta(hours=26)
    assert abs((latest[0] - expected_latest).total_seconds()) < 120
    tallies = tallies_of(app, number)
    assert sum(t[1] for t in tallies) == 3 and sum(t[3] for t in tallies) == 1 and sum(t[2] for t in tallies) == 2
    post(client, feed, [trow(number, 2, "pending")])  # newer sampling, result pending
    assert summary_of(app, number)[1] == "pending"
    assert sum(t[1] for t in tallies_of(app, number)) == 4


def test_pending_result_is_replaced_by_the_later_result(app, client, feed, enterprise):
    """待出结果 then 阴性 for the same sampling: one record, now negative; the tallies move with it."""
    number = F.id_number()
    F.make_staff(app, enterprise, F.tag(), number)
    pending = trow(number, 3, "待出结果")
    post(client, feed, [pending])
    assert summary_of(app, number)[1] == "pending"
    done = dict(pending, result="阴性", tested_at=local(timedelta(hours=1)))
    answer = post(client, feed, [done])
    assert (answer["stored"], answer["updated"], answer["duplicates"]) == (1, 1, 0)
    assert [r[1] for r in records_of(app, number)] == ["negative"]
    assert summary_of(app, number)[1] == "negative"
    assert [t[1:] for t in tallies_of(app, number)] == [(1, 1, 0, 0)]
    stale = post(client, feed, [pending])  # the old pending row again: never overwrites a result
    assert (stale["stored"], stale["duplicates"]) == (0, 1)
    assert summary_of(app, number)[1] == "negative"


def test_records_of_people_not_registered_get_no_summary(app, client, feed):
    """Feed rows of non-staff are stored (keyed) but get no summary or tallies."""
    number = F.id_number()
    post(client, feed, [trow(number, 5)])
    assert len(records_of(app, number)) == 1
    assert summary_of(app, number) is None and tallies_of(app, number) == []


def test_records_keep_no_plain_id_number(app, client, feed):
    """A stored test record holds a 43-character key, never the ID number."""
    from models.health import SamplingRecord

    number = F.id_number()
    post(client, feed, [trow(number, 5, record_id="R" + F.tag())])
    stored = F.in_db(app, lambda s: s.execute(select(SamplingRecord.id_key, SamplingRecord.identity, SamplingRecord.institution)
                                              .order_by(SamplingRecord.received_at.desc()).limit(1)).one())
    assert len(stored.id_key) == 43 and number not in tuple(stored)


def test_staff_registered_after_the_records_gets_a_summary(app, client, feed, admin_token, enterprise):
    """A person added after their records arrived is matched at once (summary built on create)."""
    number = F.id_number()
    post(client, feed, [trow(number, 10)])
    response = client.post("/api/v1/staff/", json={
        "enterprise_id": enterprise, "name": F.tag(), "id_type": "居民身份证", "id_number": number,
        "phone": F.phone()}, headers=admin_token)
    assert response.status_code == 201, response.json
    assert summary_of(app, number)[1] == "negative"
    assert sum(t[1] for t in tallies_of(app, number)) == 1


def test_staff_imported_after_their_records_are_matched_by_the_import(app, client, feed, admin_token, enterprise):
    """An import of people whose records came first gives each of them a summary (test
    or vaccination), none to a person without records, and leaves a person already
    matched in another enterprise as the feed left them."""
    tested, vaccinated, unseen, elsewhere = (F.id_number() for _ in range(4))
    F.make_staff(app, F.make_enterprise(app, F.tag() + "别家"), F.tag(), elsewhere)
    post(client, feed, [trow(tested, 10), trow(elsewhere, 30, "pending")])
    post(client, feed, [{"id_number": vaccinated, "dose": 1, "vaccinated_at": "2021-05-01"}], VACCINES_URL)
    before = summary_of(app, elsewhere)
    lines = ["姓名,身份证号码,手机号码"] + [f"{F.tag()},{n},{F.phone()}" for n in (tested, vaccinated, unseen, elsewhere)]
    response = client.post("/api/v1/staff/import", headers=admin_token, content_type="multipart/form-data", data={
        "file": (io.BytesIO("\n".join(lines).encode()), "人员.csv"), "enterprise_id": enterprise})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert (response.json["created"], response.json["failed"]) == (4, 0)
    assert summary_of(app, tested)[1] == "negative"
    assert [t[1:] for t in tallies_of(app, tested)] == [(1, 1, 0, 0)]
    assert summary_of(app, vaccinated)[2] == 1 and summary_of(app, vaccinated)[1] is None
    assert summary_of(app, unseen) is None
    assert summary_of(app, elsewhere) == before and before[1] == "pending"


def test_many_imported_people_are_matched_by_a_job_right_after_the_import(app, client, feed, admin_token,
                                                                          enterprise, monkeypatch):
    """Above the inline limit the import commits the people and queues the matching;
    the job gives them their summaries and running it again changes nothing."""
    from rq import SimpleWorker

    from app.platform.queue import get_queue
    from app.services.health import follow_up

    monkeypatch.setattr(follow_up, "INLINE_MATCH", 1)
    tested, unseen = F.id_number(), F.id_number()
    post(client, feed, [trow(tested, 5, "positive")])
    lines = ["姓名,身份证号码,手机号码"] + [f"{F.tag()},{n},{F.phone()}" for n in (tested, unseen)]
    response = client.post("/api/v1/staff/import", headers=admin_token, content_type="multipart/form-data", data={
        "file": (io.BytesIO("\n".join(lines).encode()), "人员.csv"), "enterprise_id": enterprise})
    assert response.status_code == 200 and response.json["created"] == 2, response.get_data(as_text=True)
    job_id = response.json["health_job"]
    assert job_id and summary_of(app, tested) is None  # stored, not matched yet
    with app.app_context():
        queue = get_queue()
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
    status = client.get(f"/api/v1/jobs/{job_id}", headers=admin_token).json
    assert status["status"] == "finished" and status["result"] == {"matched": 1}
    assert summary_of(app, tested)[1] == "positive" and summary_of(app, unseen) is None
    from jobs.health import match_new_staff

    with app.app_context():
        assert match_new_staff(enterprise, 0) == {"matched": 0}
    assert summary_of(app, tested)[1] == "positive" and [t[1:] for t in tallies_of(app, tested)] == [(1, 0, 1, 0)]


def test_vaccinations_update_doses_and_product_of_the_highest_dose(app, client, feed, enterprise):
    """Doses are recorded per staff key; the product shown is that of the highest dose."""
    number = F.id_number()
    F.make_staff(app, enterprise, F.tag(), number)
    rows = [
        {"id_number": number, "dose": 1, "vaccinated_at": "2021-05-01", "product": "灭活疫苗（Vero细胞）"},
        {"id_number": number, "dose": "第二针", "vaccinated_at": "2021-06-01", "product": "灭活疫苗（Vero细胞）"},
        {"id_number": number, "dose": 3, "vaccinated_at": "2021-12-01", "product": "重组蛋白疫苗"},
        {"id_number": number, "dose": 9, "vaccinated_at": "2021-12-01"},
    ]
    answer = post(client, feed, rows, VACCINES_URL)
    assert (answer["stored"], answer["duplicates"]) == (3, 0)
    assert answer["rejected"][0]["row"] == 4 and "剂次" in answer["rejected"][0]["error"]
    _, _, max_dose, product, d1, d2, d3 = summary_of(app, number)
    assert (max_dose, product, d1, d2, d3) == (3, "重组蛋白疫苗", date(2021, 5, 1), date(2021, 6, 1), date(2021, 12, 1))
    again = post(client, feed, rows[:3], VACCINES_URL)
    assert (again["stored"], again["duplicates"]) == (0, 3)


def test_feed_batch_records_the_counts(app, client, feed):
    """Every accepted request leaves a FeedBatch row with its counts."""
    from models.health import FeedBatch

    answer = post(client, feed, [trow(F.id_number(), 1), {"id_number": "x"}])
    batch = F.in_db(app, lambda s: s.execute(select(
        FeedBatch.kind, FeedBatch.source, FeedBatch.received, FeedBatch.stored, FeedBatch.rejected)
        .where(FeedBatch.id == answer["batch_id"])).one())
    assert tuple(batch) == ("tests", "api", 2, 1, 1)


@pytest.fixture
def admin_token(auth):
    return auth.token("admin")


def test_pending_and_result_in_one_request_keep_the_result(app, client, feed, enterprise):
    """待出结果 and the 阴性 of the same sampling in one request: stored once, as negative (the repeat is a duplicate)."""
    number = F.id_number()
    F.make_staff(app, enterprise, F.tag(), number)
    pending = trow(number, 5, "pending")
    done = dict(pending, result="negative", tested_at=local(timedelta(hours=2)))
    filler = [trow(F.id_number(), 1 + i / 100) for i in range(30)]
    answer = post(client, feed, [pending, *filler, done])
    assert (answer["stored"], answer["duplicates"]) == (31, 1)
    assert [r[1] for r in records_of(app, number)] == ["negative"]
    assert [t[1:] for t in tallies_of(app, number)] == [(1, 1, 0, 0)]
    assert summary_of(app, number)[1] == "negative"


def test_a_corrected_result_replaces_the_stored_one(app, client, feed, enterprise):
    """A stored 阴性 later sent as 阳性 for the same sampling is corrected, tallies included."""
    number = F.id_number()
    F.make_staff(app, enterprise, F.tag(), number)
    row = trow(number, 8, "阴性", record_id="C-" + F.tag())
    post(client, feed, [row])
    answer = post(client, feed, [dict(row, result="阳性")])
    assert (answer["stored"], answer["updated"]) == (1, 1)
    assert [t[1:] for t in tallies_of(app, number)] == [(1, 0, 1, 0)]
    assert summary_of(app, number)[1] == "positive"
