"""Per-person health status (SPEC §3, seed 001 §2.4, 000 §2.6): buckets by latest
sampling time, 7-day history, doses, on the staff list/detail/export, the health API,
the enterprise head's phone pages and the 未匹配 list."""
from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest

from app.security import roles as R
from tests.integration import factories as F
from tests.integration.health import health_factories as HF

ROW = re.compile(r'class="row-select" value="(\d+)"')
PERSON = re.compile(r'class="list-group-item person-link" data-id="(\d+)"')
H, M, D = timedelta(hours=1), timedelta(minutes=1), timedelta(days=1)

# age of the latest sampling → expected bucket (1-minute margins around each boundary)
BOUNDARIES = [
    (-5 * M, "24h"),  # clock skew: a sampling slightly in the future
    (0 * M, "24h"),
    (24 * H - M, "24h"),
    (24 * H + M, "48h"),
    (48 * H - M, "48h"),
    (48 * H + M, "72h"),
    (72 * H - M, "72h"),
    (72 * H + M, "over72h"),
    (14 * D - 10 * M, "over72h"),
    (14 * D + M, "unmatched"),  # a record older than the 14-day window counts as none
    (None, "unmatched"),  # no record at all
]


@pytest.fixture
def enterprise(app):
    return F.make_enterprise(app, F.tag() + "核酸企业", town="南沙街", type_code="port")


@pytest.fixture
def admin(client, auth):
    auth.login("admin")
    return client


def row_ids(response) -> list[int]:
    assert response.status_code == 200
    return [int(i) for i in ROW.findall(response.get_data(as_text=True))]


def page_text(response) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def head_client(app, enterprises: int = 1):
    """A logged-in enterprise head of ``enterprises`` new enterprises: (client, enterprise ids)."""
    phone = F.phone()
    ids = [F.make_enterprise(app, F.tag() + f"负责人企业{i}", head_phone=phone) for i in range(enterprises)]
    username = F.make_user(app, f"head_{phone}", R.ENTERPRISE_HEAD, phone_number=phone)
    client = app.test_client()
    from tests.conftest import login

    assert login(client, username).status_code == 302
    return client, ids


# --- buckets -------------------------------------------------------------------------

def test_buckets_at_the_boundaries_on_api_list_and_detail(app, admin, auth, enterprise):
    """24小时/48小时/72小时/大于72小时/未匹配 follow the age of the latest sampling (n ≤ 24 h, …, older than 14 days = 未匹配) on the API, the list filter and the detail page."""
    people = HF.bucket_people(app, enterprise, [age for age, _ in BOUNDARIES])
    expected = {pk: bucket for pk, (_, bucket) in zip(people, BOUNDARIES)}
    headers = auth.token("admin")
    for pk, bucket in expected.items():
        answer = admin.get(f"/api/v1/staff/{pk}/health", headers=headers)
        assert answer.status_code == 200
        assert answer.json["result"]["bucket"]["code"] == bucket, (pk, answer.json)
    labels = {"24h": "24小时", "48h": "48小时", "72h": "72小时", "over72h": "大于72小时", "unmatched": "未匹配"}
    for bucket, label in labels.items():
        listed = row_ids(admin.get(f"/staff/?enterprise_id={enterprise}&bucket={bucket}&size=50"))
        assert sorted(listed) == sorted(pk for pk, b in expected.items() if b == bucket), bucket
        sample = next(pk for pk, b in expected.items() if b == bucket)
        assert f'id="health-bucket" data-bucket="{bucket}">{label}</span>' in page_text(admin.get(f"/staff/{sample}"))
    everyone = page_text(admin.get(f"/staff/?enterprise_id={enterprise}&size=50"))
    assert everyone.count('data-bucket="24h"') == 3 and everyone.count('data-bucket="unmatched"') == 2


def test_old_record_is_unmatched_but_recent_one_is_not(app, admin, enterprise):
    """A person whose only test is 15 days old is 未匹配 (with the manual's note) and shows no 7-day history; one tested 13 days ago is 大于72小时."""
    old, recent = F.make_staff(app, enterprise, "十五天前"), F.make_staff(app, enterprise, "十三天前")
    HF.add_tests(app, old, HF.ago(days=15))
    HF.add_tests(app, recent, HF.ago(days=13))
    page = page_text(admin.get(f"/staff/{old}"))
    assert 'data-bucket="unmatched">未匹配' in page
    assert "没有找到该人员近14天的核酸检测数据记录" in page and "近7日无核酸检测记录" in page
    assert 'data-bucket="over72h">大于72小时' in page_text(admin.get(f"/staff/{recent}"))
    unmatched = row_ids(admin.get(f"/staff/?enterprise_id={enterprise}&bucket=unmatched"))
    assert old in unmatched and recent not in unmatched


def test_history_is_the_last_seven_days_newest_first(app, admin, auth, enterprise):
    """查看核酸 lists the tests of today and the six days before, newest first; older tests are left out."""
    pk = F.make_staff(app, enterprise, "七日记录")
    newest, six_days, eight_days = HF.ago(hours=1), HF.ago(days=6), HF.ago(days=8)
    HF.add_tests(app, pk, (eight_days, "negative"), (six_days, "positive"), (newest, "pending"), HF.ago(days=10))
    result = admin.get(f"/api/v1/staff/{pk}/health", headers=auth.token("admin")).json["result"]
    assert [h["result"] for h in result["history"]] == ["pending", "positive"]
    assert [h["result_label"] for h in result["history"]] == ["待出结果", "阳性"]
    assert result["latest"]["result"] == "pending" and result["latest"]["result_label"] == "待出结果"
    assert result["latest"]["sampled_at"].endswith("+08:00")
    page = page_text(admin.get(f"/staff/{pk}"))
    assert "查看核酸" in page and page.count('class="history-row"') == 2


def test_third_dose_counts_the_first_and_second(app, admin, auth, enterprise):
    """A recorded third dose makes doses 1 and 2 count as done (without dates); a second dose implies the first only."""
    three, two = F.make_staff(app, enterprise, "三针"), F.make_staff(app, enterprise, "二针")
    HF.add_doses(app, three, {3: date(2022, 3, 1)})
    HF.add_doses(app, two, {2: date(2021, 8, 2)})
    headers = auth.token("admin")
    v3 = admin.get(f"/api/v1/staff/{three}/health", headers=headers).json["result"]["vaccination"]
    assert v3["label"] == "已完成接种三针" and v3["max_dose"] == 3
    assert [(d["dose"], d["done"], d["date"]) for d in v3["doses"]] == [
        (1, True, None), (2, True, None), (3, True, "2022-03-01")]
    v2 = admin.get(f"/api/v1/staff/{two}/health", headers=headers).json["result"]["vaccination"]
    assert [(d["dose"], d["done"]) for d in v2["doses"]] == [(1, True), (2, True), (3, False)]
    page = page_text(admin.get(f"/staff/{three}"))
    assert page.count('data-done="1"') == 3 and "2022-03-01" in page and "已完成接种三针" in page
    listed = page_text(admin.get(f"/staff/?enterprise_id={enterprise}"))
    assert '<td data-col="dose3" class="dose">2022-03-01</td>' in listed  # the ledger's dose columns
    assert listed.count('<td data-col="dose1" class="dose">已接种</td>') == 2


def test_health_api_answers_shape_and_audits_the_read(app, admin, auth, enterprise):
    """GET /api/v1/staff/<id>/health gives latest, bucket, history and vaccination, and the read is audited."""
    pk = F.make_staff(app, enterprise, "接口读取")
    HF.add_tests(app, pk, HF.ago(hours=30))
    HF.add_doses(app, pk, {1: date(2021, 5, 1), 2: date(2021, 6, 1)})
    before = F.last_audit_id(app)
    answer = admin.get(f"/api/v1/staff/{pk}/health", headers=auth.token("admin"))
    assert answer.status_code == 200 and answer.json["id"] == pk
    result = answer.json["result"]
    assert set(result) == {"latest", "bucket", "history", "vaccination", "compliance"}  # compliance: issue 14
    assert result["bucket"] == {"code": "48h", "label": "48小时"}
    assert result["latest"]["result"] == "negative" and result["latest"]["institution"] == "测试检测机构"
    assert result["vaccination"]["label"] == "已完成接种二针"
    assert [a["entity_id"] for a in F.audits(app, "view", "Staff", before)] == [str(pk)]


def test_health_lookup_reads_the_person_with_the_summary(app, admin, auth, enterprise):
    """The lookup other systems call per person: the caller, the person with their summary
    (scope applied), the 7-day records, the latest rule check and the audit row — one
    statement each."""
    pk = F.make_staff(app, enterprise, "一次读取")
    HF.add_tests(app, pk, HF.ago(hours=3))
    headers = auth.token("admin")
    with F.statements_run(app) as statements:
        answer = admin.get(f"/api/v1/staff/{pk}/health", headers=headers)
    assert answer.status_code == 200 and answer.json["result"]["bucket"]["code"] == "24h"
    work = [s.split()[0].upper() for s in statements if s.split()[0].upper() in ("SELECT", "INSERT", "UPDATE")]
    assert work == ["SELECT", "SELECT", "SELECT", "SELECT", "INSERT"], statements
    person_reads = [s for s in statements if "FROM staff" in s]
    assert len(person_reads) == 1 and "health_summary" in person_reads[0]


def test_health_labels_follow_each_requests_language(app, admin, auth, enterprise):
    """Labels are translated once per request: English and Chinese answers alternate
    without one request's language showing in the next."""
    pk = F.make_staff(app, enterprise, "双语读取")
    HF.add_tests(app, pk, HF.ago(hours=30))
    HF.add_doses(app, pk, {1: date(2021, 5, 1), 2: date(2021, 6, 1)})
    headers = auth.token("admin")
    for _round in range(2):
        en = admin.get(f"/api/v1/staff/{pk}/health?_l_=en", headers=headers).json["result"]
        zh = admin.get(f"/api/v1/staff/{pk}/health", headers=headers).json["result"]
        assert (en["bucket"]["label"], en["latest"]["result_label"], en["vaccination"]["label"]) == (
            "48 hours", "Negative", "2 doses completed")
        assert (zh["bucket"]["label"], zh["latest"]["result_label"], zh["vaccination"]["label"]) == (
            "48小时", "阴性", "已完成接种二针")
        assert en["vaccination"]["doses"][0]["label"] == "Dose 1" and zh["vaccination"]["doses"][0]["label"] == "第一针"
        assert en["history"][0]["result_label"] == "Negative" and zh["history"][0]["result_label"] == "阴性"


# --- scope ---------------------------------------------------------------------------

def test_health_of_someone_out_of_scope_is_404(app, client, auth):
    """A town user asking the health of another town's person, or a head asking another enterprise's, gets 404 (API and phone page)."""
    elsewhere = F.make_enterprise(app, F.tag() + "黄阁企业", town="黄阁镇")
    stranger = F.make_staff(app, elsewhere, "外镇人员")
    HF.add_tests(app, stranger, HF.ago(hours=2))
    response = client.get(f"/api/v1/staff/{stranger}/health", headers=auth.token("town_nansha"))
    assert response.status_code == 404 and response.json == {"message": "数据不存在或无权访问"}
    head, (mine,) = head_client(app)
    own = F.make_staff(app, mine, "本企业员工")
    assert head.get(f"/head/people/{own}").status_code == 200
    assert head.get(f"/head/people/{stranger}").status_code == 404
    assert head.get(f"/staff/{stranger}").status_code == 404


# --- enterprise head's phone pages ----------------------------------------------------

def test_head_home_counts_match_the_people_behind_each_link(app):
    """The head's home shows 企业总人数 and five counts; each links to exactly those people, and on to their health."""
    head, (mine,) = head_client(app)
    ages = [H, 2 * H, 30 * H, 50 * H, 5 * D, 15 * D, None, None]
    people = HF.bucket_people(app, mine, ages)
    expected = {"24h": people[0:2], "48h": people[2:3], "72h": people[3:4], "over72h": people[4:5],
                "unmatched": people[5:8]}
    home = page_text(head.get("/head/"))
    assert "企业总人数：8 人" in home
    assert "未匹配表示在下发的核酸库里面没有找到该人员近14天的核酸检测数据记录" in home
    for bucket, ids in expected.items():
        count = int(re.search(rf'id="bucket-{bucket}" data-count="(\d+)"', home).group(1))
        assert count == len(ids), bucket
        assert f'href="/head/people?bucket={bucket}"' in home
        listing = page_text(head.get(f"/head/people?bucket={bucket}"))
        assert sorted(int(i) for i in PERSON.findall(listing)) == sorted(ids), bucket
        assert f"共 {count} 人" in listing
    everyone = page_text(head.get("/head/people"))
    assert sorted(int(i) for i in PERSON.findall(everyone)) == sorted(people)
    unmatched = page_text(head.get("/head/people?bucket=unmatched"))
    assert "核查证件号码是否正确" in unmatched and "/staff/export?enterprise_id=" in unmatched
    person = page_text(head.get(f"/head/people/{people[0]}?bucket=24h"))
    assert "核酸检测" in person and "疫苗接种" in person and 'data-bucket="24h">24小时' in person
    assert 'name="viewport"' in person


# --- lists and exports -----------------------------------------------------------------

def test_town_user_filters_the_staff_list_by_bucket(app, client, auth):
    """A town user's list filtered to 24小时 shows only their town's people tested within 24 hours, with the health columns."""
    tag = F.tag()
    home = F.make_enterprise(app, tag + "南沙", town="南沙街")
    away = F.make_enterprise(app, tag + "黄阁", town="黄阁镇")
    fresh, stale = HF.bucket_people(app, home, [3 * H, 4 * D], prefix=tag)
    other = HF.bucket_people(app, away, [3 * H], prefix=tag)[0]
    auth.login("town_nansha")
    listed = client.get(f"/staff/?q={tag}&bucket=24h")
    assert row_ids(listed) == [fresh]
    text = page_text(listed)
    for column in ("最近一次核酸检测结果", "最近一次核酸检测时间", "第一针疫苗接种时间"):
        assert f'">{column}</th>' in text
    assert '<option value="24h" selected>24小时</option>' in text
    assert f"bucket=24h" in text  # export and paging keep the filter
    assert sorted(row_ids(client.get(f"/staff/?q={tag}"))) == sorted([fresh, stale])
    assert other not in row_ids(client.get(f"/staff/?q={tag}&bucket=24h"))
    assert row_ids(client.get(f"/staff/?q={tag}&bucket=bogus")) == row_ids(client.get(f"/staff/?q={tag}"))


def test_export_fills_the_test_and_vaccine_columns(app, admin, enterprise):
    """导出全部 fills 最近一次核酸采样时间/检测时间/结果 and the three dose dates (已接种 for an implied dose)."""
    number = F.id_number()
    pk = F.make_staff(app, enterprise, "导出核酸", number)
    sampled = HF.ago(hours=5).replace(microsecond=0)
    HF.add_tests(app, pk, (sampled, "negative", sampled + timedelta(hours=3)))
    HF.add_doses(app, pk, {2: date(2021, 7, 1), 3: date(2022, 1, 5)})
    nobody = F.make_staff(app, enterprise, "导出无记录")
    rows = F.read_xlsx(admin.get(f"/staff/export?enterprise_id={enterprise}").data)
    header = rows[0]
    by_name = {r[1]: dict(zip(header, r)) for r in rows[1:]}
    local = lambda t: (t + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")  # noqa: E731
    done = by_name["导出核酸"]
    assert done["身份证号码"] == number
    assert done["最近一次核酸采样时间"] == local(sampled)
    assert done["最近一次核酸检测时间"] == local(sampled + timedelta(hours=3))
    assert done["最近一次核酸检测结果"] == "阴性"
    assert (done["第一针疫苗接种时间"], done["第二针疫苗接种时间"], done["第三针疫苗接种时间"]) == (
        "已接种", "2021-07-01", "2022-01-05")
    empty = by_name["导出无记录"]
    assert all(empty[h] is None for h in header[8:13] + header[15:16])
    assert nobody


def test_unmatched_list_shows_hints_and_exports_only_the_unmatched(app, client, auth):
    """未匹配人员 (menu entry) lists only people without a test in 14 days, under the self-check hints, and exports them (audited)."""
    tag = F.tag()
    company = F.make_enterprise(app, tag + "未匹配", town="南沙街")
    matched, never, too_old = HF.bucket_people(app, company, [2 * H, None, 20 * D], prefix=tag)
    auth.login("town_nansha")
    assert "未匹配人员" in page_text(client.get("/staff/"))  # the menu entry
    page = client.get(f"/staff/?bucket=unmatched&q={tag}")
    assert sorted(row_ids(page)) == sorted([never, too_old])
    text = page_text(page)
    for hint in ("核查证件号码是否正确", "有x结尾的记得写成大写X", "核查录入系统的证件号码和核酸码证件号码是否一致",
                 "核查是不是在本市采样点做核酸的"):
        assert hint in text
    before = F.last_audit_id(app)
    exported = client.get(f"/staff/export?bucket=unmatched&q={tag}")
    assert exported.status_code == 200
    assert "%E6%9C%AA%E5%8C%B9%E9%85%8D%E4%BA%BA%E5%91%98" in exported.headers["Content-Disposition"]  # 未匹配人员
    rows = F.read_xlsx(exported.data)
    assert sorted(r[1] for r in rows[1:]) == sorted([f"{tag}1", f"{tag}2"])
    audit = F.audits(app, "export", "Staff", before)
    assert len(audit) == 1 and audit[0]["rows"] == 2 and "bucket=unmatched" in audit[0]["detail"]
    assert matched


def test_demo_data_fills_every_bucket_through_the_feed(app):
    """`demo load` sends test records through the real ingest: a demo enterprise head sees most people within 24 hours and every bucket in use."""
    from sqlalchemy import select

    from app.platform.extensions import db
    from app.security.scope import scope_for_user
    from app.services.health.status import lookup
    from models.enterprises import Enterprise
    from models.health import FeedBatch
    from models.users import SentinelUser

    with app.app_context():
        admin_user = db.session.execute(select(SentinelUser).filter_by(username="admin")).scalar_one()
        demo_batches = db.session.execute(select(FeedBatch).filter_by(source="demo")).scalars().all()
        assert {b.kind for b in demo_batches} == {"tests", "vaccinations"}
        assert all(b.rejected == 0 and b.stored > 0 for b in demo_batches)
        scope = scope_for_user(admin_user)
        demo = db.session.execute(select(Enterprise.id).where(Enterprise.name.like("%示范企业%"))).scalars().all()
        assert len(demo) == 20
        totals = {code: 0 for code in ("24h", "48h", "72h", "over72h", "unmatched")}
        people = 0
        for enterprise_id in demo:
            counts = lookup.bucket_counts(db.session, scope, enterprise_id)
            assert sum(counts.counts.values()) == counts.total
            people += counts.total
            for code in totals:
                totals[code] += counts.counts[code]
        assert people >= 500 and totals["24h"] > people // 2
        assert all(totals[code] > 0 for code in ("48h", "72h", "over72h", "unmatched"))
