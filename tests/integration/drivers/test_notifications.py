"""After each decision: the head's SMS and the town's and bureau's messages, with the
manual's texts (seed 002 §2.8), each sent once."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.integration import factories as F
from tests.integration.drivers import helpers as H

TIME = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"


@pytest.fixture(scope="module")
def configured(app):
    """A phone for 南沙街, one for 黄阁镇, a robot for the bureau (告警设置)."""
    town_nansha, town_huangge, bureau_robot = F.phone(), F.phone(), "https://robot.example.invalid/hook" + F.tag()[1:]
    H.set_recipients(app, "town", [{"phone": town_nansha}], town="南沙街")
    H.set_recipients(app, "town", [{"phone": town_huangge}], town="黄阁镇")
    H.set_recipients(app, "bureau", [{"webhook": bureau_robot}])
    return {"南沙街": town_nansha, "黄阁镇": town_huangge, "bureau": bureau_robot}


def decided(app, auth, booking, allow, reason=None) -> list[tuple[str, str, str]]:
    from models.drivers import Pass

    response = F.client_at(app).post("/api/v1/checkpoint/decide", headers=auth.token("checkpoint"),
                                     json={"code": booking["code"], "allow": allow, "reason": reason})
    assert response.status_code == 200, response.json
    pass_id = F.in_db(app, lambda s: s.execute(select(Pass.id).where(Pass.booking_id == booking["id"])).scalar_one())
    return H.messages(app, f"checkpoint:decision:{pass_id}:")


def test_an_enterprise_driver_allowed(app, auth, configured):
    """SMS to the head, and to the enterprise's town (南沙街, not the destination) and the bureau."""
    driver = H.freight_driver(app, town="南沙街")
    sent = decided(app, auth, H.booked(app, id_number=driver["id_number"], destination_town="黄阁镇"), True)
    recipients = {r for _k, r, _b in sent}
    assert recipients == {driver["head_phone"], configured["南沙街"], configured["bureau"]}
    assert {k for k, _r, _b in sent} == {"sms", "messenger"}
    for _k, _r, body in sent:
        assert re.fullmatch(rf"{driver['enterprise']}员工李某某于{TIME}进入南沙区，请督促做好防疫工作。", body), body


def test_an_enterprise_driver_denied(app, auth, configured):
    driver = H.freight_driver(app, town="南沙街")
    sent = decided(app, auth, H.booked(app, id_number=driver["id_number"]), False, "健康码黄码")
    assert {r for _k, r, _b in sent} == {driver["head_phone"], configured["南沙街"], configured["bureau"]}
    for _k, _r, body in sent:
        assert re.fullmatch(rf"{driver['enterprise']}员工李某某于{TIME}进入南沙区卡口时，因健康码黄码原因不予通行，请知悉。",
                            body), body


def test_a_non_enterprise_driver_allowed(app, auth, configured):
    """No head; the destination town's recipients and the bureau's."""
    sent = decided(app, auth, H.booked(app, destination_town="黄阁镇"), True)
    assert {r for _k, r, _b in sent} == {configured["黄阁镇"], configured["bureau"]}
    for _k, _r, body in sent:
        assert re.fullmatch(rf"非南沙企业员工李某某于{TIME}入南沙区，请督促做好防疫工作。", body), body


def test_a_non_enterprise_driver_denied(app, auth, configured):
    sent = decided(app, auth, H.booked(app, destination_town="黄阁镇"), False, "核酸超时")
    assert {r for _k, r, _b in sent} == {configured["黄阁镇"], configured["bureau"]}
    for _k, _r, body in sent:
        assert re.fullmatch(rf"非南沙企业员工李某某于{TIME}进入南沙区卡口时，因核酸超时原因不予通行，请知悉。", body), body


def test_each_event_is_sent_once(app, auth, configured):
    """A repeated decision is refused and stores no second message; users get the in-app inbox."""
    from models.users import SentinelUser

    user_id = F.in_db(app, lambda s: s.execute(select(SentinelUser.id).where(
        SentinelUser.username == "bureau_transport")).scalar_one())
    H.set_recipients(app, "bureau", [{"webhook": configured["bureau"]}, {"user_id": user_id}])
    try:
        booking = H.booked(app, destination_town="黄阁镇")
        sent = decided(app, auth, booking, True)
        assert len(sent) == 3 and ("inbox", f"user:{user_id}") in {(k, r) for k, r, _b in sent}
        again = F.client_at(app).post("/api/v1/checkpoint/decide", headers=auth.token("checkpoint"),
                                      json={"code": booking["code"], "allow": True})
        assert again.status_code == 409
        from app.services.drivers.notifications import notify_decision
        from models.drivers import Pass

        def resend(session):  # the decision's messages stored again (a retried job): nothing new
            p = session.execute(select(Pass).where(Pass.booking_id == booking["id"])).scalar_one()
            notify_decision(session, p, p.booking)
            session.commit()

        with app.test_request_context():
            F.in_db(app, resend)
        pass_id = F.in_db(app, lambda s: s.execute(select(Pass.id).where(Pass.booking_id == booking["id"])).scalar_one())
        assert len(H.messages(app, f"checkpoint:decision:{pass_id}:")) == 3
    finally:
        H.set_recipients(app, "bureau", [{"webhook": configured["bureau"]}])


def test_recipients_are_set_by_the_admin_and_the_transport_bureau_only(app, auth):
    client = F.client_at(app)
    listed = client.get("/api/v1/checkpoint/recipients/", headers=auth.token("bureau_transport"))
    assert listed.status_code == 200
    scopes = [(r["scope"], r["town"]) for r in listed.json["result"]]
    assert ("town", "南沙街") in scopes and ("bureau", None) in scopes and ("taskforce", None) in scopes
    for user in ("bureau_port", "town_nansha", "checkpoint"):
        assert client.put("/api/v1/checkpoint/recipients/", headers=auth.token(user),
                          json={"scope": "taskforce", "recipients": []}).status_code in (403, 404)
    bad = client.put("/api/v1/checkpoint/recipients/", headers=auth.token("admin"),
                     json={"scope": "taskforce", "recipients": [{"phone": "123"}]})
    assert bad.status_code == 400 and "123" in bad.json["message"]
    assert client.put("/api/v1/checkpoint/recipients/", headers=auth.token("admin"),
                      json={"scope": "town", "town_id": 999999, "recipients": []}).status_code == 400
    ok = client.put("/api/v1/checkpoint/recipients/", headers=auth.token("admin"),
                    json={"scope": "taskforce", "recipients": ["13800138001"]})
    assert ok.status_code == 200 and ok.json["recipients"] == [{"phone": "13800138001"}]
    client.put("/api/v1/checkpoint/recipients/", headers=auth.token("admin"), json={"scope": "taskforce",
                                                                                    "recipients": []})


def test_a_driver_registered_after_booking_counts_as_the_enterprises(app, auth, configured):
    """The match is made again at the decision: the head is told, the scope follows."""
    number = F.id_number()
    booking = H.booked(app, id_number=number, destination_town="黄阁镇")
    head = F.phone()
    enterprise = F.make_enterprise(app, F.tag() + "货运公司", town="南沙街", type_code="freight", head_phone=head)
    F.make_staff(app, enterprise, "李某某", number)
    sent = decided(app, auth, booking, True)
    assert {r for _k, r, _b in sent} == {head, configured["南沙街"], configured["bureau"]}
    assert F.client_at(app).get(f"/api/v1/bookings/{booking['id']}",
                                headers=auth.token("town_nansha")).status_code == 200


def test_a_decisions_messages_go_out_in_one_job_each_once(app, auth, configured):
    """The head's SMS and the town's and bureau's messages: one delivery job after the
    commit; it sends each once, and running it again sends nothing more."""
    from rq import SimpleWorker

    from app.platform.queue import enqueue, get_queue
    from models.notify import Message

    def run_worker():
        with app.app_context():
            queue = get_queue()
            SimpleWorker([queue], connection=queue.connection).work(burst=True)

    driver = H.freight_driver(app, town="南沙街")
    booking = H.booked(app, id_number=driver["id_number"])
    with app.app_context():
        get_queue().empty()
    assert len(decided(app, auth, booking, True)) == 3
    with app.app_context():
        jobs = get_queue().get_jobs()
    assert [job.func_name for job in jobs] == ["jobs.notify.deliver_each"] and len(jobs[0].args) == 3
    run_worker()

    def states(session):
        return sorted((m.status, m.attempts) for m in session.execute(
            select(Message).where(Message.id.in_(jobs[0].args))).scalars())

    assert F.in_db(app, states) == [("sent", 1)] * 3
    with app.app_context():
        enqueue("jobs.notify.deliver_each", *jobs[0].args, record=False)  # the job run twice
    run_worker()
    assert F.in_db(app, states) == [("sent", 1)] * 3
