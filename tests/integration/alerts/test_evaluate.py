"""The nightly check: every person with a rule gets the day's result, counted from the
feed's day bits (one sampling sent twice counts once), kept per day, replaced by a re-run."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.platform.clock import local_today
from tests.integration import factories as F
from tests.integration.alerts.helpers import at_local, make_setting, make_type, registered
from tests.integration.health.health_factories import add_tests


def run_check(app, day=None, settings=None):
    from app.platform.extensions import db
    from app.services.rules.evaluate import evaluate

    with app.app_context():
        try:
            return evaluate(db.session, day, settings)
        finally:
            db.session.remove()


def results(app, day, staff_ids):
    from models.rules import ComplianceResult

    return F.in_db(app, lambda s: {
        r.staff_id: (r.compliant, r.samplings, r.rule) for r in s.execute(
            select(ComplianceResult).where(ComplianceResult.day == day,
                                           ComplianceResult.staff_id.in_(staff_ids))).scalars()})


def test_the_check_counts_samplings_in_the_window_once_each(app, client, auth):
    """三天两检: two days, two times one day, one sampling sent twice, none, today's only, a newcomer."""
    code = make_type(app)
    setting = make_setting(client, auth.token("admin"), code, "三天两检")
    assert setting.status_code == 201, setting.json
    today = F.in_db(app, lambda _s: local_today())
    enterprise = F.make_enterprise(app, F.tag() + "企业", type_code=code)
    people = {name: F.make_staff(app, enterprise, name, category="高风险人员")
              for name in ("两天", "同日两次", "重复一条", "一次加重复", "没有", "今天才测", "新人", "窗口外")}
    for name, sid in people.items():
        registered(app, sid, today - timedelta(days=30) if name != "新人" else today - timedelta(days=1))
    add_tests(app, people["两天"], at_local(today - timedelta(days=3), 0, 1), at_local(today - timedelta(days=1), 23, 59))
    add_tests(app, people["同日两次"], at_local(today - timedelta(days=2), 8), at_local(today - timedelta(days=2), 17))
    same = at_local(today - timedelta(days=1), 10)
    add_tests(app, people["重复一条"], same, same)
    # a day of one record and a day of one sampling sent twice: the second counted again alone
    add_tests(app, people["一次加重复"], at_local(today - timedelta(days=3), 7), same, same)
    add_tests(app, people["今天才测"], at_local(today, 0, 1), at_local(today - timedelta(days=1), 9))
    add_tests(app, people["窗口外"], at_local(today - timedelta(days=4), 23, 59), at_local(today - timedelta(days=1), 9))
    totals = run_check(app, today)
    assert totals["people"] >= len(people)
    got = results(app, today, list(people.values()))
    assert got[people["两天"]] == (True, 2, "3d2")
    assert got[people["同日两次"]] == (True, 2, "3d2")
    assert got[people["重复一条"]] == (False, 1, "3d2")
    assert got[people["一次加重复"]] == (True, 2, "3d2")
    assert got[people["没有"]] == (False, 0, "3d2")
    assert got[people["今天才测"]] == (False, 1, "3d2")
    assert got[people["窗口外"]] == (False, 1, "3d2")
    assert got[people["新人"]] == (None, 0, "3d2")  # registered inside the window: not reported yet


def test_a_category_rule_wins_and_past_days_keep_their_result(app, client, auth):
    """A category's own setting applies to it; yesterday's list is kept as it was; a late
    feed and a re-run update today's result only."""
    admin = auth.token("admin")
    code = make_type(app)
    assert make_setting(client, admin, code, "七天一检").status_code == 201
    assert make_setting(client, admin, code, "一天一检", category="管理人员").status_code == 201
    today = F.in_db(app, lambda _s: local_today())
    enterprise = F.make_enterprise(app, F.tag() + "企业", type_code=code)
    worker = F.make_staff(app, enterprise, "工人", category="高风险人员")
    manager = F.make_staff(app, enterprise, "经理", category="管理人员")
    for sid in (worker, manager):
        registered(app, sid, today - timedelta(days=30))
    add_tests(app, worker, at_local(today - timedelta(days=5), 9))
    add_tests(app, manager, at_local(today - timedelta(days=5), 9))
    yesterday = today - timedelta(days=1)
    run_check(app, yesterday)
    run_check(app, today)
    assert results(app, today, [worker, manager]) == {worker: (True, 1, "7d1"), manager: (False, 0, "1d1")}
    add_tests(app, manager, at_local(yesterday, 20))  # the feed arrives after the check
    run_check(app, today)
    assert results(app, today, [manager]) == {manager: (True, 1, "1d1")}
    assert results(app, yesterday, [manager]) == {manager: (False, 0, "1d1")}
