"""告警设置: the admin (or a bureau, for its types) sets a rule and recipients; bad input
gets a clear Chinese message and saves nothing; every change is audited."""
from __future__ import annotations

from models.rules import AlertSetting
from tests.integration import factories as F
from tests.integration.alerts.helpers import make_setting, make_type

RULES = "一天一检、两天一检、三天一检、三天两检、七天一检、七天两检、七天三检、十四天一检"


def test_admin_sets_a_rule_by_name_or_code_with_every_kind_of_recipient(app, client, auth):
    """The rule is taken by its name or its code; recipients are users, phones and webhooks."""
    admin = auth.token("admin")
    code = make_type(app)
    answer = make_setting(client, admin, code, "三天两检", recipients=[
        {"user_id": F.in_db(app, lambda s: s.execute(
            __import__("sqlalchemy").text("SELECT id FROM ab_user WHERE username='town_nansha'")).scalar())},
        {"phone": "138 0013 8000"}, {"webhook": "https://robot.example.gov.cn/send?key=1"}])
    assert answer.status_code == 201, answer.json
    result = answer.json["result"]
    assert result["rule"] == "三天两检" and result["rule_code"] == "3d2"
    assert result["check_time"] == "01:00" and result["alert_time"] == "09:00"
    assert {"phone": "13800138000"} in result["recipients"]
    again = client.put(f"/api/v1/alert_settings/{answer.json['id']}", json={"rule": "7d3", "alert_time": "8:30"},
                       headers=admin)
    assert again.status_code == 200 and again.json["result"]["rule"] == "七天三检"
    assert again.json["result"]["alert_time"] == "08:30"
    updates = F.audits(app, "update", "AlertSetting")
    assert updates[-1]["before"]["rule"] == "3d2" and updates[-1]["after"]["rule"] == "7d3"


def test_bad_input_is_refused_with_a_clear_message_and_nothing_saved(app, client, auth):
    """A rule outside the eight names them; a bad phone or webhook is named; nothing saved."""
    admin = auth.token("admin")
    code = make_type(app)
    before = F.count(app, AlertSetting)
    bad_rule = make_setting(client, admin, code, "五天一检")
    assert bad_rule.status_code == 400 and RULES in bad_rule.json["message"]
    bad_phone = make_setting(client, admin, code, recipients=[{"phone": "12345"}])
    assert bad_phone.status_code == 400 and "手机号码" in bad_phone.json["message"]
    bad_hook = make_setting(client, admin, code, recipients=[{"webhook": "ftp://robot.example/x"}])
    assert bad_hook.status_code == 400 and "http" in bad_hook.json["message"]
    bad_time = make_setting(client, admin, code, alert_time="25:00")
    assert bad_time.status_code == 400 and "推送时间" in bad_time.json["message"]
    bad_category = make_setting(client, admin, code, category="不存在的类别")
    assert bad_category.status_code == 400 and "人员类别" in bad_category.json["message"]
    assert F.count(app, AlertSetting) == before
    assert make_setting(client, admin, code).status_code == 201
    assert make_setting(client, admin, code).status_code == 409  # one setting per type and category
    assert make_setting(client, admin, code, category="管理人员").status_code == 201


def test_a_bureau_edits_only_its_types_and_names_only_users_in_its_reach(app, client, auth):
    """Another bureau's type and a user outside the bureau are 404; its own type works."""
    bureau = auth.token("bureau_port")
    other = make_type(app, bureau="transport")
    own = make_type(app, bureau="port")
    before = F.count(app, AlertSetting)
    assert make_setting(client, bureau, other).status_code == 404
    town_user = F.in_db(app, lambda s: s.execute(
        __import__("sqlalchemy").text("SELECT id FROM ab_user WHERE username='town_nansha'")).scalar())
    assert make_setting(client, bureau, own, recipients=[{"user_id": town_user}]).status_code == 404
    assert make_setting(client, bureau, own, recipients=[{"user_id": 987654}]).status_code == 404
    assert F.count(app, AlertSetting) == before
    mine = make_setting(client, bureau, own, recipients=["bureau_port", "13800138001"])
    assert mine.status_code == 201, mine.json
    listed = client.get("/api/v1/alert_settings/?page_size=100", headers=bureau).json
    assert mine.json["id"] in listed["ids"]
    assert all(r["enterprise_type"] != other for r in listed["result"])


def test_the_pages_take_recipients_one_per_line_and_show_them_back(app, client, auth):
    """The form: a user name, a phone and a robot URL one per line; the edit page shows them and saves unchanged."""
    from tests.conftest import csrf_from

    code = make_type(app)
    auth.login("admin")
    form = client.get("/alert_settings/add")
    assert form.status_code == 200 and "核酸检测规则" in form.get_data(as_text=True)
    posted = client.post("/alert_settings/add", data={
        "csrf_token": csrf_from(form.data), "enterprise_type": code, "rule": "三天两检", "category": "",
        "recipients": "town_nansha\n13800138000\nhttps://robot.example.gov.cn/x", "check_time": "01:00",
        "alert_time": "09:00", "active": "y"})
    assert posted.status_code == 302, posted.get_data(as_text=True)[:2000]
    pk = int(posted.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    edit = client.get(f"/alert_settings/{pk}/edit")
    page = edit.get_data(as_text=True)
    assert "13800138000" in page and "robot.example.gov.cn" in page
    import html
    import re

    shown = html.unescape(re.search(r'name="recipients"[^>]*>([^<]*)</textarea>', page).group(1))
    again = client.post(f"/alert_settings/{pk}/edit", data={
        "csrf_token": csrf_from(edit.data), "enterprise_type": code, "rule": "三天两检", "category": "",
        "recipients": shown, "check_time": "01:00", "alert_time": "09:00", "active": "y"})
    assert again.status_code == 302
    detail = client.get(f"/api/v1/alert_settings/{pk}", headers=auth.token("admin")).json["result"]
    assert len(detail["recipients"]) == 3 and {"phone": "13800138000"} in detail["recipients"]
    assert client.get("/alert_settings/").status_code == 200


def _user_id(app, username: str) -> int:
    from sqlalchemy import text

    return F.in_db(app, lambda s: s.execute(text("SELECT id FROM ab_user WHERE username=:u"), {"u": username}).scalar())


def test_a_bureau_edits_the_rule_of_a_setting_whose_recipients_the_admin_chose(app, client, auth):
    """The admin names a town's user on a bureau's setting; the bureau still changes the rule
    and the times (and saves the recipients unchanged), but cannot add another such user."""
    admin, bureau = auth.token("admin"), auth.token("bureau_port")
    code = make_type(app)
    created = make_setting(client, admin, code, recipients=[{"user_id": _user_id(app, "town_nansha")}])
    assert created.status_code == 201, created.json
    pk = created.json["id"]
    edited = client.put(f"/api/v1/alert_settings/{pk}", json={"rule": "七天两检", "check_time": "02:00"},
                        headers=bureau)
    assert edited.status_code == 200, edited.json
    assert edited.json["result"]["rule"] == "七天两检" and edited.json["result"]["check_time"] == "02:00"
    same = client.put(f"/api/v1/alert_settings/{pk}", json={"recipients": created.json["result"]["recipients"]},
                      headers=bureau)
    assert same.status_code == 200, same.json
    more = client.put(f"/api/v1/alert_settings/{pk}", json={"recipients": [
        {"user_id": _user_id(app, "town_nansha")}, {"user_id": _user_id(app, "town_huangge")}]}, headers=bureau)
    assert more.status_code == 404
    stored = client.get(f"/api/v1/alert_settings/{pk}", headers=admin).json["result"]
    assert stored["recipients"] == [{"user_id": _user_id(app, "town_nansha")}]


def test_a_recipient_deactivated_later_does_not_lock_the_setting(app, client, auth):
    """A user named as a recipient is deactivated; the admin still edits the setting's rule."""
    from models.users import SentinelUser

    admin = auth.token("admin")
    code = make_type(app)
    name = F.make_user(app, "rcpt" + F.tag()[1:], "town", town="南沙街")
    created = make_setting(client, admin, code, recipients=[{"user_id": _user_id(app, name)}])
    assert created.status_code == 201, created.json

    def deactivate(session):
        session.get(SentinelUser, _user_id(app, name)).active = False
        session.commit()

    F.in_db(app, deactivate)
    edited = client.put(f"/api/v1/alert_settings/{created.json['id']}", json={"rule": "一天一检"}, headers=admin)
    assert edited.status_code == 200, edited.json


def test_the_form_names_a_user_it_cannot_add_and_keeps_what_was_typed(app, client, auth):
    """On the page, an unknown user name or one outside the bureau's reach keeps the form
    with a message naming it (400), not a 404 page; nothing is saved."""
    from tests.conftest import csrf_from

    code = make_type(app)
    before = F.count(app, AlertSetting)
    auth.login("bureau_port")
    for typed in ("no_such_user_x", "town_nansha"):
        form = client.get("/alert_settings/add")
        posted = client.post("/alert_settings/add", data={
            "csrf_token": csrf_from(form.data), "enterprise_type": code, "rule": "三天两检", "category": "",
            "recipients": f"13800138000\n{typed}", "check_time": "01:00", "alert_time": "09:00", "active": "y"})
        page = posted.get_data(as_text=True)
        assert posted.status_code == 400, page[:500]
        assert "推送人员中有不存在或不可推送的平台用户名" in page and typed in page
        assert "13800138000" in page  # what was typed is still there
    answer = client.post("/api/v1/alert_settings/", json={"enterprise_type": code, "rule": "三天两检",
                                                          "recipients": ["no_such_user_x"]},
                         headers=auth.token("bureau_port"))
    assert answer.status_code == 400 and "no_such_user_x" in answer.json["message"]
    assert F.count(app, AlertSetting) == before


def test_the_pages_show_recipients_by_name_not_by_stored_id(app, client, auth):
    """The detail and the edit form show a user recipient's user name, a phone and a URL,
    never ``{'user_id': 3}``; the API still answers the stored list."""
    import html

    code = make_type(app)
    admin = auth.token("admin")
    created = make_setting(client, admin, code, recipients=[
        {"user_id": _user_id(app, "town_nansha")}, {"phone": "13800138000"}, {"webhook": "https://robot.example.gov.cn/x"}])
    assert created.status_code == 201, created.json
    pk = created.json["id"]
    auth.login("admin")
    for url in (f"/alert_settings/{pk}", f"/alert_settings/{pk}/edit"):
        page = html.unescape(client.get(url).get_data(as_text=True))
        assert "town_nansha" in page and "13800138000" in page and "robot.example.gov.cn" in page, url
        assert "user_id" not in page, url
    answer = client.get(f"/api/v1/alert_settings/{pk}", headers=admin).json["result"]
    assert {"user_id": _user_id(app, "town_nansha")} in answer["recipients"]


def test_the_form_offers_a_bureau_only_the_types_it_supervises(app, client, auth):
    """A bureau's 新增告警设置 lists its own types in 主体类型, not another bureau's (which
    would only end on a 404 page); the district admin's lists both."""
    import re

    own, other = make_type(app, bureau="port"), make_type(app, bureau="transport")

    from tests.conftest import logout

    def offered(username):
        logout(client)
        auth.login(username)
        page = client.get("/alert_settings/add").get_data(as_text=True)
        select = re.search(r'<select[^>]*name="enterprise_type".*?</select>', page, re.S).group(0)
        return set(re.findall(r'value="([^"]*)"', select))

    assert own in offered("bureau_port") and other not in offered("bureau_port")
    assert {own, other} <= offered("admin")
