"""预约和通行记录 and 货车司机台账 (seed 002 §2.5–2.7): filters a bureau or town user
would use, 查看详情 with 基本信息 and 乘车人信息, the pass history of a driver, exports."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import login, logout
from tests.integration import factories as F
from tests.integration.trucks.factories import make_booking


@pytest.fixture(scope="module")
def fleet(app):
    """A freight enterprise of 南沙街 with a driver, and bookings in every state."""
    enterprise_id = F.make_enterprise(app, F.tag() + "货运公司", town="南沙街", type_code="freight")
    driver_name = "货车" + F.tag()[1:4]
    staff_id = F.make_staff(app, enterprise_id, driver_name)
    tomorrow = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(days=1)
    plate = "粤B" + F.tag()[-5:].upper().replace("-", "0")[:5]
    ids = {
        "allowed": make_booking(app, enterprise_id=enterprise_id, staff_id=staff_id, driver_name=driver_name,
                                state="allowed", plate=plate),
        "denied": make_booking(app, enterprise_id=enterprise_id, staff_id=staff_id, driver_name=driver_name,
                               state="denied", reason="健康码黄码"),
        "pending": make_booking(app, town="南沙街", state="pending", arrival=tomorrow, passengers=2),
        "elsewhere": make_booking(app, town="黄阁镇", state="allowed"),
    }
    return {"enterprise_id": enterprise_id, "staff_id": staff_id, "driver": driver_name, "plate": plate, **ids}



def test_town_sees_its_towns_bookings_with_the_state_filters(app, fleet):
    """A town user lists its bookings; 已通行 / 未通行 / 不予通行 each keep their own."""
    api = app.test_client()
    headers = {"Authorization": "Bearer " + F.api_login(api, "town_nansha").json["access_token"]}

    def ids(query=""):
        answer = api.get(f"/api/v1/booking_record/?page_size=100&{query}", headers=headers)
        assert answer.status_code == 200, answer.json
        return set(answer.json["ids"])

    everything = ids()
    assert {fleet["allowed"], fleet["denied"], fleet["pending"]} <= everything
    assert fleet["elsewhere"] not in everything
    assert fleet["allowed"] in ids("status=passed") and fleet["denied"] not in ids("status=passed")
    assert fleet["denied"] in ids("status=denied") and fleet["allowed"] not in ids("status=denied")
    assert fleet["pending"] in ids("status=not_passed") and fleet["allowed"] not in ids("status=not_passed")
    assert ids(f"plate={fleet['plate'][-4:]}") == {fleet["allowed"]}
    assert fleet["allowed"] in ids(f"name={fleet['driver']}") and fleet["pending"] not in ids(f"name={fleet['driver']}")
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1, hours=8)).date().isoformat()
    assert fleet["pending"] in ids(f"day={tomorrow}")
    assert api.get("/api/v1/booking_record/?day=not-a-day", headers=headers).status_code == 400
    row = api.get(f"/api/v1/booking_record/{fleet['denied']}", headers=headers).json["result"]
    assert row["state_label"] == "不予通行" and row["reason"] == "健康码黄码"


def test_booking_detail_shows_basic_and_passenger_information(app, client, fleet):
    """查看详情 shows 基本信息 and 乘车人信息 with the passengers' names."""
    logout(client)
    login(client, "town_nansha")
    html = client.get(f"/booking_records/{fleet['pending']}").get_data(as_text=True)
    assert "基本信息" in html and "乘车人信息" in html and "乘车人1" in html and "乘车人2" in html
    listing = client.get("/booking_records/?status=denied").get_data(as_text=True)
    assert "健康码黄码" in listing and "不予通行" in listing
    sheet = F.read_xlsx(client.get("/booking_records/export?status=denied").data)
    assert sheet[0][:2] == ["预约时间", "司机姓名"] and any("健康码黄码" in str(c) for r in sheet for c in r)
    assert client.get(f"/booking_records/{fleet['elsewhere']}").status_code == 404
    logout(client)


def test_driver_ledger_lists_freight_staff_with_pass_history(app, client, fleet):
    """货车司机台账 lists the freight enterprise's driver; the detail shows 通行记录,
    查看核酸 and 疫苗接种; staff of other types are not drivers."""
    other = F.make_staff(app, F.make_enterprise(app, F.tag() + "口岸公司", town="南沙街"), "口岸" + F.tag()[1:4])
    logout(client)
    login(client, "town_nansha")
    listing = client.get(f"/truck_drivers/?q={fleet['driver']}").get_data(as_text=True)
    assert f"/truck_drivers/{fleet['staff_id']}" in listing
    assert client.get(f"/truck_drivers/{other}").status_code == 404
    html = client.get(f"/truck_drivers/{fleet['staff_id']}").get_data(as_text=True)
    assert "通行记录" in html and "已通行" in html and "健康码黄码" in html
    assert "查看核酸" in html and "疫苗接种" in html
    sheet = F.read_xlsx(client.get(f"/truck_drivers/export?q={fleet['driver']}").data)
    assert any(fleet["driver"] in str(c) for r in sheet[1:] for c in r)
    logout(client)


def test_freight_enterprise_list_is_the_registry_filtered(app, client, fleet):
    """货车企业管理 lists freight enterprises only, with 新增 and 批量新增 of that type."""
    logout(client)
    login(client, "bureau_transport")
    html = client.get("/enterprises/?type=freight").get_data(as_text=True)
    assert "货车企业管理" in html and "type_code=freight" in html and "enterprise_type=freight" in html
    assert "建筑工地" not in html.split("<tbody>")[1]
    logout(client)


def test_phone_lists_of_town_and_head(app, client, fleet):
    """The town's 货车司机 list and 司机预约查询 (已通行 / 未通行) on the phone."""
    logout(client)
    login(client, "town_nansha")
    drivers = client.get(f"/m/drivers/?q={fleet['driver']}").get_data(as_text=True)
    assert f"/m/drivers/{fleet['staff_id']}" in drivers
    person = client.get(f"/m/drivers/{fleet['staff_id']}").get_data(as_text=True)
    assert "预约和通行记录" in person and "健康码黄码" in person
    passed = client.get("/m/bookings/?status=passed").get_data(as_text=True)
    assert f"/m/bookings/{fleet['allowed']}" in passed and f"/m/bookings/{fleet['pending']}" not in passed
    waiting = client.get("/m/bookings/?status=not_passed").get_data(as_text=True)
    assert f"/m/bookings/{fleet['pending']}" in waiting and f"/m/bookings/{fleet['allowed']}" not in waiting
    detail = client.get(f"/m/bookings/{fleet['pending']}").get_data(as_text=True)
    assert "乘车人信息" in detail and "乘车人2" in detail
    # the manual's two tabs hold every booking: a 不予通行 one is under 未通行
    mine = f"/m/bookings/?enterprise_id={fleet['enterprise_id']}"
    refused = client.get(mine + "&status=not_passed").get_data(as_text=True)
    assert f"/m/bookings/{fleet['denied']}" in refused and f"/m/bookings/{fleet['allowed']}" not in refused
    assert f"/m/bookings/{fleet['denied']}" not in client.get(mine + "&status=passed").get_data(as_text=True)
    assert client.get(f"/m/bookings/{fleet['elsewhere']}").status_code == 404
    logout(client)


def test_a_state_filter_outside_the_choices_is_a_clear_400(app):
    """?status= must be 已通行 / 未通行 / 不予通行 (passed, not_passed, denied)."""
    api = app.test_client()
    headers = {"Authorization": "Bearer " + F.api_login(api, "town_nansha").json["access_token"]}
    answer = api.get("/api/v1/booking_record/?status=everything", headers=headers)
    assert answer.status_code == 400 and "通行状态" in answer.json["message"]


def test_recipient_settings_page(app, client):
    """The transport bureau reaches 告警设置 from 预约和通行记录 and sets a town's recipients
    (the town's user, a phone); a bad phone is refused with its reason and nothing
    changes; another bureau sees no row and a town gets no page (more in
    tests/integration/drivers/test_recipient_settings.py)."""
    from sqlalchemy import select

    from app.services.drivers.recipients import set_recipients
    from models.drivers import CheckpointRecipients
    from tests.conftest import csrf_from
    from tests.integration.drivers.helpers import town_id

    logout(client)
    login(client, "bureau_transport")
    assert 'href="/checkpoint_recipients/"' in client.get("/booking_records/").get_data(as_text=True)
    page = client.get("/checkpoint_recipients/")
    assert page.status_code == 200 and "区住房和城乡建设局（区交通运输局）" in page.get_data(as_text=True)
    town = town_id(app, "南沙街")
    pk = F.in_db(app, lambda s: s.execute(select(CheckpointRecipients.id).where(
        CheckpointRecipients.scope == "town", CheckpointRecipients.town_id == town)).scalar_one())
    was = F.in_db(app, lambda s: s.get(CheckpointRecipients, pk).recipients)
    token = csrf_from(page.data)
    try:
        saved = client.post(f"/checkpoint_recipients/{pk}/edit", data={
            "csrf_token": token, "recipients": "town_nansha\n13800001111", "active": "on"},
            follow_redirects=True).get_data(as_text=True)
        assert "已保存" in saved and "13800001111" in saved
        refused = client.post(f"/checkpoint_recipients/{pk}/edit", data={
            "csrf_token": token, "recipients": "1234", "active": "on"}).get_data(as_text=True)
        assert "不是有效的手机号码" in refused
        assert "13800001111" in client.get(f"/checkpoint_recipients/{pk}").get_data(as_text=True)
    finally:
        with app.test_request_context():
            set_recipients("town", was, town)
    logout(client)
    login(client, "bureau_port")
    assert client.get(f"/checkpoint_recipients/{pk}").status_code == 404
    logout(client)
    login(client, "town_nansha")
    assert client.get("/checkpoint_recipients/").status_code in (403, 302)
    logout(client)


def test_head_sees_their_drivers_bookings_on_the_phone(app):
    """A freight enterprise's head logs in by SMS code: the home offers 司机预约查询, which
    lists their drivers' bookings (已通行 / 未通行) and nobody else's."""
    from tests.conftest import csrf_from
    from tests.integration.security.test_sms_login import _ip, last_code

    phone = F.phone()
    mine = F.make_enterprise(app, F.tag() + "负责人物流", town="南沙街", type_code="freight", head_phone=phone)
    driver = F.make_staff(app, mine, "自家" + F.tag()[1:4])
    own = make_booking(app, enterprise_id=mine, staff_id=driver, state="allowed")
    other = make_booking(app, town="南沙街", state="allowed")
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = _ip()
    page = browser.get("/head/login")
    browser.post("/head/login/code", json={"phone": phone}, headers={"X-CSRFToken": csrf_from(page.data)})
    browser.post("/head/login", data={"phone": phone, "code": last_code(app, phone),
                                      "csrf_token": csrf_from(browser.get("/head/login").data)})
    home = browser.get("/head/", follow_redirects=True).get_data(as_text=True)
    assert "司机预约查询" in home and f"/m/bookings/?enterprise_id={mine}" in home
    passed = browser.get(f"/m/bookings/?enterprise_id={mine}&status=passed").get_data(as_text=True)
    assert f"/m/bookings/{own}" in passed and f"/m/bookings/{other}" not in passed
    assert browser.get(f"/m/bookings/{other}").status_code == 404
    assert f"/m/drivers/{driver}" in browser.get(f"/m/drivers/?enterprise_id={mine}").get_data(as_text=True)


def test_full_numbers_in_a_booking_detail_only_for_the_roles_that_may_read_them(app, client):
    """The task force reads a booking's details with the driver's and passengers' ID
    numbers and phones masked — on the PC page, the phone page and the API — as its lists
    and exports are; a town user (who may read full numbers) sees them whole. The same
    for a driver's page, where the role may open it."""
    from sqlalchemy import select

    from app.domain.identity import mask_id, mask_phone
    from models.drivers import Passenger

    number, phone = F.id_number(), F.phone()
    enterprise_id = F.make_enterprise(app, F.tag() + "货运公司", town="南沙街", type_code="freight")
    staff_id = F.make_staff(app, enterprise_id, "号码" + F.tag()[1:4], number, phone=phone)
    booking_id = make_booking(app, enterprise_id=enterprise_id, staff_id=staff_id, town="南沙街",
                              id_number=number, phone=phone, passengers=1)
    passenger = F.in_db(app, lambda s: tuple(s.execute(select(Passenger.id_number, Passenger.phone)
                                                       .where(Passenger.booking_id == booking_id)).one()))
    for user, full in (("taskforce", False), ("town_nansha", True)):
        logout(client)
        login(client, user)
        api = app.test_client()
        headers = {"Authorization": "Bearer " + F.api_login(api, user).json["access_token"]}
        booking_pages = [client.get(f"/booking_records/{booking_id}"), client.get(f"/m/bookings/{booking_id}"),
                         api.get(f"/api/v1/booking_record/{booking_id}", headers=headers)]
        driver_pages = [client.get(f"/truck_drivers/{staff_id}"), client.get(f"/m/drivers/{staff_id}")]
        assert [p.status_code for p in booking_pages] == [200, 200, 200], user
        checks = [(p, (number, phone, *passenger)) for p in booking_pages]
        checks += [(p, (number, phone)) for p in driver_pages if p.status_code == 200]
        for page, secrets in checks:
            text = page.get_data(as_text=True)
            for secret in secrets:
                assert (secret in text) is full, (user, page.request.path, secret)
            if not full:
                assert mask_id(number) in text and mask_phone(phone) in text, page.request.path
    logout(client)


def test_the_demo_has_a_booking_in_every_state_and_its_expired_one_is_past_due(tmp_path):
    """``flask demo load`` (on the embedded default, in an instance of its own) makes
    bookings in every state (待通行, 已通行, 不予通行, 已过期), and the expired one was due
    before its pass expired (not a pass expired ahead of the arrival it was made for)."""
    import os
    import sqlite3
    import subprocess
    import sys

    from config import BASE_DIR

    env = {k: v for k, v in os.environ.items()
           if k not in {"REDIS_URL", "DATABASE_URL", "QUEUE_NAME", "HOST", "PORT", "REDIS_PREFIX"}}
    env["SENTINEL_INSTANCE_DIR"] = str(tmp_path)
    for args in (["db", "upgrade"], ["demo", "load"]):
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "run", *args], cwd=BASE_DIR, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
    database = next(tmp_path.glob("*.db"))
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT b.expected_arrival, p.state, p.expires_at FROM booking b "
                            "JOIN booking_pass p ON p.booking_id = b.id").fetchall()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    read = [(datetime.fromisoformat(a), state, datetime.fromisoformat(e)) for a, state, e in rows]
    states = ["expired" if state == "pending" and expires <= now else state for _, state, expires in read]
    assert set(states) >= {"pending", "allowed", "denied", "expired"}
    for (arrival, _, expires), state in zip(read, states):
        if state == "expired":
            assert arrival < expires < now


def test_the_town_filter_takes_the_bookings_bound_for_the_town_too(app):
    """预约和通行记录's 镇街 filter (the bureau's view) lists the bookings whose 目的地镇街 is
    the town — also those of another town's enterprise drivers — and its own enterprises'
    drivers' bookings; not a booking of neither."""
    enterprise_id = F.make_enterprise(app, F.tag() + "货运公司", town="南沙街", type_code="freight")
    staff_id = F.make_staff(app, enterprise_id, "过境" + F.tag()[1:4])
    inbound = make_booking(app, enterprise_id=enterprise_id, staff_id=staff_id, town="黄阁镇")
    walk_in = make_booking(app, town="黄阁镇")
    elsewhere = make_booking(app, enterprise_id=enterprise_id, staff_id=staff_id, town="南沙街")
    api = app.test_client()
    headers = {"Authorization": "Bearer " + F.api_login(api, "bureau_transport").json["access_token"]}
    answer = api.get("/api/v1/booking_record/?page_size=100&town=黄阁镇", headers=headers)  # newest first
    assert answer.status_code == 200, answer.json
    found = set(answer.json["ids"])
    assert {inbound, walk_in} <= found and elsewhere not in found
    nansha = api.get("/api/v1/booking_record/?page_size=100&town=南沙街", headers=headers).json["ids"]
    assert {inbound, elsewhere} <= set(nansha) and walk_in not in nansha
