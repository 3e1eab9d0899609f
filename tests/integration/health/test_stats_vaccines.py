"""疫苗接种统计 (SPEC §3, §9) and the vaccine products an admin edits: eligibility per
product interval, the counting rule (dose 3 implies 2 and 1), drill-downs, exports,
scope, the admin's edits changing the numbers, the bootstrap never overwriting them."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.conftest import api_token, csrf_from, login
from tests.integration.factories import audits, in_db, last_audit_id, read_xlsx
from tests.integration.health.stats_factories import keyed_staff, make_enterprise, make_town, make_user, set_summary, tag

TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()
DAY = timedelta(days=1)
SINOVAC = "新冠病毒灭活疫苗（Vero细胞）科兴"
ZHIFEI = "重组新冠病毒疫苗（CHO细胞）智飞龙科马"
CANSINO = "重组新冠病毒疫苗（5型腺病毒载体）康希诺"
BEIJING = "北京生物新冠病毒灭活疫苗"
DOSE_KEYS = [f"dose{n}_{k}" for n in (1, 2, 3) for k in ("eligible", "vaccinated", "rate")]


pytestmark = pytest.mark.usefixtures("no_cache")  # every computation sees the rows just written


@pytest.fixture(scope="module")
def dataset(app):
    """Ten people of known doses and products in a town of their own, plus an enterprise without staff."""
    town_id, town = make_town(app)
    enterprise = make_enterprise(app, f"{tag()}冷链", town=town)
    make_enterprise(app, f"{tag()}空企业", town=town)
    plan = {
        "v0": {},                                                        # no record: dose 1 eligible
        "v1": dict(dose1=TODAY - 20 * DAY, product=SINOVAC),             # 20 < 21 days
        "v2": dict(dose1=TODAY - 21 * DAY, product=SINOVAC),             # 21 days: dose 2 eligible
        "v3": dict(dose1=TODAY - 27 * DAY, product=ZHIFEI),              # 27 < 28 days
        "v4": dict(dose1=TODAY - 60 * DAY, dose2=TODAY - 28 * DAY, product=ZHIFEI),  # dose 3 (primary) eligible
        "v5": dict(dose1=TODAY - 150 * DAY, dose2=TODAY - 89 * DAY, product=BEIJING),  # booster: 89 < 90
        "v6": dict(dose1=TODAY - 200 * DAY, dose2=TODAY - 100 * DAY, product=CANSINO),  # no third dose
        "v7": dict(dose3=TODAY - 10 * DAY, product=SINOVAC),             # dose 3 alone: 1 and 2 implied
        "v8": dict(dose1=TODAY - 30 * DAY, product=None),                # blank: the default product
        "v9": dict(dose1=TODAY - 30 * DAY, product="某某未知疫苗"),        # unknown: the default product
    }
    people = {}
    for name, doses in plan.items():
        staff_id, key = keyed_staff(app, enterprise, "高风险人员", name=f"{name}{tag()}")
        if doses:
            set_summary(app, key, **doses)
        people[name] = (staff_id, key)
    user = make_user(app, "u" + tag()[1:], "town", town=town)
    return {"town_id": town_id, "town": town, "people": people, "user": user, "enterprise": enterprise}


def _body(client, auth, username):
    response = client.get("/api/v1/stats/vaccines", headers=auth.token(username))
    assert response.status_code == 200, response.data
    return response.json


def _row(body, town):
    return next(r for r in body["rows"] if r["town"] == town)


def test_vaccine_numbers_follow_product_intervals(client, auth, dataset):
    """Dose 2 waits 21 days after an inactivated dose 1, dose 3 28 days after a CHO dose 2 (its primary
    series) or 90 days for a booster; a one-shot product's booster is its last dose; blank or unknown
    products count as the default product."""
    row = _row(_body(client, auth, "admin"), dataset["town"])
    assert row["enterprises"] == 2 and row["staff"] == 10
    assert {k: row[k] for k in DOSE_KEYS} == {
        "dose1_eligible": 1, "dose1_vaccinated": 9, "dose1_rate": "90.00%",
        "dose2_eligible": 3, "dose2_vaccinated": 4, "dose2_rate": "40.00%",
        "dose3_eligible": 1, "dose3_vaccinated": 1, "dose3_rate": "10.00%",
    }


def test_total_row_and_shape(client, auth, dataset):
    """The town user's table is their town and a total row with the same numbers; columns named as the manual."""
    body = _body(client, auth, dataset["user"])
    assert [r["town"] for r in body["rows"]] == [dataset["town"]]
    assert body["total"]["town"] == "合计"
    assert {k: body["total"][k] for k in DOSE_KEYS + ["staff", "enterprises"]} == \
        {k: body["rows"][0][k] for k in DOSE_KEYS + ["staff", "enterprises"]}
    assert [c["label"] for c in body["columns"]][:6] == [
        "所属镇街", "主体数量", "工作人员数量", "第一针可接种人数", "第一针接种人数", "完成第一针接种率"]
    assert set(body) >= {"computed_at", "columns", "rows", "total"}


@pytest.mark.parametrize("measure, expected", [
    ("dose1_eligible", {"v0"}), ("dose2_eligible", {"v2", "v8", "v9"}), ("dose3_eligible", {"v4"}),
    ("dose2_vaccinated", {"v4", "v5", "v6", "v7"}), ("dose3_vaccinated", {"v7"}),
])
def test_vaccine_drill_down_matches_the_number(app, client, dataset, measure, expected):
    """Each vaccine number lists exactly its people, on the page and in the .xlsx."""
    login(client, dataset["user"])
    params = {"kind": "vaccines", "measure": measure, "town_id": dataset["town_id"], "size": 100}
    html = client.get("/stats/people", query_string=params).get_data(as_text=True)
    assert {n for n, (sid, _k) in dataset["people"].items() if f'data-id="{sid}"' in html} == expected
    rows = read_xlsx(client.get("/stats/people/export", query_string=params).data)
    assert {r[1][:2] for r in rows[1:]} == expected


def test_enterprise_count_lists_enterprises(client, dataset):
    """主体数量 links to the enterprises of the town, including one without staff."""
    login(client, dataset["user"])
    params = {"kind": "vaccines", "measure": "enterprises", "town_id": dataset["town_id"]}
    html = client.get("/stats/people", query_string=params).get_data(as_text=True)
    assert "共 2 条" in html and "空企业" in html
    assert len(read_xlsx(client.get("/stats/people/export", query_string=params).data)) == 3


def test_vaccine_page_and_export(app, client, dataset):
    """The page shows the table, 统计时间 and a chart; 导出 gives the table with its total row, audited."""
    login(client, dataset["user"])
    html = client.get("/stats/vaccines").get_data(as_text=True)
    assert "统计时间" in html and "第三针可接种人数" in html and "stats-chart" in html
    since = last_audit_id(app)
    rows = read_xlsx(client.get("/stats/vaccines/export").data)
    assert rows[0][0] == "所属镇街" and rows[1][0] == dataset["town"] and rows[2][0] == "合计"
    assert rows[2][1:5] == [2, 10, 1, 9]
    assert audits(app, "export", "Statistics", since)


def test_bureau_of_other_types_sees_none_of_this_town(client, auth, dataset):
    """A bureau user whose types are not in the dataset gets no row for its town (no row of zeros)."""
    body = _body(client, auth, "bureau_transport")
    assert dataset["town"] not in {r["town"] for r in body["rows"]}
    assert all(r["enterprises"] > 0 for r in body["rows"])


def _product_form(client, url):
    return csrf_from(client.get(url).data)


def _post_product(client, url, **fields):
    data = {"code": "", "name": "", "maker": "", "aliases": "", "primary_doses": "2", "primary_interval_days": "21",
            "booster_doses": "1", "booster_interval_days": "90", "active": "y", **fields}
    data = {k: v for k, v in data.items() if v is not None}
    data["csrf_token"] = _product_form(client, url)
    return client.post(url, data=data, follow_redirects=True)


def _product_id(app, code):
    from models.vaccines import VaccineProduct

    return in_db(app, lambda s: s.execute(select(VaccineProduct.id).where(VaccineProduct.code == code)).scalar())


def test_admin_product_edit_changes_the_statistics(app, client, auth):
    """An admin adds a product with a 30-day interval, then shortens it to 20: a person 25 days after
    dose 1 becomes eligible for dose 2 at once; both changes are audited with before/after values."""
    _tid, town = make_town(app)
    enterprise = make_enterprise(app, f"{tag()}测试", town=town)
    marker = tag()
    _sid, key = keyed_staff(app, enterprise, "高风险人员")
    set_summary(app, key, dose1=TODAY - 25 * DAY, product=f"测试疫苗{marker}")
    login(client, "admin")
    since = last_audit_id(app)
    code = "t" + marker[1:]
    page = _post_product(client, "/vaccine_products/add", code=code, name=f"测试疫苗{marker}",
                         primary_interval_days="30")
    assert page.status_code == 200 and _product_id(app, code)
    assert _row(_body(client, auth, "admin"), town)["dose2_eligible"] == 0
    pk = _product_id(app, code)
    _post_product(client, f"/vaccine_products/{pk}/edit", code=code, name=f"测试疫苗{marker}",
                  primary_interval_days="20")
    assert _row(_body(client, auth, "admin"), town)["dose2_eligible"] == 1
    changes = audits(app, "update", "VaccineProduct", since)
    assert changes[-1]["before"]["primary_interval_days"] == 30 and changes[-1]["after"]["primary_interval_days"] == 20
    assert audits(app, "create", "VaccineProduct", since)


@pytest.mark.parametrize("fields, message", [
    ({"primary_doses": "3", "booster_doses": "1"}, "疫苗总剂次不能超过3针"),
    ({"primary_doses": "0"}, "“基础免疫针次”不能小于1"),
    ({"name": ""}, "“疫苗名称”不能为空"),
])
def test_bad_product_is_refused_with_a_message(app, client, fields, message):
    """A product the rules cannot read is not saved, and the form says why."""
    login(client, "admin")
    code = "bad" + tag()[1:]
    page = _post_product(client, "/vaccine_products/add", **{"code": code, "name": "坏疫苗" + code, **fields})
    assert message in page.get_data(as_text=True)
    assert _product_id(app, code) is None


def test_only_admin_edits_products(app):
    """A town user cannot open the vaccine product admin."""
    client = app.test_client()
    login(client, "town_nansha")
    assert client.get("/vaccine_products/").status_code != 200
    assert client.get("/api/v1/vaccine_product/", headers=api_token(client, "town_nansha")).status_code == 403


def test_bootstrap_inserts_missing_products_only(app, tmp_path):
    """Loading the shipped file adds missing products, keeps the admin's edits, and never revives a deleted one."""
    from app.platform import audit
    from app.services.health.feeds import vaccine_products
    from models.vaccines import VaccineProduct

    code = "ship" + tag()[1:]
    shipped = {"products": [{"code": code, "name": "出厂疫苗" + code, "primary_doses": 2, "primary_interval_days": 21,
                             "booster_doses": 1, "booster_interval_days": 90}]}
    path = tmp_path / "products.json"
    path.write_text(json.dumps(shipped, ensure_ascii=False), encoding="utf-8")
    with app.app_context():
        from app.platform.extensions import db

        assert vaccine_products.load_file(db.session, path) == 1
        row = db.session.execute(select(VaccineProduct).where(VaccineProduct.code == code)).scalar_one()
        row.primary_interval_days = 28
        db.session.commit()
        assert vaccine_products.load_file(db.session, path) == 0
        db.session.refresh(row)
        assert row.primary_interval_days == 28
        audit.record("delete", "VaccineProduct", row.id, before={"code": code})
        db.session.delete(row)
        db.session.commit()
        assert vaccine_products.load_file(db.session, path) == 0
        db.session.remove()


def test_cached_table_is_refreshed_by_a_product_edit(app, client, auth):
    """With the one-minute cache on, a new person appears only after the cache is reset by a product change."""
    from app.services.health.statistics import tables

    app.config["STATS_CACHE_SECONDS"] = 60
    _tid, town = make_town(app)
    enterprise = make_enterprise(app, f"{tag()}缓存", town=town)
    keyed_staff(app, enterprise)
    with app.app_context():
        tables.bump_generation()  # whatever earlier pages cached
    first = _row(_body(client, auth, "admin"), town)["staff"]
    assert first == 1
    keyed_staff(app, enterprise)
    assert _row(_body(client, auth, "admin"), town)["staff"] == first
    with app.app_context():
        tables.bump_generation()
    assert _row(_body(client, auth, "admin"), town)["staff"] == first + 1


def test_warm_job_precomputes_the_default_pages(app, client, auth):
    """The every-minute tables.warm job computes the shared counts; pages then show its 统计时间 and numbers."""
    from jobs.registry import JOBS

    app.config["STATS_CACHE_SECONDS"] = 120
    _tid, town = make_town(app)
    enterprise = make_enterprise(app, f"{tag()}预热", town=town)
    keyed_staff(app, enterprise)
    with app.app_context():
        result = JOBS["stats.warm"].func()
    assert result["tests_rows"] > 0 and result["vaccines_rows"] > 0
    body = client.get("/api/v1/stats/tests", headers=auth.token("admin")).json
    assert next(r for r in body["rows"] if r["town"] == town)["staff"] == 1
    keyed_staff(app, enterprise)  # not counted until the next run
    again = client.get("/api/v1/stats/tests", headers=auth.token("admin")).json
    assert again["computed_at"] == body["computed_at"]
    with app.app_context():
        JOBS["stats.warm"].func()
    assert next(r for r in _body(client, auth, "admin")["rows"] if r["town"] == town)["staff"] == 2


def test_admin_deletes_a_product_audited(app, client):
    """Deleting a product asks for a POST with the page's token, is audited with its values, and sticks."""
    from app.platform.extensions import db
    from app.services.health.feeds import vaccine_products

    login(client, "admin")
    code = "del" + tag()[1:]
    _post_product(client, "/vaccine_products/add", code=code, name="待删疫苗" + code)
    pk = _product_id(app, code)
    since = last_audit_id(app)
    assert client.get(f"/vaccine_products/delete?ids={pk}").status_code == 405 and _product_id(app, code)
    token = csrf_from(client.get(f"/vaccine_products/{pk}").data)
    client.post("/vaccine_products/delete", data={"csrf_token": token, "ids": str(pk)})
    assert _product_id(app, code) is None
    assert audits(app, "delete", "VaccineProduct", since)[-1]["before"]["code"] == code
    with app.app_context():
        assert code in vaccine_products._deleted_codes(db.session)
        db.session.remove()
