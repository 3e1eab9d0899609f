"""The 9 o'clock alerts and the task-force summary through the outbox, delivered by a real
RQ worker to a real HTTP server on 127.0.0.1 (messenger robot and SMS gateway): each
recipient gets its scope's rows once per day, whatever is retried, re-run or killed."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, text

from app.platform.clock import local_today
from models.notify import Message
from tests.integration import factories as F
from tests.integration.alerts.helpers import at_local, make_setting, make_type, registered
from tests.integration.alerts.test_evaluate import results, run_check
from tests.integration.health.health_factories import add_tests
from tests.integration.notify.test_notify import Gateway, run_worker


@pytest.fixture
def gateway(app, monkeypatch):
    server = Gateway()
    monkeypatch.setitem(app.config, "NOTIFY_CHANNEL", "webhook")  # real sending on
    monkeypatch.setitem(app.config, "NOTIFY_SMS_URL", server.url + "/sms")
    monkeypatch.setitem(app.config, "NOTIFY_WEBHOOK_URL", server.url + "/default-robot")
    monkeypatch.setitem(app.config, "NOTIFY_RETRY_BASE_SECONDS", 0)
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", True)  # the robot is this machine's server
    yield server
    server.close()
    # nothing of this test may be delivered later to another test's gateway
    def settle(session):
        session.execute(text("UPDATE message SET status = 'failed' WHERE status = 'queued' AND channel <> 'outbox'"))
        session.commit()
    F.in_db(app, settle)


def user_id(app, username):
    return F.in_db(app, lambda s: s.execute(text("SELECT id FROM ab_user WHERE username = :u"), {"u": username}).scalar())


def in_app(app, fn):
    from app.platform.extensions import db

    with app.app_context():
        try:
            return fn(db.session)
        finally:
            db.session.remove()


def send_alerts(app, day=None, settings=None):
    from app.services.rules.alerts import send_alerts as send

    return in_app(app, lambda s: send(s, day, settings))


def requests_of(gateway, code):
    """What the gateway received about the test's own type."""
    return [r for r in gateway.requests if f"类型{code}" in str(r["json"])]


def messages(app, like):
    return F.in_db(app, lambda s: [
        dict(id=m.id, recipient=m.recipient, channel=m.channel, status=m.status, body=m.body,
             path=m.attachment_path, name=m.attachment_name, attempts=m.attempts, error=m.last_error)
        for m in s.execute(select(Message).where(Message.body.like(like)).order_by(Message.id)).scalars()])


def attachment_rows(app, client, message):
    """The .xlsx of a message as its recipient downloads it through the signed link."""
    from app.notify.attachments import link

    url = in_app(app, lambda _s: link(message["path"], message["name"]))
    answer = client.get(urlsplit(url).path)
    assert answer.status_code == 200
    return F.read_xlsx(answer.data)


def attachment_notes(app, client, message):
    """The lines of the file's 说明 sheet."""
    import io

    import openpyxl
    from app.notify.attachments import link

    url = in_app(app, lambda _s: link(message["path"], message["name"]))
    book = openpyxl.load_workbook(io.BytesIO(client.get(urlsplit(url).path).data), read_only=True)
    assert book.sheetnames[1] == "说明"
    return [row[0] for row in book.worksheets[1].iter_rows(values_only=True)]


def _world(app, client, auth, recipients, rule="三天两检"):
    """A type whose setting names ``recipients``; broken people in 南沙街 and 黄阁镇, one compliant."""
    code = make_type(app)
    setting = make_setting(client, auth.token("admin"), code, rule, recipients=recipients)
    assert setting.status_code == 201, setting.json
    today = F.in_db(app, lambda _s: local_today())
    here = F.make_enterprise(app, F.tag() + "南沙企业", town="南沙街", type_code=code)
    there = F.make_enterprise(app, F.tag() + "黄阁企业", town="黄阁镇", type_code=code)
    people = {"南沙甲": F.make_staff(app, here, "南沙甲"), "南沙乙": F.make_staff(app, here, "南沙乙"),
              "黄阁丙": F.make_staff(app, there, "黄阁丙"), "守规丁": F.make_staff(app, here, "守规丁")}
    for sid in people.values():
        registered(app, sid, today - timedelta(days=20))
    add_tests(app, people["守规丁"], at_local(today - timedelta(days=1), 9), at_local(today - timedelta(days=2), 9))
    add_tests(app, people["南沙乙"], at_local(today - timedelta(days=1), 9))
    return code, setting.json["id"], today, people


def test_each_recipient_gets_its_scope_once(app, client, auth, gateway):
    """The town user's file lists their town's people only; the robot and the phone get the
    whole list; a second run and a second worker pass send nothing more."""
    robot = gateway.url + "/robot/group-1"
    town = user_id(app, "town_nansha")
    code, setting_id, today, people = _world(app, client, auth, [{"user_id": town}, {"phone": "13800138123"},
                                                                 {"webhook": robot}])
    assert send_alerts(app, settings=[setting_id])["messages"] == 3  # the check ran first: it had not run today
    assert results(app, today, [people["南沙甲"]]) == {people["南沙甲"]: (False, 0, "3d2")}
    sent = messages(app, f"%类型{code}%")
    assert len(sent) == 3
    run_worker(app)
    paths = sorted(r["path"] for r in requests_of(gateway, code))
    assert paths == ["/robot/group-1", "/sms"]
    sms = next(r for r in requests_of(gateway, code) if r["path"] == "/sms")["json"]
    assert sms["phone"] == "13800138123" and "3人未按规定进行核酸检测" in sms["content"]
    assert "三天两检" in sms["content"] and f"{today.month}月{today.day}日" in sms["content"]
    assert re.search(r"http://\S+/files/\S+", sms["content"])
    inbox = next(m for m in messages(app, f"%类型{code}%") if m["recipient"] == f"user:{town}")
    assert inbox["channel"] == "outbox" and "2人未按规定" in inbox["body"]
    sheet = attachment_rows(app, client, inbox)
    assert sheet[0] == ["企业名称", "姓名", "手机号码", "负责人姓名", "负责人电话", "最近一次核酸检测时间"]
    assert sorted(r[1] for r in sheet[1:]) == ["南沙乙", "南沙甲"]
    notes = attachment_notes(app, client, inbox)
    assert any("三天两检" in line and "不少于 2 次" in line for line in notes)
    assert any("新登记人员暂不列入名单" in line for line in notes)
    robot_message = next(m for m in messages(app, f"%类型{code}%") if m["recipient"] == robot)
    assert sorted(r[1] for r in attachment_rows(app, client, robot_message)[1:]) == ["南沙乙", "南沙甲", "黄阁丙"]
    # run again, and deliver again: nothing new
    assert send_alerts(app, settings=[setting_id])["messages"] == 0
    run_check(app, today, [setting_id])  # a re-run of the check (late feed) does not re-send either
    send_alerts(app)
    run_worker(app)
    assert len(requests_of(gateway, code)) == 2 and len(messages(app, f"%类型{code}%")) == 3
    # the town user reads it in the inbox and opens the link
    auth.login("town_nansha")
    page = client.get("/inbox/").get_data(as_text=True)
    assert "inbox-attachment" in page and f"类型{code}" in page


def test_an_operator_resends_the_days_alerts_deliberately(app, client, auth, gateway):
    """``flask --app run rules resend --setting ID`` (the README's way): every recipient gets
    the day's alert once more, delivered; a later run of the alerts sends nothing further."""
    robot = gateway.url + "/robot/group-resend"
    code, setting_id, today, _people = _world(app, client, auth, [{"phone": "13800138124"}, {"webhook": robot}])
    assert send_alerts(app, settings=[setting_id])["messages"] == 2
    run_worker(app)
    assert len(requests_of(gateway, code)) == 2
    done = app.test_cli_runner().invoke(args=["rules", "resend", "--setting", str(setting_id),
                                              "--date", today.isoformat()])
    assert done.exit_code == 0, done.output
    assert '"messages": 2' in done.output
    run_worker(app)
    assert sorted(r["path"] for r in requests_of(gateway, code)) == ["/robot/group-resend", "/robot/group-resend",
                                                                      "/sms", "/sms"]
    assert send_alerts(app, settings=[setting_id])["messages"] == 0
    run_worker(app)
    assert len(requests_of(gateway, code)) == 4 and len(messages(app, f"%类型{code}%")) == 4


def test_a_failing_gateway_retries_then_shows_failed(app, client, auth, gateway, monkeypatch):
    """A robot answering 500 is retried with backoff; after the last attempt the outbox shows failed."""
    monkeypatch.setitem(app.config, "NOTIFY_MAX_ATTEMPTS", 2)
    gateway.status = 500
    code, _sid, _today, _people = _world(app, client, auth, [{"webhook": gateway.url + "/robot/down"}])
    send_alerts(app)
    run_worker(app)
    first = messages(app, f"%类型{code}%")[0]
    assert first["status"] == "queued" and first["attempts"] == 1 and "500" in first["error"]
    from app.notify.dispatch import dispatch_due

    in_app(app, lambda _s: dispatch_due())
    final = messages(app, f"%类型{code}%")[0]
    assert final["status"] == "failed" and final["attempts"] == 2
    listed = client.get("/api/v1/outbox/?page_size=100", headers=auth.token("admin")).json
    row = next(r for r in listed["result"] if r["id"] == final["id"])
    assert row["status"] in ("failed", "发送失败")
    send_alerts(app)  # re-running the alerts does not add a second message for the day
    assert len(messages(app, f"%类型{code}%")) == 1


def test_robot_urls_stored_before_the_check_are_not_sent_to_this_machine(app, client, auth, gateway, monkeypatch):
    """A setting saved before robot URLs were checked names this machine (by IP and by
    host name): with WEBHOOK_ALLOW_PRIVATE off those alerts fail at once, saying why, and
    the server gets nothing from them; the phone's SMS (the operator's gateway) still goes."""
    import socket

    from models.rules import AlertSetting

    code, setting_id, _today, _people = _world(app, client, auth, [{"phone": "13800138129"}])
    port = urlsplit(gateway.url).port
    robots = [f"http://127.0.0.1:{port}/robot/old-ip", f"http://{socket.gethostname()}:{port}/robot/old-name"]

    def store_unchecked(session):  # as an old release saved them
        session.get(AlertSetting, setting_id).recipients = [{"phone": "13800138129"}] + [{"webhook": r} for r in robots]
        session.commit()

    F.in_db(app, store_unchecked)
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", False)
    assert send_alerts(app, settings=[setting_id])["messages"] == 3
    run_worker(app)
    assert [r["path"] for r in requests_of(gateway, code)] == ["/sms"]
    assert [hit for hit in gateway.hits if "/robot/old-" in hit] == []
    refused = [m for m in messages(app, f"%类型{code}%") if m["recipient"] in robots]
    assert len(refused) == 2
    for message in refused:
        assert (message["status"], message["attempts"]) == ("failed", 1)
        assert message["error"] == "群机器人地址不能是本机或内网地址，未发送"


def test_a_run_killed_mid_send_finishes_without_duplicates(app, client, auth, gateway, monkeypatch):
    """The job dies while storing the second recipient's alert: the next run stores only
    what was missing, and each phone gets one SMS."""
    from app.services.rules import alerts

    code, sid, _today, _people = _world(app, client, auth, [{"phone": "13800138124"}, {"phone": "13800138125"}])
    real = alerts.notify
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(alerts, "notify", dying)
    with pytest.raises(SystemExit):
        send_alerts(app, settings=[sid])
    assert len(messages(app, f"%类型{code}%")) == 1
    monkeypatch.setattr(alerts, "notify", real)
    send_alerts(app, settings=[sid])
    stored = messages(app, f"%类型{code}%")
    assert sorted(m["recipient"] for m in stored) == ["13800138124", "13800138125"]
    run_worker(app)
    assert sorted(r["json"]["phone"] for r in requests_of(gateway, code)) == ["13800138124", "13800138125"]


def test_yesterdays_result_is_never_sent_as_todays(app, client, auth, gateway):
    """Only yesterday was checked (three broke 一天一检 then): the alert job checks today
    first and sends today's result — one person."""
    code, setting_id, today, people = _world(app, client, auth, [{"phone": "13800138126"}], rule="一天一检")
    run_check(app, today - timedelta(days=1), [setting_id])
    assert [c for c, _n, _r in results(app, today - timedelta(days=1), list(people.values())).values()].count(False) == 3
    add_tests(app, people["南沙甲"], at_local(today - timedelta(days=1), 22))  # arrived after yesterday's check
    send_alerts(app)
    (message,) = messages(app, f"%类型{code}%")
    assert "1人未按规定" in message["body"]
    assert [r[1] for r in attachment_rows(app, client, message)[1:]] == ["黄阁丙"]


def test_the_schedule_runs_each_at_its_time_and_the_task_force_gets_the_summary(app, client, auth, gateway):
    """At 08:59 the check has run but no alert; at 09:00 alerts and the summary go, once."""
    from datetime import datetime as dt

    from app.services.rules import schedule

    code, setting_id, today, people = _world(app, client, auth, [{"phone": "13800138127"}])
    before_nine = dt(today.year, today.month, today.day, 0, 59)  # 08:59 district time, as naive UTC
    done = in_app(app, lambda s: schedule.run_due(s, before_nine))
    assert setting_id in done["evaluated"] and setting_id not in done["alerted"] and not done["summary"]
    assert messages(app, f"%类型{code}%") == []
    nine = before_nine + timedelta(minutes=1)
    done = in_app(app, lambda s: schedule.run_due(s, nine))
    assert setting_id in done["alerted"]
    assert len(messages(app, f"%类型{code}%")) == 1
    again = in_app(app, lambda s: schedule.run_due(s, nine + timedelta(minutes=5)))
    assert again == {"evaluated": [], "alerted": [], "summary": False}
    taskforce = user_id(app, "taskforce")
    summary = [m for m in messages(app, "%哨点监测专班%") if m["recipient"] == f"user:{taskforce}"]
    assert summary, "the task force got no summary"
    sheet = attachment_rows(app, client, summary[-1])
    assert sheet[0] == ["哨点人员类别", "主管部门", "总人数", "未按规定检测人数"]
    row = next(r for r in sheet[1:] if r[0] == f"类型{code}")
    assert row[1] == "口岸办" and int(row[2]) >= 4 and int(row[3]) == 3


def test_the_job_queued_twice_and_two_runs_at_once_store_each_alert_once(app, client, auth, gateway):
    """rules.alerts enqueued twice on the real queue and run by a real worker, then two
    runs at the same moment in two threads: each recipient's alert is stored and sent once."""
    import threading

    from app.platform.queue import get_queue

    code, _sid, _today, _people = _world(app, client, auth, [{"phone": "13800138128"},
                                                             {"webhook": gateway.url + "/robot/twice"}])
    with app.app_context():
        queue = get_queue()
        for _ in range(2):
            queue.enqueue("jobs.runner.run_scheduled", "rules.alerts")
    run_worker(app)
    errors = []

    def again():
        try:
            send_alerts(app)
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=again) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    run_worker(app)
    assert len(messages(app, f"%类型{code}%")) == 2
    assert sorted(r["path"] for r in requests_of(gateway, code)) == ["/robot/twice", "/sms"]


def test_a_rule_edited_before_the_alerts_applies_to_them_once(app, client, auth, gateway):
    """Checked with 三天两检 at 01:00, changed to 十四天一检 at 08:00: the 09:00 alert uses the
    new rule; edited again after it, nothing is sent twice."""
    code, setting_id, today, people = _world(app, client, auth, [{"phone": "13800138129"}])
    run_check(app, today, [setting_id])
    admin = auth.token("admin")
    assert client.put(f"/api/v1/alert_settings/{setting_id}", json={"rule": "十四天一检"}, headers=admin).status_code == 200
    send_alerts(app, settings=[setting_id])
    (message,) = messages(app, f"%类型{code}%")
    assert "十四天一检" in message["body"] and "2人未按规定" in message["body"]  # 南沙甲 and 黄阁丙
    assert client.put(f"/api/v1/alert_settings/{setting_id}", json={"rule": "一天一检"}, headers=admin).status_code == 200
    send_alerts(app, settings=[setting_id])
    assert len(messages(app, f"%类型{code}%")) == 1
