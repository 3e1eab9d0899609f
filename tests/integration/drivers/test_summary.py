"""The task force's 12:00 / 18:00 summary of the checkpoints (seed 002 §2.8):
卡口共通行车辆 N 辆，不准予通行 M 辆 with the .xlsx of the period's decisions, once per period."""
from __future__ import annotations

import random
import re
from datetime import datetime, timedelta

from sqlalchemy import func, select

from tests.integration import factories as F
from tests.integration.drivers import helpers as H


def next_slot_after(now_utc: datetime) -> datetime:
    """The first 12:00 or 18:00 district time after ``now_utc`` (naive UTC), plus a minute."""
    local = now_utc + timedelta(hours=8)
    for day in (local.date(), local.date() + timedelta(days=1)):
        for hour in (12, 18):
            slot = datetime(day.year, day.month, day.day, hour) - timedelta(hours=8)
            if slot > now_utc:
                return slot + timedelta(minutes=1)
    raise AssertionError


def test_the_summary_counts_the_period_and_lists_each_decision_once(app, auth):
    from app.services.drivers.summary import period_ending, send_summary
    from models.drivers import Pass
    from models.notify import Message

    checkpoint = auth.token("checkpoint")
    plates = [f"粤S{random.randrange(10000, 99999)}" for _ in range(2)]
    allowed = H.booked(app, plate_number=plates[0])
    denied = H.booked(app, plate_number=plates[1], company="某运输公司")
    for booking, allow, reason in ((allowed, True, None), (denied, False, "无核酸证明")):
        assert F.client_at(app).post("/api/v1/checkpoint/decide", headers=checkpoint, json={
            "code": booking["code"], "allow": allow, "reason": reason}).status_code == 200
    run_at = next_slot_after(datetime.utcnow())

    def run(session):
        return send_summary(session, now=run_at)

    with app.test_request_context():
        start, end = period_ending(run_at)
        result = F.in_db(app, run)
        again = F.in_db(app, run)
    counts = dict(F.in_db(app, lambda s: s.execute(select(Pass.state, func.count()).where(
        Pass.decided_at >= start, Pass.decided_at < end).group_by(Pass.state)).all()))
    assert (result["passed"], result["denied"]) == (counts.get("allowed", 0), counts.get("denied", 0))
    assert result["messages"] >= 1 and again["already_sent"] and again["messages"] == 0

    sent = F.in_db(app, lambda s: s.execute(select(Message.body, Message.attachment_path).where(
        Message.idempotency_key.startswith(f"checkpoint.summary:{end.isoformat()}:"))).all())
    assert len(sent) == result["messages"]
    body, attachment = sent[0]
    assert re.fullmatch(r"(今天|昨天至今天)（\d{4}年\d{1,2}月\d{1,2}日\d{1,2}点到\d{4}年\d{1,2}月\d{1,2}日\d{1,2}点）"
                        rf"卡口共通行车辆{result['passed']}辆，不准予通行{result['denied']}辆。可点击查看详情。", body), body
    from app.notify.attachments import attachments_dir

    with app.app_context():
        rows = F.read_xlsx((attachments_dir() / attachment).read_bytes())
    assert rows[0] == ["车牌号", "司机姓名", "司机联系方式", "公司名称", "通行时间", "不通过原因"]
    mine = {r[0]: r for r in rows[1:] if r[0] in plates}
    assert set(mine) == set(plates)
    assert mine[plates[1]][3] == "某运输公司" and mine[plates[1]][5] == "无核酸证明"
    assert mine[plates[0]][5] in ("", None) and "*" in mine[plates[0]][2]


def test_the_job_runs_by_hand(app):
    """flask --app run jobs run checkpoint.summary (the latest slot's period, once)."""
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["jobs", "list"])
    assert "checkpoint.summary" in listed.output
    first = runner.invoke(args=["jobs", "run", "checkpoint.summary"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["jobs", "run", "checkpoint.summary"])
    assert second.exit_code == 0 and "already_sent" in second.output


def test_the_periods_of_the_two_slots(app):
    """12:00 reports yesterday 18:00 → today 12:00; 18:00 reports today 12:00 → 18:00."""
    from app.services.drivers.summary import period_ending, period_text

    noon = datetime(2022, 4, 22, 4, 0)  # 12:00 district time
    with app.test_request_context():
        assert period_ending(noon + timedelta(minutes=3)) == (datetime(2022, 4, 21, 10, 0), noon)
        assert period_ending(datetime(2022, 4, 22, 10, 30)) == (noon, datetime(2022, 4, 22, 10, 0))
        assert period_ending(datetime(2022, 4, 22, 2, 0)) == (datetime(2022, 4, 21, 4, 0), datetime(2022, 4, 21, 10, 0))
        assert period_text(datetime(2022, 4, 21, 10, 0), noon, noon) == "昨天至今天（2022年4月21日18点到2022年4月22日12点）"
        evening = datetime(2022, 4, 22, 10, 0)
        assert period_text(noon, evening, evening) == "今天（2022年4月22日12点到2022年4月22日18点）"


def test_a_late_run_names_the_date_not_today(app):
    """Run at 05:56 the next morning, the 12:00 → 18:00 summary names its date, not 今天."""
    from app.services.drivers.summary import period_ending, period_text

    late = datetime(2026, 12, 5, 21, 56)  # 2026-12-06 05:56 district time
    with app.test_request_context():
        start, end = period_ending(late)
        assert period_text(start, end, late) == "12月5日（2026年12月5日12点到2026年12月5日18点）"
        next_day = datetime(2022, 4, 23, 1, 0)  # 09:00 the day after a noon slot: yesterday 18:00 → 12:00
        assert period_text(datetime(2022, 4, 21, 10, 0), datetime(2022, 4, 22, 4, 0), next_day) == \
            "4月21日至4月22日（2022年4月21日18点到2022年4月22日12点）"
