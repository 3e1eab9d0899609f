"""核酸检测统计 (SPEC §3, §9): numbers per town × category with a total row, period
boundaries in district-local days, scope, drill-downs that match their numbers, exports,
the API's shape and its Chinese 400s."""
from __future__ import annotations

import re

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import login
from tests.integration.factories import audits, last_audit_id, read_xlsx
from tests.integration.health.stats_factories import (
    add_daily, keyed_staff, make_bureau_type, make_bureau_user, make_enterprise, make_town, make_user, tag,
)

TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()
START, END = TODAY - timedelta(days=6), TODAY - timedelta(days=1)
A, B = "高风险人员", "管理人员"
COUNT_KEYS = ("staff", "untested", "tests", "tested", "coverage", "negative", "positive", "pending")


pytestmark = pytest.mark.usefixtures("no_cache")  # every computation sees the rows just written


@pytest.fixture(scope="module")
def dataset(app):
    """A town of its own: 6 high-risk staff, 3 managers, 1 without category, known tests."""
    town_id, town = make_town(app)
    e1 = make_enterprise(app, f"{tag()}口岸", town=town, type_code="port")
    e2 = make_enterprise(app, f"{tag()}货运", town=town, type_code="port")
    people = {}
    for name, enterprise, category in [("a1", e1, A), ("a2", e1, A), ("a3", e1, A), ("a4", e1, A), ("a5", e1, A),
                                       ("a6", e1, A), ("b1", e2, B), ("b2", e2, B), ("b3", e2, B),
                                       ("c1", e1, None)]:
        people[name] = keyed_staff(app, enterprise, category, name=f"{name}{tag()}")
    key = {n: k for n, (_i, k) in people.items()}
    add_daily(app, key["a1"], START, negative=1)
    add_daily(app, key["a1"], START + timedelta(days=1), negative=1)
    add_daily(app, key["a2"], END, negative=1, positive=1)
    add_daily(app, key["a3"], START + timedelta(days=2), pending=1)
    add_daily(app, key["a5"], START - timedelta(days=1), negative=1)  # the day before the period
    add_daily(app, key["a6"], END, negative=1)
    add_daily(app, key["a6"], END + timedelta(days=1), negative=2)  # the day after
    add_daily(app, key["b1"], START, negative=1)
    add_daily(app, key["b1"], START + timedelta(days=3), pending=1)
    add_daily(app, key["b2"], START + timedelta(days=1), pending=1)
    add_daily(app, key["b2"], START + timedelta(days=2), positive=1)
    add_daily(app, key["c1"], START + timedelta(days=4), negative=1)
    user = make_user(app, "u" + tag()[1:], "town", town=town)
    return {"town_id": town_id, "town": town, "people": people, "user": user, "e1": e1, "e2": e2}


def _stats(client, auth, username, **params):
    params = {"start": START.isoformat(), "end": END.isoformat(), **params}
    response = client.get("/api/v1/stats/tests", query_string=params, headers=auth.token(username))
    assert response.status_code == 200, response.data
    return response.json


def _row(body, town, category):
    rows = [r for r in body["rows"] if r["town"] == town and r["category"] == category]
    assert len(rows) == 1, body["rows"]
    return {k: rows[0][k] for k in COUNT_KEYS}


def test_numbers_per_town_and_category(client, auth, dataset):
    """Each town × category row counts staff, tests, people tested and their results over the period."""
    body = _stats(client, auth, "admin")
    assert _row(body, dataset["town"], A) == dict(staff=6, untested=2, tests=6, tested=4, coverage="66.67%",
                                                  negative=2, positive=1, pending=1)
    assert _row(body, dataset["town"], B) == dict(staff=3, untested=1, tests=4, tested=2, coverage="66.67%",
                                                  negative=0, positive=1, pending=1)
    assert _row(body, dataset["town"], None) == dict(staff=1, untested=0, tests=1, tested=1, coverage="100.00%",
                                                     negative=1, positive=0, pending=0)


def test_total_row_sums_the_rows_of_the_users_scope(client, auth, dataset):
    """A town user's total row is the sum of their town's rows, coverage recomputed."""
    body = _stats(client, auth, dataset["user"])
    assert {r["town"] for r in body["rows"]} == {dataset["town"]}
    assert {k: body["total"][k] for k in COUNT_KEYS} == dict(
        staff=10, untested=3, tests=11, tested=7, coverage="70.00%", negative=3, positive=2, pending=2)
    assert body["total"]["town"] == "合计" and body["total"]["category"] is None


def test_period_boundaries_are_district_days(client, auth, dataset):
    """A test on the day before or after the period does not count; the end day counts in full."""
    body = _stats(client, auth, dataset["user"], start=END.isoformat(), end=END.isoformat())
    assert _row(body, dataset["town"], A)["tested"] == 2  # a2 and a6 on the end day
    assert _row(body, dataset["town"], A)["tests"] == 3
    later = _stats(client, auth, dataset["user"], start=(END + timedelta(days=1)).isoformat(),
                   end=(END + timedelta(days=1)).isoformat())
    assert _row(later, dataset["town"], A)["tests"] == 2  # a6's two tests of the next day only
    earlier = _stats(client, auth, dataset["user"], start=(START - timedelta(days=1)).isoformat(),
                     end=(START - timedelta(days=1)).isoformat())
    assert _row(earlier, dataset["town"], A)["tested"] == 1  # a5


def test_default_period_is_the_last_seven_days(client, auth, dataset):
    """Without dates the statistics cover the last 7 local days, today included."""
    response = client.get("/api/v1/stats/tests", headers=auth.token(dataset["user"]))
    assert response.json["end"] == TODAY.isoformat()
    assert response.json["start"] == (TODAY - timedelta(days=6)).isoformat()


def test_same_person_in_two_enterprises_counts_per_staff_row(app, client, auth):
    """Someone registered in two enterprises is counted in both rows, with the same tests."""
    from tests.integration.factories import id_number

    _tid, town = make_town(app)
    e1 = make_enterprise(app, f"{tag()}甲", town=town)
    e2 = make_enterprise(app, f"{tag()}乙", town=town)
    number = id_number()
    _s1, key = keyed_staff(app, e1, A, number=number)
    keyed_staff(app, e2, B, number=number)
    add_daily(app, key, END, negative=1)
    body = _stats(client, auth, "admin")
    assert _row(body, town, A)["tested"] == 1 and _row(body, town, B)["tested"] == 1


def test_api_shape(client, auth, dataset):
    """The API answers the table as rows and a total, with its columns and 统计时间."""
    body = _stats(client, auth, dataset["user"])
    assert set(body) >= {"computed_at", "start", "end", "columns", "rows", "total"}
    assert [c["label"] for c in body["columns"]] == [
        "所属镇街", "人员类别", "人员数量", "未核酸检测人数", "核酸检测人次", "核酸检测人数", "覆盖率", "阴性人数",
        "阳性人数", "未出结果人数"]
    assert set(body["rows"][0]) >= {c["key"] for c in body["columns"]} | {"town_id"}
    datetime.fromisoformat(body["computed_at"])


@pytest.mark.parametrize("params, message", [
    ({"start": "2022-13-01"}, "开始日期格式不正确"),
    ({"end": "昨天"}, "结束日期格式不正确"),
    ({"start": "2022-06-07", "end": "2022-06-01"}, "结束日期不能早于开始日期"),
    ({"start": "2022-05-01", "end": "2022-06-30"}, "查询时间段不能超过14天"),
    ({"start": (TODAY - timedelta(days=20)).isoformat(), "end": (TODAY - timedelta(days=15)).isoformat()},
     "核酸检测数据只保留近14天"),
])
def test_bad_dates_get_a_chinese_400(client, auth, params, message):
    """Bad dates, an end before the start, too long a range or days no longer kept are refused clearly."""
    response = client.get("/api/v1/stats/tests", query_string=params, headers=auth.token("admin"))
    assert response.status_code == 400
    assert message in response.json["message"]


def test_api_needs_the_statistics_permission(client, auth):
    """Without a token 401; the feed account (no Statistics) gets 403; the task force may read."""
    assert client.get("/api/v1/stats/tests").status_code == 401
    assert client.get("/api/v1/stats/vaccines", headers=auth.token("feed")).status_code == 403
    assert client.get("/api/v1/stats/vaccines", headers=auth.token("taskforce")).status_code == 200


def test_town_user_sees_no_other_town(app, client, auth, dataset):
    """A town user's table lists only their town, and a drill-down into another town is a 404."""
    body = _stats(client, auth, "town_nansha")
    assert {r["town"] for r in body["rows"]} == {"南沙街"}
    assert dataset["town"] not in client.get("/api/v1/stats/vaccines", headers=auth.token("town_nansha")).get_data(
        as_text=True)
    login(client, "town_nansha")
    response = client.get("/stats/people", query_string={"kind": "tests", "measure": "staff",
                                                         "town_id": dataset["town_id"]})
    assert response.status_code == 404
    everyone = client.get("/stats/people", query_string={"kind": "tests", "measure": "staff", "size": 100,
                                                         "start": START.isoformat(), "end": END.isoformat()})
    page = everyone.get_data(as_text=True)
    assert everyone.status_code == 200
    assert not any(f'data-id="{sid}"' in page for sid, _key in dataset["people"].values())


def test_bureau_sees_only_its_types(app, client, auth):
    """A bureau user counts only the staff of the types it supervises, also in the drill-down."""
    _bcode, type_code, bureau_id = make_bureau_type(app)
    user = make_bureau_user(app, bureau_id)
    town_id, town = make_town(app)
    mine = make_enterprise(app, f"{tag()}本局", town=town, type_code=type_code)
    other = make_enterprise(app, f"{tag()}他局", town=town, type_code="port")
    m1, k1 = keyed_staff(app, mine, A)
    o1, k2 = keyed_staff(app, other, A)
    add_daily(app, k1, END, negative=1)
    add_daily(app, k2, END, positive=1)
    body = _stats(client, auth, user)
    assert _row(body, town, A) == dict(staff=1, untested=0, tests=1, tested=1, coverage="100.00%", negative=1,
                                       positive=0, pending=0)
    assert body["total"]["staff"] == 1
    login(client, user)
    page = client.get("/stats/people", query_string={"kind": "tests", "measure": "staff", "town_id": town_id,
                                                     "start": START.isoformat(), "end": END.isoformat()})
    html = page.get_data(as_text=True)
    assert f'data-id="{m1}"' in html and f'data-id="{o1}"' not in html


@pytest.mark.parametrize("measure, expected", [
    ("staff", {"a1", "a2", "a3", "a4", "a5", "a6"}), ("untested", {"a4", "a5"}),
    ("tested", {"a1", "a2", "a3", "a6"}), ("negative", {"a1", "a6"}), ("positive", {"a2"}), ("pending", {"a3"}),
])
def test_drill_down_lists_the_people_behind_the_number(app, client, dataset, measure, expected):
    """Clicking a number lists exactly those people, as a page and as an audited .xlsx download."""
    login(client, "admin")
    params = {"kind": "tests", "measure": measure, "town_id": dataset["town_id"], "category": A,
              "start": START.isoformat(), "end": END.isoformat(), "size": 100}
    html = client.get("/stats/people", query_string=params).get_data(as_text=True)
    shown = {n for n, (sid, _k) in dataset["people"].items() if f'data-id="{sid}"' in html}
    assert shown == expected
    assert f"共 {len(expected)} 条" in html
    since = last_audit_id(app)
    response = client.get("/stats/people/export", query_string=params)
    assert response.status_code == 200
    rows = read_xlsx(response.data)
    assert len(rows) - 1 == len(expected)
    assert {r[1][:2] for r in rows[1:]} == expected
    logged = audits(app, "export", "Staff", since)
    assert logged and logged[-1]["rows"] == len(expected) and measure in logged[-1]["detail"]


def test_table_page_links_every_number(client, dataset):
    """The page shows the table with total row, 统计时间, a chart served by the app, and links on the numbers."""
    login(client, dataset["user"])
    response = client.get("/stats/tests", query_string={"start": START.isoformat(), "end": END.isoformat()})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "统计时间" in html and 'id="stats-total"' in html and "合计" in html
    echarts = re.search(r'src="(/assets/[^"]+/vendor/echarts/echarts\.min\.js)"', html)  # hashed (app/platform/assets.py)
    assert echarts, "no ECharts script on the page"
    assert html.count("/stats/people?") >= 3 * 7
    assert client.get(echarts.group(1)).status_code == 200


def test_bad_dates_on_the_page_fall_back_with_a_message(client, dataset):
    """A bad period on the page says what is wrong and shows the last 7 days instead."""
    login(client, dataset["user"])
    html = client.get("/stats/tests?start=2022-06-07&end=2022-06-01").get_data(as_text=True)
    assert "结束日期不能早于开始日期" in html and TODAY.isoformat() in html


def test_table_export(app, client, dataset):
    """导出 gives the table, its total row, the period and 统计时间 as .xlsx, audited."""
    login(client, dataset["user"])
    since = last_audit_id(app)
    response = client.get("/stats/tests/export", query_string={"start": START.isoformat(), "end": END.isoformat()})
    assert response.status_code == 200
    rows = read_xlsx(response.data)
    assert rows[0][:3] == ["所属镇街", "人员类别", "人员数量"]
    total = next(r for r in rows if r[0] == "合计")
    assert total[2:10] == [10, 3, 11, 7, "70.00%", 3, 2, 2]
    assert any(r and r[0] == "统计时间" for r in rows)
    assert any(r and r[0] == "查询时间段" for r in rows)
    assert audits(app, "export", "Statistics", since)


def test_menu_and_pages_by_role(app):
    """The task force finds 统计分析 in its menu and opens both pages; the checkpoint account may not."""
    client = app.test_client()
    login(client, "taskforce")
    assert client.get("/stats/tests").status_code == 200
    assert client.get("/stats/vaccines").status_code == 200
    assert "统计分析" in client.get("/stats/tests").get_data(as_text=True)
    other = app.test_client()
    login(other, "checkpoint")
    assert other.get("/stats/tests").status_code != 200
