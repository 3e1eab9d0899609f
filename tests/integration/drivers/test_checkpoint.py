"""The checkpoint scans a pass and decides once (seed 002 §2.2, SPEC §9)."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from tests.integration import factories as F
from tests.integration.drivers import helpers as H

EXPIRED = "二维码已过期，请司机重新预约"


@pytest.fixture
def checkpoint(auth):
    return auth.token("checkpoint")


def scan(app, headers, code):
    return F.client_at(app).post("/api/v1/checkpoint/scan", json={"code": code}, headers=headers)


def decide(app, headers, code, allow, reason=None):
    return F.client_at(app).post("/api/v1/checkpoint/decide", json={"code": code, "allow": allow, "reason": reason},
                                 headers=headers)


def feed_health(app, auth, number, *, hours_ago: float, result="negative", doses=()):
    feed = auth.token("feed")
    sampled = (datetime.now(H.TZ8) - timedelta(hours=hours_ago)).replace(tzinfo=None, microsecond=0)
    rows = [{"id_number": number, "sampled_at": sampled.isoformat(),
             "tested_at": (sampled + timedelta(hours=1)).isoformat() if result != "pending" else None,
             "result": result, "institution": "测试检测机构"}]
    client = F.client_at(app)
    assert client.post("/api/v1/feeds/tests", json=rows, headers=feed).json["stored"] == 1
    if doses:
        vaccinations = [{"record_id": F.tag() + str(d), "id_number": number, "dose": d,
                         "vaccinated_at": f"2021-0{d}-01", "product": "北京生物", "site": "测试点"} for d in doses]
        assert client.post("/api/v1/feeds/vaccinations", json=vaccinations, headers=feed).status_code == 200


def test_an_enterprise_driver_is_shown_with_the_enterprise_and_health_labels(app, auth, checkpoint):
    """南沙企业司机 + 企业名称, 48小时阴性, 已完成接种二针, the booking with its passengers."""
    driver = H.freight_driver(app)
    feed_health(app, auth, driver["id_number"], hours_ago=30, doses=(1, 2))
    booking = H.booked(app, id_number=driver["id_number"], passengers=[
        {"name": "王乘客", "id_number": F.id_number(), "phone": None},
        {"name": "李乘客", "id_number": F.id_number(), "phone": "13912345678"}])
    answer = scan(app, checkpoint, booking["code"])
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["enterprise_driver"] is True and body["enterprise_name"] == driver["enterprise"]
    assert body["driver_label"] == "南沙企业司机"
    assert body["test_label"] == "48小时阴性" and body["vaccine_label"] == "已完成接种二针"
    assert body["booking"]["id"] == booking["id"]
    passengers = body["booking"]["passengers"]
    assert [p["name"] for p in passengers] == ["王乘客", "李乘客"]  # as entered
    assert passengers[0]["phone"] is None and passengers[1]["phone"] == "139****5678"
    assert all("*" in p["id_number"] for p in passengers) and "*" in body["booking"]["id_number"]
    assert body["booking"]["enterprise_name"] == driver["enterprise"] and body["booking"]["state"] == "pending"
    assert set(body["reasons"]) == {"健康码黄码", "健康码红码", "无核酸证明", "核酸超时", "其他"}


def test_a_driver_of_no_freight_enterprise_is_not_an_enterprise_driver(app, auth, checkpoint):
    """Staff of another type (a port enterprise) do not make a freight driver; no records shown as such."""
    number = F.id_number()
    port = F.make_enterprise(app, F.tag() + "口岸公司", type_code="port")
    F.make_staff(app, port, "李某某", number)
    body = scan(app, checkpoint, H.booked(app, id_number=number)["code"]).json
    assert body["enterprise_driver"] is False and body["enterprise_name"] is None
    assert body["driver_label"] == "非南沙企业司机"
    assert body["test_label"] == "无核酸检测记录" and body["vaccine_label"] == "未接种疫苗"


def test_an_old_test_shows_its_time_and_result(app, auth, checkpoint):
    number = F.id_number()
    feed_health(app, auth, number, hours_ago=24 * 9, result="positive")
    label = scan(app, checkpoint, H.booked(app, id_number=number)["code"]).json["test_label"]
    assert label.endswith("阳性") and label[:4].isdigit()


def test_the_first_decision_consumes_the_pass_and_every_later_one_is_409(app, checkpoint):
    """A checkpoint user deciding twice in a row: the second is 409, the first decision stands."""
    booking = H.booked(app)
    first = decide(app, checkpoint, booking["code"], False, "健康码黄码")
    assert first.status_code == 200 and first.json["state"] == "denied"
    again = decide(app, checkpoint, booking["code"], True)
    assert again.status_code == 409 and again.json["message"] == EXPIRED
    assert scan(app, checkpoint, booking["code"]).json == {"message": EXPIRED}
    state, reason, decided_by, decided_at = H.pass_row(app, booking["id"])
    assert (state, reason) == ("denied", "健康码黄码") and decided_by and decided_at


def test_a_denial_needs_a_reason_and_a_bad_allow_is_refused(app, checkpoint):
    code = H.booked(app)["code"]
    for reason in (None, "", "  "):
        response = decide(app, checkpoint, code, False, reason)
        assert response.status_code == 400 and response.json["message"] == "请填写不予通行原因"
    assert decide(app, checkpoint, code, "maybe").status_code == 400
    assert decide(app, checkpoint, code, True).status_code == 200  # nothing was consumed before


@pytest.mark.parametrize("mangle", [
    lambda c: c[:-1] + ("A" if c[-1] != "A" else "B"),  # tampered signature
    lambda c: c[:50],  # truncated
    lambda c: c.replace(".", ",", 1),
    lambda c: "not a code",
])
def test_a_forged_or_truncated_code_is_refused_without_reading_pass_rows(app, checkpoint, mangle):
    code = H.booked(app)["code"]
    with F.statements_run(app) as statements:
        response = scan(app, checkpoint, mangle(code))
        decided = decide(app, checkpoint, mangle(code), True)
    assert response.status_code == 400 and response.json["message"] == "二维码无效，请司机重新预约"
    assert decided.status_code == 400
    assert not [s for s in statements if "booking_pass" in s]
    assert scan(app, checkpoint, code).status_code == 200  # the genuine one still works


def test_a_code_signed_by_a_foreign_key_is_refused(app, checkpoint):
    from app.domain import pass_tokens as PT

    foreign = PT.PassKeyring.from_config("someone-elses-secret-of-32-characters!!")
    code = foreign.issue(PT.new_token_id(), datetime.utcnow() + timedelta(hours=5))
    assert scan(app, checkpoint, code).status_code == 400


def test_an_expired_code_is_409_without_reading_pass_rows(app, checkpoint):
    from app.domain import pass_tokens as PT
    from app.platform.pass_keys import keyring

    with app.app_context():
        code = keyring().issue(PT.new_token_id(), datetime.utcnow() - timedelta(minutes=1))
    with F.statements_run(app) as statements:
        response = scan(app, checkpoint, code)
    assert response.status_code == 409 and response.json["message"] == EXPIRED
    assert not [s for s in statements if "booking_pass" in s]


def test_a_pass_past_its_expiry_in_the_database_is_409(app, checkpoint):
    """The row's expiry counts too (a pass expired by a changed validity)."""
    from models.drivers import Pass

    booking = H.booked(app)

    def expire(session):
        session.execute(update(Pass).where(Pass.booking_id == booking["id"])
                        .values(expires_at=datetime.utcnow() - timedelta(seconds=1)))
        session.commit()

    F.in_db(app, expire)
    assert decide(app, checkpoint, booking["code"], True).status_code == 409


def test_only_the_checkpoint_role_scans_and_decides(app, auth):
    code = H.booked(app)["code"]
    for user in ("town_nansha", "bureau_transport", "taskforce"):
        assert scan(app, auth.token(user), code).status_code == 403
        assert decide(app, auth.token(user), code, True).status_code == 403
    assert F.client_at(app).post("/api/v1/checkpoint/scan", json={"code": code}).status_code == 401


def test_a_signed_in_browser_cannot_decide_without_the_bearer_token(app):
    """The API is CSRF-exempt, so a page elsewhere riding the checkpoint user's session
    cookie is refused (401) and the pass stays unused."""
    from tests.conftest import login

    booking = H.booked(app)
    browser = F.client_at(app)
    login(browser, "checkpoint")
    for path, body in (("/api/v1/checkpoint/scan", {"code": booking["code"]}),
                       ("/api/v1/checkpoint/decide", {"code": booking["code"], "allow": True})):
        assert browser.post(path, json=body).status_code == 401, path
    assert H.pass_row(app, booking["id"])[0] == "pending"


def test_the_scan_links_the_images_for_the_checkpoint(app, checkpoint):
    import io
    import json as _json

    data = {k: (_json.dumps(v) if isinstance(v, list) else v) for k, v in H.body().items() if v is not None}
    data["images"] = [(io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"1" * 40), "a.png")]
    created = F.client_at(app).post("/api/v1/bookings/", data=data, content_type="multipart/form-data").json
    links = scan(app, checkpoint, created["code"]).json["booking"]["images"]
    assert len(links) == 1
    image = F.client_at(app).get(links[0])
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data.startswith(b"\x89PNG")
    assert F.client_at(app).get(links[0][:-3] + "xyz").status_code == 404


def test_the_public_keys_are_downloadable_and_verify_a_code(app):
    from cryptography.hazmat.primitives import serialization

    from app.domain import pass_tokens as PT

    code = H.booked(app)["code"]
    client = F.client_at(app)
    jwks = client.get("/api/v1/checkpoint/keys").json
    verifier = PT.PassKeyring.from_config("x" * 40, previous_public=",".join(k["x"] for k in jwks["keys"]))
    assert verifier.verify(code, datetime.utcnow()).key_id == jwks["keys"][0]["kid"]
    pem = client.get("/api/v1/checkpoint/keys.pem")
    assert pem.status_code == 200 and serialization.load_pem_public_key(pem.data.split(b"-----END PUBLIC KEY-----")[0]
                                                                        + b"-----END PUBLIC KEY-----\n")


def _race(app, headers, code, n=2):
    """``n`` decisions of the same pass at once, from ``n`` threads; their status codes."""
    barrier = threading.Barrier(n)
    results = []

    def run(allow):
        client = F.client_at(app)
        barrier.wait()
        results.append(client.post("/api/v1/checkpoint/decide", headers=headers,
                                   json={"code": code, "allow": allow, "reason": None if allow else "其他"}).status_code)

    threads = [threading.Thread(target=run, args=(i % 2 == 0,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(results)


def test_two_checkpoints_deciding_at_once_exactly_one_wins(app, checkpoint):
    """Concurrent decisions on the same pass (PostgreSQL and SQLite): one 200, the rest 409."""
    for _ in range(5):
        booking = H.booked(app)
        assert _race(app, checkpoint, booking["code"], n=4) == [200, 409, 409, 409]
        state = H.pass_row(app, booking["id"])[0]
        assert state in ("allowed", "denied")


def test_a_decision_does_not_wait_on_the_checkpoint_users_account_row(app, auth, checkpoint):
    """A decision names its checkpoint user without locking their account row: while
    another transaction holds that row (an admin editing or removing the account), the
    checkpoint still decides. (A foreign key to the account took that row's KEY SHARE
    lock in every decision: the decision waited, and the checkpoints deciding at once all
    locked the same row.) On SQLite, whose writers take turns anyway, it decides too."""
    from app.platform.extensions import db

    booking = H.booked(app)
    with app.app_context():
        user_id = db.session.execute(select(app.appbuilder.sm.user_model.id).where(
            app.appbuilder.sm.user_model.username == "checkpoint")).scalar_one()
        db.session.remove()
        holder = db.engine.connect()
    answers, thread = [], None
    try:
        with holder.begin():
            locked = app.appbuilder.sm.user_model.__table__
            if holder.dialect.name == "postgresql":
                holder.execute(select(locked.c.id).where(locked.c.id == user_id).with_for_update())
                thread = threading.Thread(target=lambda: answers.append(
                    decide(app, checkpoint, booking["code"], False, "其他").status_code))
                thread.start()
                waiting = None
                while thread.is_alive() and not waiting:  # decided, or seen waiting on a lock
                    waiting = holder.exec_driver_sql(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()").scalar()
                    thread.join(0.05)
                assert not waiting, "the decision waits for the checkpoint user's account row"
            else:
                answers.append(decide(app, checkpoint, booking["code"], False, "其他").status_code)
    finally:
        holder.close()  # ends the transaction: a decision that waited goes on
        if thread is not None:
            thread.join()
    assert answers == [200]
    assert H.pass_row(app, booking["id"])[0] == "denied"


def test_a_reason_that_is_not_text_is_400_and_the_pass_stays_pending(app, checkpoint):
    booking = H.booked(app)
    answer = F.client_at(app).post("/api/v1/checkpoint/decide", headers=checkpoint,
                                   json={"code": booking["code"], "allow": False, "reason": {"a": 1}})
    assert answer.status_code == 400 and answer.json["errors"]["reason"] == "不予通行原因应为文字"
    assert H.pass_row(app, booking["id"])[0] == "pending"
