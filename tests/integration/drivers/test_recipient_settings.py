"""告警设置 of the checkpoint as a declared resource (seed 002 §2.7, issue 15): the
transport bureau sets the recipients of each of the 3街6镇, of the bureau and of the task
force's summary, on the pages and through ``/api/v1/checkpoint_recipients/``; every
change is audited with before/after; bad values change nothing; other bureaus and towns
see no row; a town's saved recipients are told of the next decision."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.security import roles as R
from tests.conftest import csrf_from, login, logout
from tests.integration import factories as F
from tests.integration.drivers import helpers as H

API = "/api/v1/checkpoint_recipients"
PAGE = "/checkpoint_recipients"
TOWN = "珠江街"  # a town no other test configures
NOTIFIED_TOWN = "横沥镇"


def row_of(app, town=None, scope="town") -> int:
    from app.services.drivers.recipients import ensure_rows
    from models.drivers import CheckpointRecipients

    town_id = H.town_id(app, town) if town else None

    def find(session):
        ensure_rows(session)
        stmt = select(CheckpointRecipients.id).where(CheckpointRecipients.scope == scope)
        stmt = stmt.where(CheckpointRecipients.town_id == town_id) if town_id else \
            stmt.where(CheckpointRecipients.town_id.is_(None))
        return session.execute(stmt.order_by(CheckpointRecipients.id)).scalars().first()

    return F.in_db(app, find)


def stored(app, pk: int) -> tuple:
    from models.drivers import CheckpointRecipients

    return F.in_db(app, lambda s: (lambda r: (r.recipients, r.active))(s.get(CheckpointRecipients, pk)))


def audits(app, pk: int) -> list:
    from models.audit import AuditLog

    return F.in_db(app, lambda s: [(a.action, a.username, a.before, a.after) for a in s.execute(
        select(AuditLog).where(AuditLog.entity == "CheckpointRecipients", AuditLog.entity_id == str(pk))
        .order_by(AuditLog.id)).scalars()])


def user_id(app, username: str) -> int:
    from models.users import SentinelUser

    return F.in_db(app, lambda s: s.execute(select(SentinelUser.id).where(SentinelUser.username == username))
                   .scalar_one())


@pytest.fixture(scope="module")
def town_user(app):
    """A town user of 珠江街: whom the bureau may name for that town's row only."""
    name = "zj_" + F.tag()[1:]
    F.make_user(app, name, R.TOWN, town=TOWN)
    return name


@pytest.fixture
def clean_row(app):
    """The 珠江街 row, emptied before and after the test."""
    from app.services.drivers.recipients import set_recipients

    pk = row_of(app, TOWN)

    def empty():
        with app.test_request_context():
            set_recipients("town", [], H.town_id(app, TOWN))
            from app.platform.extensions import db
            db.session.remove()

    empty()
    yield pk
    empty()


def test_the_bureau_edits_a_towns_recipients_on_the_page(app, client, town_user, clean_row):
    """预约和通行记录's 【告警设置】 opens the list (every town, the bureau, the task force; no
    add, no delete); the form takes one recipient a line; the change is audited."""
    login(client, "bureau_transport")
    records = client.get("/booking_records/").get_data(as_text=True)
    assert 'id="btn-recipients"' in records and f'href="{PAGE}/"' in records
    listing = client.get(f"{PAGE}/").get_data(as_text=True)
    for label in (TOWN, "黄阁镇", "区住房和城乡建设局（区交通运输局）", "专班（每日汇总）"):
        assert label in listing
    assert 'id="btn-add"' not in listing and "删除选中" not in listing
    form = client.get(f"{PAGE}/{clean_row}/edit")
    assert form.status_code == 200 and 'name="recipients"' in form.get_data(as_text=True)
    # "hook" before the random part: a bare "d6505598" reads as a passport number, masked in audit rows
    robot = "https://robot.example.invalid/hook" + F.tag()[1:]
    saved = client.post(f"{PAGE}/{clean_row}/edit", data={
        "csrf_token": csrf_from(form.data), "recipients": f"{town_user}\n13800001111\n{robot}\nbureau_transport",
        "active": "on"}, follow_redirects=True)
    page = saved.get_data(as_text=True)
    assert saved.status_code == 200 and "已保存" in page and town_user in page and "13800001111" in page
    expected = [{"user_id": user_id(app, town_user)}, {"phone": "13800001111"}, {"webhook": robot},
                {"user_id": user_id(app, "bureau_transport")}]
    assert stored(app, clean_row) == (expected, True)
    # the form shows the stored recipients again, one a line
    again = client.get(f"{PAGE}/{clean_row}/edit").get_data(as_text=True)
    assert f"{town_user}\n13800001111\n{robot}\nbureau_transport" in again
    action, username, before, after = audits(app, clean_row)[-1]
    assert (action, username) == ("update", "bureau_transport")
    assert before["recipients"] == [] and after["town_id"] == H.town_id(app, TOWN)
    assert after["recipients"] == [expected[0], {"phone": "138****1111"}, *expected[2:]]  # audit rows mask phones
    # the list shows the lines, and the export has them
    assert "13800001111" in client.get(f"{PAGE}/?q={TOWN}").get_data(as_text=True)
    sheet = F.read_xlsx(client.get(f"{PAGE}/export?q={TOWN}").data)
    assert any(TOWN in str(c) for row in sheet for c in row) and any("13800001111" in str(c) for row in sheet for c in row)
    logout(client)


def test_the_bureau_edits_through_the_api(app, auth, town_user, clean_row):
    """GET lists the fixed rows; PUT changes one (audited before/after); no POST, no DELETE."""
    api = F.client_at(app)
    headers = auth.token("bureau_transport")
    listed = api.get(f"{API}/?page_size=100", headers=headers).json
    assert clean_row in listed["ids"] and listed["count"] == len(listed["ids"])
    assert {r["target"] for r in listed["result"]} >= {TOWN, "区住房和城乡建设局（区交通运输局）", "专班（每日汇总）"}
    changed = api.put(f"{API}/{clean_row}", headers=headers,
                      json={"recipients": [{"phone": "13800002222"}, town_user], "active": False})
    assert changed.status_code == 200, changed.json
    result = changed.json["result"]
    assert result["recipients"] == [{"phone": "13800002222"}, {"user_id": user_id(app, town_user)}]
    assert result["recipient_lines"] == ["13800002222", town_user] and result["active"] is False
    assert api.get(f"{API}/{clean_row}", headers=headers).json["result"]["target"] == TOWN
    action, username, before, after = audits(app, clean_row)[-1]
    assert (action, username) == ("update", "bureau_transport")
    assert before == {"scope": "town", "town_id": H.town_id(app, TOWN), "recipients": [], "active": True}
    assert after["active"] is False and after["recipients"] == [{"phone": "138****2222"}, result["recipients"][1]]
    assert api.post(f"{API}/", headers=headers, json={"scope": "town"}).status_code == 405
    assert api.delete(f"{API}/{clean_row}", headers=headers).status_code == 405
    assert stored(app, clean_row)[0] == result["recipients"]
    # the OpenAPI document describes the resource
    paths = api.get("/api/v1/_openapi", headers=auth.token("admin")).json["paths"]
    assert {"get", "put"} <= set(paths[f"{API}/{{pk}}"]) and "get" in paths[f"{API}/"]
    assert "post" not in paths[f"{API}/"] and f"{API}/export" in paths


@pytest.mark.parametrize("bad, reason", [
    ("1234", "不是有效的手机号码"),
    ("ftp://robot.example.invalid/x", "http"),
    ([{"phone": "12345678"}], "不是有效的手机号码"),
    ([{"webhook": "javascript:alert(1)"}], "http"),
])
def test_bad_phones_and_urls_are_400_and_change_nothing(app, auth, client, clean_row, bad, reason):
    api = F.client_at(app)
    api.put(f"{API}/{clean_row}", headers=auth.token("admin"), json={"recipients": ["13800003333"]})
    before = stored(app, clean_row)
    answer = api.put(f"{API}/{clean_row}", headers=auth.token("bureau_transport"), json={"recipients": bad})
    assert answer.status_code == 400 and reason in answer.json["message"], answer.json
    if isinstance(bad, str):  # the page's form: the reason beside the field, nothing saved
        login(client, "bureau_transport")
        form = client.get(f"{PAGE}/{clean_row}/edit")
        refused = client.post(f"{PAGE}/{clean_row}/edit", data={"csrf_token": csrf_from(form.data),
                                                                 "recipients": bad, "active": "on"})
        assert refused.status_code == 400 and reason in refused.get_data(as_text=True)
        logout(client)
    assert stored(app, clean_row) == before


def test_an_unknown_user_or_one_out_of_reach_is_400_naming_it_and_changes_nothing(app, auth, client, town_user,
                                                                                clean_row):
    """Another town's user (town_nansha on 珠江街's row), a user of another bureau, a
    name or id that does not exist: 400 alike, the refused one named (no telling them
    apart), nothing saved; the town's own user on another town's row neither."""
    api = F.client_at(app)
    headers = auth.token("bureau_transport")
    before = stored(app, clean_row)
    unknown = "nosuch_" + F.tag()[1:]
    for recipients, named in ((["town_nansha"], "town_nansha"), (["bureau_port"], "bureau_port"),
                              ([unknown], unknown), ([{"user_id": 987654321}], "987654321")):
        answer = api.put(f"{API}/{clean_row}", headers=headers, json={"recipients": recipients})
        assert answer.status_code == 400, (recipients, answer.json)
        assert answer.json["errors"]["recipients"] == f"推送人员中有不存在或不可推送的平台用户名：{named}"
    assert api.put(f"{API}/{row_of(app, '黄阁镇')}", headers=headers, json={"recipients": [town_user]}).status_code == 400
    login(client, "bureau_transport")
    form = client.get(f"{PAGE}/{clean_row}/edit")
    refused = client.post(f"{PAGE}/{clean_row}/edit", data={"csrf_token": csrf_from(form.data),
                                                             "recipients": "town_nansha", "active": "on"})
    assert refused.status_code == 400
    assert "推送人员中有不存在或不可推送的平台用户名：town_nansha" in refused.get_data(as_text=True)
    logout(client)
    assert stored(app, clean_row) == before
    # the district admin may name anyone
    assert api.put(f"{API}/{clean_row}", headers=auth.token("admin"),
                   json={"recipients": ["town_nansha"]}).status_code == 200


def test_another_bureau_a_town_and_a_head_see_no_row(app, auth, client, clean_row):
    """The port bureau holds the permission but no row: the list is empty, every row 404
    (pages, API, the old API); a town user and the task force are refused the resource."""
    api = F.client_at(app)
    port = auth.token("bureau_port")
    listed = api.get(f"{API}/", headers=port).json
    assert listed["count"] == 0 and listed["ids"] == []
    assert api.get(f"{API}/{clean_row}", headers=port).status_code == 404
    assert api.put(f"{API}/{clean_row}", headers=port, json={"recipients": []}).status_code == 404
    assert api.get("/api/v1/checkpoint/recipients/", headers=port).status_code == 404
    for username in ("town_nansha", "taskforce"):
        token = auth.token(username)
        assert api.get(f"{API}/", headers=token).status_code == 403
        assert api.put(f"{API}/{clean_row}", headers=token, json={"recipients": []}).status_code == 403
    login(client, "bureau_port")
    records = client.get("/booking_records/").get_data(as_text=True)  # no button, no menu entry
    assert 'id="btn-recipients"' not in records and f'href="{PAGE}/"' not in records
    assert client.get(f"{PAGE}/{clean_row}").status_code == 404
    assert client.get(f"{PAGE}/{clean_row}/edit").status_code == 404
    assert TOWN not in client.get(f"{PAGE}/").get_data(as_text=True)
    logout(client)
    login(client, "town_nansha")
    assert client.get(f"{PAGE}/").status_code in (302, 403)
    assert client.get(f"{PAGE}/{clean_row}").status_code in (302, 403)
    logout(client)
    assert stored(app, clean_row) == ([], True)


def test_a_town_recipient_saved_through_the_api_is_told_of_the_decision(app, auth):
    """横沥镇's recipients (a user of the town and a phone), saved by the bureau, receive
    the decision on a driver bound for 横沥镇; an inactive row is told nothing."""
    name = "hl_" + F.tag()[1:]
    F.make_user(app, name, R.TOWN, town=NOTIFIED_TOWN)
    phone = F.phone()
    pk = row_of(app, NOTIFIED_TOWN)
    api = F.client_at(app)
    headers = auth.token("bureau_transport")
    try:
        assert api.put(f"{API}/{pk}", headers=headers, json={"recipients": f"{name}\n{phone}"}).status_code == 200
        sent = decide(app, auth, H.booked(app, destination_town=NOTIFIED_TOWN))
        assert {("inbox", f"user:{user_id(app, name)}"), ("sms", phone)} <= {(k, r) for k, r, _b in sent}
        assert api.put(f"{API}/{pk}", headers=headers, json={"active": False}).status_code == 200
        quiet = decide(app, auth, H.booked(app, destination_town=NOTIFIED_TOWN))
        assert not {phone, f"user:{user_id(app, name)}"} & {r for _k, r, _b in quiet}
    finally:
        api.put(f"{API}/{pk}", headers=auth.token("admin"), json={"recipients": [], "active": True})


def decide(app, auth, booking) -> list[tuple[str, str, str]]:
    from models.drivers import Pass

    answer = F.client_at(app).post("/api/v1/checkpoint/decide", headers=auth.token("checkpoint"),
                                   json={"code": booking["code"], "allow": True})
    assert answer.status_code == 200, answer.json
    pass_id = F.in_db(app, lambda s: s.execute(select(Pass.id).where(Pass.booking_id == booking["id"])).scalar_one())
    return H.messages(app, f"checkpoint:decision:{pass_id}:")


def test_the_old_page_address_is_the_new_list(app, client):
    """Bookmarks of /checkpoint_recipients/ keep working; the old form's POST is gone."""
    login(client, "bureau_transport")
    page = client.get(f"{PAGE}/")
    assert page.status_code == 200 and 'data-resource="checkpoint_recipients"' in page.get_data(as_text=True)
    assert client.post(f"{PAGE}/save", data={"csrf_token": csrf_from(page.data)}).status_code in (404, 405)
    logout(client)


def test_bureau_saves_the_taskforce_row_unchanged_and_sees_which_row(app, auth, client):
    """The bureau opens 告警设置 of 专班 (naming the task force's user), sees which row it
    edits, and 保存 without changes is saved; the API's PUT of the same list too."""
    pk = row_of(app, scope="taskforce")
    admin = F.client_at(app)
    assert admin.put(f"{API}/{pk}", headers=auth.token("admin"),
                     json={"recipients": ["taskforce"]}).status_code == 200
    login(client, "bureau_transport")
    form = client.get(f"{PAGE}/{pk}/edit")
    assert "编辑告警设置：专班" in form.get_data(as_text=True)
    saved = client.post(f"{PAGE}/{pk}/edit", data={"csrf_token": csrf_from(form.data),
                                                    "recipients": "taskforce", "active": "on"})
    assert saved.status_code == 302
    logout(client)
    api = F.client_at(app)
    again = api.put(f"{API}/{pk}", headers=auth.token("bureau_transport"), json={"recipients": ["taskforce"]})
    assert again.status_code == 200, again.json
    assert stored(app, pk)[0] == [{"user_id": user_id(app, "taskforce")}]


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379/", "http://192.168.1.10/robot", "gopher://robot.example/"])
def test_a_robot_url_to_an_internal_address_is_refused(app, auth, url):
    """A robot URL of this machine, the intranet or not http(s) is 400 with a Chinese message, nothing saved."""
    pk = row_of(app, "黄阁镇")
    before = stored(app, pk)
    answer = F.client_at(app).put(f"{API}/{pk}", headers=auth.token("bureau_transport"), json={"recipients": [url]})
    assert answer.status_code == 400 and url[:20] in answer.json["errors"]["recipients"]
    assert answer.json["errors"]["recipients"].startswith("群机器人地址")
    assert stored(app, pk) == before


def test_the_setting_allows_internal_robot_urls(app, auth, monkeypatch):
    """With WEBHOOK_ALLOW_PRIVATE an intranet robot URL is saved."""
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", True)
    pk = row_of(app, "黄阁镇")
    before = stored(app, pk)
    answer = F.client_at(app).put(f"{API}/{pk}", headers=auth.token("bureau_transport"),
                                  json={"recipients": ["http://192.168.1.10/robot"]})
    assert answer.status_code == 200, answer.json
    assert stored(app, pk)[0] == [{"webhook": "http://192.168.1.10/robot"}]
    F.client_at(app).put(f"{API}/{pk}", headers=auth.token("admin"), json={"recipients": before[0]})


def test_the_export_names_each_rows_kind_as_the_list_does(app, client):
    """导出 of 告警设置: 告警对象类别 holds 镇街 / the bureau's / 专班's labels, no codes."""
    login(client, "bureau_transport")
    sheet = F.read_xlsx(client.get(f"{PAGE}/export").data)
    logout(client)
    column = sheet[0].index("告警对象类别")
    kinds = {row[column] for row in sheet[1:]}
    assert kinds == {"镇街", "区住房和城乡建设局（区交通运输局）", "专班（每日汇总）"}
