"""未按规定检测: the day's list in the caller's scope (API, page, export), a person's
compliance on their health answer and page, the counts on the home pages."""
from __future__ import annotations

from datetime import timedelta

from app.platform.clock import local_today
from tests.integration import factories as F
from tests.integration.alerts.helpers import at_local, make_setting, make_type, registered
from tests.integration.alerts.test_evaluate import run_check
from tests.integration.health.health_factories import add_tests


def _world(app, client, auth):
    """A type with 一天一检; a compliant and a broken person in 南沙街, a broken one in 黄阁镇."""
    code = make_type(app, bureau="port")
    assert make_setting(client, auth.token("admin"), code, "一天一检").status_code == 201
    today = F.in_db(app, lambda _s: local_today())
    here = F.make_enterprise(app, F.tag() + "南沙企业", town="南沙街", type_code=code)
    there = F.make_enterprise(app, F.tag() + "黄阁企业", town="黄阁镇", type_code=code)
    good = F.make_staff(app, here, "守规", category="高风险人员")
    bad_here = F.make_staff(app, here, "漏检甲", category="高风险人员")
    bad_there = F.make_staff(app, there, "漏检乙", category="管理人员")
    for sid in (good, bad_here, bad_there):
        registered(app, sid, today - timedelta(days=10))
    add_tests(app, good, at_local(today - timedelta(days=1), 9))
    add_tests(app, bad_here, at_local(today - timedelta(days=3), 9))
    run_check(app, today)
    return code, today, good, bad_here, bad_there


def test_the_list_is_scoped_and_a_past_day_reads_as_it_was(app, client, auth):
    """The town sees its own town's broken people only; the admin both; a day without a check is empty."""
    code, today, good, bad_here, bad_there = _world(app, client, auth)
    admin = client.get(f"/api/v1/compliance/?enterprise_type={code}", headers=auth.token("admin")).json
    assert {r["staff_id"] for r in admin["result"]} == {bad_here, bad_there} and admin["count"] == 2
    row = next(r for r in admin["result"] if r["staff_id"] == bad_here)
    assert row["rule"] == "一天一检" and row["samplings"] == 0 and row["last_tested_at"]
    town = client.get(f"/api/v1/compliance/?enterprise_type={code}", headers=auth.token("town_nansha")).json
    assert [r["staff_id"] for r in town["result"]] == [bad_here]
    # a list masks phones for everyone; the export shows them in full to the roles that may see them
    listed = town["result"][0]
    assert "****" in listed["phone"] and "****" in listed["head_phone"]
    other = client.get(f"/api/v1/compliance/?enterprise_type={code}", headers=auth.token("bureau_transport")).json
    assert other["count"] == 0
    earlier = (today - timedelta(days=40)).isoformat()
    assert client.get(f"/api/v1/compliance/?date={earlier}&enterprise_type={code}",
                      headers=auth.token("admin")).json["count"] == 0
    bad = client.get("/api/v1/compliance/?date=2022-13-40", headers=auth.token("admin"))
    assert bad.status_code == 400 and "日期" in bad.json["message"]
    sheet = F.read_xlsx(client.get(f"/api/v1/compliance/export?enterprise_type={code}",
                                   headers=auth.token("town_nansha")).data)
    assert sheet[0][:6] == ["企业名称", "姓名", "手机号码", "负责人姓名", "负责人电话", "最近一次核酸检测时间"]
    assert [r[1] for r in sheet[1:]] == ["漏检甲"]
    assert "****" not in sheet[1][2] and sheet[1][2][:3] == listed["phone"][:3]  # full for a town (PersonalData)


def test_the_person_shows_their_compliance(app, client, auth):
    """GET /staff/<id>/health carries compliance; the detail page shows it; null without a rule."""
    code, today, good, bad_here, _bad_there = _world(app, client, auth)
    admin = auth.token("admin")
    health = client.get(f"/api/v1/staff/{bad_here}/health", headers=admin).json["result"]
    assert health["compliance"] == {"rule": "一天一检", "compliant": False, "samplings": 0,
                                    "evaluated_on": today.isoformat()}
    assert client.get(f"/api/v1/staff/{good}/health", headers=admin).json["result"]["compliance"]["compliant"] is True
    enterprise = F.make_enterprise(app, F.tag() + "无规则企业", type_code=make_type(app))
    nobody = F.make_staff(app, enterprise, "无规则")
    assert client.get(f"/api/v1/staff/{nobody}/health", headers=admin).json["result"]["compliance"] is None
    auth.login("town_nansha")
    page = client.get(f"/staff/{bad_here}").get_data(as_text=True)
    assert 'id="health-compliance"' in page and "未按规定检测" in page
    listing = client.get(f"/compliance/?enterprise_type={code}").get_data(as_text=True)
    assert "漏检甲" in listing and "漏检乙" not in listing and "守规" not in listing
    home = client.get("/enterprises/").get_data(as_text=True)
    assert 'id="noncompliant-count"' in home


def test_a_heads_count_links_to_the_same_people(app, client, auth):
    """A head of two enterprises: the phone home's 未按规定检测 count is the chosen
    enterprise's, and its link lists those people only (not the other enterprise's)."""
    import html
    import re

    from app.security import roles as R
    from tests.conftest import csrf_from, login

    code = make_type(app, bureau="port")
    assert make_setting(client, auth.token("admin"), code, "一天一检").status_code == 201
    today = F.in_db(app, lambda _s: local_today())
    phone = F.phone()
    first = F.make_enterprise(app, F.tag() + "甲企业", type_code=code, head_phone=phone)
    second = F.make_enterprise(app, F.tag() + "乙企业", type_code=code, head_phone=phone)
    people = [F.make_staff(app, first, "甲漏检"), F.make_staff(app, second, "乙漏检一"),
              F.make_staff(app, second, "乙漏检二")]
    for sid in people:
        registered(app, sid, today - timedelta(days=10))
    run_check(app, today)
    username = F.make_user(app, f"head_{phone}", R.ENTERPRISE_HEAD, phone_number=phone)
    head = app.test_client()
    assert login(head, username).status_code == 302
    head.post("/head/select", data={"enterprise_id": first, "csrf_token": csrf_from(head.get("/head/select").data)})
    home = html.unescape(head.get("/head/").get_data(as_text=True))
    link = re.search(r'id="noncompliant-count" data-count="(\d+)" href="([^"]+)"', home)
    assert link and link.group(1) == "1", home[-3000:]
    listing = html.unescape(head.get(link.group(2)).get_data(as_text=True))
    assert "甲漏检" in listing and "乙漏检" not in listing
    assert "共 1 条" in listing
    town = auth.token("town_huangge")
    assert client.get(f"/api/v1/compliance/?enterprise_id={first}", headers=town).json["count"] == 0
    assert client.get(f"/api/v1/compliance/?enterprise_id={second}", headers=auth.token("admin")).json["count"] == 2
    assert client.get("/api/v1/compliance/?enterprise_id=abc", headers=town).status_code == 400


def test_a_setting_deleted_or_switched_off_reports_nobody_today(app, client, auth):
    """Today's list no longer names people under a setting the admin deleted or switched
    off (as the summary does not); a past day's list reads as it was."""
    admin = auth.token("admin")
    today = F.in_db(app, lambda _s: local_today())
    for action in ("delete", "off"):
        code = make_type(app, bureau="port")
        created = make_setting(client, admin, code, "一天一检")
        assert created.status_code == 201
        person = F.make_staff(app, F.make_enterprise(app, F.tag() + "企业", type_code=code), "漏检")
        registered(app, person, today - timedelta(days=10))
        run_check(app, today - timedelta(days=1))
        run_check(app, today)
        listed = lambda day: client.get(f"/api/v1/compliance/?enterprise_type={code}&date={day.isoformat()}",  # noqa: E731
                                        headers=admin).json["count"]
        assert listed(today) == 1 and listed(today - timedelta(days=1)) == 1
        pk = created.json["id"]
        if action == "delete":
            assert client.delete(f"/api/v1/alert_settings/{pk}", headers=admin).status_code == 200
        else:
            assert client.put(f"/api/v1/alert_settings/{pk}", json={"active": False}, headers=admin).status_code == 200
        assert listed(today) == 0, action
        assert listed(today - timedelta(days=1)) == 1, action
