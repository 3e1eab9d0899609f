"""A driver books an arrival on the public page and gets a one-time pass (SPEC §5, §9)."""
from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import func, select

from tests.integration import factories as F
from tests.integration.drivers import helpers as H

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def bookings_count(app) -> int:
    from models.drivers import Booking

    return F.in_db(app, lambda s: s.execute(select(func.count()).select_from(Booking)).scalar())


def test_a_driver_books_and_gets_a_code_and_its_qr(app):
    """新增预约 → 提交预约 → the pass: a code, its QR image, state 待通行."""
    answer = H.booked(app, plate_number="粤b 12345d", passengers=[
        {"name": "王乘客", "id_number": F.id_number(), "phone": F.phone()}])
    assert answer["state"] == "pending" and answer["state_label"] == "待通行"
    assert answer["plate_number"] == "粤B12345D"
    assert answer["code"].startswith("P1.") and answer["qr_url"].endswith(".png")
    assert "*" in answer["id_number"] and "*" in answer["passengers"][0]["id_number"]
    qr = F.client_at(app).get(answer["qr_url"])
    assert qr.status_code == 200 and qr.mimetype == "image/png" and qr.data.startswith(b"\x89PNG")


def test_the_code_carries_no_id_number_phone_or_name(app):
    number, phone = F.id_number(), F.phone()
    code = H.booked(app, id_number=number, phone=phone)["code"]
    for secret in (number, phone, number[-6:], "李某某"):
        assert secret not in code


def test_a_failed_identity_check_stores_nothing(app):
    """The built-in verifier refuses a wrong checksum or birth date and a malformed name."""
    good = F.id_number()
    wrong_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    before = bookings_count(app)
    for over in ({"id_number": wrong_check}, {"id_number": "440115" + "20991301" + "0011"},
                 {"driver_name": "李1某"}):
        response = H.book(app, **over)
        assert response.status_code == 400
        assert response.json["message"] == "认证不通过，请确保是本人提交预约或身份证号码填写是否有误"
    assert bookings_count(app) == before


def test_a_pluggable_verifier_decides(app, monkeypatch):
    """IDENTITY_VERIFIER names the class; a verifier that refuses (or fails) refuses the booking."""
    from app.services.drivers import verifier

    class Refuses:
        def __init__(self, config):
            pass

        def verify(self, name, id_type, id_number, phone):
            return False

    monkeypatch.setattr(verifier, "get_verifier", lambda: Refuses({}))
    assert H.book(app).status_code == 400

    class Explodes(Refuses):
        def verify(self, *args):
            raise ConnectionError("real-name service down")

    monkeypatch.setattr(verifier, "get_verifier", lambda: Explodes({}))
    assert H.book(app).json["message"] == "认证不通过，请确保是本人提交预约或身份证号码填写是否有误"


def test_the_verifier_is_loaded_by_dotted_path(app):
    from app.services.drivers.verifier import FormatVerifier, load

    assert isinstance(load("app.services.drivers.verifier:FormatVerifier", app.config), FormatVerifier)
    assert isinstance(load("app.services.drivers.verifier.FormatVerifier", app.config), FormatVerifier)


@pytest.mark.parametrize("over, field", [
    ({"phone": "12345"}, "phone"),
    ({"plate_number": "粤12345"}, "plate_number"),
    ({"plate_number": ""}, "plate_number"),
    ({"expected_arrival": H.arrival(-3)}, "expected_arrival"),
    ({"expected_arrival": H.arrival(24 * 9)}, "expected_arrival"),
    ({"expected_arrival": "明天下午"}, "expected_arrival"),
    ({"destination_town": "火星镇"}, "destination_town"),
    ({"origin": ""}, "origin"),
    ({"destination_address": "路" * 301}, "destination_address"),
    ({"passengers": [{"name": "王乘客", "id_number": "123", "phone": None}]}, "passengers[0].id_number"),
    ({"passengers": "not a list"}, "passengers"),
])
def test_bad_input_is_a_400_naming_the_field_and_nothing_is_stored(app, over, field):
    before = bookings_count(app)
    response = H.book(app, **over)
    assert response.status_code == 400, response.json
    assert field in response.json.get("errors", {}), response.json
    assert bookings_count(app) == before


def test_more_than_the_allowed_passengers_is_refused(app):
    people = [{"name": "王乘客", "id_number": F.id_number(), "phone": None} for _ in range(6)]
    response = H.book(app, passengers=people)
    assert response.status_code == 400 and response.json["errors"]["passengers"] == "乘车人不能超过5人"


def test_a_body_that_is_not_an_object_is_a_400(app):
    client = F.client_at(app)
    assert client.post("/api/v1/bookings/", json=[1, 2]).status_code == 400
    assert client.post("/api/v1/bookings/", data="x", content_type="text/plain").status_code == 400


def multipart(**files):
    data = {k: (json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v)
            for k, v in H.body().items() if v is not None}
    data["images"] = [(io.BytesIO(content), name) for name, content in files.items()]
    return data


def test_images_are_checked_by_content_and_stored_outside_the_web_root(app):
    response = F.client_at(app).post("/api/v1/bookings/", data=multipart(**{"a.png": PNG, "b.jpg": JPEG}),
                                     content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    assert response.json["images"] == 2
    from models.drivers import BookingImage

    stored = F.in_db(app, lambda s: [(i.content_type, i.stored_name) for i in s.execute(
        select(BookingImage).where(BookingImage.booking_id == response.json["id"])).scalars()])
    assert sorted(t for t, _ in stored) == ["image/jpeg", "image/png"]
    from app.services.drivers.bookings import image_path

    with app.app_context():
        for _, name in stored:
            path = image_path(name)
            assert path.is_file() and str(path).startswith(app.instance_path)
            assert "static" not in path.parts


def test_a_non_image_or_an_oversized_image_is_refused(app):
    before = bookings_count(app)
    client = F.client_at(app)
    response = client.post("/api/v1/bookings/", data=multipart(**{"photo.jpg": b"<?php echo 1; ?>"}),
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "只能上传图片" in response.json["message"]
    big = JPEG + b"\x00" * (5 * 1024 * 1024)
    response = client.post("/api/v1/bookings/", data=multipart(**{"big.jpg": big}), content_type="multipart/form-data")
    assert response.status_code == 413 and "5MB" in response.json["message"]
    assert bookings_count(app) == before


def test_a_booking_flood_from_one_address_is_limited(app, monkeypatch):
    """Per client address: the limit's own message, other addresses unaffected."""
    monkeypatch.setitem(app.config, "BOOKING_RATE_LIMIT", "3 per minute")
    flood = F.client_at(app)
    answers = [flood.post("/api/v1/bookings/", json=H.body()).status_code for _ in range(5)]
    assert answers[:3] == [201, 201, 201] and answers[3:] == [429, 429]
    refused = flood.post("/api/v1/bookings/", json=H.body())
    assert refused.json["message"] == "预约提交过于频繁，请稍后再试"
    assert H.book(app).status_code == 201


def test_a_forged_qr_link_is_a_404(app):
    code = H.booked(app)["code"]
    client = F.client_at(app)
    assert client.get(f"/passes/{code[:-2]}xx.png").status_code == 404
    assert client.get("/passes/nonsense.png").status_code == 404


def driver_token(app, phone: str) -> dict:
    """The driver proves the phone by SMS code (the code read from the outbox)."""
    from models.notify import Message

    client = F.client_at(app)
    assert client.post("/api/v1/identity/code", json={"phone": phone, "purpose": "driver"}).status_code == 200
    body = F.in_db(app, lambda s: s.execute(select(Message.body).where(Message.recipient == phone)
                                             .order_by(Message.id.desc())).scalars().first())
    code = re.search(r"\d{6}", body).group(0)
    response = client.post("/api/v1/identity/verify", json={"phone": phone, "code": code, "purpose": "driver"})
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def test_a_driver_finds_their_own_bookings_with_each_state(app, auth):
    """Phone + SMS code (purpose driver): their bookings, newest first, with 待通行 / 不予通行 …"""
    phone = F.phone()
    first = H.booked(app, phone=phone)
    second = H.booked(app, phone=phone)
    H.booked(app)  # someone else's
    decided = F.client_at(app).post("/api/v1/checkpoint/decide", headers=auth.token("checkpoint"), json={
        "code": first["code"], "allow": False, "reason": "健康码黄码"})
    assert decided.status_code == 200, decided.json
    mine = F.client_at(app).get("/api/v1/bookings/mine", headers=driver_token(app, phone))
    assert mine.status_code == 200
    assert [b["id"] for b in mine.json["result"]] == [second["id"], first["id"]]
    assert [b["state_label"] for b in mine.json["result"]] == ["待通行", "不予通行"]
    assert mine.json["result"][0]["code"] == second["code"]


def test_the_driver_list_needs_the_drivers_token(app, auth):
    client = F.client_at(app)
    assert client.get("/api/v1/bookings/mine").status_code == 401
    assert client.get("/api/v1/bookings/mine", headers=auth.token("town_nansha")).status_code == 401


def test_an_unknown_phone_gets_the_same_answer_and_no_code(app):
    from models.notify import Message

    phone = F.phone()
    response = F.client_at(app).post("/api/v1/identity/code", json={"phone": phone, "purpose": "driver"})
    assert response.status_code == 200
    assert F.count(app, Message, Message.recipient == phone) == 0


def test_the_contract_path_without_a_slash_books_too(app):
    """SPEC §9: POST /api/v1/bookings."""
    response = F.client_at(app).post("/api/v1/bookings", json=H.body())
    assert response.status_code == 201 and response.json["code"]


def test_the_state_filter_finds_bookings_as_readers_see_them(app, auth):
    """state_clause: 待通行 / 已过期 / 已通行 / 不予通行 for the ledgers' filters."""
    from app.services.drivers.bookings import state_clause
    from models.drivers import Booking, Pass

    pending, denied = H.booked(app), H.booked(app)
    F.client_at(app).post("/api/v1/checkpoint/decide", headers=auth.token("checkpoint"),
                          json={"code": denied["code"], "allow": False, "reason": "其他"})

    def ids(state, now=None):
        return F.in_db(app, lambda s: set(s.execute(select(Booking.id).join(Pass, Pass.booking_id == Booking.id)
                                                    .where(state_clause(state, now))).scalars()))

    with app.app_context():
        assert pending["id"] in ids("pending") and pending["id"] not in ids("expired")
        assert denied["id"] in ids("denied") and denied["id"] not in ids("pending") | ids("allowed")
        from datetime import datetime, timedelta
        later = datetime.utcnow() + timedelta(days=30)
        assert pending["id"] in ids("expired", later) and pending["id"] not in ids("pending", later)


@pytest.mark.parametrize("over", [
    {"driver_name": 123}, {"id_number": {"x": 1}}, {"phone": ["17000000000"]}, {"plate_number": None},
    {"expected_arrival": 1700000000}, {"expected_arrival": "2026-13-45 25:61"}, {"destination_town": ["黄阁镇"]},
    {"passengers": ["王乘客"]}, {"passengers": [{"name": None, "id_number": None}]}, {"company": "公" * 500},
    {"passengers": [{"name": "王乘客", "id_number": F.id_number(), "phone": "12"}]},
])
def test_odd_values_are_a_400_never_a_500(app, over):
    response = H.book(app, **over)
    assert response.status_code == 400, (over, response.json)
    assert response.json["message"]


@pytest.mark.parametrize("payload", [{"code": None}, {"code": 123}, {"code": ["P1"]}, {}, {"code": "P1." * 60}])
def test_odd_codes_are_a_400_never_a_500(app, auth, payload):
    headers = auth.token("checkpoint")
    for path in ("/api/v1/checkpoint/scan", "/api/v1/checkpoint/decide"):
        response = F.client_at(app).post(path, json={**payload, "allow": True}, headers=headers)
        assert response.status_code == 400, (path, payload, response.json)


def test_a_registered_drivers_id_under_another_name_is_refused(app):
    """Someone booking with the ID number of a freight enterprise's driver under another
    name gets 认证不通过… and nothing is stored (else the checkpoint would show them as
    that enterprise's driver with the driver's test and vaccine labels); the driver's
    own name books as before, matched to the enterprise."""
    driver = H.freight_driver(app)
    before = bookings_count(app)
    refused = H.book(app, id_number=driver["id_number"], driver_name="张冒名")
    assert refused.status_code == 400
    assert refused.json["message"] == "认证不通过，请确保是本人提交预约或身份证号码填写是否有误"
    assert bookings_count(app) == before
    own = H.booked(app, id_number=driver["id_number"], driver_name=" 李某某 ")
    assert H.booking_row(app, own["id"])["enterprise_id"] == driver["enterprise_id"]


@pytest.mark.parametrize("arrival", ["0001-01-01T00:00", "0001-01-01", "9999-12-31T23:59-12:00"])
def test_an_arrival_at_the_ends_of_the_calendar_is_the_format_message(app, arrival):
    """A date with no UTC value (year 1 at +08:00, 9999-12-31 at -12:00) is a 400 saying the format, not a 500."""
    response = H.book(app, expected_arrival=arrival)
    assert response.status_code == 400, response.json
    assert response.json["errors"]["expected_arrival"].startswith("预计到达时间格式不正确")


def stored_booking(app, booking_id: int) -> dict:
    from models.drivers import Booking

    def read(session):
        b = session.get(Booking, booking_id)
        return {"company": b.company, "origin": b.origin, "passengers": [p.name for p in b.passengers]}
    return F.in_db(app, read)


@pytest.mark.parametrize("over, field, message", [
    ({"company": {"a": "b"}}, "company", "公司名称应为文字"),
    ({"company": 123}, "company", "公司名称应为文字"),
    ({"origin": ["广州"]}, "origin", "出发地应为文字"),
    ({"destination_address": {"路": 1}}, "destination_address", "目的地详细地址应为文字"),
    ({"driver_name": ["李某某"]}, "driver_name", "司机姓名应为文字"),
    ({"phone": 13800138000}, "phone", "手机号码应为文字"),
    ({"plate_number": ["粤A12345"]}, "plate_number", "车牌号应为文字"),
    ({"destination_town": ["黄阁镇"]}, "destination_town", "目的地镇街应为文字"),
    ({"expected_arrival": 1700000000}, "expected_arrival", "预计到达时间应为文字"),
    ({"passengers": [{"name": ["王乘客"], "id_number": "110105194912310029"}]}, "passengers[0].name",
     "第1位乘车人：姓名应为文字"),
    ({"passengers": [{"name": "王乘客", "id_number": "110105194912310029", "phone": 13800138000}]},
     "passengers[0].phone", "第1位乘车人：联系电话应为文字"),
])
def test_a_value_that_is_not_text_is_refused_by_its_label_not_stored_as_python(app, over, field, message):
    """A JSON object, list or number in a text field is 400 〈label〉应为文字; nothing is stored."""
    before = bookings_count(app)
    response = H.book(app, **over)
    assert response.status_code == 400, response.json
    assert response.json["errors"][field] == message
    assert bookings_count(app) == before


@pytest.mark.parametrize("over, field, message", [
    ({"id_number": 110105194912310020}, "id_number", "身份证号码应为文字"),
    ({"passengers": [{"name": "王乘客", "id_number": 110105194912310020}]}, "passengers[0].id_number",
     "第1位乘车人：身份证号码应为文字"),
])
def test_an_id_number_sent_as_a_json_number_says_text_not_excel(app, over, field, message):
    """An API caller gets the plain non-text message, nothing about an Excel column."""
    response = H.book(app, **over)
    assert response.status_code == 400 and response.json["errors"][field] == message
    assert "文本格式" not in json.dumps(response.json, ensure_ascii=False)


def test_texts_are_stored_as_sent(app):
    answer = H.booked(app, company="  某某物流 ", origin="广州")
    assert stored_booking(app, answer["id"]) == {"company": "某某物流", "origin": "广州", "passengers": []}


def test_the_catch_all_town_is_refused_like_an_unknown_one(app):
    """其他 (by name or by id) is not a destination: the page does not offer it and the API says so."""
    for town in ("其他", str(H.town_id(app, "其他"))):
        response = H.book(app, destination_town=town)
        assert response.status_code == 400, response.json
        assert response.json["errors"]["destination_town"] == "目的地镇街不存在，请从列表中选择"
    assert H.booked(app, destination_town=str(H.town_id(app, "黄阁镇")))["id"]


def test_the_form_takes_as_much_text_as_the_server_and_shows_the_plate_hint(app):
    """maxlength of the booking form are the server's limits; the plate field's placeholder is shown."""
    from app.domain.checkpoint import TEXT_LIMITS

    page = F.client_at(app).get("/driver/book").get_data(as_text=True)
    for field in ("company", "origin", "destination_address"):
        assert re.search(rf'id="f-{field}"[^>]*maxlength="{TEXT_LIMITS[field]}"', page), field
    assert re.search(r'id="f-plate_number"[^>]*maxlength="10"[^>]*placeholder="如：粤A12345"', page)
    assert "&#34;" not in page
    assert ">其他<" not in page
